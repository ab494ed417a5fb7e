"""Benchmark `patron analyze` end to end beside the lifetimes pipeline on the same file.

Usage: ``.venv/bin/python bench/analyze.py [--rows 3000000 30000000] [--peer-timeout 1200]``.

For each size a deterministic file (seed 2024) of ``customer_id,date,amount`` rows is written to
/tmp (integer ids, about 6 orders per customer, dates over two years, gamma amounts), then in the
same run:

* patron: ``python -m patron analyze FILE --model bgnbd --scores OUT.csv`` (BG/NBD, as the peer;
  the default model of analyze is the modified BG/NBD);
* peer (``bench/.venv-peer``, lifetimes 0.11.3): pandas ``read_csv``,
  ``summary_data_from_transaction_data``, BG/NBD, Gamma-Gamma on repeat buyers, 12-month CLV
  (discount 1%/month), the scores written with ``to_csv``.

Each runs in its own process; wall time and peak RSS come from ``os.wait4``. A peer run over
``--peer-timeout`` seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv

ROOT = Path(__file__).resolve().parents[1]
PEER_PYTHON = ROOT / "bench" / ".venv-peer" / "bin" / "python"
ROWS_PER_CUSTOMER = 6

PEER_SCRIPT = r"""
import sys, pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
df = pd.read_csv(sys.argv[1], parse_dates=["date"])
s = summary_data_from_transaction_data(df, "customer_id", "date", "amount", freq="D")
del df
bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
s["p_alive"] = bgf.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
s["clv"] = ggf.customer_lifetime_value(bgf, s["frequency"], s["recency"], s["T"],
    s["monetary_value"], time=12, discount_rate=0.01, freq="D")
s.to_csv(sys.argv[2])
"""


def make_file(rows: int) -> Path:
    """Write (once) the deterministic transactions file of `rows` rows."""
    path = Path(f"/tmp/patron_bench_analyze_{rows}.csv")
    if path.exists():
        return path
    rng = np.random.default_rng(2024)
    customers = max(rows // ROWS_PER_CUSTOMER, 1)
    chunk = 5_000_000
    # Heterogeneous buyers: purchase rates ~ gamma, a first day in year one, an exponential
    # lifetime cut at the end of the two years (so some lapse, as in the BG/NBD story).
    weight = rng.gamma(0.8, 1.0, customers)
    weight /= weight.sum()
    start_day = rng.integers(0, 365, customers)
    life = np.minimum(rng.exponential(300.0, customers) + 1, 730 - start_day)
    with pv.CSVWriter(
        path,
        pa.schema([("customer_id", pa.int64()), ("date", pa.date32()), ("amount", pa.float64())]),
    ) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = rng.choice(customers, n, p=weight) + 1
            offset = np.floor(rng.random(n) * life[ids - 1]).astype(np.int64)
            days = np.datetime64("2023-01-01") + (start_day[ids - 1] + offset).astype(
                "timedelta64[D]"
            )
            amounts = np.round(rng.gamma(2.0, 20.0, n), 2)
            writer.write_table(pa.table({"customer_id": ids, "date": days, "amount": amounts}))
    return path


def run(command: list[str], timeout: float | None = None) -> dict:
    """Wall seconds, peak RSS (MB) and exit status of one command in its own process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = None if timeout is None else start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.perf_counter() > deadline:
            proc.send_signal(signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            return {
                "wall": time.perf_counter() - start,
                "rss": usage.ru_maxrss / 1024,
                "status": "timeout",
            }
        time.sleep(0.05)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    state = "ok" if code == 0 else f"exit {code}: {err[-1] if err else ''}"
    return {"wall": wall, "rss": usage.ru_maxrss / 1024, "status": state}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[3_000_000, 30_000_000])
    parser.add_argument("--peer-timeout", type=float, default=1200.0)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    env_python = sys.executable
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    results = []
    for rows in args.rows:
        path = make_file(rows)
        ours = run(
            [
                env_python,
                "-m",
                "patron",
                "analyze",
                str(path),
                "--model",
                "bgnbd",
                "--scores",
                f"/tmp/patron_bench_scores_{rows}.csv",
            ]
        )
        peer = None
        if not args.skip_peer:
            peer = run(
                [
                    str(PEER_PYTHON),
                    "-c",
                    PEER_SCRIPT,
                    str(path),
                    f"/tmp/peer_bench_scores_{rows}.csv",
                ],
                timeout=args.peer_timeout,
            )
        results.append((rows, ours, peer))
        report(results)


def report(results) -> None:
    """The table: wall time and peak RSS of both, and the ratios."""
    print(
        "\n| rows | patron wall s | patron peak MB | lifetimes wall s | lifetimes peak MB "
        "| speed-up | memory ratio | peer status |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for rows, ours, peer in results:
        if ours["status"] != "ok":
            print(f"| {rows:,} | patron failed: {ours['status']} |")
            continue
        if peer is None:
            print(
                f"| {rows:,} | {ours['wall']:.1f} | {ours['rss']:,.0f} | – | – | – | – | skipped |"
            )
            continue
        speed = peer["wall"] / ours["wall"]
        memory = ours["rss"] / peer["rss"]
        print(
            f"| {rows:,} | {ours['wall']:.1f} | {ours['rss']:,.0f} | {peer['wall']:.1f} "
            f"| {peer['rss']:,.0f} | {speed:.1f}x | {memory:.2f} | {peer['status']} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
