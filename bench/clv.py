"""Benchmark patron.analytics (summary, BG/NBD, Pareto/NBD, CLV) beside lifetimes 0.11.3.

Usage: ``.venv/bin/python bench/clv.py [--customers 1000000] [--transactions 10000000]
[--peer-sample 100000] [--skip-peer] [--only threads|distinct] [--threads-customers 100000]
[--threads-repeats 7]``. ``--only distinct`` times the BG/NBD fit on ``--customers`` rows that
are all distinct (no compression possible) beside lifetimes' fit on the same file.

Data are synthetic and deterministic (seed 2024): a BG/NBD customer base (r=0.5, alpha=3 weeks,
a=0.8, b=2.5; first purchases spread over 52 weeks, times in weeks on whole days) and a transaction
log for the summary task. Both are written to /tmp as .npz; lifetimes runs on the same file in its
own venv (``bench/.venv-peer``, created on first use with pinned versions), in the same run, via
subprocess. Ours: best of 3 runs; peer: one run. Peer tasks too slow at full size run on the first
``--peer-sample`` customers and the time is scaled linearly (stated in the output).

The threads table times the BG/NBD fit on ``--threads-customers`` customers with the BLAS
libraries' default threading beside BLAS pinned to one thread (``PATRON_BLAS_THREADS=1``),
alternating the two ``--threads-repeats`` times in the same run; median and max wall time.
``--only threads`` runs just that table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patron.analytics import summarize  # noqa: E402
from patron.analytics.clv import clv, fit_bgnbd, fit_gamma_gamma, fit_paretonbd  # noqa: E402

PEER_VENV = ROOT / "bench" / ".venv-peer"
PEER_PINS = [
    "lifetimes==0.11.3",
    "pandas==2.1.4",
    "autograd==1.9.1",
    "numpy==1.26.4",
    "scipy==1.13.1",
]
DATA = Path("/tmp/patron_bench_clv.npz")
DISTINCT_DATA = Path("/tmp/patron_bench_clv_distinct.npz")
DISTINCT_TARGET_S = 2.0

PEER_DISTINCT = r"""
import json, sys, time, numpy as np
from lifetimes import BetaGeoFitter
d = np.load(sys.argv[1])
t = time.perf_counter(); bgf = BetaGeoFitter().fit(d["x"], d["tx"], d["T"])
print(json.dumps({"bgnbd": time.perf_counter() - t, "params": list(map(float, bgf.params_))}))
"""
TARGETS = {"summary": 3.5, "bgnbd": 5.0, "paretonbd": 10.0, "clv": 10.0}

PEER_SCRIPT = r"""
import json, sys, time, numpy as np, pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.utils import summary_data_from_transaction_data
d = np.load(sys.argv[1]); sample = int(sys.argv[2]); out = {}
df = pd.DataFrame({"id": d["tx_ids"], "date": d["tx_dates"].astype("datetime64[ns]"),
                   "value": d["tx_values"]})
t = time.perf_counter()
summary_data_from_transaction_data(df, "id", "date", "value",
                                   observation_period_end=str(d["tx_end"]), freq="D")
out["summary"] = time.perf_counter() - t
x, tx, T, m = d["x"], d["tx"], d["T"], d["m"]
t = time.perf_counter(); bgf = BetaGeoFitter().fit(x, tx, T); out["bgnbd"] = time.perf_counter() - t
n = min(sample, x.size)
t = time.perf_counter(); ParetoNBDFitter().fit(x[:n], tx[:n], T[:n])
out["paretonbd"] = (time.perf_counter() - t) * x.size / n; out["paretonbd_n"] = n
gg = GammaGammaFitter(); gg.params_ = pd.Series(dict(zip(["p", "q", "v"], d["gg"])))
t = time.perf_counter()
gg.customer_lifetime_value(bgf, pd.Series(x), pd.Series(tx), pd.Series(T), pd.Series(m),
                           time=12, discount_rate=0.01, freq="W")
out["clv"] = time.perf_counter() - t
print(json.dumps(out))
"""


def simulate_customers(n: int, rng: np.random.Generator):
    """Simulate (x, t_x, T) in weeks from a BG/NBD process, vectorised."""
    lam = rng.gamma(0.5, 1 / 3.0, n)
    p = rng.beta(0.8, 2.5, n)
    T = rng.integers(1, 52 * 7 + 1, n) / 7.0
    arrivals = rng.poisson(lam * T)
    lifetime_buys = rng.geometric(p)
    x = np.minimum(arrivals, lifetime_buys)
    k = np.maximum(x, 1)
    order_stat = rng.beta(k, np.maximum(arrivals - k + 1, 1))
    tx = np.where(x > 0, np.round(order_stat * T * 7) / 7.0, 0.0)
    m = np.where(x > 0, rng.gamma(6.0, 20.0 / 6.0, n) * (1 + rng.gamma(2.0, 0.5, n)), 0.0)
    return x.astype(float), tx, T, m


def simulate_transactions(n_tx: int, n_customers: int, rng: np.random.Generator):
    """A transaction log: ids, dates over two years, values."""
    ids = rng.integers(0, n_customers, n_tx)
    dates = np.datetime64("2023-01-01") + rng.integers(0, 730, n_tx).astype("timedelta64[D]")
    return ids, dates, np.round(rng.gamma(2.0, 20.0, n_tx), 2), np.datetime64("2024-12-31")


def best_of(fn, runs: int = 3) -> float:
    """Minimum wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ensure_peer() -> Path:
    """Create the lifetimes venv on first use and return its python."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PINS], check=True)
    return python


def run_ours(d: dict) -> dict:
    """Time our tasks on the generated data."""
    x, tx, T, m = d["x"], d["tx"], d["T"], d["m"]
    out = {}
    out["summary"] = best_of(
        lambda: summarize(
            d["tx_ids"], d["tx_dates"], d["tx_values"], observation_end=d["tx_end"], unit="days"
        )
    )
    out["bgnbd"] = best_of(lambda: fit_bgnbd(x, tx, T))
    out["paretonbd"] = best_of(lambda: fit_paretonbd(x, tx, T))
    jitter = T + np.arange(T.size) * 1e-9
    out["bgnbd_distinct"] = best_of(lambda: fit_bgnbd(x, tx, jitter), runs=1)
    model = fit_bgnbd(x, tx, T)
    spend = fit_gamma_gamma(x, m)
    out["clv"] = best_of(
        lambda: clv(model, x, tx, T, spend.expected_spend(x, m), months=12, discount_rate=0.01)
    )
    out["gg"] = [spend.params[k] for k in ("p", "q", "gamma")]
    return out


def blas_threads() -> str:
    """The thread counts of the loaded BLAS libraries, e.g. '2, 2'."""
    return ", ".join(str(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas")


def run_threads(n: int, repeats: int) -> list[tuple[str, str, list[float]]]:
    """BG/NBD fit times with default BLAS threading and pinned to 1, alternating runs."""
    x, tx, T, _ = simulate_customers(n, np.random.default_rng(2024))
    fit_bgnbd(x, tx, T)  # warm-up: imports, caches
    settings = {"default": nullcontext, "1 thread": lambda: threadpool_limits(1, user_api="blas")}
    times: dict[str, list[float]] = {name: [] for name in settings}
    threads: dict[str, str] = {}
    for _ in range(repeats):
        for name, limit in settings.items():
            with limit():
                threads[name] = blas_threads()
                start = time.perf_counter()
                fit_bgnbd(x, tx, T)
                times[name].append(time.perf_counter() - start)
    return [(name, threads[name], times[name]) for name in settings]


def report_threads(n: int, rows: list[tuple[str, str, list[float]]]) -> None:
    """Print the threading table."""
    print(f"\nBG/NBD fit, {n:,} customers, BLAS threading (alternating runs, same process)")
    print(f"{'BLAS threads':<14} {'per library':>12} {'runs':>5} {'median s':>9} {'max s':>7}")
    for name, threads, times in rows:
        print(
            f"{name:<14} {threads:>12} {len(times):>5} "
            f"{statistics.median(times):>9.3f} {max(times):>7.3f}"
        )


def run_distinct(n: int, skip_peer: bool) -> None:
    """BG/NBD fit on n all-distinct rows, ours (BLAS pinned to 1 thread) beside lifetimes."""
    x, tx, T, _ = simulate_customers(n, np.random.default_rng(2024))
    T = T + np.arange(n) * 1e-9  # every row distinct: compression gains nothing
    np.savez(DISTINCT_DATA, x=x, tx=tx, T=T)
    with threadpool_limits(1, user_api="blas"):
        model = fit_bgnbd(x, tx, T)
        ours = best_of(lambda: fit_bgnbd(x, tx, T))
    peer = {}
    if not skip_peer:
        cmd = [str(ensure_peer()), "-c", PEER_DISTINCT, str(DISTINCT_DATA)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        peer = json.loads(out.strip().splitlines()[-1])
    print(f"\nBG/NBD fit, {n:,} customers, all rows distinct (no compression), same data")
    print(f"{'patron s':>9} {'lifetimes s':>12} {'ratio':>7} {'target':>8} met?")
    peer_s = peer.get("bgnbd", float("nan"))
    met = "yes" if ours < DISTINCT_TARGET_S else "NO"
    print(
        f"{ours:>9.3f} {peer_s:>12.2f} {peer_s / ours:>7.1f} "
        f"{'< ' + str(DISTINCT_TARGET_S) + ' s':>8} {met}"
    )
    ours_p = [model.params[k] for k in ("r", "alpha", "a", "b")]
    print("patron    (r, alpha, a, b):", ", ".join(f"{v:.6f}" for v in ours_p))
    if peer:
        print("lifetimes (r, alpha, a, b):", ", ".join(f"{v:.6f}" for v in peer["params"]))
    print("patron: best of 3 runs after one warm-up, BLAS 1 thread; lifetimes: one run.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument(
        "--peer-sample",
        type=int,
        default=100_000,
        help="customers for the lifetimes Pareto/NBD fit (time scaled linearly)",
    )
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--only", choices=["threads", "distinct"], help="run only this table")
    parser.add_argument("--threads-customers", type=int, default=100_000)
    parser.add_argument("--threads-repeats", type=int, default=7)
    args = parser.parse_args()
    if args.only == "distinct":
        run_distinct(args.customers, args.skip_peer)
        return
    threads = run_threads(args.threads_customers, args.threads_repeats)
    if args.only == "threads":
        report_threads(args.threads_customers, threads)
        return
    rng = np.random.default_rng(2024)
    x, tx, T, m = simulate_customers(args.customers, rng)
    ids, dates, values, end = simulate_transactions(args.transactions, args.customers // 10, rng)
    data = {
        "x": x,
        "tx": tx,
        "T": T,
        "m": m,
        "tx_ids": ids,
        "tx_dates": dates,
        "tx_values": values,
        "tx_end": end,
    }
    ours = run_ours(data)
    np.savez(DATA, **data, gg=np.array(ours["gg"]))
    peer = {}
    if not args.skip_peer:
        cmd = [str(ensure_peer()), "-c", PEER_SCRIPT, str(DATA), str(args.peer_sample)]
        peer = json.loads(
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
    report(args, ours, peer, len(np.unique(np.stack([x, tx, T]), axis=1)[0]))
    report_threads(args.threads_customers, threads)


def report(args, ours: dict, peer: dict, distinct: int) -> None:
    """Print the comparison table."""
    n_c, n_t = f"{args.customers:,}", f"{args.transactions:,}"
    rows = [
        ("summary", f"summary of {n_t} transactions"),
        ("bgnbd", f"BG/NBD fit, {n_c} customers"),
        ("paretonbd", f"Pareto/NBD fit, {n_c} customers"),
        ("clv", f"12-month CLV, {n_c} customers"),
    ]
    print(f"{'task':<42} {'patron s':>9} {'lifetimes s':>12} {'ratio':>7} {'target':>7} met?")
    for key, label in rows:
        ratio = peer[key] / ours[key] if key in peer else float("nan")
        met = "yes" if ratio >= TARGETS[key] else ("n/a" if not peer else "NO")
        peer_s = f"{peer[key]:.2f}" if key in peer else "-"
        print(
            f"{label:<42} {ours[key]:>9.3f} {peer_s:>12} {ratio:>7.1f} "
            f"{'>=' + str(TARGETS[key]) + 'x':>7} {met}"
        )
    print(f"{'BG/NBD fit, all rows distinct (no compr.)':<42} {ours['bgnbd_distinct']:>9.3f}")
    print(
        f"\ndistinct (x, t_x, T) rows: {distinct:,} of {n_c}; BG/NBD target also < 2 s: "
        f"{'yes' if ours['bgnbd'] < 2 else 'NO'}"
    )
    if "paretonbd_n" in peer:
        print(
            f"lifetimes Pareto/NBD: fitted on the first {peer['paretonbd_n']:,} customers, "
            f"time scaled x{args.customers / peer['paretonbd_n']:.0f} (linear in rows)"
        )
    print(
        "patron: best of 3 runs (1 for the no-compression row); lifetimes: one run, same data "
        f"({DATA}); summary from in-memory arrays vs a ready DataFrame."
    )


if __name__ == "__main__":
    main()
