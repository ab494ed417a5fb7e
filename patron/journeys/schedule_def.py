"""Definition parts of scheduled triggers (date, inactivity, recurring) and effect steps (pure)."""

from __future__ import annotations

from patron.errors import InvalidInput
from patron.journeys.checks import DefinitionError, clock, integer, need, weekdays
from patron.webhooks.rules import validate_url

MAX_ID = 2**63 - 1
MAX_DAYS = 3650
SCHEDULED = ("date", "inactivity", "recurring")
DATE_FIELDS = ("birthday", "first_order", "attribute")
INACTIVE_OF = ("order", "event")
MAX_LINE = 500


def scheduled(raw: dict, kind: str, make) -> object:
    """A date, inactivity or recurring-audience trigger (`make` builds the Trigger)."""
    w = "$trigger"
    if kind == "inactivity":
        of = raw.get("of", "order")
        if of not in INACTIVE_OF:
            raise DefinitionError(w, f"of must be one of {', '.join(INACTIVE_OF)}")
        return make(kind, of=of, days=integer(raw, "days", w, 1, MAX_DAYS))
    if kind == "recurring":
        days = weekdays(raw, w)
        return make(
            kind,
            segment_id=integer(raw, "segment_id", w, 1, MAX_ID),
            at=clock(raw, w),
            weekdays=tuple(days) if days else None,
        )
    date_field = need(raw, "field", str, w)
    if date_field not in DATE_FIELDS:
        raise DefinitionError(w, f"field must be one of {', '.join(DATE_FIELDS)}")
    attribute = need(raw, "attribute", str, w) if date_field == "attribute" else None
    yearly = raw.get("yearly", date_field != "attribute")
    if not isinstance(yearly, bool):
        raise DefinitionError(w, "yearly: true or false")
    offset = integer(raw, "offset_days", w, -365, 365, optional=True) or 0
    return make(
        kind,
        date_field=date_field,
        attribute=attribute,
        yearly=yearly,
        offset_days=offset,
        at=clock(raw, w),
    )


def effect_fields(raw: dict, kind: str, sid: str) -> dict:
    """Check and pick the fields of a webhook or notify step."""
    if kind == "webhook":
        try:
            url = validate_url(need(raw, "url", str, sid))
        except InvalidInput as exc:
            raise DefinitionError(sid, exc.message)
        return {"url": url, "data": need(raw, "data", dict, sid, optional=True) or {}}
    line = need(raw, "line", str, sid).strip()
    if not 0 < len(line) <= MAX_LINE:
        raise DefinitionError(sid, f"line: 1 to {MAX_LINE} characters")
    email = raw.get("email", False)
    if not isinstance(email, bool):
        raise DefinitionError(sid, "email: true or false")
    return {"line": line, "email": email}
