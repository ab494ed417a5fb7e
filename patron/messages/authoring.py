"""Use cases of the template editor: previews of unsaved templates, test sends, layouts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.customers.read import Customer
from patron.errors import Conflict, InvalidInput, NotFound
from patron.messages import enqueue, rendering, sender, sources
from patron.messages.service import TemplateInput, get_template, validation_context
from patron.messages.tables import Layout

TEST_SOURCE = "test"
DEFAULT_LAYOUT = "Default"
DEFAULT_LAYOUT_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>
  body { margin: 0; background: #f4f4f5; font-family: Helvetica, Arial, sans-serif; }
  .frame { max-width: 600px; margin: 0 auto; background: #ffffff; }
  .brand { background: #1f2937; color: #ffffff; padding: 16px 24px; font-size: 20px; }
  .content { padding: 24px; color: #111827; line-height: 1.5; }
  .footer { padding: 16px 24px; color: #6b7280; font-size: 12px; }
  .footer a { color: #6b7280; }
</style></head>
<body>
<span style="display:none;max-height:0;overflow:hidden">{{ preheader }}</span>
<div class="frame">
  <div class="brand">{{ shop.name if shop is defined else "Our shop" }}</div>
  <div class="content">{{ content }}</div>
  <div class="footer">
    <p>{{ shop.address if shop is defined else "1 Market Street, Springfield" }}</p>
    <p>You receive this email as a customer.
      <a href="{{ preferences_url }}">Email preferences</a> ·
      <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
  </div>
</div>
</body></html>
"""


# Previews -------------------------------------------------------------------------------------


def preview(
    *,
    session: Session,
    data: TemplateInput,
    customer_id: int | None,
    locale: str | None = None,
) -> rendering.Rendered:
    """An unsaved template rendered for a customer (or the sample) in a locale's variant."""
    variants = {v.locale.strip(): v for v in data.variants}
    if "" not in variants:
        raise InvalidInput('variants: a default variant (locale "") is required')
    chosen = variants[sources.variant_locale(variants, locale)]
    layout = _layout_html(session, data.layout_id)
    source = rendering.Source(
        subject=chosen.subject,
        body=chosen.body,
        format=chosen.format,
        preheader=chosen.preheader,
        text=chosen.text or None,
        layout=layout,
    )
    rendering.check_syntax(source)
    values = validation_context(session, customer_id)
    values["data"] = {}
    return rendering.render(source, values)


def _layout_html(session: Session, layout_id: int | None) -> str | None:
    """A layout's HTML (None for none), refusing an unknown one."""
    if layout_id is None:
        return None
    return get_layout(session=session, layout_id=layout_id).html


def find_customers(*, session: Session, q: str, limit: int = 10) -> list[Customer]:
    """Customers matching a search (name, email, external id) to preview with."""
    return customers.list_customers(session=session, q=q, limit=limit)


# Test sends -----------------------------------------------------------------------------------


def send_test(
    *, session: Session, template_id: int, to: str, customer_id: int | None, now: datetime
):
    """Queue a saved template to an address on the transactional lane, rendered for a customer.

    The capture channel (the default) keeps it in the mailbox; consent does not apply (it is
    not marketing mail to the customer) but the suppression list does.
    """
    to = to.strip()
    if "@" not in to or len(to) > 320 or any(c.isspace() for c in to):
        raise InvalidInput("to: give an email address")
    template = get_template(session=session, template_id=template_id)
    if customer_id is None:
        customer_id = session.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        if customer_id is None:
            raise InvalidInput("customer: a test send renders for a customer; add one first")
    customers.get_customer(session=session, customer_id=customer_id)
    row, _ = enqueue.enqueue_one(
        session,
        customer_id=customer_id,
        template_id=template.id,
        kind="transactional",
        channel="email",
        source=TEST_SOURCE,
        source_id=template.id,
        occurrence=f"test:{uuid.uuid4().hex}",
        address=to,
        now=now,
    )
    sender.wake(session, lane="transactional", now=now)
    return row


# Layouts --------------------------------------------------------------------------------------


def list_layouts(*, session: Session) -> list[Layout]:
    """Every layout, by name."""
    return list(session.scalars(select(Layout).order_by(Layout.name)))


def get_layout(*, session: Session, layout_id: int) -> Layout:
    """A layout, or NotFound."""
    layout = session.get(Layout, layout_id)
    if layout is None:
        raise NotFound(f"layout {layout_id} does not exist")
    return layout


def _check_layout(session: Session, name: str, html: str, layout_id: int | None) -> None:
    """Refuse a layout without a name, taken, that does not parse or render its content."""
    if not name.strip():
        raise InvalidInput("name: give the layout a name")
    found = session.scalar(select(Layout.id).where(Layout.name == name.strip()))
    if found is not None and found != layout_id:
        raise Conflict(f"a layout named {name.strip()!r} exists already")
    if "content" not in html:
        raise InvalidInput("layout: it must show {{ content }}, the body of each message")
    source = rendering.Source(subject="", body="<p>Body</p>", layout=html)
    rendering.check_syntax(source)
    rendering.render(source, validation_context(session, None))


def save_layout(
    *, session: Session, name: str, html: str, now: datetime, layout_id: int | None = None
) -> Layout:
    """Create a layout or replace one, after rendering it around a sample body."""
    _check_layout(session, name, html, layout_id)
    if layout_id is None:
        layout = Layout(name=name.strip(), html=html, created_at=now, updated_at=now)
        session.add(layout)
    else:
        layout = get_layout(session=session, layout_id=layout_id)
        layout.name, layout.html, layout.updated_at = name.strip(), html, now
    session.flush()
    return layout


def ensure_default_layout(*, session: Session, now: datetime) -> Layout:
    """The seeded default layout (brand header, footer with address and unsubscribe)."""
    found = session.scalar(select(Layout).where(Layout.name == DEFAULT_LAYOUT))
    if found is not None:
        return found
    layout = Layout(name=DEFAULT_LAYOUT, html=DEFAULT_LAYOUT_HTML, created_at=now, updated_at=now)
    session.add(layout)
    session.flush()
    return layout
