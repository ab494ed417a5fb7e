"""Conversions attributed once per order (click window, then delivery window, bots left out)
and the customer page's Messages panel."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from patron.customers.tables import Customer
from patron.db import transaction
from patron.events import service as events
from patron.messages import conversions, enqueue, tracking
from patron.messages.config import MessageConfig
from patron.messages.tables import MessageActivity, OutboxMessage
from tests import factories
from tests.dashboard.conftest import client, login  # noqa: F401 (fixture)
from tests.messages.conftest import NOW, SECRET, customer, run_lane, template

CAPTURE = MessageConfig(secret_key=SECRET)


def _sent(db, n: int = 1) -> int:
    with transaction(db.sessions) as s:
        for i in range(1, n + 1):
            customer(s, i)
        t = template(s)
        enqueue.enqueue_many(
            s, select(Customer.id), template_id=t.id, source="broadcast", source_id=3, now=NOW
        )
    run_lane(db, CAPTURE, "bulk")
    with transaction(db.sessions) as s:
        return s.scalar(select(OutboxMessage.id).where(OutboxMessage.address == "c1@example.com"))


def _consume(db, now):
    """Hand every order.completed event to the consumer, as the event pump does."""
    with transaction(db.sessions) as s:
        batch = events.read_after(s, 0, types=conversions.EVENT_TYPES, limit=1000)
        conversions.on_order_completed(session=s, events=batch, now=now)


def _orders(db) -> list[tuple]:
    with transaction(db.sessions) as s:
        return s.execute(
            select(MessageActivity.outbox_id, MessageActivity.url, MessageActivity.revenue_cents)
            .where(MessageActivity.kind == "order")
            .order_by(MessageActivity.order_id)
        ).all()


def _click(db, outbox_id: int, *, at, agent="Mozilla/5.0"):
    with transaction(db.sessions) as s:
        message = s.get(OutboxMessage, outbox_id)
        bot = None if agent.startswith("Mozilla") else "link scanner user agent"
        tracking.record_activity(
            s, message=message, kind="click", now=at, url="https://s/", bot=bot, user_agent=agent
        )


def test_an_order_after_a_click_is_attributed_once_with_its_revenue(db):
    outbox_id = _sent(db)
    _click(db, outbox_id, at=NOW + timedelta(days=1))
    with transaction(db.sessions) as s:
        factories.order(s, "o1", "c1", days=4, total=4200)  # 3 days after the click
        factories.order(s, "o2", "c1", days=7, total=999)  # 6 days after: outside
    _consume(db, NOW + timedelta(days=8))
    _consume(db, NOW + timedelta(days=8))  # the same events again: still once
    with transaction(db.sessions) as s:
        factories.order(s, "o1", "c1", days=4, total=4200)  # replaced order: same order id
    _consume(db, NOW + timedelta(days=8))
    assert _orders(db) == [(outbox_id, "click", 4200)]


def test_delivery_window_without_a_click_and_bot_clicks_do_not_earn(db):
    outbox_id = _sent(db, n=2)
    with transaction(db.sessions) as s:
        c2 = s.scalar(select(OutboxMessage.id).where(OutboxMessage.address == "c2@example.com"))
    _click(db, c2, at=NOW + timedelta(hours=1), agent="Proofpoint scanner")
    with transaction(db.sessions) as s:
        factories.order(s, "o1", "c1", days=0.5, total=1500)  # half a day after delivery
        factories.order(s, "o2", "c2", days=3, total=800)  # only a bot click 3 days ago
    _consume(db, NOW + timedelta(days=4))
    assert _orders(db) == [(outbox_id, "delivery", 1500)]


def test_customer_page_shows_the_message_log(db, client):  # noqa: F811
    outbox_id = _sent(db)
    _click(db, outbox_id, at=NOW + timedelta(days=1))
    _click(db, outbox_id, at=NOW + timedelta(days=1), agent="Barracuda")
    with transaction(db.sessions) as s:
        customer_id = s.scalar(select(func.min(Customer.id)))
    login(client)
    page = client.get(f"/customers/{customer_id}")
    assert page.status_code == 200
    assert 'data-testid="messages-panel"' in page.text
    row = page.text.split('data-testid="message-row"', 1)[1].split("</tr>", 1)[0]
    assert "Hi Name1" in row and "sent" in row
    assert [c.strip() for c in row.split("<td>")[-2:]] == ["0</td>", "1</td>"]


def test_concurrent_consumers_attribute_an_order_once(pg_db):
    db = pg_db
    outbox_id = _sent(db)
    barrier = threading.Barrier(4)
    results = []

    def attribute():
        with transaction(db.sessions) as s:
            barrier.wait()
            results.append(
                conversions.attribute(
                    s,
                    customer_id=s.get(OutboxMessage, outbox_id).customer_id,
                    order_id=77,
                    order_at=NOW + timedelta(hours=2),
                    revenue_cents=500,
                    click_days=5,
                    delivery_days=1,
                )
                is not None
            )

    threads = [threading.Thread(target=attribute) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert _orders(db) == [(outbox_id, "delivery", 500)]
