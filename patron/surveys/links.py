"""Signed links of surveys (itsdangerous): one token per response slot, the score in the path.

The token carries the survey, the customer, the request (None for a hosted link made without
one) and when it was issued; `read` checks signature and age against `now` (no clock read
here). A link to a score is `/s/{token}/{score}`; the hosted page is `/s/{token}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "patron.surveys.response"


class BadLink(Exception):
    """A survey link that was tampered with, is malformed or has expired."""


@dataclass(frozen=True)
class Slot:
    """What a survey link stands for: one response of a customer to a survey."""

    survey_id: int
    customer_id: int
    request_id: int | None
    issued_at: int

    @property
    def key(self) -> str:
        """The response key: one response per request, or per hosted link's issue time."""
        if self.request_id is not None:
            return f"r{self.request_id}"
        return f"l{self.survey_id}:{self.customer_id}:{self.issued_at}"


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def token(secret: str, *, survey_id: int, customer_id: int, request_id: int | None, now) -> str:
    """The signed token of a response slot."""
    payload = {"s": survey_id, "c": customer_id, "r": request_id, "t": int(now.timestamp())}
    return _serializer(secret).dumps(payload)


def read(secret: str, value: str, *, now: datetime, max_age_days: int) -> Slot:
    """The slot of a valid token; BadLink when tampered with, malformed or too old."""
    try:
        payload = _serializer(secret).loads(value)
    except BadSignature as exc:
        raise BadLink("the link is damaged or incomplete") from exc
    if not isinstance(payload, dict):
        raise BadLink("the link is malformed")
    s, c, r, t = (payload.get(k) for k in ("s", "c", "r", "t"))
    if not all(isinstance(v, int) for v in (s, c, t)) or not (r is None or isinstance(r, int)):
        raise BadLink("the link is malformed")
    issued = datetime.fromtimestamp(t, tz=now.tzinfo)
    if max_age_days > 0 and issued < now - timedelta(days=max_age_days):
        raise BadLink("the link has expired")
    return Slot(s, c, r, t)


def page_url(public_url: str, value: str) -> str:
    """The hosted survey page of a token."""
    return f"{public_url.rstrip('/')}/s/{value}"


def score_url(public_url: str, value: str, score: int) -> str:
    """The one-click link that records a score."""
    return f"{page_url(public_url, value)}/{score}"
