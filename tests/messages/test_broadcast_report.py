"""The broadcast report from seeded outbox and activity rows: delivered, clicks per link with
bots kept apart, and the adaptive timeline bucketed in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from patron.cli import app as cli_app
from patron.db import transaction
from patron.messages import broadcast_report, report_chart
from patron.messages.tables import Broadcast, MessageActivity, OutboxMessage
from tests.messages.conftest import NOW
from tests.messages.test_api import api  # noqa: F401 - the fixture

A, B = "https://shop.example/a", "https://shop.example/b"
SENT_AT = NOW + timedelta(minutes=10)
SCANNER = "link scanner user agent"


def _row(s, n: int, *, state: str, sent: bool, source_id: int = 7, reason=None) -> int:
    """One outbox row of broadcast `source_id` for customer n."""
    row = OutboxMessage(
        source="broadcast",
        source_id=source_id,
        customer_id=n,
        channel="email",
        template_id=1,
        state=state,
        reason=reason,
        address=f"c{n}@example.com",
        send_after=NOW,
        queued_at=NOW,
        sent_at=SENT_AT if sent else None,
    )
    s.add(row)
    s.flush()
    return row.id


def _act(s, outbox_id: int, customer_id: int, kind: str, minutes: float, url=None, bot=None):
    """One activity `minutes` after NOW."""
    at = NOW + timedelta(minutes=minutes)
    s.add(
        MessageActivity(
            outbox_id=outbox_id, customer_id=customer_id, kind=kind, url=url, bot_reason=bot, at=at
        )
    )


def seed(s) -> Broadcast:
    """Broadcast 7: three delivered, one bounced after send, one refused, one skipped."""
    b = Broadcast(id=7, name="Spring", template_id=1, state="sent", audience_size=6, created_at=NOW)
    s.add(b)
    m1, m2, m3 = (_row(s, n, state="sent", sent=True) for n in (1, 2, 3))
    _row(s, 4, state="bounced", sent=True, reason="hard_bounce")
    _row(s, 5, state="bounced", sent=False, reason="hard_bounce")
    _row(s, 6, state="skipped", sent=False, reason="consent")
    other = _row(s, 1, state="sent", sent=True, source_id=8)
    _act(s, m1, 1, "open", 60)
    _act(s, m1, 1, "click", 65, A)
    _act(s, m1, 1, "click", 120, A)  # exactly on the hour: bucket 2
    _act(s, m1, 1, "click", 150, B)
    _act(s, m2, 2, "click", 180, A)
    _act(s, m2, 2, "click", 10.05, A, SCANNER)
    _act(s, m2, 2, "open", 10.05, bot=SCANNER)
    _act(s, m3, 3, "click", 30, B, SCANNER)
    _act(s, m3, 3, "click", 31, None, "honeypot link")
    _act(s, other, 1, "click", 70, A)  # another broadcast: never counted here
    s.flush()
    return b


def test_report_counts_delivered_links_and_hourly_buckets(db):
    with transaction(db.sessions) as s:
        report = broadcast_report.report(s, broadcast=seed(s))
    assert (report["sent"], report["delivered"], report["bounced"]) == (4, 3, 2)
    assert report["bounced_after_send"] == 1
    assert report["skipped_by_reason"] == {"consent": 1}
    assert (report["unique_opens"], report["unique_clicks"], report["bot_clicks"]) == (1, 2, 3)
    assert report["links"] == [
        {"url": A, "unique_clickers": 2, "clicks": 3, "bot_clicks": 1},
        {"url": B, "unique_clickers": 1, "clicks": 1, "bot_clicks": 1},
    ]
    timeline = report["timeline"]
    assert timeline["unit"] == "hour"
    rows = [(b["start"], b["sends"], b["opens"], b["clicks"]) for b in timeline["buckets"]]
    assert rows == [
        (NOW, 4, 0, 0),
        (NOW + timedelta(hours=1), 0, 1, 1),
        (NOW + timedelta(hours=2), 0, 0, 2),
        (NOW + timedelta(hours=3), 0, 0, 1),
    ]


def test_after_48_hours_the_timeline_is_daily(db):
    with transaction(db.sessions) as s:
        b = seed(s)
        outbox_id = s.query(OutboxMessage.id).filter_by(customer_id=3, source_id=7).scalar()
        _act(s, outbox_id, 3, "click", 60 * 24 * 3 + 5, A)  # three days later, 12:05
        _act(s, outbox_id, 3, "open", 60 * 12, bot=None)  # 00:00 of the next day
        s.flush()
        timeline = broadcast_report.timeline(s, broadcast_id=b.id)
    day = NOW.replace(hour=0)
    rows = [(b["start"], b["sends"], b["opens"], b["clicks"]) for b in timeline["buckets"]]
    assert timeline["unit"] == "day"
    assert rows == [
        (day, 4, 1, 4),
        (day + timedelta(days=1), 0, 1, 0),
        (day + timedelta(days=2), 0, 0, 0),
        (day + timedelta(days=3), 0, 0, 1),
    ]


def test_an_unsent_broadcast_has_an_empty_timeline(db):
    with transaction(db.sessions) as s:
        assert broadcast_report.timeline(s, broadcast_id=99) == {"unit": "hour", "buckets": []}
        assert broadcast_report.links(s, broadcast_id=99) == []


def test_chart_geometry_scales_to_a_round_top():
    counts = {("sends", 0): 40, ("click", 1): 5}
    timeline = report_chart.buckets_of(unit="hour", start=NOW, counts=counts, count=3)
    g = report_chart.geometry(timeline)
    points = {s["key"]: s["points"] for s in g["series"]}
    # The top is 50; the plot is 192 px high from y=12, so 40 sits at 12 + 192 * 0.2.
    assert [y for _, y in points["sends"]] == [50.4, 204.0, 204.0]
    assert [y for _, y in points["clicks"]] == [204.0, 184.8, 204.0]
    assert [x for x, _ in points["opens"]] == [48.0, 362.0, 676.0]
    assert [t["label"] for t in g["y_ticks"]] == ["0", "25", "50"]
    assert g["x_ticks"][0]["label"] == "01 Jan 12:00"


def test_api_report_has_links_and_timeline(db, api):  # noqa: F811
    client, headers = api
    with transaction(db.sessions) as s:
        seed(s)
    body = client.get("/api/broadcasts/7/report", headers=headers).json()
    assert body["links"][0] == {"url": A, "unique_clickers": 2, "clicks": 3, "bot_clicks": 1}
    assert [b["clicks"] for b in body["timeline"]["buckets"]] == [0, 1, 2, 1]
    assert body["timeline"]["buckets"][0]["start"].startswith("2025-01-01T12:00:00")
    assert (body["sent"], body["delivered"]) == (4, 3)


def test_cli_report_prints_a_row_per_link(sqlite_db):
    with transaction(sqlite_db.sessions) as s:
        seed(s)
    env = {"PATRON_DATABASE_URL": sqlite_db.url, "PATRON_SECRET_KEY": "x", "COLUMNS": "200"}
    result = CliRunner().invoke(cli_app, ["broadcasts", "report", "7"], env=env)
    assert result.exit_code == 0, result.output
    assert "Clicks per link" in result.output
    cells = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:5]]
        for line in result.output.splitlines()
        if "https://shop.example/" in line
    }
    assert cells == {A: ["2", "3", "1"], B: ["1", "1", "1"]}
