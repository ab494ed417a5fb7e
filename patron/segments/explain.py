"""Why previewed customers match: each rule they meet, with their own value beside it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.analytics.read import CustomerScore
from patron.customers.read import Consent, Customer, CustomerStats
from patron.segments import rules
from patron.segments.conditions.fields import FieldCondition, show_value
from patron.segments.facts import Facts

PROFILE = ("external_id", "email", "phone", "first_name", "last_name", "locale", "time_zone")
STATS = ("order_count", "purchase_days", "total_spent_cents", "first_order_at", "last_order_at")
SCORES = tuple(c.name for c in CustomerScore.__table__.columns if c.name != "customer_id")


def _row_dict(row, names) -> dict:
    """The named attributes of a mapped row ({} without a row)."""
    return {} if row is None else {name: getattr(row, name, None) for name in names}


def load_facts(session: Session, customer_ids: list[int]) -> dict[int, Facts]:
    """Profile, attributes, consents, aggregates and scores of a few customers (no history)."""
    if not customer_ids:
        return {}
    found = session.execute(
        select(Customer, CustomerStats, CustomerScore)
        .outerjoin(CustomerStats, CustomerStats.customer_id == Customer.id)
        .outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
        .where(Customer.id.in_(customer_ids))
    ).all()
    consents: dict[int, dict[str, str]] = {}
    for consent in session.scalars(select(Consent).where(Consent.customer_id.in_(customer_ids))):
        consents.setdefault(consent.customer_id, {})[consent.channel] = consent.status
    facts = {}
    for customer, stats, score in found:
        profile = _row_dict(customer, (*PROFILE, "created_at", "birthday"))
        stat_values = _row_dict(stats, (*STATS, "last_event_at"))
        facts[customer.id] = Facts(
            customer_id=customer.id,
            profile=profile,
            attributes=customer.attributes or {},
            consents=consents.get(customer.id, {}),
            stats=stat_values,
            scores=_row_dict(score, SCORES),
        )
    return facts


def own_value(node, facts: Facts | None) -> str | None:
    """The customer's value a condition looks at, as shown to people (None: nothing to show).

    Rules that state the value exactly (is X, consent is granted) already show it.
    """
    if facts is None or getattr(node, "op", None) in ("eq", "is_set"):
        return None
    if isinstance(node, FieldCondition):
        field = node.FIELDS[node.field]
        return show_value(field, field.get(facts))
    kind = getattr(node, "type", None)
    if kind == "attribute":
        value = facts.attributes.get(node.key)
        return "–" if value is None else str(value)
    return None


def reason(node: rules.Node, names: dict[int, str], facts: Facts | None) -> str:
    """Why a customer matched one leaf: the rule (segments named) and their own value."""
    if getattr(node, "type", None) == "segment":
        return f"in segment {names.get(node.segment_id, node.segment_id)}"
    text = rules.describe(node)
    value = own_value(node, facts)
    return text if value is None else f"{text} (theirs: {value})"
