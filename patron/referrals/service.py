"""Use cases of referrals: the programme, codes and links, attribution under the fraud rules.

Attribution through REST is strict: a refused referral answers 422 naming the rule and writes
nothing. Attribution from tracking (a consumer) records the refusal as a rejected referral and
a `referral.rejected` event, so the dashboard lists it. Qualification is in `qualify`.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.customers import read as customers_read
from patron.customers import service as customers
from patron.errors import InvalidInput, NotFound
from patron.events.service import append
from patron.referrals import rules
from patron.referrals.events import ReferralAttributed, ReferralRejected
from patron.referrals.tables import Referral, ReferralAlert, ReferralCode, ReferralProgramme

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
SHOP_URL_SETTING = "PATRON_REFERRAL_SHOP_URL"
LINK_PARAMETER = "ref"
NEW_CUSTOMER_HOURS = 24
RECENT_EVENTS = 500


class Refused(InvalidInput):
    """A referral refused by a fraud or programme rule; `details.rule` names it."""

    code = "referral_refused"

    def __init__(self, rule: str, message: str):
        super().__init__(f"{rule}: {message}", details={"rule": rule})
        self.rule = rule


def programme(session: Session) -> rules.Programme:
    """The programme's settings (defaults until saved)."""
    row = session.get(ReferralProgramme, 1)
    return rules.Programme.from_dict(row.settings if row else {})


def save_programme(*, session: Session, values: dict, now: datetime) -> rules.Programme:
    """Changes the programme's settings (the fields given); InvalidInput names a bad one."""
    row = session.get(ReferralProgramme, 1)
    merged = {**(row.settings if row else {}), **values}
    try:
        checked = rules.Programme.from_dict(merged)
    except (rules.ProgrammeError, TypeError) as exc:
        raise InvalidInput(str(exc)) from exc
    if row is None:
        row = ReferralProgramme(id=1, settings={}, updated_at=now)
        session.add(row)
    row.settings, row.updated_at = merged, now
    return checked


def _new_code() -> str:
    """A random referral code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_for(*, session: Session, customer_id: int, now: datetime) -> str:
    """The customer's referral code, made on first use."""
    return codes_for(session=session, customer_ids=[customer_id], now=now)[customer_id]


def existing_codes(*, session: Session, customer_ids: list[int]) -> dict[int, str]:
    """The referral codes customers already have."""
    return dict(
        session.execute(
            select(ReferralCode.customer_id, ReferralCode.code).where(
                ReferralCode.customer_id.in_(sorted(set(customer_ids)))
            )
        ).all()
    )


def codes_for(*, session: Session, customer_ids: list[int], now: datetime) -> dict[int, str]:
    """The referral codes of customers, made for those without one."""
    ids = sorted(set(customer_ids))
    found = existing_codes(session=session, customer_ids=ids)
    missing = [cid for cid in ids if cid not in found]
    if missing:
        known = set(
            session.scalars(
                select(customers_read.Customer.id).where(customers_read.Customer.id.in_(missing))
            )
        )
        if len(known) < len(missing):
            raise NotFound(f"customer {min(set(missing) - known)} does not exist")
        found.update(add_codes(session=session, customer_ids=missing, now=now))
    return found


def add_codes(*, session: Session, customer_ids: list[int], now: datetime) -> dict[int, str]:
    """New referral codes for customers known to have none, in one INSERT."""
    rows = [{"customer_id": cid, "code": _new_code(), "created_at": now} for cid in customer_ids]
    session.execute(insert(ReferralCode), rows)
    return {r["customer_id"]: r["code"] for r in rows}


def share_link(code: str) -> str:
    """The shop address with `?ref=CODE` (empty while PATRON_REFERRAL_SHOP_URL is unset)."""
    base = os.environ.get(SHOP_URL_SETTING, "").strip()
    if not base:
        return ""
    parts = urlsplit(base)
    query = "&".join(p for p in (parts.query, urlencode({LINK_PARAMETER: code})) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


def referrer_of_code(session: Session, code: str, *, lock: bool = False) -> int | None:
    """The customer whose code this is (locked: attributions to one referrer take turns)."""
    query = select(ReferralCode.customer_id).where(ReferralCode.code == code.strip().upper())
    return session.scalar(query.with_for_update() if lock else query)


def _identity(session: Session, customer_id: int, devices=(), anonymous_ids=()) -> rules.Identity:
    """A customer's identity: profile contact points and the devices and ids seen."""
    c = customers.get_customer(session=session, customer_id=customer_id)
    ev = customers_read.Event
    recent = session.execute(
        select(ev.anonymous_id, ev.context)
        .where(ev.customer_id == customer_id)
        .order_by(ev.id.desc())
        .limit(RECENT_EVENTS)
    ).all()
    linked = session.scalars(
        select(customers_read.AnonymousId.anonymous_id).where(
            customers_read.AnonymousId.customer_id == customer_id
        )
    ).all()
    seen_devices = {((ctx or {}).get("device") or {}).get("id") for _, ctx in recent}
    attrs = c.attributes or {}
    return rules.identity(
        customer_id,
        email=c.email,
        phone=c.phone or attrs.get("phone"),
        address=attrs.get("address"),
        devices={str(d) for d in seen_devices | set(devices) if d},
        anonymous_ids={a for a, _ in recent if a} | set(linked) | set(anonymous_ids),
    )


def _not_new(session: Session, customer_id: int, now: datetime) -> bool:
    """Whether the referee ordered before (beyond a first order of the last day)."""
    order = customers_read.Order
    count, oldest = session.execute(
        select(func.count(), func.min(order.placed_at)).where(order.customer_id == customer_id)
    ).one()
    return count > 1 or (count == 1 and oldest < now - timedelta(hours=NEW_CUSTOMER_HOURS))


def _refusal(
    session, referee_id, code, now, devices, anonymous_ids
) -> tuple[int | None, str | None]:
    """(referrer id, the rule that refuses or None)."""
    referrer = referrer_of_code(session, code, lock=True)
    if referrer is None:
        return None, "unknown_code"
    if session.scalar(select(Referral.id).where(Referral.referee_customer_id == referee_id)):
        return referrer, "already_referred"
    referee = _identity(session, referee_id, devices, anonymous_ids)
    rule = rules.self_referral(_identity(session, referrer), referee)
    if rule:
        return referrer, rule
    if _not_new(session, referee_id, now):
        return referrer, "not_new_customer"
    p = programme(session)
    counted = session.scalar(
        select(func.count()).where(
            Referral.referrer_customer_id == referrer,
            Referral.state != "rejected",
            Referral.attributed_at >= rules.cap_since(now, p),
        )
    )
    if rules.over_cap(counted, p):
        return referrer, "cap_per_period"
    return referrer, None


MESSAGES = {
    "unknown_code": "no customer has this referral code",
    "already_referred": "this customer was already referred",
    "self_referral": "a customer cannot refer themselves",
    "self_referral_email": "the referee's email is the referrer's",
    "self_referral_phone": "the referee's phone is the referrer's",
    "self_referral_address": "the referee's address is the referrer's",
    "self_referral_device": "the referee used the referrer's device",
    "self_referral_anonymous_id": "the referee browsed as the referrer",
    "not_new_customer": "only a new customer can be referred",
    "cap_per_period": "the referrer reached the programme's cap for the period",
}


def attribute(
    *,
    session: Session,
    referee_customer_id: int,
    code: str,
    source: str,
    now: datetime,
    devices=(),
    anonymous_ids=(),
    strict: bool = True,
) -> Referral | None:
    """Attributes a referee to the code's owner; strict: Refused on a rule, nothing written."""
    if source not in rules.SOURCES:
        raise InvalidInput(f"source: one of {', '.join(rules.SOURCES)}")
    existing = session.scalar(
        select(Referral).where(Referral.referee_customer_id == referee_customer_id)
    )
    if existing is not None and existing.code == code.strip().upper():
        return existing  # the same attribution sent again
    referrer, rule = _refusal(session, referee_customer_id, code, now, devices, anonymous_ids)
    if rule is not None:
        if strict or referrer is None or rule == "already_referred":
            raise Refused(rule, MESSAGES[rule])
        return _rejected(session, referrer, referee_customer_id, code, source, rule, now)
    row = Referral(
        referrer_customer_id=referrer,
        referee_customer_id=referee_customer_id,
        code=code.strip().upper(),
        source=source,
        state="pending",
        rewards={},
        attributed_at=now,
    )
    session.add(row)
    session.flush()
    append(session, [ReferralAttributed(referee_customer_id, row.id, referrer)], now=now)
    _velocity(session, referrer, now)
    _first_order(session, row, now)
    return row


def _first_order(session: Session, row: Referral, now: datetime) -> None:
    """Attributed at the first order: that order starts the window (or breaks the minimum)."""
    order = customers_read.Order
    first = session.execute(
        select(order.id, order.total_cents, order.placed_at, order.status)
        .where(order.customer_id == row.referee_customer_id)
        .order_by(order.placed_at, order.id)
        .limit(1)
    ).first()
    if first is None or first.status in ("cancelled", "refunded"):
        return
    p = programme(session)
    row.order_id, row.order_total_cents = first.id, first.total_cents
    if rules.first_order_rule(first.total_cents, p):
        detail = f"first order {first.total_cents} < {p.min_order_cents}"
        row.state, row.rule, row.detail, row.decided_at = "rejected", "minimum_order", detail, now
        append(
            session, [ReferralRejected(row.referee_customer_id, row.id, "minimum_order")], now=now
        )
        return
    row.qualifies_at = rules.qualifies_at(first.placed_at, p)


def _rejected(session, referrer, referee, code, source, rule, now) -> Referral:
    """Record a refused attribution (from tracking) and its event."""
    row = Referral(
        referrer_customer_id=referrer,
        referee_customer_id=referee,
        code=code.strip().upper(),
        source=source,
        state="rejected",
        rule=rule,
        detail=MESSAGES[rule],
        rewards={},
        attributed_at=now,
        decided_at=now,
    )
    session.add(row)
    session.flush()
    append(session, [ReferralRejected(referee, row.id, rule)], now=now)
    return row


def _velocity(session: Session, referrer: int, now: datetime) -> None:
    """Raise (or update) the window's velocity alert when the referrer attributes too fast."""
    p = programme(session)
    start = rules.velocity_window(now, p)
    count = session.scalar(
        select(func.count()).where(
            Referral.referrer_customer_id == referrer, Referral.attributed_at >= start
        )
    )
    if not rules.too_fast(count, p):
        return
    detail = f"{count} referrals within {p.velocity_minutes} minutes (alert at {p.velocity_count})"
    alert = session.scalar(
        select(ReferralAlert).where(
            ReferralAlert.referrer_customer_id == referrer, ReferralAlert.window_start == start
        )
    )
    if alert is not None:
        alert.count, alert.detail = count, detail
        return
    try:
        with session.begin_nested():
            session.add(
                ReferralAlert(
                    referrer_customer_id=referrer,
                    window_start=start,
                    count=count,
                    detail=detail,
                    created_at=now,
                )
            )
    except IntegrityError:
        pass  # a concurrent attribution raised this window's alert
