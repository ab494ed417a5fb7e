"""Use cases of surveys: define, ask (within the recontact limit), answer, alert on detractors.

An answer is one row per slot (`links.Slot.key`): the first answer creates it and publishes
`survey.answered` plus a tracked `survey_answered` event (for segments and journeys); a later
answer from the same link updates the row and counts nothing twice. A detractor's answer
queues one alert to PATRON_SURVEYS_ALERT_EMAIL through messages (keyed by the response).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.errors import Conflict, InvalidInput, NotFound
from patron.events import service as events
from patron.messages import service as messages
from patron.segments import service as segments
from patron.surveys import rules, settings
from patron.surveys.events import TRACKED_NAME, SurveyAnswered
from patron.surveys.links import Slot
from patron.surveys.tables import Survey, SurveyContact, SurveyRequest, SurveyResponse

SOURCE = "survey"
ALERT_SOURCE = "survey-alert"
ALERT_TEMPLATE = "Survey detractor alert"
ASK_BODY = (
    "<p>Hi {{ customer.first_name or 'there' }},</p><p>{prompt}</p>"
    "{{{{ survey_buttons({survey_id}) }}}}<p>One click is enough; thank you!</p>"
)


def questions_of(survey: Survey) -> tuple[rules.Question, ...]:
    """The parsed questions of a stored survey."""
    return rules.parse_questions(survey.questions)


def _checked(questions) -> list[dict]:
    """Questions as stored JSON, or InvalidInput."""
    try:
        return [q.as_dict() for q in rules.parse_questions(questions)]
    except rules.SurveyError as exc:
        raise InvalidInput(str(exc))


def _name(session: Session, name: str, survey_id: int | None) -> str:
    """A free name of 1 to 200 characters."""
    name = (name or "").strip()
    if not 0 < len(name) <= 200:
        raise InvalidInput("name: 1 to 200 characters")
    taken = session.scalar(select(Survey.id).where(Survey.name == name))
    if taken is not None and taken != survey_id:
        raise Conflict(f"a survey called {name!r} exists already")
    return name


def create_survey(*, session: Session, name: str, questions: list, now: datetime) -> Survey:
    """A survey, active, with its email template (score buttons of its first question)."""
    stored = _checked(questions)
    survey = Survey(
        name=_name(session, name, None),
        state="active",
        questions=stored,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    session.flush()
    body = ASK_BODY.format(prompt=stored[0]["prompt"], survey_id=survey.id)
    data = messages.TemplateInput(
        name=f"Survey: {survey.name}"[:200],
        variants=[messages.VariantInput(subject=stored[0]["prompt"][:200], body=body)],
    )
    survey.template_id = messages.create_template(session=session, data=data, now=now).id
    session.flush()
    return survey


def update_survey(
    *,
    session: Session,
    survey_id: int,
    now: datetime,
    name: str | None = None,
    questions: list | None = None,
    state: str | None = None,
) -> Survey:
    """Change a survey's name, questions or state (answers keep the questions they had)."""
    survey = get_survey(session=session, survey_id=survey_id)
    if name is not None:
        survey.name = _name(session, name, survey.id)
    if questions is not None:
        stored = _checked(questions)
        if stored[0]["type"] != survey.questions[0]["type"] and _answered(session, survey.id):
            raise Conflict("the first question's type cannot change once answers exist")
        survey.questions = stored
    if state is not None:
        if state not in ("draft", "active", "closed"):
            raise InvalidInput("state must be draft, active or closed")
        survey.state = state
    survey.updated_at = now
    session.flush()
    return survey


def _answered(session: Session, survey_id: int) -> bool:
    return bool(session.scalar(select(func.count()).where(SurveyResponse.survey_id == survey_id)))


def get_survey(*, session: Session, survey_id: int) -> Survey:
    """Gets a survey by id."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"survey {survey_id} does not exist")
    return survey


def main_scales(*, session: Session) -> dict[int, tuple[str, tuple[int, int]]]:
    """(type, scale) of every survey's scored first question, by survey id."""
    found = {}
    for survey_id, questions in session.execute(select(Survey.id, Survey.questions)):
        first = rules.parse_questions(questions)[0]
        found[survey_id] = (first.type, first.scale)
    return found


def list_surveys(*, session: Session) -> list[Survey]:
    """Every survey, newest first."""
    return list(session.scalars(select(Survey).order_by(Survey.id.desc())))


# Asking ---------------------------------------------------------------------------------------


def claim_contact(*, session: Session, customer_id: int, now: datetime, days: int) -> bool:
    """Move the customer's last-asked time to now if the recontact limit allows (race-safe)."""
    cutoff = rules.recontact_cutoff(now, days)
    moved = session.execute(
        update(SurveyContact)
        .where(SurveyContact.customer_id == customer_id, SurveyContact.last_asked_at <= cutoff)
        .values(last_asked_at=now)
    ).rowcount
    if moved:
        return True
    if session.get(SurveyContact, customer_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(SurveyContact(customer_id=customer_id, last_asked_at=now))
    except IntegrityError:
        return False  # another writer asked this customer first
    return True


def ask(*, session: Session, survey_id: int, customer_id: int, key: str, now: datetime) -> dict:
    """Send a survey request by email unless the customer was asked any survey lately."""
    found = session.scalar(select(SurveyRequest).where(SurveyRequest.key == key))
    if found is not None:
        return {"request_id": found.id, "outbox_id": found.outbox_id}
    survey = get_survey(session=session, survey_id=survey_id)
    if survey.state != "active" or survey.template_id is None:
        return {"skipped": f"survey {survey.id} is {survey.state}"}
    customers.get_customer(session=session, customer_id=customer_id)
    days = settings.number(settings.RECONTACT_DAYS)
    if not claim_contact(session=session, customer_id=customer_id, now=now, days=days):
        return {"skipped": f"asked a survey within {days} days"}
    request = SurveyRequest(survey_id=survey.id, customer_id=customer_id, key=key, sent_at=now)
    session.add(request)
    session.flush()
    row, _ = messages.queue_message(
        session=session,
        customer_id=customer_id,
        template_id=survey.template_id,
        kind="marketing",
        source=SOURCE,
        source_id=survey.id,
        occurrence=f"req:{request.id}",
        now=now,
    )
    request.outbox_id = row.id
    messages.wake_lane(session=session, kind="marketing", now=now)
    return {"request_id": request.id, "outbox_id": row.id}


def ask_many(*, session: Session, survey_id: int, customer_ids: list[int], now: datetime) -> dict:
    """Ask many customers (the send of a campaign); counts asked and skipped."""
    asked = skipped = 0
    stamp = int(now.timestamp())
    for customer_id in customer_ids:
        out = ask(
            session=session,
            survey_id=survey_id,
            customer_id=customer_id,
            key=f"send:{survey_id}:{customer_id}:{stamp}",
            now=now,
        )
        asked, skipped = asked + ("request_id" in out), skipped + ("skipped" in out)
    return {"asked": asked, "skipped": skipped}


def ask_segment(*, session: Session, survey_id: int, segment_id: int, now: datetime) -> dict:
    """Ask every current member of a segment (in pages of 1,000)."""
    totals, after = {"asked": 0, "skipped": 0}, 0
    get_survey(session=session, survey_id=survey_id)
    while page := segments.members(session=session, segment_id=segment_id, limit=1000, after=after):
        ids = [m["id"] for m in page]
        out = ask_many(session=session, survey_id=survey_id, customer_ids=ids, now=now)
        totals = {k: totals[k] + out[k] for k in totals}
        after = ids[-1]
    return totals


def latest_requests(*, session: Session, customer_ids) -> dict[tuple[int, int], int]:
    """The newest request id by (customer, survey), for the given customers."""
    ids = list(customer_ids)
    if not ids:
        return {}
    query = (
        select(SurveyRequest.customer_id, SurveyRequest.survey_id, func.max(SurveyRequest.id))
        .where(SurveyRequest.customer_id.in_(ids))
        .group_by(SurveyRequest.customer_id, SurveyRequest.survey_id)
    )
    return {(c, s): r for c, s, r in session.execute(query)}


# Answering ------------------------------------------------------------------------------------


def check_slot(*, session: Session, slot: Slot) -> Survey:
    """The survey of a link's slot, refusing a link whose request does not match it."""
    survey = get_survey(session=session, survey_id=slot.survey_id)
    if slot.request_id is not None:
        request = session.get(SurveyRequest, slot.request_id)
        if request is None or (request.survey_id, request.customer_id) != (
            slot.survey_id,
            slot.customer_id,
        ):
            raise InvalidInput("the link does not match a survey request")
    if survey.state == "closed":
        raise InvalidInput("this survey is closed")
    return survey


def response_of(*, session: Session, slot: Slot, lock: bool = False) -> SurveyResponse | None:
    """The response of a slot, if answered (locked for an update with `lock`)."""
    query = select(SurveyResponse).where(SurveyResponse.key == slot.key)
    return session.scalar(query.with_for_update() if lock else query)


def answer(
    *, session: Session, slot: Slot, answers: dict, channel: str, now: datetime
) -> SurveyResponse:
    """Record or update the answers of a slot (partial answers merge into earlier ones)."""
    survey = check_slot(session=session, slot=slot)
    questions = questions_of(survey)
    try:
        checked = rules.check_answers(questions, answers, partial=True)
    except rules.SurveyError as exc:
        raise InvalidInput(str(exc))
    main = questions[0]
    row = response_of(session=session, slot=slot, lock=True)
    if row is None:
        if main.id not in checked:
            raise InvalidInput(f"{main.id}: the score is required first")
        row = _insert(session, survey, slot, channel, main.type, now)
        if row is None:  # a concurrent first answer won: update it instead
            row = response_of(session=session, slot=slot, lock=True)
        else:
            _apply(row, checked, questions, now)
            _announce(session, survey, row, now)
            return row
    row.revisions += 1
    _apply(row, checked, questions, now)
    _alert(session, survey, row, now)
    return row


def _insert(session, survey, slot: Slot, channel: str, kind: str, now) -> SurveyResponse | None:
    """A new response row, or None when the slot was answered concurrently."""
    row = SurveyResponse(
        survey_id=survey.id,
        customer_id=slot.customer_id,
        request_id=slot.request_id,
        key=slot.key,
        channel=channel,
        question_type=kind,
        answers={},
        revisions=1,
        answered_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def _apply(row: SurveyResponse, checked: dict, questions, now: datetime) -> None:
    """Merge answers into the row and derive score, category and comment."""
    merged = {**(row.answers or {}), **checked}
    row.answers = merged
    row.score = merged.get(questions[0].id)
    row.nps_category = rules.category_of(row.question_type, row.score)
    texts = [merged[q.id] for q in questions if q.type == "text" and merged.get(q.id)]
    row.comment = texts[0] if texts else None
    row.updated_at = now


def _announce(session: Session, survey: Survey, row: SurveyResponse, now: datetime) -> None:
    """The first answer's events: survey.answered, the tracked event, the detractor alert."""
    session.flush()
    answered = SurveyAnswered(
        row.customer_id,
        survey_id=survey.id,
        response_id=row.id,
        question_type=row.question_type,
        score=row.score,
        nps_category=row.nps_category,
    )
    events.append(session, [answered], now=now)
    customers.record_event(
        session=session,
        message_id=f"survey-response:{row.id}",
        type_="track",
        name=TRACKED_NAME,
        customer_id=row.customer_id,
        anonymous_id=None,
        properties={
            "survey_id": survey.id,
            "survey": survey.name,
            "response_id": row.id,
            "question_type": row.question_type,
            "score": row.score,
            "nps_category": row.nps_category,
        },
        context={},
        occurred_at=now,
        received_at=now,
    )
    _alert(session, survey, row, now)


def _alert_template(session: Session, now: datetime) -> int:
    """The team alert's template, created through messages on first use."""
    for template in messages.list_templates(session=session):
        if template.name == ALERT_TEMPLATE:
            return template.id
    data = messages.TemplateInput(
        name=ALERT_TEMPLATE,
        kind="transactional",
        variants=[
            messages.VariantInput(
                subject="Detractor: {{ data.line }}",
                body="<p>{{ data.line }}</p><p>{{ data.comment }}</p>"
                '<p><a href="{{ data.url }}">Open the survey\'s results</a></p>',
            )
        ],
    )
    return messages.create_template(session=session, data=data, now=now).id


def _alert(session: Session, survey: Survey, row: SurveyResponse, now: datetime) -> None:
    """Queue the team alert of a detractor's response, once per response."""
    address = settings.text(settings.ALERT_EMAIL)
    if row.nps_category != "detractor" or not address:
        return
    customer = customers.get_customer(session=session, customer_id=row.customer_id)
    who = customer.email or customer.external_id
    messages.send_to_address(
        session=session,
        template_id=_alert_template(session, now),
        address=address,
        customer_id=row.customer_id,
        source=ALERT_SOURCE,
        occurrence=f"response:{row.id}",
        data={
            "line": f"{who} answered {row.score} to {survey.name}",
            "comment": row.comment or "",
            "url": f"/surveys/{survey.id}?category=detractor",
        },
        now=now,
    )
