"""Pure statistics of experiments, vectorised: every test works on arrays of summaries.

Rates: two-proportion z test (pooled for the p-value, unpooled Wald interval). Means (revenue
per recipient): Welch's t with Welch-Satterthwaite degrees of freedom, the relative lift's
interval by the delta method, and a bucketed bootstrap. Variance reduction: CUPED with one
pooled theta over the pre-period covariate. Outliers: capped at a percentile of all
recipients. Arms: sample-ratio chi-square, Holm's step-down correction. Peeking: a fixed
horizon (no verdict before it) with the required-sample calculator below. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

SRM_ALPHA = 0.001


def proportions(x1, n1, x2, n2, *, alpha: float = 0.05) -> dict:
    """Second minus first rate: difference, interval, z and two-sided p (arrays allowed)."""
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.float64) for v in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.where(se0 > 0, (p2 - p1) / se0, 0.0)
        se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    q = stats.norm.ppf(1 - alpha / 2)
    diff = p2 - p1
    return {
        "control": p1,
        "arm": p2,
        "diff": diff,
        "low": diff - q * se,
        "high": diff + q * se,
        "z": z,
        "p": 2 * stats.norm.sf(np.abs(z)),
    }


def welch(m1, v1, n1, m2, v2, n2, *, alpha: float = 0.05) -> dict:
    """Second minus first mean by Welch's t, and the relative lift (delta method)."""
    m1, v1, n1, m2, v2, n2 = (np.asarray(a, dtype=np.float64) for a in (m1, v1, n1, m2, v2, n2))
    a, b = v1 / n1, v2 / n2
    se = np.sqrt(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(se > 0, (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1)), 1.0)
        t = np.where(se > 0, (m2 - m1) / se, np.where(m2 == m1, 0.0, np.inf))
        rel = m2 / m1 - 1
        rel_se = np.sqrt(b / m1**2 + m2**2 * a / m1**4)
    q = stats.t.ppf(1 - alpha / 2, np.maximum(df, 1.0))
    qn = stats.norm.ppf(1 - alpha / 2)
    diff = m2 - m1
    return {
        "control": m1,
        "arm": m2,
        "diff": diff,
        "low": diff - q * se,
        "high": diff + q * se,
        "se": se,
        "p": 2 * stats.t.sf(np.abs(t), np.maximum(df, 1.0)),
        "rel": rel,
        "rel_low": rel - qn * rel_se,
        "rel_high": rel + qn * rel_se,
    }


def cap(values: np.ndarray, percentile: float) -> tuple[np.ndarray, float]:
    """Values capped at a percentile of themselves (100 leaves them); the cap used."""
    if len(values) == 0 or percentile >= 100:
        return values, float(values.max()) if len(values) else 0.0
    top = float(np.percentile(values, percentile))
    return np.minimum(values, top), top


def cuped(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """y minus theta times centred x, theta = cov(x, y) / var(x) over all recipients."""
    if len(y) < 2:
        return y, 0.0
    xc = x - x.mean()
    var = float(xc @ xc)
    theta = float(xc @ (y - y.mean())) / var if var > 0 else 0.0
    return y - theta * xc, theta


def group_moments(codes: np.ndarray, values: np.ndarray, groups: int) -> tuple:
    """(n, mean, variance with ddof 1) of values per group code 0..groups-1, one pass each."""
    n = np.bincount(codes, minlength=groups).astype(np.float64)
    s = np.bincount(codes, weights=values, minlength=groups)
    ss = np.bincount(codes, weights=values * values, minlength=groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s / n, 0.0)
        var = np.where(n > 1, (ss - n * mean**2) / (n - 1), 0.0)
    return n, mean, np.maximum(var, 0.0)


def bootstrap_diff(
    a: np.ndarray,
    b: np.ndarray,
    *,
    seed: int = 0,
    rounds: int = 2000,
    buckets: int = 500,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile interval of mean(b) - mean(a), resampling buckets of recipients.

    Each arm is dealt at random into up to `buckets` buckets; a round draws buckets with
    replacement and takes sum over count. With one recipient a bucket this is the plain
    bootstrap; for a million it costs rounds x buckets, not rounds x recipients.
    """
    rng = np.random.default_rng(seed)

    def means(values: np.ndarray) -> np.ndarray:
        k = max(1, min(buckets, len(values)))
        slot = rng.permutation(len(values)) % k
        sums = np.bincount(slot, weights=values, minlength=k)
        counts = np.bincount(slot, minlength=k).astype(np.float64)
        pick = rng.integers(0, k, size=(rounds, k))
        return sums[pick].sum(axis=1) / counts[pick].sum(axis=1)

    diffs = means(b) - means(a)
    low, high = np.percentile(diffs, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def srm(observed: Sequence[int], shares: Sequence[float]) -> dict:
    """Sample-ratio mismatch: chi-square of counts against the planned shares."""
    observed = np.asarray(observed, dtype=np.float64)
    shares = np.asarray(shares, dtype=np.float64)
    total = observed.sum()
    if total == 0 or len(observed) < 2:
        return {"chi2": 0.0, "p": 1.0, "mismatch": False}
    expected = total * shares / shares.sum()
    chi2, p = stats.chisquare(observed, expected)
    return {"chi2": float(chi2), "p": float(p), "mismatch": bool(p < SRM_ALPHA)}


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error at most alpha)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def required_per_arm(sd: float, delta: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Recipients per arm to detect a difference of means `delta` (two-sided, equal arms)."""
    if delta <= 0 or sd <= 0:
        return 0
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(np.ceil(2 * (z * sd / delta) ** 2))
