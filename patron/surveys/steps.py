"""The journey step `survey_request`: ask a survey by email, within the recontact limit.

`{"id": "ask", "type": "survey_request", "survey_id": 3, "next": ...}`. Performing it sends
through `service.ask` under the step's idempotency key; a customer asked any survey within
PATRON_SURVEYS_RECONTACT_DAYS is skipped (the step's detail says so) and the journey goes on.
"""

from __future__ import annotations

from patron.journeys.checks import DefinitionError
from patron.journeys.steps import StepType
from patron.surveys import service


def fields(raw: dict, step_id: str) -> dict:
    """Check the step's JSON: a positive survey id."""
    survey_id = raw.get("survey_id")
    if isinstance(survey_id, bool) or not isinstance(survey_id, int) or survey_id < 1:
        raise DefinitionError(step_id, "survey_id: a survey id is required")
    return {"survey_id": survey_id}


def perform(*, session, customer_id: int, fields: dict, key: str, now) -> dict:
    """Ask the survey (or record why not)."""
    return service.ask(
        session=session,
        survey_id=fields["survey_id"],
        customer_id=customer_id,
        key=f"journey:{key}",
        now=now,
    )


SURVEY_REQUEST = StepType("survey_request", fields, perform)
