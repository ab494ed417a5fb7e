"""Pure rules of surveys: question types, answer checks, NPS categories and scores, recontact.

NPS (Reichheld 2003): 0-10, promoters 9-10, passives 7-8, detractors 0-6, score = % promoters
- % detractors. CSAT: 1-5, satisfied = 4 or 5. CES (Dixon, Freeman & Toman 2010, CES 2.0):
1-7 agreement that the company made it easy, low effort = 5 to 7. No I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SCORED = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
CHOICE = ("single", "multiple")
TYPES = (*SCORED, *CHOICE, "text")
MAX_QUESTIONS = 20
MAX_CHOICES = 20
MAX_TEXT = 2000
MAX_PROMPT = 500
CATEGORIES = ("promoter", "passive", "detractor")
DEFAULT_PROMPTS = {
    "nps": "How likely are you to recommend us to a friend or colleague?",
    "csat": "How satisfied are you with us?",
    "ces": "How easy was it to get what you needed?",
}


class SurveyError(ValueError):
    """A survey definition or an answer that is not valid; the message says why."""


@dataclass(frozen=True)
class Question:
    """One question: an id unique in its survey, a type, the prompt, choices for choice types."""

    id: str
    type: str
    prompt: str
    choices: tuple[str, ...] = ()
    required: bool = False

    def as_dict(self) -> dict:
        """The question as stored JSON."""
        return {
            "id": self.id,
            "type": self.type,
            "prompt": self.prompt,
            "choices": list(self.choices),
            "required": self.required,
        }

    @property
    def scale(self) -> tuple[int, int] | None:
        """(lowest, highest) of a scored question, None otherwise."""
        return SCORED.get(self.type)


def _question(raw: Any, n: int) -> Question:
    """One question from JSON."""
    if not isinstance(raw, dict):
        raise SurveyError(f"question {n}: an object is required")
    qid = raw.get("id") or f"q{n}"
    kind = raw.get("type")
    if not isinstance(qid, str) or not 0 < len(qid) <= 40 or not qid.replace("_", "").isalnum():
        raise SurveyError(f"question {n}: id must be 1 to 40 letters, digits or _")
    if kind not in TYPES:
        raise SurveyError(f"question {qid}: type must be one of {', '.join(TYPES)}")
    prompt = raw.get("prompt") or DEFAULT_PROMPTS.get(kind, "")
    if not isinstance(prompt, str) or not 0 < len(prompt.strip()) <= MAX_PROMPT:
        raise SurveyError(f"question {qid}: prompt must be 1 to {MAX_PROMPT} characters")
    choices = raw.get("choices") or []
    if kind in CHOICE:
        ok = isinstance(choices, list) and all(isinstance(c, str) and c.strip() for c in choices)
        if not ok or not 2 <= len(choices) <= MAX_CHOICES or len(set(choices)) != len(choices):
            raise SurveyError(f"question {qid}: 2 to {MAX_CHOICES} distinct choices are required")
    elif choices:
        raise SurveyError(f"question {qid}: only single and multiple choice have choices")
    return Question(
        qid,
        kind,
        prompt.strip(),
        tuple(c.strip() for c in choices),
        bool(raw.get("required", False)),
    )


def parse_questions(raw: Any) -> tuple[Question, ...]:
    """The questions of a survey; the first is scored (it is what the email's buttons answer)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        raise SurveyError(f"a survey has 1 to {MAX_QUESTIONS} questions")
    questions = tuple(_question(q, i + 1) for i, q in enumerate(raw))
    if len({q.id for q in questions}) != len(questions):
        raise SurveyError("question ids must be distinct")
    if questions[0].scale is None:
        raise SurveyError("the first question must be scored: nps, csat or ces")
    return questions


def check_score(question: Question, value: Any) -> int:
    """A score within the question's scale, or SurveyError."""
    low, high = question.scale or (0, -1)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SurveyError(f"{question.id}: a whole number from {low} to {high} is required")
    return value


def check_answer(question: Question, value: Any) -> Any:
    """One answer checked against its question (None: not answered)."""
    if value is None or value == "" or value == []:
        if question.required:
            raise SurveyError(f"{question.id}: an answer is required")
        return None
    if question.scale is not None:
        return check_score(question, value)
    if question.type == "single":
        if value not in question.choices:
            raise SurveyError(f"{question.id}: pick one of the choices")
        return value
    if question.type == "multiple":
        picked = [value] if isinstance(value, str) else value
        if not isinstance(picked, list) or not set(picked) <= set(question.choices):
            raise SurveyError(f"{question.id}: pick among the choices")
        return [c for c in question.choices if c in picked]
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise SurveyError(f"{question.id}: text up to {MAX_TEXT} characters")
    return value.strip() or None


def check_answers(questions: tuple[Question, ...], answers: Any, *, partial: bool) -> dict:
    """Answers by question id; unknown ids refused; `partial` skips the required checks."""
    if not isinstance(answers, dict):
        raise SurveyError("answers: an object of question id to answer is required")
    known = {q.id: q for q in questions}
    unknown = set(answers) - set(known)
    if unknown:
        raise SurveyError(f"no question {sorted(unknown)[0]!r} in this survey")
    out = {}
    for q in questions:
        if q.id in answers or not partial:
            value = check_answer(q, answers.get(q.id))
            if value is not None:
                out[q.id] = value
    return out


def nps_category(score: int | None) -> str | None:
    """Promoter (9-10), passive (7-8) or detractor (0-6) of an NPS answer."""
    if score is None:
        return None
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def category_of(question_type: str, score: int | None) -> str | None:
    """The NPS category of a main answer (None for CSAT and CES)."""
    return nps_category(score) if question_type == "nps" else None


def nps(promoters: int, passives: int, detractors: int) -> float | None:
    """Net promoter score, -100..100, of counted answers (None without answers)."""
    total = promoters + passives + detractors
    return None if total == 0 else round(100.0 * (promoters - detractors) / total, 1)


def may_contact(last_asked: datetime | None, now: datetime, days: int) -> bool:
    """Whether a customer last asked at `last_asked` may be asked again now."""
    return last_asked is None or days <= 0 or last_asked <= now - timedelta(days=days)


def recontact_cutoff(now: datetime, days: int) -> datetime:
    """The latest last-asked time that still allows asking now."""
    return now - timedelta(days=max(days, 0))
