"""Trigger intake: the `journeys.intake` consumer of the domain event log.

The batch is cut into runs of consecutive events of one type, applied in log order. Each run
first enrols (one INSERT ... SELECT per journey over the run's customers, honouring the entry
filter, the re-entry policy and one live enrolment per journey and customer, which the partial
unique index guards as well), then applies goals, exits and wait_for wake-ups to live
enrolments that entered before the event (by log position). The cursor and these writes
commit together, so no trigger is lost or applied twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import Select, and_, case, exists, func, insert, literal, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from patron.customers.read import Customer, Event, Order
from patron.events import service as events
from patron.journeys import engine, rules, steps
from patron.journeys.definition import Definition
from patron.journeys.tables import Enrolment, Journey, JourneyVersion
from patron.segments import service as segments

CONSUMER = "journeys.intake"
EVENT_TYPES = frozenset(
    {
        "segment.entered",
        "segment.exited",
        "lifecycle.changed",
        "event.tracked",
        "order.completed",
        "consent.changed",
        "customer.updated",
    }
)
TRIGGER_OF = {
    "segment.entered": "segment_entered",
    "segment.exited": "segment_exited",
    "lifecycle.changed": "lifecycle_changed",
    "event.tracked": "event",
    "order.completed": "order",
}


def live_journeys(session: Session) -> list[tuple[int, int, Definition]]:
    """(journey id, current version id, definition) of every live journey."""
    rows = session.execute(
        select(Journey.id, JourneyVersion.id, JourneyVersion.definition)
        .join(JourneyVersion, JourneyVersion.id == Journey.current_version_id)
        .where(Journey.state == "live")
        .order_by(Journey.id)
    )
    return [(jid, vid, steps.parse(raw)) for jid, vid, raw in rows]


def _properties(session: Session, run) -> dict[str, dict]:
    """Tracked events' properties by message id (the log carries only their names)."""
    ids = [e.data.get("message_id") for e in run if e.data.get("message_id")]
    if not ids:
        return {}
    query = select(Event.message_id, Event.properties).where(Event.message_id.in_(ids))
    return {mid: props or {} for mid, props in session.execute(query)}


def _nth(session: Session, run) -> dict[int, int]:
    """Each order's place among its customer's orders not cancelled (1 = first)."""
    ids = [e.data["order_id"] for e in run if isinstance(e.data.get("order_id"), int)]
    if not ids:
        return {}
    mine, other = aliased(Order), aliased(Order)
    query = (
        select(mine.id, func.count(other.id))
        .join(
            other,
            and_(
                other.customer_id == mine.customer_id,
                other.placed_at <= mine.placed_at,
                other.status != "cancelled",
            ),
        )
        .where(mine.id.in_(ids))
        .group_by(mine.id)
    )
    return {order_id: int(n) for order_id, n in session.execute(query)}


def fires(trigger, event, *, props: dict, nth: dict) -> bool:
    """Whether one event fires a journey's trigger."""
    data = event.data
    if trigger.type in ("segment_entered", "segment_exited"):
        return data.get("segment_id") == trigger.segment_id
    if trigger.type == "lifecycle_changed":
        return (trigger.from_stage is None or data.get("from_stage") == trigger.from_stage) and (
            trigger.to_stage is None or data.get("to_stage") == trigger.to_stage
        )
    if trigger.type == "event":
        return data.get("name") == trigger.name and rules.where_matches(
            trigger.where, props.get(data.get("message_id"))
        )
    if trigger.type == "order":
        if data.get("replaced") or not isinstance(data.get("order_id"), int):
            return False
        lines = data.get("lines") or []
        return rules.order_matches(
            trigger,
            total_minor=int(data.get("total_cents") or 0),
            nth=nth.get(data["order_id"], 0),
            skus={ln.get("sku") for ln in lines},
            categories={ln.get("category") for ln in lines},
        )
    return False


def enrol_select(
    session: Session,
    *,
    journey_id: int,
    version_id: int,
    d: Definition,
    positions: dict[int, int | None],
    now: datetime,
    candidates: Select | None = None,
    occurrence=None,
) -> int:
    """Enrol these customers (id -> trigger position) set-based; returns how many entered.

    A scheduled trigger gives `candidates` (a SELECT of customer ids) and its `occurrence`
    instead (a key, or a SQL expression of the customer row); the unique (journey, customer,
    occurrence) index makes a repeat a no-op.
    """
    if not positions and candidates is None:
        return 0
    ids = sorted(positions) if candidates is None else None
    c = Customer.__table__.c
    known = {k: v for k, v in positions.items() if v is not None}
    position = case(known, value=c.id, else_=None) if known else literal(None)
    chosen = c.id.in_(ids) if candidates is None else c.id.in_(candidates.scalar_subquery())
    return _enrol(
        session,
        journey_id,
        version_id,
        d,
        Customer.__table__,
        position,
        [chosen],
        ids,
        now,
        occurrence=occurrence,
    )


def enrol_from(
    session: Session,
    *,
    journey_id: int,
    version_id: int,
    d: Definition,
    fired: Select,
    ids: list[int],
    now: datetime,
) -> int:
    """Enrol the customers a SELECT (customer_id, position) yields, in one INSERT ... SELECT;
    `ids` are the same customers (for the entry filter). Returns how many entered."""
    src = fired.subquery("fired")
    joined = Customer.__table__.join(src, src.c.customer_id == Customer.__table__.c.id)
    return _enrol(session, journey_id, version_id, d, joined, src.c.position, [], ids, now)


def _enrol(
    session, journey_id, version_id, d, from_, position, where, ids, now, *, occurrence=None
) -> int:
    """One INSERT ... SELECT of enrolments honouring entry filter, re-entry and liveness."""
    c = Customer.__table__.c
    e = Enrolment.__table__.c
    mine = and_(e.journey_id == journey_id, e.customer_id == c.id)
    blocked = [e.state.in_(rules.LIVE_STATES)]
    if d.reentry == "never":
        blocked = [true()]
    elif d.reentry == "after_days":
        blocked.append(e.entered_at > now - timedelta(days=d.reentry_days))
    where = [*where, ~exists().where(mine, or_(*blocked))]
    if d.entry_filter:
        matching = segments.matching(
            session=session, rules_json=d.entry_filter, customer_ids=ids, now=now
        )
        where.append(c.id.in_(matching.scalar_subquery()))
    key = (
        occurrence
        if occurrence is not None and not isinstance(occurrence, str)
        else literal(occurrence, Enrolment.occurrence.type)
    )
    rows = (
        select(
            literal(journey_id),
            literal(version_id),
            c.id,
            literal("active"),
            literal(d.start),
            literal(now, Enrolment.due_at.type),
            literal(0),
            literal(now, Enrolment.entered_at.type),
            position,
            literal(now, Enrolment.step_entered_at.type),
            literal(0),
            literal(0),
            key,
        )
        .select_from(from_)
        .where(*where)
    )
    columns = [
        "journey_id",
        "version_id",
        "customer_id",
        "state",
        "step_id",
        "due_at",
        "iteration",
        "entered_at",
        "entered_position",
        "step_entered_at",
        "attempts",
        "revenue_minor",
        "occurrence",
    ]
    dialect = session.get_bind().dialect.name
    builder = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect, insert)
    statement = builder(Enrolment).from_select(columns, rows).on_conflict_do_nothing()
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return max(result.rowcount or 0, 0)


def _enrol_segment_run(session, run, journey_id, version_id, d, now) -> int:
    """A run of segment events enrols from the log in one statement, whatever its length."""
    segment_id = d.trigger.segment_id
    ids = {e.customer_id for e in run if e.data.get("segment_id") == segment_id}
    ids.discard(None)
    if not ids:
        return 0
    fired = events.first_positions(
        type_name=run[0].type,
        first=run[0].position,
        last=run[-1].position,
        data_equals={"segment_id": segment_id},
    )
    return enrol_from(
        session,
        journey_id=journey_id,
        version_id=version_id,
        d=d,
        fired=fired,
        ids=sorted(ids),
        now=now,
    )


def _enrol_run(session, run, journeys, props, nth, now) -> int:
    """Enrol the customers a run of events triggers, journey by journey."""
    kind = TRIGGER_OF.get(run[0].type)
    entered = 0
    for journey_id, version_id, d in journeys:
        if d.trigger.type != kind:
            continue
        if kind in ("segment_entered", "segment_exited"):
            entered += _enrol_segment_run(session, run, journey_id, version_id, d, now)
            continue
        positions: dict[int, int | None] = {}
        for event in run:
            new = event.customer_id is not None and event.customer_id not in positions
            if new and fires(d.trigger, event, props=props, nth=nth):
                positions[event.customer_id] = event.position
        entered += enrol_select(
            session,
            journey_id=journey_id,
            version_id=version_id,
            d=d,
            positions=positions,
            now=now,
        )
    return entered


def _versions(session: Session) -> dict[int, Definition]:
    """Definitions of the versions of journeys not archived (archiving ends their enrolments)."""
    rows = session.execute(
        select(JourneyVersion.id, JourneyVersion.definition)
        .join(Journey, Journey.id == JourneyVersion.journey_id)
        .where(Journey.state != "archived")
    )
    return {vid: steps.parse(raw) for vid, raw in rows}


def reacts(d: Definition, event_type: str) -> bool:
    """Whether an event of this type can convert, end or wake an enrolment of a definition."""
    goal = d.goal or {}
    if (goal.get("type"), event_type) in (("order", "order.completed"), ("event", "event.tracked")):
        return True
    if (d.exit_on_left_segment and event_type == "segment.exited") or (
        d.exit_on_unsubscribed and event_type == "consent.changed"
    ):
        return True
    return any(
        s.type == "wait_for"
        and (s.fields["condition"] is not None or event_type == "event.tracked")
        for s in d.steps.values()
    )


def _live_of(session: Session, customer_ids, version_ids) -> dict[int, list[Enrolment]]:
    """Live enrolments of these customers on these versions, by customer, locked."""
    query = select(Enrolment).where(
        Enrolment.customer_id.in_(sorted(customer_ids)),
        Enrolment.state.in_(rules.LIVE_STATES),
        Enrolment.version_id.in_(sorted(version_ids)),
    )
    # Locked (in id order, as the engine's batches lock them): a step running now finishes
    # before its enrolment is woken or ended here, and is then re-read, never overwritten.
    query = query.order_by(Enrolment.id).with_for_update()
    found = defaultdict(list)
    for e in session.scalars(query.execution_options(populate_existing=True)):
        found[e.customer_id].append(e)
    return found


def _goal_reached(d: Definition, e: Enrolment, event, props: dict) -> int | None:
    """The revenue when this event meets the journey's goal, else None."""
    goal = d.goal
    if goal is None:
        return None
    if goal["within_days"] is not None and event.occurred_at > e.entered_at + timedelta(
        days=goal["within_days"]
    ):
        return None
    if goal["type"] == "order" and event.type == "order.completed":
        if event.data.get("replaced"):
            return None
        return int(event.data.get("total_cents") or 0)
    if goal["type"] == "event" and event.type == "event.tracked":
        return 0 if event.data.get("name") == goal["name"] else None
    return None


def _exit_reason(d: Definition, event) -> str | None:
    """Why this event ends an enrolment, if it does."""
    data = event.data
    if (
        d.exit_on_left_segment
        and event.type == "segment.exited"
        and data.get("segment_id") == d.trigger.segment_id
    ):
        return "left segment"
    if (
        d.exit_on_unsubscribed
        and event.type == "consent.changed"
        and data.get("channel") == "email"
        and data.get("status") == "unsubscribed"
    ):
        return "unsubscribed"
    return None


def _woken(session, d: Definition, e: Enrolment, event, props: dict, now) -> bool:
    """Whether a waiting wait_for enrolment's event or condition happened."""
    step = d.steps[e.step_id]
    if e.state != "waiting" or step.type != "wait_for":
        return False
    if e.step_entered_at is not None and event.occurred_at < e.step_entered_at:
        return False
    wanted = step.fields["event"]
    if wanted is not None:
        return (
            event.type == "event.tracked"
            and event.data.get("name") == wanted["name"]
            and rules.where_matches(wanted["where"], props.get(event.data.get("message_id")))
        )
    return engine.matches(session, step.fields["condition"], e.customer_id, now)


def _react(session: Session, run, props: dict, definitions, now: datetime) -> bool:
    """Goals, exits and wake-ups for the live enrolments entered before each event."""
    versions = [vid for vid, d in definitions.items() if reacts(d, run[0].type)]
    if not versions:  # e.g. segment entries when no journey waits for a condition
        return False
    live = _live_of(session, {e.customer_id for e in run if e.customer_id is not None}, versions)
    woke = False
    for event in run:
        for e in live.get(event.customer_id, ()):
            if e.state not in rules.LIVE_STATES:
                continue
            if e.entered_position is not None and e.entered_position >= event.position:
                continue
            if e.entered_position is None and event.occurred_at < e.entered_at:
                continue  # enrolled through the API after this event
            d = definitions[e.version_id]
            revenue = _goal_reached(d, e, event, props)
            reason = _exit_reason(d, event)
            if revenue is not None:
                e.revenue_minor = revenue
                engine.finish(e, "converted", "goal", now)
            elif reason is not None:
                engine.finish(e, "exited", reason, now)
            elif _woken(session, d, e, event, props, now):
                engine.resume(session, e, d.steps[e.step_id].fields["happened"], "happened", now)
                woke = True
    session.flush()
    return woke


def on_events(*, session: Session, events, now: datetime) -> None:
    """The consumer: enrol, then goals, exits and wake-ups, run by run in log order."""
    journeys = live_journeys(session)
    definitions = _versions(session)
    woke = False
    for _type, group in groupby(events, key=lambda e: e.type):
        run = list(group)
        props = _properties(session, run) if run[0].type == "event.tracked" else {}
        nth = _nth(session, run) if run[0].type == "order.completed" else {}
        woke |= _enrol_run(session, run, journeys, props, nth, now) > 0
        session.flush()
        woke |= _react(session, run, props, definitions, now)
    if woke:
        engine.wake(session, now=now)
