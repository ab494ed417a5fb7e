"""Demo data of messages: three templates that render, one past broadcast with results."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from patron.db import transaction
from patron.messages import demo, service
from patron.messages.tables import Broadcast, MessageActivity, OutboxMessage
from tests import factories
from tests.messages.conftest import NOW


def test_demo_seeds_labelled_templates_and_a_past_broadcast_once(db):
    with transaction(db.sessions) as s:
        for i in range(1, 31):
            factories.customer(s, f"c{i}", email=f"c{i}@example.com", first_name=f"N{i}")
        factories.order(s, "o-first", "c1", days=-3)
        assert demo.seed_demo(session=s, now=NOW) is True
        assert demo.seed_demo(session=s, now=NOW) is False
    with transaction(db.sessions) as s:
        names = [t.name for t in service.list_templates(session=s)]
        assert names == ["Demo: newsletter", "Demo: welcome", "Demo: win-back offer"]
        [broadcast] = s.scalars(select(Broadcast)).all()
        assert broadcast.demo and broadcast.name.startswith("Demo: ")
        assert broadcast.audience_size == 30
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.source_id == broadcast.id))
        states = Counter((r.state, r.reason) for r in rows)
        assert states == {
            ("sent", None): 27,
            ("skipped", "consent"): 2,
            ("bounced", "550 mailbox unavailable"): 1,
        }
        kinds = Counter(a.kind for a in s.scalars(select(MessageActivity)))
        assert kinds["order"] == 2 and kinds["unsubscribe"] == 1 and kinds["click"] >= 2
        newsletter = next(t for t in service.list_templates(session=s) if "newsletter" in t.name)
        first = s.scalar(select(OutboxMessage.customer_id).order_by(OutboxMessage.customer_id))
        shown = service.render_for(session=s, template_id=newsletter.id, customer_id=first)
        assert "o-first" in shown.html and "Unsubscribe" in shown.html
        assert "<mj-" not in shown.html  # MJML compiled to HTML
