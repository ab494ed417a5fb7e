"""Click redirects only to the message's own links, the open pixel behind its setting, bot
filtering (scanner agents, clicks right after delivery, the honeypot) and tracked events."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patron.app import create_app
from patron.customers.tables import Customer, Event
from patron.db import transaction
from patron.messages import enqueue, links, rules, service, tracking
from patron.messages.config import MessageConfig
from patron.messages.tables import CapturedMessage, MessageActivity, OutboxMessage
from tests.messages.conftest import NOW, SECRET, customer, run_lane, template

BODY = (
    "<html><body><p>Hi {{ customer.first_name }}</p>"
    '<a href="https://shop.example/sale?x=1&amp;y=2">Sale</a>'
    "<a href='{{ unsubscribe_url }}'>unsubscribe</a></body></html>"
)
CONFIG = MessageConfig(secret_key=SECRET, public_url="https://t.example")


def _send(db, config: MessageConfig = CONFIG, kind: str = "marketing") -> tuple[int, str]:
    """One message sent through the capture channel: (outbox id, its HTML)."""
    with transaction(db.sessions) as s:
        customer(s, 1)
        t = template(s, kind=kind, body=BODY)
        enqueue.enqueue_many(
            s,
            select(Customer.id),
            template_id=t.id,
            source="broadcast",
            source_id=9,
            now=NOW,
            kind=kind,
        )
    run_lane(db, config, "bulk" if kind == "marketing" else "transactional")
    with transaction(db.sessions) as s:
        row = s.scalar(select(OutboxMessage))
        assert row.state == "sent"
        return row.id, s.scalar(select(CapturedMessage.html))


def _hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def _tokens(html: str) -> list[str]:
    return [h.rsplit("/c/", 1)[1] for h in _hrefs(html) if "/c/" in h]


def _client(db) -> TestClient:
    return TestClient(create_app(db.settings(secret_key=SECRET), engine=db.engine))


def _counts(db) -> tuple[int, int]:
    with transaction(db.sessions) as s:
        return (
            s.scalar(select(func.count()).select_from(MessageActivity)),
            s.scalar(select(func.count()).select_from(Event)),
        )


def test_links_are_rewritten_and_a_click_redirects_only_to_the_message_link(db):
    outbox_id, html = _send(db)
    hrefs = _hrefs(html)
    assert "https://shop.example/sale?x=1&y=2" not in hrefs  # rewritten
    assert any("/u/" in h for h in hrefs)  # the unsubscribe link is left alone
    sale, _honeypot = _tokens(html)
    client = _client(db)
    answer = client.get(f"/c/{sale}", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.example/sale?x=1&y=2"
    with transaction(db.sessions) as s:
        activity = s.scalar(select(MessageActivity))
        assert (activity.kind, activity.outbox_id, activity.bot_reason) == (
            "click",
            outbox_id,
            None,
        )
        event = s.scalar(select(Event))
        assert event.name == "Email Clicked"
        assert event.properties["url"] == "https://shop.example/sale?x=1&y=2"
        assert event.properties["broadcast_id"] == 9
        assert event.properties["message_id"] == outbox_id
    # Another URL signed for another purpose or with another key goes nowhere.
    forged = rules.sign("other-key", links.CLICK, {"m": outbox_id, "u": "https://evil.example"})
    wrong_purpose = rules.sign(SECRET, links.UNSUBSCRIBE, {"m": outbox_id, "u": "https://e.x"})
    for token in (forged, wrong_purpose):
        assert client.get(f"/c/{token}", follow_redirects=False).status_code == 400
    assert client.get("/c/x?url=https://evil.example", follow_redirects=False).status_code == 400


def test_tampered_expired_or_unknown_links_answer_400_and_record_nothing(db):
    outbox_id, html = _send(db)
    sale = _tokens(html)[0]
    body, mac = sale.split(".")
    expired = rules.sign(
        SECRET,
        links.CLICK,
        {"m": outbox_id, "u": "https://shop.example/"},
        expires=NOW - timedelta(days=1),
    )
    unknown = rules.sign(SECRET, links.CLICK, {"m": outbox_id + 99, "u": "https://shop.example/"})
    not_http = rules.sign(SECRET, links.CLICK, {"m": outbox_id, "u": "javascript:alert(1)"})
    client = _client(db)
    for token in (f"{body}.{mac[:-2]}AA", f"{body[:-2]}AA.{mac}", expired, unknown, not_http, "x"):
        answer = client.get(f"/c/{token}", follow_redirects=False)
        assert answer.status_code == 400, token
        assert "location" not in answer.headers
    assert _counts(db) == (0, 0)


def test_bot_flagged_clicks_are_kept_but_do_not_count(db):
    outbox_id, html = _send(db)
    sale, honeypot = _tokens(html)
    client = _client(db)
    client.get(f"/c/{sale}", headers={"user-agent": "Mimecast Link Scanner"})
    trap = client.get(f"/c/{honeypot}", follow_redirects=False)
    assert trap.status_code == 200 and "location" not in trap.headers
    with transaction(db.sessions) as s:
        # A click 3 seconds after delivery, as a mail gateway prefetching links does.
        tracking.click(
            s, secret=SECRET, token=sale, user_agent="Mozilla/5.0", now=NOW + timedelta(seconds=3)
        )
    with transaction(db.sessions) as s:
        reasons = sorted(s.scalars(select(MessageActivity.bot_reason)))
        assert reasons == ["honeypot link", "link scanner user agent", "within 10 s of delivery"]
        assert tracking.engagement(s, outbox_ids=[outbox_id]) == tracking.Engagement(0, 0, 0, 3)
        assert s.scalar(select(func.count()).select_from(Event)) == 0
    client.get(f"/c/{sale}", headers={"user-agent": "Mozilla/5.0 (Macintosh)"})
    client.get(f"/c/{sale}", headers={"user-agent": "Mozilla/5.0 (Macintosh)"})
    with transaction(db.sessions) as s:
        assert tracking.engagement(s, outbox_ids=[outbox_id]) == tracking.Engagement(0, 1, 2, 3)


def test_transactional_mail_has_no_honeypot(db):
    _, html = _send(db, kind="transactional")
    assert len(_tokens(html)) == 1


@pytest.mark.parametrize("enabled", [False, True])
def test_open_pixel_is_off_unless_enabled(db, monkeypatch, enabled):
    config = MessageConfig(secret_key=SECRET, public_url="https://t.example", track_opens=enabled)
    outbox_id, html = _send(db, config)
    pixel = re.findall(r'src="https://t.example/o/([^"]+)"', html)
    assert bool(pixel) is enabled
    token = links.open_url("", SECRET, outbox_id=outbox_id).rsplit("/o/", 1)[1]
    if enabled:
        monkeypatch.setenv("PATRON_MESSAGES_TRACK_OPENS", "true")
    answer = _client(db).get(f"/o/{token}", headers={"user-agent": "Mozilla/5.0"})
    if not enabled:
        assert answer.status_code == 404 and _counts(db) == (0, 0)
        return
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
    assert _client(db).get(f"/o/{token[:-6]}AA.gif").status_code == 400
    with transaction(db.sessions) as s:
        assert tracking.engagement(s, outbox_ids=[outbox_id]).unique_opens == 1
        assert s.scalar(select(Event.name)) == "Email Opened"


def test_unsubscribing_from_a_message_records_activity_and_event(db):
    _, html = _send(db)
    unsubscribe = next(h for h in _hrefs(html) if "/u/" in h)
    token = unsubscribe.rsplit("/u/", 1)[1]
    answer = _client(db).post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    with transaction(db.sessions) as s:
        assert s.scalar(select(MessageActivity.kind)) == "unsubscribe"
        assert s.scalar(select(Event.name)) == "Email Unsubscribed"


TEXT = (
    "Hi {{ customer.first_name }}, the sale: https://shop.example/sale?x=1&y=2.\n"
    "Stop: {{ unsubscribe_url }}\n"
)


def _send_text(db) -> tuple[int, str]:
    """One message with a hand-written text part, sent through capture: (outbox id, text)."""
    with transaction(db.sessions) as s:
        customer(s, 1)
        variant = service.VariantInput(subject="Hi", body=BODY, text=TEXT)
        t = service.create_template(
            session=s,
            data=service.TemplateInput(name="text", kind="marketing", variants=[variant]),
            now=NOW,
        )
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=9, now=NOW
        )
    run_lane(db, CONFIG, "bulk")
    with transaction(db.sessions) as s:
        return s.scalar(select(OutboxMessage.id)), s.scalar(select(CapturedMessage.text))


def test_text_part_links_redirect_through_signed_tokens(db):
    outbox_id, text = _send_text(db)
    assert "https://shop.example/sale" not in text
    assert re.search(r"Stop: https://t\.example/u/\S+", text)  # unsubscribe left alone
    tokens = re.findall(r"https://t\.example/c/([^\s.]+\.[^\s.]+)\.(?:\s|$)", text)
    assert len(tokens) == 1, text  # the sentence's full stop stays outside the link
    client = _client(db)
    answer = client.get(f"/c/{unescape(tokens[0])}", follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://shop.example/sale?x=1&y=2"
    with transaction(db.sessions) as s:
        activity = s.scalar(select(MessageActivity))
        assert (activity.kind, activity.outbox_id, activity.url) == (
            "click",
            outbox_id,
            "https://shop.example/sale?x=1&y=2",
        )
    body, mac = tokens[0].split(".")
    with transaction(db.sessions) as s:
        s.query(MessageActivity).delete()
        s.query(Event).delete()
    for token in (f"{body}.{mac[:-2]}AA", f"{body[:-3]}AAA.{mac}"):
        assert client.get(f"/c/{token}", follow_redirects=False).status_code == 400
    assert _counts(db) == (0, 0)


def test_track_text_keeps_our_own_links_and_punctuation():
    text = (
        "See (https://a.example/x), <https://b.example/y>! "
        "https://t.example/p/tok keep: https://k.example/"
    )
    out = links.track_text(
        text, "https://t.example", SECRET, outbox_id=1, keep={"https://k.example/"}
    )
    tokens = re.findall(r"https://t\.example/c/([^\s)>]+)", out)
    urls = [links.read_click(SECRET, t, now=NOW)[1] for t in tokens]
    assert urls == ["https://a.example/x", "https://b.example/y"]
    assert out.startswith("See (https://t.example/c/") and "), <https://t.example/c/" in out
    assert out.endswith(">! https://t.example/p/tok keep: https://k.example/")
