"""Benchmark sending personalised email: 2 `patron worker` processes beside plain smtplib.

Usage: ``.venv/bin/python bench/send.py [--count 10000] [--backends sqlite,postgresql]
[--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--profile]``.

Data (deterministic): `count` customers with granted email consent and 3 orders of 2 lines each;
a marketing template that greets the customer and loops over their last orders and lines,
inside the default layout (MJML is not used: one format, the common case).

- ours: every customer queued with one INSERT ... SELECT (`enqueue.enqueue_many`), the bulk lane
  woken with 2 senders, then 2 `patron worker` subprocesses with PATRON_MESSAGES_EMAIL_CHANNEL=smtp
  send to an aiosmtpd sink on loopback (its own process, counting messages). Timed from the
  workers' launch until the sink has them all ("first→last" leaves out worker start-up).
- ceiling: the same messages pre-rendered (not timed) and sent by plain smtplib over one
  connection to the same sink, in the same run.
- `--profile`: one in-process sender (`sender.send_batch` loop) under cProfile, top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from patron.customers.read import Consent, Customer  # noqa: E402
from patron.customers.tables import Order, OrderLine  # noqa: E402
from patron.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from patron.messages import (  # noqa: E402
    authoring,
    channels,
    context,
    enqueue,
    links,
    preferences,
    rendering,
    sender,
    service,
    sources,
)
from patron.messages.config import MessageConfig  # noqa: E402
from patron.messages.tables import OutboxMessage  # noqa: E402
from patron.migrate import upgrade  # noqa: E402

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SECRET = "bench-send-secret"
FROM = "Shop <news@shop.example>"
CHUNK = 10_000
BODY = """<h1>Hello {{ customer.first_name }},</h1>
<p>Thank you for your last orders:</p>
<table>
{% for order in orders %}
  <tr><th colspan="2">Order {{ order.external_id }} ·
    {{ order.placed_at.strftime("%d %b %Y") }}</th></tr>
  {% for line in order.lines %}
  <tr><td>{{ line.quantity }} × {{ line.name }}</td>
      <td style="text-align:right">{{ "%.2f"|format(line.total_cents / 100) }}
        {{ order.currency }}</td></tr>
  {% endfor %}
{% endfor %}
</table>
<p><a href="https://shop.example/new?c={{ customer.external_id }}">See what is new</a></p>
"""


# The sink ------------------------------------------------------------------------------------


def _sink_main(port: int, counter, ready) -> None:
    """An aiosmtpd server counting the messages it accepts (runs in its own process)."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """The sink process and its counter."""

    def __init__(self):
        self.port = free_port()
        self.counter = multiprocessing.Value("q", 0)
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=_sink_main, args=(self.port, self.counter, ready), daemon=True
        )
        self.process.start()
        ready.wait(30)

    def count(self) -> int:
        return self.counter.value

    def reset(self) -> None:
        with self.counter.get_lock():
            self.counter.value = 0

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


# Data ----------------------------------------------------------------------------------------


def load(sessions, count: int) -> int:
    """Customers with consent and orders, a template in the default layout; its id."""
    with transaction(sessions) as s:
        for start in range(0, count, CHUNK):
            ids = range(start + 1, min(count, start + CHUNK) + 1)
            s.execute(
                insert(Customer),
                [
                    dict(
                        id=i,
                        external_id=f"c{i}",
                        email=f"c{i}@example.com",
                        first_name=f"Name{i}",
                        attributes={},
                        created_at=NOW,
                        updated_at=NOW,
                    )
                    for i in ids
                ],
            )
            s.execute(
                insert(Consent),
                [
                    dict(
                        customer_id=i,
                        channel="email",
                        status="granted",
                        updated_at=NOW,
                        source="bench",
                    )
                    for i in ids
                ],
            )
            orders = [
                dict(
                    id=(i - 1) * 3 + k + 1,
                    external_id=f"o{i}-{k}",
                    customer_id=i,
                    placed_at=NOW - timedelta(days=10 * (k + 1) + i % 7),
                    total_cents=1000 + (i * 37 + k * 11) % 9000,
                    created_at=NOW,
                    updated_at=NOW,
                )
                for i in ids
                for k in range(3)
            ]
            s.execute(insert(Order), orders)
            s.execute(
                insert(OrderLine),
                [
                    dict(
                        order_id=o["id"],
                        sku=f"sku{(o['id'] + n) % 50}",
                        name=f"Product {(o['id'] + n) % 50}",
                        quantity=1 + n,
                        unit_price_cents=500,
                        total_cents=500 * (1 + n),
                    )
                    for o in orders
                    for n in range(2)
                ],
            )
        layout = authoring.ensure_default_layout(session=s, now=NOW)
        template = service.create_template(
            session=s,
            data=service.TemplateInput(
                name="bench",
                layout_id=layout.id,
                variants=[
                    service.VariantInput(
                        subject="Your orders, {{ customer.first_name }}",
                        preheader="{{ orders|length }} recent orders",
                        body=BODY,
                    )
                ],
            ),
            now=NOW,
        )
        return template.id


def queue_all(sessions, template_id: int, occurrence: str) -> float:
    """Fan out to every customer (one INSERT ... SELECT) and wake 2 senders; seconds taken."""
    started = time.perf_counter()
    with transaction(sessions) as s:
        enqueue.enqueue_many(
            s,
            select(Customer.id),
            template_id=template_id,
            source="bench",
            source_id=template_id,
            occurrence=occurrence,
            now=NOW,
        )
        sender.wake(s, lane="bulk", now=NOW, senders=2)
    return time.perf_counter() - started


def config_for(sink: Sink) -> MessageConfig:
    """Sending settings pointed at the sink."""
    return MessageConfig(
        secret_key=SECRET,
        email_channel="smtp",
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_security="none",
        from_address=FROM,
        public_url="https://shop.example",
    )


# Runs ----------------------------------------------------------------------------------------


def run_workers(url: str, sink: Sink, count: int, timeout: float) -> tuple[float, float]:
    """2 `patron worker` processes until the sink has `count`; (from launch, first→last) s."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATRON_DATABASE_URL": url,
        "PATRON_SECRET_KEY": SECRET,
        "PATRON_LOG_LEVEL": "warning",
        # One job at a time: a worker does not sit on the other sender's job (see README).
        "PATRON_WORKER_BATCH": "1",
        "PATRON_MESSAGES_EMAIL_CHANNEL": "smtp",
        "PATRON_SMTP_HOST": "127.0.0.1",
        "PATRON_SMTP_PORT": str(sink.port),
        "PATRON_SMTP_SECURITY": "none",
        "PATRON_MESSAGES_FROM": FROM,
        "PATRON_MESSAGES_PUBLIC_URL": "https://shop.example",
    }
    command = [sys.executable, "-m", "patron", "worker", "--poll", "0.2"]
    launched = time.perf_counter()
    workers = [
        subprocess.Popen(
            [*command, "--worker-id", f"bench{n}", "--queue", "default"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(2)
    ]
    first = None
    try:
        while sink.count() < count:
            if first is None and sink.count() > 0:
                first = time.perf_counter()
            if time.perf_counter() - launched > timeout:
                raise SystemExit(f"timed out with {sink.count()} of {count} received")
            if any(w.poll() is not None for w in workers):
                raise SystemExit(workers[0].stderr.read().decode()[-2000:])
            time.sleep(0.05)
        done = time.perf_counter()
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(10)
    return done - launched, done - (first or launched)


def prerender(sessions, config: MessageConfig, template_id: int) -> list[tuple[str, bytes]]:
    """Every queued message rendered and built as `patron` would send it (not timed)."""
    prepared = []
    with transaction(sessions) as s:
        template = sources.load(s, [template_id])[template_id]
        ids = list(s.scalars(select(Customer.id).order_by(Customer.id)))
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with transaction(sessions) as s:
            contexts = context.contexts(session=s, customer_ids=chunk)
        for cid in chunk:
            url = links.unsubscribe_url(config.public_url, SECRET, customer_id=cid, outbox_id=cid)
            prefs = preferences.preferences_url(config.public_url, SECRET, customer_id=cid)
            extras = context.message_extras(unsubscribe_url=url, preferences_url=prefs, data=None)
            values = {**contexts[cid], **extras}
            rendered = rendering.render(template.for_locale(None), values)
            envelope = channels.Envelope(
                to=f"c{cid}@example.com",
                subject=rendered.subject,
                html=rendered.html,
                text=rendered.text,
                message_id=f"<{cid}.ceiling@shop.example>",
                customer_id=cid,
                kind="marketing",
                preheader=rendered.preheader,
            )
            raw = channels.build_email(config, envelope, now=NOW).as_bytes()
            prepared.append((envelope.to, raw))
    return prepared


def run_ceiling(sink: Sink, prepared: list[tuple[str, bytes]]) -> float:
    """Plain smtplib over one connection; seconds until the sink has them all."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for to, raw in prepared:
            smtp.sendmail("news@shop.example", [to], raw)
    while sink.count() < len(prepared):
        time.sleep(0.01)
    return time.perf_counter() - started


def profile_one(sessions, config: MessageConfig, template_id: int, limit: int) -> None:
    """One in-process sender under cProfile for `limit` messages; prints the top functions."""
    with transaction(sessions) as s:
        s.execute(text("UPDATE outbox SET state = 'queued', locked_by = NULL, attempted_at = NULL"))
        s.execute(text("UPDATE outbox SET state = 'done' WHERE id > :n"), {"n": limit})
    profiler = cProfile.Profile()
    clock = lambda: NOW  # noqa: E731
    started = time.perf_counter()
    profiler.enable()
    sent = 0
    while n := sender.send_batch(sessions, config, lane="bulk", worker="prof", clock=clock):
        sent += n
    profiler.disable()
    took = time.perf_counter() - started
    print(
        f"\ncProfile: one in-process sender, {sent:,} messages in {took:.1f} s "
        f"({sent / took:,.0f} msg/s under the profiler)"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)


# Backends ------------------------------------------------------------------------------------


def open_backend(backend: str, pg_url: str, work: Path):
    """(worker URL, engine) of an empty migrated database."""
    if backend == "sqlite":
        url = f"sqlite:///{work / 'send.db'}"
        engine = make_engine(url)
    else:
        schema = "bench_send"
        admin = make_engine(pg_url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        sep = "&" if "?" in pg_url else "?"
        url = f"{pg_url}{sep}options=-csearch_path%3D{schema}"
        engine = make_engine(pg_url, schema=schema)
    upgrade(engine)
    return url, engine


def bench(backend: str, args, sink: Sink, work: Path) -> dict:
    """One backend: ours, then the ceiling; the numbers of the table."""
    url, engine = open_backend(backend, args.pg_url, work)
    sessions = make_sessionmaker(engine)
    template_id = load(sessions, args.count)
    fan_out = queue_all(sessions, template_id, "run1")
    sink.reset()
    total, steady = run_workers(url, sink, args.count, args.timeout)
    with transaction(sessions) as s:
        states = dict(
            s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
        )
    config = config_for(sink)
    prepared = prerender(sessions, config, template_id)
    sink.reset()
    ceiling = run_ceiling(sink, prepared)
    if args.profile:
        profile_one(sessions, config, template_id, min(args.count, 5000))
    engine.dispose()
    return dict(
        backend=backend,
        fan_out=fan_out,
        total=total,
        steady=steady,
        ceiling=ceiling,
        states=states,
        size=sum(len(raw) for _, raw in prepared) / len(prepared),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    sink = Sink()
    work = Path(tempfile.mkdtemp(prefix="patron-send-"))
    results = []
    try:
        for backend in args.backends.split(","):
            results.append(bench(backend.strip(), args, sink, work))
    finally:
        sink.stop()
        shutil.rmtree(work, ignore_errors=True)
    table = Table(title=f"{args.count:,} personalised emails to an aiosmtpd sink on loopback")
    for column in ("backend", "what", "seconds", "msg/s", "of ceiling", "target"):
        table.add_column(column, justify="left" if column in ("backend", "what") else "right")
    for r in results:
        n, ceiling_rate = args.count, args.count / r["ceiling"]
        table.add_row(
            r["backend"], "fan-out (INSERT ... SELECT)", f"{r['fan_out']:.2f}", "", "", ""
        )
        for what, seconds in (
            ("2 workers, from launch", r["total"]),
            ("2 workers, first→last", r["steady"]),
        ):
            rate = n / seconds
            table.add_row(
                r["backend"],
                what,
                f"{seconds:.1f}",
                f"{rate:,.0f}",
                f"{rate / ceiling_rate:.0%}",
                "≥ 1,000 · ≥ 50%",
            )
        table.add_row(
            r["backend"],
            "ceiling: smtplib, 1 connection, pre-rendered",
            f"{r['ceiling']:.1f}",
            f"{ceiling_rate:,.0f}",
            "100%",
            "",
        )
    Console(width=140).print(table)
    for r in results:
        print(f"{r['backend']}: outbox states {r['states']}; mean message {r['size']:,.0f} bytes")


if __name__ == "__main__":
    main()
