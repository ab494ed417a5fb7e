"""Domain events surveys publish."""

from __future__ import annotations

from dataclasses import dataclass

from patron.events.types import DomainEvent

ANSWERED = "survey.answered"
EVENT_TYPES = (ANSWERED,)
# The tracked event an answer also records, for segments' and journeys' event conditions.
TRACKED_NAME = "survey_answered"


@dataclass(frozen=True)
class SurveyAnswered(DomainEvent):
    """A customer's first answer to a survey request (a later change updates the response)."""

    type = ANSWERED
    survey_id: int = 0
    response_id: int = 0
    question_type: str = ""
    score: int | None = None
    nps_category: str | None = None
