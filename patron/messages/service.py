"""Use cases of messages: templates (validated at save), sending now, message logs, mailbox."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.customers.read import Customer
from patron.errors import Conflict, InvalidInput, NotFound
from patron.messages import (
    context,
    enqueue,
    links,
    preferences,
    rendering,
    rules,
    sender,
    sources,
)
from patron.messages.tables import (
    CapturedMessage,
    Layout,
    OutboxMessage,
    Template,
    TemplateVariant,
)

API_SOURCE = "api"
MAX_LOCALE = 35


@dataclass(frozen=True)
class VariantInput:
    """The content of a template in one locale ("" for the default)."""

    body: str
    subject: str = ""
    locale: str = ""
    format: str = "html"
    preheader: str = ""
    text: str | None = None


@dataclass(frozen=True)
class TemplateInput:
    """What a template is: name, channel, kind, topic, layout and its variants."""

    name: str
    variants: list[VariantInput] = field(default_factory=list)
    channel: str = "email"
    kind: str = "marketing"
    topic: str | None = None
    layout_id: int | None = None


# Templates ------------------------------------------------------------------------------------


def _check(data: TemplateInput) -> None:
    """Refuse a template whose fields are not allowed."""
    if not data.name.strip():
        raise InvalidInput("name: give the template a name")
    if data.channel not in rules.CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(rules.CHANNELS)}")
    if data.kind not in rules.KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(rules.KINDS)}")
    locales = [v.locale.strip() for v in data.variants]
    if "" not in locales:
        raise InvalidInput('variants: a default variant (locale "") is required')
    if len(set(locales)) != len(locales):
        raise InvalidInput("variants: each locale at most once")
    if any(len(locale) > MAX_LOCALE for locale in locales):
        raise InvalidInput(f"variants: a locale has at most {MAX_LOCALE} characters")


def validation_context(session: Session, customer_id: int | None = None) -> dict:
    """A real customer's context (the one given, else the first), or a sample when none."""
    if customer_id is None:
        customer_id = session.scalar(select(Customer.id).order_by(Customer.id).limit(1))
    if customer_id is not None:
        found = context.contexts(session=session, customer_ids=[customer_id]).get(customer_id)
        if not found:
            raise NotFound(f"customer {customer_id} does not exist")
    else:
        found = context.sample()
    base, secret = "https://example.invalid", "preview"
    url = links.unsubscribe_url(base, secret, customer_id=0, outbox_id=0)
    prefs = preferences.preferences_url(base, secret, customer_id=0)
    return {
        **context.message_extras(unsubscribe_url=url, preferences_url=prefs, data=None),
        **found,
        "data": context.AnyData(),
    }


def _validate(session: Session, data: TemplateInput, customer_id: int | None) -> None:
    """Render every variant against a customer's context; the first error is refused."""
    layout = _layout_html(session, data.layout_id)
    values = validation_context(session, customer_id)
    for variant in data.variants:
        source = rendering.Source(
            subject=variant.subject,
            body=variant.body,
            format=variant.format,
            preheader=variant.preheader,
            text=variant.text or None,
            layout=layout,
        )
        where = f"variant {variant.locale!r}: " if variant.locale else ""
        try:
            rendering.check_syntax(source)
            rendering.render(source, values)
        except rendering.RenderError as exc:
            raise InvalidInput(f"{where}{exc.message}")


def _layout_html(session: Session, layout_id: int | None) -> str | None:
    """The HTML of a layout, refusing an unknown one."""
    if layout_id is None:
        return None
    layout = session.get(Layout, layout_id)
    if layout is None:
        raise InvalidInput(f"layout_id: layout {layout_id} does not exist")
    return layout.html


def _write_variants(session: Session, template_id: int, variants: list[VariantInput]) -> None:
    """Replace a template's variants."""
    session.execute(delete(TemplateVariant).where(TemplateVariant.template_id == template_id))
    for v in variants:
        session.add(
            TemplateVariant(
                template_id=template_id,
                locale=v.locale.strip(),
                format=v.format,
                subject=v.subject,
                preheader=v.preheader,
                body=v.body,
                text=v.text or None,
            )
        )
    session.flush()


def _name_taken(session: Session, name: str, template_id: int | None) -> bool:
    """Whether another template has this name."""
    found = session.scalar(select(Template.id).where(Template.name == name.strip()))
    return found is not None and found != template_id


def create_template(
    *, session: Session, data: TemplateInput, now: datetime, customer_id: int | None = None
) -> Template:
    """Create a template after rendering it against a customer's context."""
    _check(data)
    if _name_taken(session, data.name, None):
        raise Conflict(f"a template named {data.name!r} exists already")
    _validate(session, data, customer_id)
    template = Template(
        name=data.name.strip(),
        channel=data.channel,
        kind=data.kind,
        topic=data.topic,
        layout_id=data.layout_id,
        created_at=now,
        updated_at=now,
    )
    session.add(template)
    session.flush()
    _write_variants(session, template.id, data.variants)
    return template


def update_template(
    *,
    session: Session,
    template_id: int,
    data: TemplateInput,
    now: datetime,
    customer_id: int | None = None,
) -> Template:
    """Replace a template's fields and variants, validated like a new one."""
    template = get_template(session=session, template_id=template_id)
    _check(data)
    if _name_taken(session, data.name, template_id):
        raise Conflict(f"a template named {data.name!r} exists already")
    _validate(session, data, customer_id)
    template.name, template.channel, template.kind = data.name.strip(), data.channel, data.kind
    template.topic, template.layout_id, template.updated_at = data.topic, data.layout_id, now
    _write_variants(session, template.id, data.variants)
    return template


def get_template(*, session: Session, template_id: int) -> Template:
    """A template, or NotFound."""
    template = session.get(Template, template_id)
    if template is None:
        raise NotFound(f"template {template_id} does not exist")
    return template


def variants_of(*, session: Session, template_id: int) -> list[TemplateVariant]:
    """A template's variants, default first."""
    return list(
        session.scalars(
            select(TemplateVariant)
            .where(TemplateVariant.template_id == template_id)
            .order_by(TemplateVariant.locale)
        )
    )


def list_templates(*, session: Session) -> list[Template]:
    """Every template, by name."""
    return list(session.scalars(select(Template).order_by(Template.name)))


def render_for(
    *, session: Session, template_id: int, customer_id: int | None, locale: str | None = None
) -> rendering.Rendered:
    """A template rendered for a customer (or the sample), in their locale (a preview, a test)."""
    template = sources.load(session, [template_id]).get(template_id)
    if template is None:
        raise NotFound(f"template {template_id} does not exist")
    values = validation_context(session, customer_id)
    values["data"] = {}
    if locale is None and customer_id is not None:
        locale = customers.get_customer(session=session, customer_id=customer_id).locale
    return rendering.render(template.for_locale(locale), values)


# Sending --------------------------------------------------------------------------------------


def send_now(
    *,
    session: Session,
    template_id: int,
    customer_id: int,
    now: datetime,
    idempotency_key: str | None = None,
    data: dict | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue a template for one customer on the transactional lane and wake its sender.

    The same idempotency key again returns the first message (False: nothing new queued); the
    key with another template or customer is a conflict.
    """
    template = get_template(session=session, template_id=template_id)
    customers.get_customer(session=session, customer_id=customer_id)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 255:
        raise InvalidInput("Idempotency-Key: 1 to 255 characters")
    row, created = enqueue.enqueue_one(
        session,
        customer_id=customer_id,
        template_id=template.id,
        kind="transactional",
        channel=template.channel,
        source=API_SOURCE,
        source_id=template.id,
        occurrence=_occurrence(idempotency_key),
        idempotency_key=idempotency_key,
        data=data,
        now=now,
    )
    if not created and (row.template_id, row.customer_id) != (template.id, customer_id):
        raise Conflict("Idempotency-Key was used for another message")
    if created:
        sender.wake(session, lane="transactional", now=now)
    return row, created


def queue_message(
    *,
    session: Session,
    customer_id: int,
    template_id: int,
    kind: str,
    source: str,
    source_id: int,
    occurrence: str,
    now: datetime,
    channel: str | None = None,
) -> tuple[OutboxMessage, bool]:
    """Queue one message in the caller's transaction (consent, caps, quiet hours apply at send
    time); the same source, source id, customer, channel and occurrence again queue nothing.

    The caller wakes the lane (`wake_lane`) once for its batch.
    """
    template = get_template(session=session, template_id=template_id)
    return enqueue.enqueue_one(
        session,
        customer_id=customer_id,
        template_id=template.id,
        kind=kind,
        channel=channel or template.channel,
        source=source,
        source_id=source_id,
        occurrence=occurrence,
        now=now,
    )


def queue_messages_many(
    *,
    session: Session,
    rows: list[tuple[int, str]],
    template_id: int,
    kind: str,
    source: str,
    source_id: int,
    now: datetime,
    channel: str | None = None,
) -> dict[str, int]:
    """Queue one message per (customer id, occurrence) set-based, in the caller's transaction;
    an occurrence queued before is not queued again. Returns outbox ids by occurrence."""
    template = get_template(session=session, template_id=template_id)
    return enqueue.enqueue_rows(
        session,
        rows,
        template_id=template.id,
        kind=kind,
        channel=channel or template.channel,
        source=source,
        source_id=source_id,
        now=now,
    )


def wake_lane(*, session: Session, kind: str, now: datetime) -> None:
    """Wake the sender of the lane that sends messages of this kind."""
    sender.wake(session, lane=sender.lane_of(kind), now=now)


def _occurrence(idempotency_key: str | None) -> str:
    """The outbox occurrence of an API send: from its key, else unique."""
    if idempotency_key is None:
        return f"api:{uuid.uuid4().hex}"
    return "key:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]


def get_message(*, session: Session, outbox_id: int) -> OutboxMessage:
    """An outbox row, or NotFound."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise NotFound(f"message {outbox_id} does not exist")
    return row


def messages_of(
    *, session: Session, customer_id: int, after_id: int | None, limit: int
) -> list[OutboxMessage]:
    """A customer's messages, newest first."""
    customers.get_customer(session=session, customer_id=customer_id)
    query = select(OutboxMessage).where(OutboxMessage.customer_id == customer_id)
    if after_id is not None:
        query = query.where(OutboxMessage.id < after_id)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def unsubscribe(*, session: Session, customer_id: int, now: datetime) -> bool:
    """Set a customer's email consent to unsubscribed (from a link); False when unknown."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return False
    customers.set_consent(
        session=session,
        customer=customer,
        channel="email",
        status="unsubscribed",
        source="unsubscribe link",
        now=now,
    )
    return True


# The capture mailbox --------------------------------------------------------------------------


def mailbox(*, session: Session, before_id: int | None, limit: int) -> list[CapturedMessage]:
    """Captured messages, newest first."""
    query = select(CapturedMessage)
    if before_id is not None:
        query = query.where(CapturedMessage.id < before_id)
    return list(session.scalars(query.order_by(CapturedMessage.id.desc()).limit(limit)))


def captured(*, session: Session, captured_id: int) -> CapturedMessage:
    """One captured message, or NotFound."""
    row = session.get(CapturedMessage, captured_id)
    if row is None:
        raise NotFound(f"captured message {captured_id} does not exist")
    return row


# Lines and team mail (journeys' notify step) --------------------------------------------------


def render_line(*, session: Session, text: str, customer_id: int | None) -> str:
    """One line rendered for a customer (or the sample) in the sandbox, like a subject."""
    values = validation_context(session, customer_id)
    try:
        return rendering.render(rendering.Source(subject=text, body=""), values).subject
    except rendering.RenderError as exc:
        raise InvalidInput(f"line: {exc}")


def send_to_address(
    *,
    session: Session,
    template_id: int,
    address: str,
    customer_id: int,
    source: str,
    occurrence: str,
    data: dict,
    now: datetime,
) -> OutboxMessage:
    """Queue a template to a fixed address (the team) on the transactional lane, rendered for a
    customer with data; the same source and occurrence again queue nothing."""
    template = get_template(session=session, template_id=template_id)
    row, created = enqueue.enqueue_one(
        session,
        customer_id=customer_id,
        template_id=template.id,
        kind="transactional",
        channel="email",
        source=source,
        source_id=template.id,
        occurrence=occurrence,
        data=data,
        address=address,
        now=now,
    )
    if created:
        sender.wake(session, lane="transactional", now=now)
    return row
