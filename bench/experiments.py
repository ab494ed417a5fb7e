"""Benchmark of experiment statistics: 1M recipients, every test of the report, beside NumPy.

Data: N recipients (default 1,000,000), seed fixed: 45% arm A, 45% arm B, 10% holdout;
conversion 10% (B 11%, holdout 8%) with lognormal order values, pre-period revenue, clicks,
unsubscribes and complaints as 0/1 flags. Timed, best of --repeat runs, same arrays:

- ours: `analysis.analyse` — outlier cap (percentile), CUPED, per-arm moments of every
  metric, Welch's t, two-proportion tests, the bucketed bootstrap (2,000 rounds), Holm, SRM
  chi-square, incrementality against the holdout, the required-sample calculator, verdict;
- ceiling: NumPy's own mean and var of revenue over each group's boolean mask (what any
  statistic must at least do: read every value once per group); the bare minimum.

Target: ours < 2 s for 1M recipients. Prints a table with the ratio.

    .venv/bin/python bench/experiments.py [--recipients 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from patron.experiments import analysis

TARGET = 2.0


def data(n: int, seed: int = 14) -> analysis.Recipients:
    """Synthetic recipients with a known lift for B."""
    rng = np.random.default_rng(seed)
    codes = rng.choice([0, 1, -1], size=n, p=[0.45, 0.45, 0.10])
    p = np.where(codes == 1, 0.11, np.where(codes == -1, 0.08, 0.10))
    bought = rng.random(n) < p
    revenue = np.round(bought * rng.lognormal(np.log(4000), 0.8, n))
    pre = np.round((rng.random(n) < 0.1) * rng.lognormal(np.log(4000), 0.8, n))
    clicked = (codes != -1) & (rng.random(n) < 0.05)
    flags = [(rng.random(n) < q).astype(np.int8) for q in (0.002, 0.0005)]
    return analysis.Recipients(codes, revenue, pre, bought.astype(np.int32), clicked, *flags)


def ours(r: analysis.Recipients) -> dict:
    """The whole report's statistics."""
    return analysis.analyse(r, keys=["A", "B"], shares=[0.45, 0.45, 0.10])


def ceiling(r: analysis.Recipients) -> list:
    """NumPy's mean and variance of revenue per group, nothing else."""
    return [(r.revenue[m].mean(), r.revenue[m].var()) for m in (r.codes == c for c in (0, 1, -1))]


def best(fn, arg, repeat: int) -> float:
    """Best wall time of repeat runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    r = data(args.recipients)
    report = ours(r)
    t_ours, t_ceiling = best(ours, r, args.repeat), best(ceiling, r, args.repeat)
    print(f"experiment statistics, {args.recipients:,} recipients (best of {args.repeat})")
    print(f"{'what':<58}{'seconds':>10}{'vs ceiling':>12}")
    print(
        f"{'ours: analysis.analyse (cap, CUPED, Welch, z, bootstrap, …)':<58}"
        f"{t_ours:>10.3f}{t_ours / t_ceiling:>11.1f}x"
    )
    print(f"{'ceiling: NumPy mean + var of revenue per group':<58}{t_ceiling:>10.3f}{1:>11.1f}x")
    verdict = "PASS" if t_ours < TARGET else "FAIL"
    print(f"target < {TARGET:.0f} s: {verdict}; verdict: {report['verdict']['text']}")


if __name__ == "__main__":
    main()
