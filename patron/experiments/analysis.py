"""Pure analysis of one experiment from per-recipient arrays: metrics, tests, verdict.

Groups are the test arms (codes 0..k-1, the first the control), the holdout (code -1) and
the rollout (code -2, those sent the winner: counted only in incrementality). Revenue is
capped at a percentile of all recipients, then CUPED-adjusted with pre-period revenue; arms
are compared with the control by Welch's t (with a bootstrap interval beside it) and rates by
the two-proportion test; Holm corrects the primary metric over arms. The verdict is only
called at the fixed horizon (`final`). No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from patron.experiments import inference
from patron.experiments.rules import HOLDOUT, ROLLOUT

RATES = ("converted", "clicked", "unsubscribed", "complained")


@dataclass(frozen=True)
class Recipients:
    """One row per recipient: group code, net revenue and orders in the window, pre-period
    revenue, and 0/1 flags for clicked, unsubscribed, complained."""

    codes: np.ndarray
    revenue: np.ndarray
    pre: np.ndarray
    orders: np.ndarray
    clicked: np.ndarray
    unsubscribed: np.ndarray
    complained: np.ndarray


@dataclass(frozen=True)
class Options:
    """How to judge: metric, level, outlier cap, smallest lift worth detecting, power."""

    metric: str = "revenue"
    alpha: float = 0.05
    cap_percentile: float = 99.0
    mde: float = 0.05
    power: float = 0.8
    seed: int = 0
    bootstrap: bool = True


def _group_index(codes: np.ndarray, k: int) -> np.ndarray:
    """Codes as bincount indices: arms 0..k-1, holdout k, rollout k+1."""
    return np.where(codes == HOLDOUT, k, np.where(codes == ROLLOUT, k + 1, codes))


def _summaries(r: Recipients, g: np.ndarray, k: int, adjusted: np.ndarray) -> dict:
    """Per-group moments of each metric."""
    groups = k + 2
    flags = {
        "converted": (r.orders > 0).astype(np.float64),
        "clicked": r.clicked.astype(np.float64),
        "unsubscribed": r.unsubscribed.astype(np.float64),
        "complained": r.complained.astype(np.float64),
    }
    out = {"n": np.bincount(g, minlength=groups).astype(np.float64)}
    out["revenue"] = inference.group_moments(g, r.revenue.astype(np.float64), groups)
    out["adjusted"] = inference.group_moments(g, adjusted, groups)
    out["orders"] = inference.group_moments(g, r.orders.astype(np.float64), groups)
    for name, values in flags.items():
        out[name] = np.bincount(g, weights=values, minlength=groups)
    return out


def _compare(s: dict, i: int, j: int, alpha: float) -> dict:
    """Group j against group i on every metric."""
    n = s["n"]
    adj = s["adjusted"]
    out = {
        "revenue": inference.welch(
            adj[1][i], adj[2][i], n[i], adj[1][j], adj[2][j], n[j], alpha=alpha
        )
    }
    orders = s["orders"]
    out["orders"] = inference.welch(
        orders[1][i], orders[2][i], n[i], orders[1][j], orders[2][j], n[j], alpha=alpha
    )
    for name in RATES:
        x1, x2 = s[name][i], s[name][j]
        rate = inference.proportions(x1, n[i], x2, n[j], alpha=alpha)
        p1, p2 = x1 / max(n[i], 1), x2 / max(n[j], 1)
        rel = inference.welch(p1, p1 * (1 - p1), n[i], p2, p2 * (1 - p2), n[j], alpha=alpha)
        rate.update(rel=rel["rel"], rel_low=rel["rel_low"], rel_high=rel["rel_high"])
        out[name] = rate
    return {m: {key: float(v) for key, v in d.items()} for m, d in out.items()}


def _arm_rows(s: dict, keys: Sequence[str], k: int) -> list[dict]:
    """Per-group metrics for the table (arms, then holdout and rollout when present)."""
    rows = []
    for index, key in [*enumerate(keys), (k, "holdout"), (k + 1, "rollout")]:
        n = float(s["n"][index])
        if n == 0 and index >= k:
            continue
        per = 1 / n if n else 0.0
        rows.append(
            {
                "key": key,
                "recipients": int(n),
                "revenue_per_recipient": float(s["revenue"][1][index]),
                "orders_per_recipient": float(s["orders"][1][index]),
                **{f"{name}_rate": float(s[name][index] * per) for name in RATES},
            }
        )
    return rows


def _needed(s: dict, k: int, opts: Options, best: dict | None) -> int:
    """More test recipients needed to detect the larger of the observed lift and the MDE."""
    n = s["n"][:k]
    if opts.metric == "clicks":
        p = s["clicked"][:k].sum() / max(n.sum(), 1)
        sd, base = float(np.sqrt(p * (1 - p))), float(p)
    else:
        var = s["adjusted"][2][:k]
        sd = float(np.sqrt((var * np.maximum(n - 1, 0)).sum() / max(n.sum() - k, 1)))
        base = float(s["adjusted"][1][0])
    lift = max(abs(best["rel"]) if best else 0.0, opts.mde)
    per_arm = inference.required_per_arm(sd, lift * abs(base), alpha=opts.alpha, power=opts.power)
    return max(0, per_arm * k - int(n.sum()))


def _label(metric: str) -> str:
    """The primary metric in words."""
    return "click rate" if metric == "clicks" else "revenue per recipient"


def _verdict(keys, comparisons, adjusted_p, opts: Options, needed: int, final: bool) -> dict:
    """The winner (or the control) and the sentence that says why."""
    primary = "clicked" if opts.metric == "clicks" else "revenue"
    level = round((1 - opts.alpha) * 100)
    winners = [
        (c[primary]["rel"], i + 1)
        for i, c in enumerate(comparisons)
        if adjusted_p[i] < opts.alpha and c[primary]["diff"] > 0
    ]
    more = f"about {needed:,} more recipients needed" if needed else "the sample is large enough"
    if not final:
        return {
            "winner": None,
            "significant": False,
            "text": f"too early to call (fixed horizon not reached): {more}",
        }
    if winners:
        _rel, index = max(winners)
        c = comparisons[index - 1][primary]
        if np.isfinite([c["rel"], c["rel_low"], c["rel_high"]]).all():
            text = (
                f"{keys[index]} wins: {c['rel'] * 100:+.0f}% {_label(opts.metric)}, "
                f"{level}% CI {c['rel_low'] * 100:+.0f}% to {c['rel_high'] * 100:+.0f}%"
            )
        else:  # the control had nothing to be relative to
            text = f"{keys[index]} wins on {_label(opts.metric)} (the control {keys[0]} had none)"
        return {"winner": keys[index], "significant": True, "text": text}
    if needed:
        return {"winner": keys[0], "significant": False, "text": f"no difference yet: {more}"}
    return {
        "winner": keys[0],
        "significant": False,
        "text": f"no difference: no arm beats {keys[0]} on {_label(opts.metric)}",
    }


def _holdout_verdict(key: str, inc: dict | None, alpha: float, final: bool) -> dict:
    """One arm against its holdout: what the send adds per recipient, in words (cents)."""
    if inc is None:
        return {"winner": key, "significant": False, "text": "no holdout to compare with"}
    level = round((1 - alpha) * 100)
    clear = inc["low"] > 0 or inc["high"] < 0
    words = "adds" if clear else "no clear difference yet:"
    text = (
        f"{key} {words} {inc['per_recipient'] / 100:+,.2f} per recipient against its holdout, "
        f"{level}% CI {inc['low'] / 100:+,.2f} to {inc['high'] / 100:+,.2f}"
    )
    if not final:
        text = f"too early to call (fixed horizon not reached): {text}"
    return {"winner": key, "significant": bool(clear and final), "text": text}


def _incrementality(s: dict, r: Recipients, g: np.ndarray, adjusted, k: int, alpha) -> dict | None:
    """Treated (arms and rollout) against the holdout: revenue per recipient and in total."""
    held = g == k
    if not held.any() or held.all():
        return None
    treated = ~held
    a, b = adjusted[held], adjusted[treated]
    w = inference.welch(
        a.mean(),
        a.var(ddof=1) if len(a) > 1 else 0.0,
        len(a),
        b.mean(),
        b.var(ddof=1) if len(b) > 1 else 0.0,
        len(b),
        alpha=alpha,
    )
    n = int(treated.sum())
    return {
        "treated": n,
        "holdout": int(held.sum()),
        "per_recipient": float(w["diff"]),
        "low": float(w["low"]),
        "high": float(w["high"]),
        "p": float(w["p"]),
        "total": float(w["diff"] * n),
        "total_low": float(w["low"] * n),
        "total_high": float(w["high"] * n),
    }


def analyse(
    r: Recipients,
    *,
    keys: Sequence[str],
    shares: Sequence[float],
    opts: Options = Options(),
    final: bool = True,
) -> dict:
    """The report: arm rows, comparisons with the control, SRM, incrementality, verdict.

    `shares` are the planned shares of the arms and the holdout among recorded test
    recipients (k + 1 values) for the sample-ratio check.
    """
    k = len(keys)
    g = _group_index(np.asarray(r.codes), k)
    capped, top = inference.cap(r.revenue.astype(np.float64), opts.cap_percentile)
    adjusted, theta = inference.cuped(capped, r.pre.astype(np.float64))
    s = _summaries(r, g, k, adjusted)
    comparisons = [_compare(s, 0, j, opts.alpha) for j in range(1, k)]
    primary = "clicked" if opts.metric == "clicks" else "revenue"
    adjusted_p = inference.holm([c[primary]["p"] for c in comparisons])
    for c, p in zip(comparisons, adjusted_p, strict=True):
        c["p_holm"] = float(p)
    if opts.bootstrap:
        for j, c in enumerate(comparisons, start=1):
            low, high = inference.bootstrap_diff(
                adjusted[g == 0], adjusted[g == j], seed=opts.seed + j, alpha=opts.alpha
            )
            c["revenue"]["boot_low"], c["revenue"]["boot_high"] = low, high
    best = max(comparisons, key=lambda c: c[primary]["rel"])[primary] if comparisons else None
    needed = _needed(s, k, opts, best)
    incremental = _incrementality(s, r, g, adjusted, k, opts.alpha)
    verdict = _verdict(keys, comparisons, adjusted_p, opts, needed, final)
    if k == 1:
        verdict = _holdout_verdict(keys[0], incremental, opts.alpha, final)
    counts = [int(s["n"][i]) for i in range(k + 1)]
    if counts[k] == 0:
        counts, shares = counts[:k], list(shares)[:k]
    return finite(
        {
            "arms": _arm_rows(s, keys, k),
            "comparisons": [{"key": keys[j], **c} for j, c in enumerate(comparisons, start=1)],
            "srm": inference.srm(counts, shares),
            "incrementality": incremental,
            "needed": needed,
            "cap_cents": top,
            "cuped_theta": theta,
            "verdict": verdict,
        }
    )


def finite(value):
    """The report with NaN and infinite numbers (a lift over zero) as None, for JSON."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value
