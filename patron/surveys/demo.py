"""Demo data of surveys: an NPS survey with about sixty answers over the last four months.

Deterministic and small: the n-th answering customer (recent repeat buyers first) gets a score
from a fixed pattern (about half promoters, a third passives, the rest detractors), and every third
one left a follow-up text, so the NPS KPI, the chart and the comments all show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import CustomerStats
from patron.surveys import service
from patron.surveys.links import Slot

NAME = "Demo: how likely are you to recommend us?"
ANSWERS = 60
DAYS = 120
SCORES = (10, 9, 8, 10, 7, 9, 3, 10, 8, 6, 9, 10, 5, 8, 9)
COMMENTS = {
    "promoter": (
        "Fast delivery and the quality is great.",
        "Lovely packaging, I order gifts here.",
        "Customer service sorted my return in a day.",
    ),
    "passive": ("Good products, a bit pricey.", "Fine, but shipping took a week."),
    "detractor": ("My order arrived damaged.", "Hard to find sizes that fit."),
}
QUESTIONS = [
    {"id": "nps", "type": "nps"},
    {"id": "why", "type": "text", "prompt": "What is the main reason for your score?"},
]


def _category(score: int) -> str:
    """The NPS category of a score."""
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def _respondents(session: Session) -> list[int]:
    """Customers who answer: repeat buyers first, the latest to order first."""
    query = (
        select(CustomerStats.customer_id)
        .order_by(
            (CustomerStats.order_count >= 2).desc(),
            CustomerStats.last_order_at.desc().nulls_last(),
            CustomerStats.customer_id,
        )
        .limit(ANSWERS)
    )
    return list(session.scalars(query))


def seed_demo(*, session: Session, now: datetime) -> bool:
    """Seed the NPS survey and its answers; False if seeded already."""
    if any(s.name == NAME for s in service.list_surveys(session=session)):
        return False
    created = now - timedelta(days=DAYS + 5)
    survey = service.create_survey(session=session, name=NAME, questions=QUESTIONS, now=created)
    for n, customer_id in enumerate(_respondents(session)):
        score = 10 if n < 4 else SCORES[n % len(SCORES)]
        at = now - timedelta(days=(n * 37) % DAYS, hours=n % 9)
        answers: dict = {"nps": score}
        if n % 3 == 0:
            texts = COMMENTS[_category(score)]
            answers["why"] = texts[n % len(texts)]
        slot = Slot(survey.id, customer_id, None, int(at.timestamp()))
        service.answer(session=session, slot=slot, answers=answers, channel="link", now=at)
    session.flush()
    return True
