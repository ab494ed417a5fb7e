"""REST API of surveys under /api/surveys: define (`admin`), read results (`read`), and the
shop's own survey display: ask a customer (`write`, within the recontact limit) and answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from patron.customers import service as customers
from patron.db import utcnow
from patron.deps import ADMIN, READ, SESSION, WRITE
from patron.errors import InvalidInput, NotFound
from patron.surveys import context, links, results, service, settings

router = APIRouter(prefix="/api/surveys", tags=["surveys"])


class SurveyCreate(BaseModel):
    """A new survey: its name and questions (the first is scored: nps, csat or ces)."""

    name: str = Field(max_length=200)
    questions: list[dict[str, Any]] = Field(max_length=20)


class SurveyUpdate(BaseModel):
    """Fields to change."""

    name: str | None = Field(default=None, max_length=200)
    questions: list[dict[str, Any]] | None = Field(default=None, max_length=20)
    state: str | None = None


class AskBody(BaseModel):
    """The customer the shop wants to show the survey to."""

    customer: str = Field(min_length=1, max_length=255, description="the customer's external id")


class AnswerBody(BaseModel):
    """Answers by question id, for the slot of a token from an ask."""

    token: str = Field(min_length=1, max_length=1000)
    answers: dict[str, Any]


def _out(survey) -> dict:
    return {
        "id": survey.id,
        "name": survey.name,
        "state": survey.state,
        "questions": survey.questions,
        "template_id": survey.template_id,
        "created_at": survey.created_at,
    }


@router.post("", status_code=201, summary="Create a survey", dependencies=ADMIN)
def create(body: SurveyCreate, session: Session = SESSION):
    """Creates an active survey and its email template."""
    return _out(
        service.create_survey(
            session=session, name=body.name, questions=body.questions, now=utcnow()
        )
    )


@router.get("", summary="List surveys", dependencies=READ)
def listing(session: Session = SESSION):
    """Every survey."""
    return {"surveys": [_out(s) for s in service.list_surveys(session=session)]}


@router.get("/{survey_id}", summary="A survey", dependencies=READ)
def one(survey_id: int, session: Session = SESSION):
    """A survey with its questions."""
    return _out(service.get_survey(session=session, survey_id=survey_id))


@router.patch("/{survey_id}", summary="Change a survey", dependencies=ADMIN)
def change(survey_id: int, body: SurveyUpdate, session: Session = SESSION):
    """Changes its name, questions or state."""
    return _out(
        service.update_survey(
            session=session, survey_id=survey_id, now=utcnow(), **body.model_dump(exclude_none=True)
        )
    )


@router.get(
    "/{survey_id}/results", summary="Results: NPS, breakdowns, verbatims", dependencies=READ
)
def survey_results(survey_id: int, session: Session = SESSION):
    """NPS and averages overall, per month, per segment, per lifecycle stage and per tier."""
    service.get_survey(session=session, survey_id=survey_id)
    return {
        "summary": results.summary(session, survey_id=survey_id),
        "months": results.over_time(session, survey_id=survey_id),
        "segments": results.by_segment(session, survey_id=survey_id),
        "stages": results.by_stage(session, survey_id=survey_id),
        "tiers": results.by_tier(session, survey_id=survey_id),
        "verbatims": results.verbatims(session, survey_id=survey_id, limit=100),
    }


def _customer_id(session: Session, external_id: str) -> int:
    found = customers.find_customer(session=session, external_id=external_id)
    if found is None:
        raise NotFound(f"no customer with external id {external_id!r}")
    return found.id


@router.post("/{survey_id}/asks", summary="Ask a customer in the shop", dependencies=WRITE)
def ask_in_shop(survey_id: int, body: AskBody, request: Request, session: Session = SESSION):
    """Whether to show the survey now (recontact limit across surveys) and a token to answer."""
    survey = service.get_survey(session=session, survey_id=survey_id)
    customer_id = _customer_id(session, body.customer)
    if survey.state != "active":
        return {"ask": False, "reason": f"survey is {survey.state}"}
    days = settings.number(settings.RECONTACT_DAYS)
    if not service.claim_contact(session=session, customer_id=customer_id, now=utcnow(), days=days):
        return {"ask": False, "reason": f"asked a survey within {days} days"}
    _secret, public = context.link_settings()
    token = links.token(
        request.app.state.settings.secret_key,
        survey_id=survey.id,
        customer_id=customer_id,
        request_id=None,
        now=utcnow(),
    )
    return {
        "ask": True,
        "token": token,
        "url": links.page_url(public, token),
        "questions": survey.questions,
    }


@router.post("/{survey_id}/responses", summary="Answer (the shop's own form)", dependencies=WRITE)
def answer(survey_id: int, body: AnswerBody, request: Request, session: Session = SESSION):
    """Records or updates the answers of the token's slot."""
    try:
        slot = links.read(
            request.app.state.settings.secret_key,
            body.token,
            now=utcnow(),
            max_age_days=settings.number(settings.LINK_DAYS),
        )
    except links.BadLink as exc:
        raise InvalidInput(f"token: {exc}")
    if slot.survey_id != survey_id:
        raise InvalidInput("token: it is for another survey")
    row = service.answer(
        session=session, slot=slot, answers=body.answers, channel="api", now=utcnow()
    )
    return {
        "response_id": row.id,
        "score": row.score,
        "nps_category": row.nps_category,
        "answers": row.answers,
        "revisions": row.revisions,
    }
