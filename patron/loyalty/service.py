"""Use cases of the programme: settings, earn rules, awards, refunds, cancellations, tiers.

Each function runs in the caller's transaction (the API's request, a consumer's batch, a
job); the ledger module keeps balance = sum of entries on every write.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from patron.errors import Conflict, InvalidInput, NotFound
from patron.events.service import append_select
from patron.loyalty import events as ev
from patron.loyalty import ledger, wallet
from patron.loyalty.rules import Programme, RuleConfig
from patron.loyalty.tables import (
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    LoyaltyProgramme,
    LoyaltyRule,
    LoyaltyTierChange,
)

LOTS = LoyaltyLot.__table__
ACCOUNTS = LoyaltyAccount.__table__
CHANGES = LoyaltyTierChange.__table__


class Refused(Conflict):
    """A rule of the programme refused the action; `details["rule"]` names it."""

    code = "loyalty_refused"

    def __init__(self, rule: str, message: str):
        super().__init__(f"refused by rule '{rule}': {message}", details={"rule": rule})
        self.rule = rule


def _invalid(exc: ValidationError) -> InvalidInput:
    """An InvalidInput carrying Pydantic's first complaint."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "config"
    return InvalidInput(f"{where}: {first['msg']}")


def get_programme(*, session: Session) -> Programme:
    """The programme's settings (defaults until saved)."""
    row = session.get(LoyaltyProgramme, 1)
    return Programme.model_validate(row.config if row else {})


def programme_enabled(*, session: Session) -> bool:
    """Whether the programme has been saved and is enabled."""
    row = session.get(LoyaltyProgramme, 1)
    return row is not None and bool((row.config or {}).get("enabled", True))


def save_programme(*, session: Session, config: dict, now: datetime) -> Programme:
    """Validate and store the programme's settings."""
    try:
        programme = Programme.model_validate(config)
    except ValidationError as exc:
        raise _invalid(exc) from None
    row = session.get(LoyaltyProgramme, 1) or LoyaltyProgramme(id=1)
    row.config, row.updated_at = programme.model_dump(mode="json"), now
    session.add(row)
    return programme


def save_rule(
    *,
    session: Session,
    config: dict,
    now: datetime,
    rule_id: int | None = None,
    active: bool | None = None,
) -> LoyaltyRule:
    """Create or replace an earn rule (new rules start inactive: simulate first)."""
    try:
        parsed = RuleConfig.model_validate(config)
    except ValidationError as exc:
        raise _invalid(exc) from None
    row = get_rule(session=session, rule_id=rule_id) if rule_id else None
    if row is None:
        row = LoyaltyRule(created_at=now, spent_points=0, active=False)
        session.add(row)
    row.trigger, row.config, row.updated_at = parsed.trigger, parsed.model_dump(mode="json"), now
    if active is not None:
        row.active = active
    session.flush()
    return row


def get_rule(*, session: Session, rule_id: int) -> LoyaltyRule:
    """One earn rule, or NotFound."""
    row = session.get(LoyaltyRule, rule_id)
    if row is None:
        raise NotFound(f"no earn rule {rule_id}")
    return row


def list_rules(*, session: Session, trigger: str | None = None, active_only: bool = False):
    """Earn rules by id, optionally of one trigger or only active ones."""
    query = select(LoyaltyRule).order_by(LoyaltyRule.id)
    if trigger:
        query = query.where(LoyaltyRule.trigger == trigger)
    if active_only:
        query = query.where(LoyaltyRule.active.is_(True))
    return list(session.scalars(query))


def spend_budget(session: Session, row: LoyaltyRule, points: int) -> None:
    """Count points a rule gave against its budget (an atomic increment)."""
    if points:
        session.execute(
            update(LoyaltyRule.__table__)
            .where(LoyaltyRule.__table__.c.id == row.id)
            .values(spent_points=LoyaltyRule.__table__.c.spent_points + points)
        )
        session.refresh(row, ["spent_points"])


def award(
    *,
    session: Session,
    customer_id: int,
    points: int,
    reason: str,
    key: str,
    now: datetime,
    rule_id: int | None = None,
    event_id: int | None = None,
    pending: bool = False,
) -> int | None:
    """Give points once per key (spendable at once unless pending); returns the entry id,
    or None when the key was already used."""
    if points <= 0 or points > 10**9:
        raise InvalidInput("points must be between 1 and 1000000000")
    if session.scalar(select(LoyaltyEntry.id).where(LoyaltyEntry.key == key)) is not None:
        return None
    programme = get_programme(session=session)
    ids = ledger.earn_lots(
        session,
        programme,
        [
            dict(
                customer_id=customer_id,
                points=points,
                reason=reason,
                key=key,
                earned_at=now,
                rule_id=rule_id,
                event_id=event_id,
                pending=pending,
            )
        ],
        now=now,
    )
    review_tiers(session=session, customer_ids=[customer_id], now=now, programme=programme)
    return ids[0]


def adjust(*, session: Session, customer_id: int, points: int, reason: str, now: datetime):
    """A manual adjustment: positive adds a spendable lot, negative spends oldest first."""
    if points == 0 or not reason.strip():
        raise InvalidInput("an adjustment needs non-zero points and a reason")
    if points > 0:
        key = f"adjust:{customer_id}:{now.isoformat()}:{points}"
        return award(
            session=session,
            customer_id=customer_id,
            points=points,
            reason=f"adjusted: {reason}",
            key=key,
            now=now,
        )
    ledger.lock_account(session, customer_id, now=now)
    ledger.expire_due(session, now=now, customer_id=customer_id)
    try:
        takes = wallet.spend(ledger.lots_of(session, customer_id), -points, now)
    except ValueError as exc:
        raise Refused("balance", str(exc)) from None
    return ledger.take(
        session, customer_id, takes, kind="adjusted", reason=f"adjusted: {reason}", now=now
    )


def _order_lot(session: Session, order_id: int):
    """The lot an order earned (or None)."""
    return session.scalars(
        select(LoyaltyLot).where(LoyaltyLot.order_id == order_id).order_by(LoyaltyLot.id).limit(1)
    ).first()


def refund(
    *, session: Session, order_id: int, refund_cents: int, total_cents: int, now: datetime
) -> dict | None:
    """Claw back the refunded share of an order's points (see `wallet.clawback`)."""
    lot = _order_lot(session, order_id)
    if lot is None:
        return None
    ledger.lock_account(session, lot.customer_id, now=now)
    session.refresh(lot)
    points = wallet.proportional(lot.points, lot.clawed, refund_cents, total_cents)
    cents = min(lot.total_cents, round(lot.total_cents * refund_cents / max(total_cents, 1)))
    return _claw(session, lot, points, cents, "refund", now)


def cancel(*, session: Session, order_id: int, now: datetime) -> dict | None:
    """A cancelled order loses all its remaining points (pending first)."""
    lot = _order_lot(session, order_id)
    if lot is None:
        return None
    ledger.lock_account(session, lot.customer_id, now=now)
    session.refresh(lot)
    return _claw(session, lot, lot.points - lot.clawed, lot.total_cents, "cancellation", now)


def _claw(session: Session, lot: LoyaltyLot, points: int, cents: int, why: str, now: datetime):
    """Write a clawback: pending reversed, spendable points taken, shortfall noted."""
    if points <= 0:
        return {"points": 0, "shortfall": 0}
    cid = lot.customer_id
    ledger.expire_due(session, now=now, customer_id=cid)
    plan = wallet.clawback(ledger.lots_of(session, cid), lot.id, points, now)
    kind = "reversed" if why == "cancellation" else "clawed_back"
    if plan.pending:
        lot.pending -= plan.pending
        ledger.entry(
            session,
            customer_id=cid,
            kind=kind,
            points=0,
            pending=-plan.pending,
            amount_cents=0,
            reason=f"{why} of order {lot.order_id}",
            lot_id=lot.id,
            order_id=lot.order_id,
            created_at=now,
        )
        session.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.customer_id == cid)
            .values(pending=ACCOUNTS.c.pending - plan.pending, updated_at=now)
        )
    session.flush()
    taken = ledger.take(
        session,
        cid,
        plan.takes,
        kind="clawed_back",
        reason=f"{why} of order {lot.order_id}",
        now=now,
        order_id=lot.order_id,
    )
    lot.clawed += points
    lot.total_cents = max(0, lot.total_cents - cents)
    if plan.shortfall:
        ledger.entry(
            session,
            customer_id=cid,
            kind="clawed_back",
            points=0,
            pending=0,
            amount_cents=0,
            reason=f"{why} of order {lot.order_id}: already spent",
            lot_id=lot.id,
            order_id=lot.order_id,
            created_at=now,
            detail={"shortfall": plan.shortfall},
        )
    session.flush()
    review_tiers(session=session, customer_ids=[cid], now=now)
    return {"points": plan.pending + taken, "shortfall": plan.shortfall}


def qualifying_values(
    session: Session, customer_ids: Collection[int], *, programme: Programme, now: datetime
) -> dict[int, int]:
    """Points earned (net of clawbacks) or net spend in the 12 months to now, per member."""
    measure = (
        LOTS.c.points - LOTS.c.clawed if programme.tier_basis == "points" else LOTS.c.total_cents
    )
    rows = session.execute(
        select(LOTS.c.customer_id, func.sum(measure))
        .where(
            ledger.id_in(session, LOTS.c.customer_id, sorted(set(customer_ids))),
            LOTS.c.earned_at > now - wallet.YEAR,
        )
        .group_by(LOTS.c.customer_id)
    )
    return {c: int(v or 0) for c, v in rows}


def review_tiers(
    *,
    session: Session,
    customer_ids: Collection[int],
    now: datetime,
    programme: Programme | None = None,
) -> int:
    """Apply `wallet.tier_step` to these members (set-based writes); returns tier changes."""
    programme = programme or get_programme(session=session)
    if not programme.tiers or not customer_ids:
        return 0
    ids = sorted(set(customer_ids))
    values = qualifying_values(session, ids, programme=programme, now=now)
    accounts = session.execute(
        select(ACCOUNTS.c.customer_id, ACCOUNTS.c.tier, ACCOUNTS.c.tier_review_at).where(
            ledger.id_in(session, ACCOUNTS.c.customer_id, ids)
        )
    ).all()
    updates, changes = [], []
    for cid, tier, review_at in accounts:
        value = values.get(cid, 0)
        step = wallet.tier_step(programme, tier, review_at, value, now)
        if step.tier != tier or step.review_at != review_at:
            updates.append({"cid": cid, "tier": step.tier, "review_at": step.review_at})
        if step.changed:
            changes.append(
                dict(
                    customer_id=cid, from_tier=tier, to_tier=step.tier, value=value, changed_at=now
                )
            )
    if updates:
        session.execute(
            update(ACCOUNTS)
            .where(ACCOUNTS.c.customer_id == bindparam("cid"))
            .values(tier=bindparam("tier"), tier_review_at=bindparam("review_at"))
            .execution_options(synchronize_session=False),
            updates,
        )
    _record_changes(session, changes, now)
    return len(changes)


def _record_changes(session: Session, changes: list[dict], now: datetime) -> None:
    """Tier history rows and their `loyalty.tier_changed` events, set-based."""
    if not changes:
        return
    ids = ledger.allocate_ids(session, CHANGES, len(changes))
    for row, change_id in zip(changes, ids, strict=True):
        row["id"] = change_id
    ledger.bulk_insert(session, CHANGES, changes)
    query = select(
        CHANGES.c.customer_id,
        CHANGES.c.from_tier.label("from_tier"),
        CHANGES.c.to_tier.label("to_tier"),
    ).where(ledger.id_in(session, CHANGES.c.id, ids))
    append_select(session, ev.TierChanged.type, query, now=now)


def account(*, session: Session, customer_id: int) -> LoyaltyAccount | None:
    """A member's account, if they have one."""
    return session.get(LoyaltyAccount, customer_id)


def release_and_expire(*, session: Session, now: datetime, customer_id: int | None = None):
    """Release lots past their return window, then expire lots past their expiry."""
    released = ledger.release_due(session, now=now, customer_id=customer_id)
    expired = ledger.expire_due(session, now=now, customer_id=customer_id)
    return released, expired


def rule_window_counts(
    session: Session, rule_id: int, customer_ids: Collection[int], *, days: int, now: datetime
) -> dict[int, int]:
    """How many awards a rule gave each member in the last `days` days."""
    rows = session.execute(
        select(LoyaltyEntry.customer_id, func.count())
        .where(
            LoyaltyEntry.rule_id == rule_id,
            LoyaltyEntry.kind == "earned",
            LoyaltyEntry.customer_id.in_(sorted(customer_ids)),
            LoyaltyEntry.created_at > now - timedelta(days=days),
        )
        .group_by(LoyaltyEntry.customer_id)
    )
    return dict(rows.all())
