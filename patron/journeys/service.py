"""Use cases of journeys: save (validated, versioned), pause, resume, archive, enrol, dry run.

Versions rule: a definition is never changed once saved. Saving a new definition for a
journey adds a version and makes it current: customers who enter from then on follow it,
while enrolled customers finish on the version they entered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.errors import Conflict, InvalidInput, NotFound
from patron.journeys import dryrun, engine, intake, rules, steps
from patron.journeys.definition import Definition, DefinitionError
from patron.journeys.tables import Enrolment, Journey, JourneyVersion, StepRun
from patron.messages import service as messages
from patron.segments import service as segments

MAX_NAME = 255


def validate(*, session: Session, definition: dict) -> Definition:
    """Parse a definition and check what needs the database: templates, segments, rules."""
    d = steps.parse(definition)
    for step_id, template_id in d.template_ids().items():
        try:
            messages.get_template(session=session, template_id=template_id)
        except NotFound:
            raise DefinitionError(step_id, f"template_id: template {template_id} does not exist")
    for where, tree in d.rule_trees().items():
        try:
            segments.validate_rules(session=session, rules_json=tree)
        except InvalidInput as exc:
            raise DefinitionError(where, exc.message)
    for step in d.steps.values():
        if step.type == "notify":
            try:
                messages.render_line(session=session, text=step.fields["line"], customer_id=None)
            except InvalidInput as exc:
                raise DefinitionError(step.id, exc.message)
    if d.trigger.segment_id is not None:
        try:
            segments.get_segment(session=session, segment_id=d.trigger.segment_id)
        except NotFound as exc:
            raise DefinitionError("$trigger", exc.message)
    return d


def _check_name(session: Session, name: str, journey_id: int | None) -> str:
    """A trimmed, unused name."""
    name = (name or "").strip()
    if not 0 < len(name) <= MAX_NAME:
        raise InvalidInput(f"name: 1 to {MAX_NAME} characters")
    found = session.scalar(select(Journey.id).where(Journey.name == name))
    if found is not None and found != journey_id:
        raise Conflict(f"a journey named {name!r} exists already")
    return name


def create_journey(
    *,
    session: Session,
    name: str,
    definition: dict,
    now: datetime,
    description: str = "",
    playbook: str | None = None,
) -> Journey:
    """A draft journey with its first version (resume makes it live)."""
    name = _check_name(session, name, None)
    validate(session=session, definition=definition)
    journey = Journey(
        name=name,
        description=description,
        state="draft",
        playbook=playbook,
        created_at=now,
        updated_at=now,
    )
    session.add(journey)
    session.flush()
    _add_version(session, journey, definition, now)
    return journey


def _add_version(session: Session, journey: Journey, definition: dict, now) -> JourneyVersion:
    """Append a version and make it current."""
    number = session.scalar(
        select(func.coalesce(func.max(JourneyVersion.number), 0)).where(
            JourneyVersion.journey_id == journey.id
        )
    )
    version = JourneyVersion(
        journey_id=journey.id, number=number + 1, definition=definition, created_at=now
    )
    session.add(version)
    session.flush()
    journey.current_version_id, journey.updated_at = version.id, now
    return version


def new_version(
    *, session: Session, journey_id: int, definition: dict, now: datetime
) -> JourneyVersion:
    """Save an edited definition as a new version (enrolled customers stay on theirs)."""
    journey = get_journey(session=session, journey_id=journey_id, lock=True)
    if journey.state == "archived":
        raise Conflict(f"journey {journey_id} is archived")
    validate(session=session, definition=definition)
    return _add_version(session, journey, definition, now)


def get_journey(*, session: Session, journey_id: int, lock: bool = False) -> Journey:
    """A journey, or NotFound."""
    query = select(Journey).where(Journey.id == journey_id)
    if lock:
        query = query.with_for_update()
    journey = session.scalar(query.execution_options(populate_existing=True))
    if journey is None:
        raise NotFound(f"journey {journey_id} does not exist")
    return journey


def current_version(*, session: Session, journey_id: int) -> JourneyVersion:
    """The version new customers enter."""
    journey = get_journey(session=session, journey_id=journey_id)
    return session.get(JourneyVersion, journey.current_version_id)


def list_journeys(*, session: Session, limit: int = 100, after: int = 0) -> list[Journey]:
    """Journeys by id (keyset pages)."""
    query = select(Journey).where(Journey.id > after).order_by(Journey.id)
    return list(session.scalars(query.limit(max(1, min(limit, 500)))))


def counts(*, session: Session, journey_ids: list[int]) -> dict[int, dict[str, int]]:
    """Enrolments by state, per journey."""
    query = (
        select(Enrolment.journey_id, Enrolment.state, func.count())
        .where(Enrolment.journey_id.in_(journey_ids))
        .group_by(Enrolment.journey_id, Enrolment.state)
    )
    found: dict[int, dict[str, int]] = {jid: {} for jid in journey_ids}
    for jid, state, n in session.execute(query):
        found[jid][state] = n
    return found


def _set_state(session: Session, journey_id: int, allowed: tuple, state: str, now) -> Journey:
    """Move a journey to a state from one of the allowed ones."""
    journey = get_journey(session=session, journey_id=journey_id, lock=True)
    if journey.state == state:
        return journey
    if journey.state not in allowed:
        raise Conflict(f"journey {journey_id} is {journey.state}; it cannot become {state}")
    journey.state, journey.updated_at = state, now
    session.flush()
    return journey


def pause(*, session: Session, journey_id: int, now: datetime) -> Journey:
    """Stop entries and steps; enrolments keep their place and due times."""
    return _set_state(session, journey_id, ("live",), "paused", now)


def resume(*, session: Session, journey_id: int, now: datetime) -> Journey:
    """Make a draft or paused journey live (steps that fell due meanwhile run now)."""
    journey = _set_state(session, journey_id, ("draft", "paused"), "live", now)
    engine.wake(session, now=now)
    return journey


def archive(*, session: Session, journey_id: int, now: datetime) -> Journey:
    """End a journey for good: live enrolments exit with reason "archived"."""
    journey = _set_state(session, journey_id, ("draft", "live", "paused"), "archived", now)
    session.execute(
        update(Enrolment)
        .where(Enrolment.journey_id == journey_id, Enrolment.state.in_(rules.LIVE_STATES))
        .values(state="exited", exit_reason="archived", finished_at=now, due_at=None)
    )
    return journey


def enrol(
    *, session: Session, journey_id: int, customer_id: int, now: datetime
) -> tuple[Enrolment | None, bool]:
    """Enrol a customer through the API: (their live enrolment or None, whether it is new).

    The entry filter and the re-entry policy apply as for any trigger.
    """
    journey = get_journey(session=session, journey_id=journey_id)
    if journey.state != "live":
        raise Conflict(f"journey {journey_id} is {journey.state}: only a live journey enrols")
    customers.get_customer(session=session, customer_id=customer_id)
    version = session.get(JourneyVersion, journey.current_version_id)
    d = steps.parse(version.definition)
    created = intake.enrol_select(
        session,
        journey_id=journey_id,
        version_id=version.id,
        d=d,
        positions={customer_id: None},
        now=now,
    )
    if created:
        engine.wake(session, now=now)
    live = session.scalar(
        select(Enrolment).where(
            Enrolment.journey_id == journey_id,
            Enrolment.customer_id == customer_id,
            Enrolment.state.in_(rules.LIVE_STATES),
        )
    )
    return live, bool(created)


def enrolments(
    *, session: Session, journey_id: int, limit: int = 100, after: int = 0
) -> list[Enrolment]:
    """A journey's enrolments by id (keyset pages)."""
    get_journey(session=session, journey_id=journey_id)
    query = select(Enrolment).where(Enrolment.journey_id == journey_id, Enrolment.id > after)
    return list(session.scalars(query.order_by(Enrolment.id).limit(max(1, min(limit, 1000)))))


def history(*, session: Session, enrolment_id: int) -> list[StepRun]:
    """The steps an enrolment ran, in order."""
    query = select(StepRun).where(StepRun.enrolment_id == enrolment_id).order_by(StepRun.id)
    return list(session.scalars(query))


def dry_run(
    *,
    session: Session,
    now: datetime,
    days: int,
    journey_id: int | None = None,
    definition: dict | None = None,
) -> dict:
    """A journey (its current version, or an unsaved definition) over the last days; reads only."""
    if definition is None:
        if journey_id is None:
            raise InvalidInput("give a journey or a definition")
        definition = current_version(session=session, journey_id=journey_id).definition
        d = steps.parse(definition)
    else:
        if journey_id is not None:
            get_journey(session=session, journey_id=journey_id)
        d = validate(session=session, definition=definition)
    if not 1 <= days <= dryrun.MAX_DAYS:
        raise InvalidInput(f"days: between 1 and {dryrun.MAX_DAYS}")
    result = dryrun.run(session, d=d, journey_id=journey_id or 0, days=days, now=now)
    for message in result["messages"]:
        try:
            name = messages.get_template(session=session, template_id=message["template_id"]).name
        except NotFound:
            name = None
        message["template"] = name
    return result


def step_counts(*, session: Session, journey_id: int) -> dict[str, dict[str, int]]:
    """Live enrolments at each step, by state (active, waiting), for the builder."""
    query = (
        select(Enrolment.step_id, Enrolment.state, func.count())
        .where(Enrolment.journey_id == journey_id, Enrolment.state.in_(rules.LIVE_STATES))
        .group_by(Enrolment.step_id, Enrolment.state)
    )
    found: dict[str, dict[str, int]] = {}
    for step_id, state, n in session.execute(query):
        found.setdefault(step_id, {})[state] = n
    return found


def version_numbers(*, session: Session, version_ids: list[int]) -> dict[int, int]:
    """Each version's number, by version id."""
    query = select(JourneyVersion.id, JourneyVersion.number).where(
        JourneyVersion.id.in_(version_ids)
    )
    return dict(session.execute(query).all())
