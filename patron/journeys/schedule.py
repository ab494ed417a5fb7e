"""Scheduled triggers: the `journeys.schedule` job enrols date, inactivity and recurring audiences.

Each run finds, per live journey with a scheduled trigger, the occurrences open now (the
customers' zones grouped by the local day whose send time has passed, see
`rules.open_occurrence`) and enrols each occurrence's customers with one INSERT ... SELECT
through intake's `enrol_select`: the entry filter, the re-entry policy and one live enrolment
apply as for any trigger, and the occurrence key is stored on the enrolment under a unique
(journey, customer, occurrence) index. A second run, an overlapping run or a second worker
finds the occurrence taken and enrols nobody again.

Occurrence keys: a date trigger's local firing day (`2026-12-02`); a recurring audience's
local day; inactivity `since:<epoch seconds of the last order or event>`, so a customer
enters once per quiet spell. First-order anniversaries use the order's UTC calendar day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import BigInteger, Date, Select, String, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from patron.customers.read import Customer, CustomerStats
from patron.journeys import engine, intake, rules
from patron.journeys.definition import SCHEDULED, Definition, Trigger
from patron.segments.read import SegmentMembership

SCHEDULE_JOB = "journeys.schedule"
EVERY_MINUTES = 5


def _dialect(session: Session) -> str:
    """The database's dialect name."""
    return session.get_bind().dialect.name


def _zone_names(session: Session) -> list[str | None]:
    """Every distinct zone name customers have (None included)."""
    return list(session.scalars(select(Customer.time_zone).distinct()))


def _in_zones(names: list[str | None]):
    """Customers whose zone name is one of these (None: no zone)."""
    named = [n for n in names if n is not None]
    parts = [Customer.time_zone.in_(named)] if named else []
    if None in names:
        parts.append(Customer.time_zone.is_(None))
    return or_(*parts)


def _month_day(session: Session, column, *, text: bool = False):
    """MM-DD of a date, timestamp (its UTC day) or ISO date text column."""
    if text:
        return func.substr(column, 6, 5)
    if _dialect(session) == "postgresql":
        if isinstance(column.type, Date):
            return func.to_char(column, "MM-DD")
        return func.to_char(func.timezone("UTC", column), "MM-DD")
    return func.strftime("%m-%d", column)


def _date_candidates(session: Session, t: Trigger, day: date, zones: list) -> Select:
    """Customers in these zones whose date, offset, falls on `day`."""
    target, keys = rules.anniversary_keys(day, t.offset_days)
    query = select(Customer.id).where(_in_zones(zones))
    if t.date_field == "birthday":
        return query.where(_month_day(session, Customer.birthday).in_(keys))
    if t.date_field == "first_order":
        start = datetime.combine(target, datetime.min.time(), tzinfo=UTC)
        return (
            query.join(CustomerStats, CustomerStats.customer_id == Customer.id)
            .where(_month_day(session, CustomerStats.first_order_at).in_(keys))
            .where(CustomerStats.first_order_at < start)  # not the year of the first order
        )
    value = Customer.attributes[t.attribute].as_string()
    if t.yearly:
        return query.where(_month_day(session, value, text=True).in_(keys))
    return query.where(func.substr(value, 1, 10) == target.isoformat())


def _epoch(session: Session, column):
    """A timestamp's whole unix seconds as text, the same on every connection."""
    if _dialect(session) == "postgresql":
        return cast(cast(func.floor(func.extract("epoch", column)), BigInteger), String)
    return func.strftime("%s", column, type_=String)


def _occurrences(session: Session, t: Trigger, zones: list, now: datetime):
    """(occurrence key, candidates) open now for one scheduled trigger."""
    if t.type == "inactivity":
        column = CustomerStats.last_order_at if t.of == "order" else CustomerStats.last_event_at
        # The key is per customer: a subquery correlated with the enrolling customer row.
        since = (
            select(literal("since:", String) + _epoch(session, column))
            .where(CustomerStats.customer_id == Customer.id)
            .scalar_subquery()
        )
        quiet = select(CustomerStats.customer_id).where(column <= now - timedelta(days=t.days))
        yield since, quiet
        return
    groups = rules.zones_by_occurrence(zones, now, at=t.at, weekdays=t.weekdays)
    for day, names in sorted(groups.items()):
        if t.type == "date":
            yield day.isoformat(), _date_candidates(session, t, day, names)
        else:
            members = (
                select(SegmentMembership.customer_id)
                .join(Customer, Customer.id == SegmentMembership.customer_id)
                .where(SegmentMembership.segment_id == t.segment_id, _in_zones(names))
            )
            yield day.isoformat(), members


def run_scheduled(session: Session, *, now: datetime) -> int:
    """Enrol every open occurrence of the live journeys' scheduled triggers; returns how many."""
    journeys = [j for j in intake.live_journeys(session) if j[2].trigger.type in SCHEDULED]
    if not journeys:
        return 0
    zones = _zone_names(session)
    entered = 0
    for journey_id, version_id, d in journeys:
        entered += _enrol_journey(session, journey_id, version_id, d, zones, now)
    if entered:
        engine.wake(session, now=now)
    return entered


def _enrol_journey(session, journey_id: int, version_id: int, d: Definition, zones, now) -> int:
    """Enrol one journey's open occurrences."""
    entered = 0
    for occurrence, candidates in _occurrences(session, d.trigger, zones, now):
        entered += intake.enrol_select(
            session,
            journey_id=journey_id,
            version_id=version_id,
            d=d,
            positions={},
            now=now,
            candidates=candidates,
            occurrence=occurrence,
        )
    return entered


def schedule_job(*, session: Session, now: datetime, payload: dict) -> str:
    """The `journeys.schedule` job: evaluate scheduled triggers in the job's transaction."""
    return f"{run_scheduled(session, now=now)} enrolled"
