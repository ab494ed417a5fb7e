"""Gatherings end to end on SQLite: invite a segment, RSVP through the links of the rendered
invitation (waitlist and promotion), tampered links, the .ics, reminders once, attendance."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import icalendar
from fastapi.testclient import TestClient
from sqlalchemy import select

from patron.app import create_app
from patron.customers import service as customers
from patron.db import transaction, utcnow
from patron.events.tables import LoggedEvent
from patron.gatherings import rules, service, tracked
from patron.manifest import installed
from patron.messages import service as messages
from patron.segments import service as segments
from patron.webhooks import rules as signing
from tests import factories
from tests.events.test_service import pump_until_caught_up
from tests.gatherings.conftest import SECRET

HOOK_SECRET = signing.format_secret(b"0123456789abcdef0123456789abcdef")


def _setup(db, n=4, capacity=2):
    """n customers with email consent in a segment, and an event in 3 days."""
    now = utcnow()
    with transaction(db.sessions) as s:
        ids = []
        for i in range(1, n + 1):
            c = factories.customer(s, f"c{i}", email=f"c{i}@example.com", first_name=f"N{i}")
            customers.set_consent(
                session=s, customer=c, channel="email", status="granted", source="t", now=now
            )
            ids.append(c.id)
        segment = segments.create_segment(
            session=s,
            name="All",
            now=now,
            rules_json={
                "type": "and",
                "children": [
                    {"type": "profile", "field": "email", "op": "contains", "value": "@example"}
                ],
            },
        )
        g = service.create_gathering(
            session=s,
            data=rules.GatheringInput(
                title="Spring tasting",
                starts_at=now + timedelta(days=3),
                ends_at=now + timedelta(days=3, hours=2),
                timezone="Europe/Paris",
                place="The shop, 12 rue X",
                capacity=capacity,
                description="Thank you for being with us.",
            ),
            now=now,
        )
        return ids, segment.id, g.id


def _links(db, gathering_id, customer_id) -> dict[str, str]:
    """The links in the customer's rendered invitation."""
    with transaction(db.sessions) as s:
        g = service.get_gathering(session=s, gathering_id=gathering_id)
        html = messages.render_for(
            session=s, template_id=g.invite_template_id, customer_id=customer_id
        ).html
    found = dict(
        (m.group(1) or "ics", m.group(0))
        for m in re.finditer(r"http://testserver/g/(?:rsvp|ics)/[^\"?]+(?:\?answer=(\w+))?", html)
    )
    return {k: v.replace("&amp;", "&") for k, v in found.items()}


def _status(db, gathering_id, customer_id) -> str:
    with transaction(db.sessions) as s:
        return service.invitation(
            session=s, gathering_id=gathering_id, customer_id=customer_id
        ).status


def _events(db, type_name):
    with transaction(db.sessions) as s:
        return [
            (e.customer_id, e.data)
            for e in s.scalars(select(LoggedEvent).where(LoggedEvent.type == type_name))
        ]


def test_invite_rsvp_waitlist_promotion_and_ics(sqlite_db):
    db = sqlite_db
    (c1, c2, c3, c4), segment_id, gid = _setup(db)
    now = utcnow()
    with transaction(db.sessions) as s:
        assert (
            service.invite_segment(session=s, gathering_id=gid, segment_id=segment_id, now=now) == 4
        )
        assert (
            service.invite_segment(session=s, gathering_id=gid, segment_id=segment_id, now=now) == 0
        )
        queued = messages.messages_of(session=s, customer_id=c1, after_id=None, limit=10)
        assert [(m.source, m.occurrence) for m in queued] == [("gathering", "invite")]
    assert sorted(cid for cid, _ in _events(db, "gathering.invited")) == [c1, c2, c3, c4]

    client = TestClient(create_app(db.settings(), engine=db.engine))
    links = {cid: _links(db, gid, cid) for cid in (c1, c2, c3)}
    assert set(links[c1]) == {"yes", "no", "maybe", "ics"}
    page = client.get(links[c1]["yes"])
    assert page.status_code == 200 and 'value="yes"' in page.text
    assert _status(db, gid, c1) == "invited"  # GET shows, never records

    def answer(cid, value):
        url = links[cid][value].split("?")[0]
        return client.post(url, data={"answer": value})

    assert 'data-status="going"' in answer(c1, "yes").text
    assert 'data-status="going"' in answer(c2, "yes").text
    assert 'data-status="waitlisted"' in answer(c3, "yes").text
    assert answer(c2, "yes").status_code == 200  # the same answer again changes nothing
    assert 'data-status="declined"' in answer(c1, "no").text
    assert _status(db, gid, c3) == "going"  # promoted from the waitlist
    with transaction(db.sessions) as s:
        counts = service.counts(session=s, gathering_id=gid)
        assert service.get_gathering(session=s, gathering_id=gid).going == 2
    assert (counts["going"], counts["declined"], counts["waitlisted"], counts["invited"]) == (
        2,
        1,
        0,
        1,
    )
    rsvps = [(cid, d["answer"], d["status"]) for cid, d in _events(db, "gathering.rsvp")]
    assert rsvps == [
        (c1, "yes", "going"),
        (c2, "yes", "going"),
        (c3, "yes", "waitlisted"),
        (c1, "no", "declined"),
        (c3, "yes", "going"),
    ]

    ics = client.get(links[c3]["ics"])
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    (event,) = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(event["summary"]) == "Spring tasting"
    assert str(event["location"]) == "The shop, 12 rue X"
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Paris"


def test_a_bad_rsvp_link_is_400_and_records_nothing(sqlite_db):
    db = sqlite_db
    (c1, *_), _, gid = _setup(db, n=1)
    with transaction(db.sessions) as s:
        service.invite_customers(session=s, gathering_id=gid, customer_ids=[c1], now=utcnow())
    good = _links(db, gid, c1)["yes"].split("?")[0].rsplit("/", 1)[1]
    sig = good.rsplit(".", 1)[1]
    forged = base64.urlsafe_b64encode(json.dumps({"g": gid, "c": c1 + 1, "x": 9999999999}).encode())
    soon, gone = utcnow() + timedelta(days=9), utcnow() - timedelta(seconds=1)
    bad = {
        "tampered": f"{forged.decode().rstrip('=')}.{sig}",
        "other purpose": rules.sign(
            SECRET, "checkin", gathering_id=gid, customer_id=c1, expires=soon
        ),
        "expired": rules.sign(SECRET, "rsvp", gathering_id=gid, customer_id=c1, expires=gone),
    }
    client = TestClient(create_app(db.settings(), engine=db.engine))
    for how, token in bad.items():
        assert client.get(f"/g/rsvp/{token}?answer=yes").status_code == 400, how
        answer = client.post(f"/g/rsvp/{token}", data={"answer": "yes"})
        assert answer.status_code == 400 and "not valid" in answer.text, how
        assert client.get(f"/g/ics/{token}.ics").status_code == 400, how
    assert _status(db, gid, c1) == "invited" and _events(db, "gathering.rsvp") == []
    assert client.post(f"/g/rsvp/{good}", data={"answer": "yes"}).status_code == 200
    assert _status(db, gid, c1) == "going"


def test_reminders_a_day_and_an_hour_before_each_once(sqlite_db):
    db = sqlite_db
    (c1, c2, c3), _, gid = _setup(db, n=3, capacity=None)
    with transaction(db.sessions) as s:
        g = service.get_gathering(session=s, gathering_id=gid)
        service.invite_customers(
            session=s, gathering_id=gid, customer_ids=[c1, c2, c3], now=utcnow()
        )
        service.rsvp(session=s, gathering_id=gid, customer_id=c1, answer="yes", now=utcnow())
        service.rsvp(session=s, gathering_id=gid, customer_id=c2, answer="maybe", now=utcnow())
        service.rsvp(session=s, gathering_id=gid, customer_id=c3, answer="no", now=utcnow())
        start = g.starts_at
    for offset, expected in [
        (timedelta(days=2), 0),
        (timedelta(hours=23), 2),
        (timedelta(hours=22), 0),
        (timedelta(minutes=50), 2),
        (timedelta(minutes=10), 0),
    ]:
        with transaction(db.sessions) as s:
            assert service.send_reminders(session=s, now=start - offset) == expected, offset
    with transaction(db.sessions) as s:
        kinds = {
            cid: sorted(
                m.occurrence
                for m in messages.messages_of(session=s, customer_id=cid, after_id=None, limit=9)
            )
            for cid in (c1, c2, c3)
        }
    assert kinds == {
        c1: ["invite", "remind-1d", "remind-1h"],
        c2: ["invite", "remind-1d", "remind-1h"],
        c3: ["invite"],
    }


def test_attendance_by_csv_and_signed_webhook(sqlite_db, monkeypatch):
    db = sqlite_db
    (c1, c2, c3), _, gid = _setup(db, n=3)
    with transaction(db.sessions) as s:
        service.invite_customers(session=s, gathering_id=gid, customer_ids=[c1], now=utcnow())
        result = service.import_attendance(
            session=s,
            gathering_id=gid,
            csv_text="email,name\nC1@example.com,A\nnobody@x.com,B\nc1@example.com,A\n",
            source="csv",
            now=utcnow(),
        )
    assert result == {"rows": 3, "matched": 1, "recorded": 1, "unmatched": ["nobody@x.com"]}

    client = TestClient(create_app(db.settings(), engine=db.engine))
    body = json.dumps(
        {"gathering_id": gid, "attendees": [{"email": "c2@example.com"}, {"external_id": "c3"}]}
    ).encode()
    stamp = int(utcnow().timestamp())
    headers = signing.headers(HOOK_SECRET, "msg_1", stamp, body)
    url = "/hooks/gatherings/attendance"
    assert client.post(url, content=body, headers=headers).status_code == 401  # no secret set
    monkeypatch.setenv("PATRON_GATHERINGS_WEBHOOK_SECRET", HOOK_SECRET)
    forged = dict(headers, **{"webhook-signature": "v1,AAAA"})
    assert client.post(url, content=body, headers=forged).status_code == 401
    assert len(_events(db, "gathering.attended")) == 1
    answer = client.post(url, content=body, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"recorded": 2, "unmatched": []}
    attended = sorted((cid, d["source"]) for cid, d in _events(db, "gathering.attended"))
    assert attended == sorted([(c1, "csv"), (c2, "webhook"), (c3, "webhook")])
    with transaction(db.sessions) as s:
        assert service.counts(session=s, gathering_id=gid)["attended"] == 3

    # As tracked events: a segment condition (and a journey trigger) can use them.
    pump_until_caught_up(db, {tracked.CONSUMER: installed().consumers()[tracked.CONSUMER]})
    attended = {
        "type": "and",
        "children": [
            {
                "type": "event",
                "name": "Gathering Attended",
                "op": "at_least",
                "count": 1,
                "within_days": 30,
            },
        ],
    }
    with transaction(db.sessions) as s:
        assert segments.count(session=s, rules_json=attended, now=utcnow()) == 3
        invited = attended["children"][0] | {"name": "Gathering Invited"}
        assert (
            segments.count(
                session=s, rules_json={"type": "and", "children": [invited]}, now=utcnow()
            )
            == 1  # the walk-ins were never invited
        )
