"""Customer-page panel of feedback: the customer's survey answers and product reviews."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.reviews import service as reviews
from patron.surveys.tables import Survey, SurveyResponse

SHOWN = 10


def feedback_panel(*, session: Session, customer_id: int) -> dict | None:
    """The newest answers and reviews of a customer, or None when there are none."""
    answers = session.execute(
        select(SurveyResponse, Survey.name)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.customer_id == customer_id)
        .order_by(SurveyResponse.updated_at.desc())
        .limit(SHOWN)
    ).all()
    written = reviews.of_customer(session=session, customer_id=customer_id, limit=SHOWN)
    if not answers and not written:
        return None
    return {"feedback_answers": answers, "feedback_reviews": written}
