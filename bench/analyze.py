"""Benchmark `patron analyze` end to end beside the lifetimes pipeline on the same file.

Usage: ``.venv/bin/python bench/analyze.py [--rows 3000000 30000000] [--peer-timeout 1200]
[--peer-memory-gb 8]``.

For each size a deterministic file (seed 2024) of ``customer_id,date,amount`` rows is written to
/tmp once: ``rows / 6`` customers from a BG/NBD process (first purchase on a day uniform over two
years, Poisson repeat purchases while alive, dropout after each repeat purchase, gamma
heterogeneity; see ``simulate``) with Gamma-Gamma amounts, sorted by date as an export would be,
integer ids. Then in the same run:

* patron: ``python -m patron analyze FILE --model bgnbd --scores OUT.csv`` (BG/NBD, as the peer;
  the default model of analyze is the modified BG/NBD);
* peer (``bench/.venv-peer``, lifetimes 0.11.3): pandas ``read_csv``,
  ``summary_data_from_transaction_data``, BG/NBD, Gamma-Gamma on repeat buyers, 12-month CLV
  (discount 1%/month), the scores written with ``to_csv``.

Each runs in its own process; wall time, CPU time (user + system, which varies less than wall
time on a shared machine; pyarrow parses on both cores, so ours may exceed its wall time) and
peak RSS come from ``os.wait4``. A peer run over
``--peer-timeout`` seconds is stopped and reported as such; its address space is capped at
``--peer-memory-gb`` (``RLIMIT_AS``), so running out of memory shows as a MemoryError exit rather
than swapping the shared machine. The load average (1 minute) before each run is printed: the
machine is shared, compare ratios.
"""

from __future__ import annotations

import argparse
import os
import resource
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
SPAN_DAYS = 730  # 2023-01-01 to 2024-12-30
# Per day; about 6 orders per customer on average over the two years.
BGNBD = {"r": 0.6, "alpha": 11.0, "a": 0.8, "b": 2.5}
GAMMA_GAMMA = {"p": 6.0, "q": 3.5, "gamma": 15.0}  # mean order about 36

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


def simulate(customers: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Customer ids, epoch days and amounts of the orders of `customers` BG/NBD buyers.

    Each customer makes a first purchase on a day uniform over the SPAN_DAYS and is watched to
    the end of them. While alive, repeat purchases arrive as a Poisson process of rate
    lambda ~ Gamma(R, 1/ALPHA) per day; after each repeat purchase the customer drops out with
    probability p ~ Beta(A, B). Spend per order ~ Gamma(P, 1/nu), nu ~ Gamma(Q, 1/GAMMA) per
    customer (the Gamma-Gamma story). Orders are returned in no particular order.
    """
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], customers)
    p = rng.beta(BGNBD["a"], BGNBD["b"], customers)
    start = rng.integers(0, SPAN_DAYS, customers)
    observed = SPAN_DAYS - start
    arrivals = rng.poisson(lam * observed)
    repeats = np.minimum(arrivals, rng.geometric(p))
    # Arrival times are sorted uniforms over the observed days; the first `repeats` are bought.
    owner = np.repeat(np.arange(customers), arrivals)
    u = rng.random(owner.size)
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    bought = rank < repeats[owner]
    owner = np.r_[np.arange(customers), owner[bought]]
    offset = np.r_[np.zeros(customers), np.floor(u[bought] * observed[owner[customers:]])]
    days = start[owner] + offset.astype(np.int64)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], customers)
    amounts = np.maximum(np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[owner]), 2), 0.01)
    return owner, days, amounts


def make_file(rows: int) -> tuple[Path, int]:
    """Write (once) the deterministic file of about `rows` orders; return it and its row count."""
    path = Path(f"/tmp/patron_bench_analyze_bgnbd_{rows}.csv")
    if path.exists():
        return path, sum(1 for _ in open(path, "rb")) - 1
    rng = np.random.default_rng(2024)
    customers = max(rows // ROWS_PER_CUSTOMER, 1)
    ids = 1 + rng.permutation(customers)  # integer ids unrelated to the order of first purchase
    parts = []
    for first in range(0, customers, 250_000):
        owner, days, amounts = simulate(min(250_000, customers - first), rng)
        parts.append((ids[first + owner], days.astype(np.int32), amounts))
    owner, days, amounts = (np.concatenate(column) for column in zip(*parts, strict=True))
    del parts
    # An export by date: sorted by day, customers shuffled within a day.
    order = np.argsort(days + rng.random(days.size), kind="stable")
    schema = pa.schema(
        [("customer_id", pa.int64()), ("date", pa.date32()), ("amount", pa.float64())]
    )
    epoch = (np.datetime64("2023-01-01") - np.datetime64("1970-01-01")).astype(np.int32)
    path.write_text("customer_id,date,amount\n")
    plain = pv.WriteOptions(include_header=False)
    with open(path, "ab") as fh, pv.CSVWriter(fh, schema, write_options=plain) as writer:
        for s in range(0, order.size, 5_000_000):
            pick = order[s : s + 5_000_000]
            table = pa.table(
                {
                    "customer_id": owner[pick],
                    "date": pa.array(days[pick] + epoch, pa.int32()).cast(pa.date32()),
                    "amount": amounts[pick],
                },
                schema=schema,
            )
            writer.write_table(table)
    return path, int(order.size)


def run(command: list[str], timeout: float | None = None, memory_gb: float | None = None) -> dict:
    """Wall seconds, peak RSS (MB), load before and exit status of one command in its process."""
    load = os.getloadavg()[0]

    def cap():
        if memory_gb:
            limit = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=cap
    )
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
                "cpu": usage.ru_utime + usage.ru_stime,
                "rss": usage.ru_maxrss / 1024,
                "load": load,
                "status": f"stopped at {timeout:.0f} s",
            }
        time.sleep(0.05)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    state = "ok" if code == 0 else f"exit {code}: {err[-1] if err else ''}"
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss": usage.ru_maxrss / 1024,
        "load": load,
        "status": state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[3_000_000, 30_000_000])
    parser.add_argument("--peer-timeout", type=float, default=1200.0)
    parser.add_argument("--peer-memory-gb", type=float, default=8.0)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--peer-python", default=str(PEER_PYTHON), help="python of the peer venv")
    args = parser.parse_args()
    env_python = sys.executable
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    results = []
    for rows in args.rows:
        path, written = make_file(rows)
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
                    args.peer_python,
                    "-c",
                    PEER_SCRIPT,
                    str(path),
                    f"/tmp/peer_bench_scores_{rows}.csv",
                ],
                timeout=args.peer_timeout,
                memory_gb=args.peer_memory_gb,
            )
        results.append((written, ours, peer))
        report(results)


def report(results) -> None:
    """The table: wall time, CPU time (user + system), peak RSS and load of both, the ratios."""
    print(
        "\n| rows | patron wall s | patron CPU s | patron peak MB | lifetimes wall s "
        "| lifetimes CPU s | lifetimes peak MB | speed-up (wall) | speed-up (CPU) "
        "| memory ratio | load before (patron / peer) | peer status |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for rows, ours, peer in results:
        if ours["status"] != "ok":
            print(f"| {rows:,} | patron failed: {ours['status']} |")
            continue
        mine = f"| {rows:,} | {ours['wall']:.1f} | {ours['cpu']:.1f} | {ours['rss']:,.0f} "
        if peer is None:
            print(mine + f"| – | – | – | – | – | – | {ours['load']:.1f} / – | skipped |")
            continue
        done = peer["status"] == "ok"
        bound = "" if done else "> "  # a stopped peer: its figures are lower bounds
        wall, cpu = peer["wall"] / ours["wall"], peer["cpu"] / ours["cpu"]
        print(
            mine + f"| {bound}{peer['wall']:.1f} | {bound}{peer['cpu']:.1f} | {peer['rss']:,.0f} "
            f"| {bound}{wall:.1f}x | {bound}{cpu:.1f}x "
            f"| {ours['rss'] / peer['rss']:.2f} | {ours['load']:.1f} / {peer['load']:.1f} "
            f"| {peer['status']} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
