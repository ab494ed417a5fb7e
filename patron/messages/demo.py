"""Demo data of messages: three templates and one past broadcast with results, labelled demo.

Deterministic and small: the broadcast went to the first DEMO_AUDIENCE customers with an email,
and each one's outcome follows from their position, so every run seeds the same story.
Until broadcasts have their own service, its outbox rows and activity are written here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import Customer
from patron.messages import authoring, service
from patron.messages.tables import Broadcast, MessageActivity, OutboxMessage, Template

PREFIX = "Demo: "
DEMO_AUDIENCE = 40
WELCOME = """<h1>Welcome, {{ customer.first_name or "friend" }}!</h1>
<p>Thank you for joining us. Here is what you can expect from us: news about new arrivals,
a few offers a month, and nothing else.</p>
<p><a href="https://shop.example/start">Start shopping</a></p>"""
NEWSLETTER = """<mjml>
  <mj-body background-color="#f4f4f5">
    <mj-section background-color="#1f2937"><mj-column>
      <mj-text color="#ffffff" font-size="20px">The monthly letter</mj-text>
    </mj-column></mj-section>
    <mj-section background-color="#ffffff"><mj-column>
      <mj-text>Hello {{ customer.first_name or "there" }}, here is what you bought lately:</mj-text>
      {% for order in orders %}
      <mj-text>Order {{ order.external_id }} ({{ order.placed_at.strftime("%d %b %Y") }}):
        {% for line in order.lines %}{{ line.quantity }} × {{ line.name }}{% if not loop.last %},
        {% endif %}{% endfor %}</mj-text>
      {% else %}
      <mj-text>You have not ordered yet: our bestsellers are waiting.</mj-text>
      {% endfor %}
      <mj-button href="https://shop.example/new">See what is new</mj-button>
    </mj-column></mj-section>
    <mj-section><mj-column>
      <mj-text font-size="12px" color="#6b7280">1 Market Street, Springfield ·
        <a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>"""
WIN_BACK = """<h1>We miss you, {{ customer.first_name or "friend" }}</h1>
<p>It has been a while{% if stats.last_order_at %} since your last order on
{{ stats.last_order_at.strftime("%d %B %Y") }}{% endif %}. Here is 15% off your next one
with the code <strong>COMEBACK15</strong>, valid for two weeks.</p>
<p><a href="https://shop.example/?coupon=COMEBACK15">Use my code</a></p>"""


def _template(session: Session, now: datetime, **fields) -> Template:
    """One demo template, validated like any other."""
    variant = service.VariantInput(
        subject=fields.pop("subject"),
        preheader=fields.pop("preheader", ""),
        body=fields.pop("body"),
        format=fields.pop("format", "html"),
    )
    return service.create_template(
        session=session, data=service.TemplateInput(variants=[variant], **fields), now=now
    )


def _templates(session: Session, now: datetime) -> dict[str, Template]:
    """The welcome email, the MJML newsletter over last orders and the win-back offer."""
    layout = authoring.ensure_default_layout(session=session, now=now)
    return {
        "welcome": _template(
            session,
            now,
            name=f"{PREFIX}welcome",
            layout_id=layout.id,
            subject="Welcome, {{ customer.first_name or 'friend' }}",
            preheader="What to expect from us",
            body=WELCOME,
        ),
        "newsletter": _template(
            session,
            now,
            name=f"{PREFIX}newsletter",
            topic="newsletter",
            format="mjml",
            subject="Your month with us, {{ customer.first_name or 'friend' }}",
            preheader="Your last orders and what is new",
            body=NEWSLETTER,
        ),
        "win_back": _template(
            session,
            now,
            name=f"{PREFIX}win-back offer",
            topic="offers",
            layout_id=layout.id,
            subject="15% off to welcome you back",
            body=WIN_BACK,
        ),
    }


def _outcome(n: int) -> tuple[str, str | None]:
    """The state (and reason) of the n-th recipient of the demo broadcast."""
    if n % 13 == 5:
        return "skipped", "consent"
    if n == 7:
        return "bounced", "550 mailbox unavailable"
    return "sent", None


def _activity(n: int) -> list[tuple[str, int, str | None, int | None]]:
    """(kind, minutes after sending, bot reason, revenue) of the n-th recipient."""
    found = []
    if n % 2 == 0:
        found.append(("open", 30 + n, None, None))
    if n % 4 == 0:
        found.append(("click", 35 + n, None, None))
    if n == 3:
        found.append(("click", 0, "within seconds of delivery", None))
    if n in (8, 16):
        found.append(("order", 120 + n, None, 4_500 + 100 * n))
    if n == 11:
        found.append(("unsubscribe", 60, None, None))
    return found


def seed_demo(*, session: Session, now: datetime) -> bool:
    """Seed the demo templates and a past broadcast with results; False if seeded already."""
    if session.scalar(select(Template.id).where(Template.name == f"{PREFIX}welcome")):
        return False
    templates = _templates(session, now)
    audience = list(
        session.scalars(
            select(Customer.id)
            .where(Customer.email.is_not(None))
            .order_by(Customer.id)
            .limit(DEMO_AUDIENCE)
        )
    )
    sent_at = now - timedelta(days=3)
    broadcast = Broadcast(
        name=f"{PREFIX}October newsletter",
        template_id=templates["newsletter"].id,
        state="finished",
        audience_size=len(audience),
        demo=True,
        created_at=sent_at - timedelta(hours=1),
        started_at=sent_at,
        finished_at=sent_at + timedelta(minutes=2),
    )
    session.add(broadcast)
    session.flush()
    for n, customer_id in enumerate(audience):
        _recipient(session, broadcast, n, customer_id, sent_at)
    session.flush()
    return True


def _recipient(session: Session, broadcast: Broadcast, n: int, customer_id: int, at: datetime):
    """One outbox row of the demo broadcast and what happened to it."""
    state, reason = _outcome(n)
    row = OutboxMessage(
        source="broadcast",
        source_id=broadcast.id,
        customer_id=customer_id,
        channel="email",
        occurrence="demo",
        template_id=broadcast.template_id,
        kind="marketing",
        state=state,
        reason=reason,
        attempts=0 if state == "skipped" else 1,
        send_after=at,
        queued_at=at,
        sent_at=at if state == "sent" else None,
        subject="Your month with us" if state != "skipped" else None,
        message_id=f"<demo.{broadcast.id}.{n}@patron.local>" if state != "skipped" else None,
    )
    session.add(row)
    session.flush()
    if state != "sent":
        return
    for kind, minutes, bot, revenue in _activity(n):
        session.add(
            MessageActivity(
                outbox_id=row.id,
                customer_id=customer_id,
                kind=kind,
                url="https://shop.example/new" if kind == "click" else None,
                bot_reason=bot,
                revenue_cents=revenue,
                at=at + timedelta(minutes=minutes, seconds=2 if bot else 0),
            )
        )
