"""Settings of surveys, read from the environment when used."""

from __future__ import annotations

import os

from patron.config import Setting
from patron.errors import InvalidInput

RECONTACT_DAYS = "PATRON_SURVEYS_RECONTACT_DAYS"
LINK_DAYS = "PATRON_SURVEYS_LINK_DAYS"
ALERT_EMAIL = "PATRON_SURVEYS_ALERT_EMAIL"
REFERRAL_URL = "PATRON_SURVEYS_REFERRAL_URL"

SETTINGS = (
    Setting(
        RECONTACT_DAYS,
        "90",
        "A customer is asked at most one survey (any survey) in this many days; 0 disables.",
    ),
    Setting(LINK_DAYS, "30", "Days a survey link in an email answers; older links answer 400."),
    Setting(
        ALERT_EMAIL,
        "",
        "Address alerted (transactional lane) when a customer answers an NPS survey as a "
        "detractor; empty: detractors are only listed on the survey's results page.",
    ),
    Setting(
        REFERRAL_URL,
        "",
        "Referral page shown to promoters after they answer (with a review request); empty: none.",
    ),
)
_DEFAULTS = {s.name: s.default for s in SETTINGS}


def text(name: str) -> str:
    """A setting's text value."""
    return os.environ.get(name, _DEFAULTS[name]).strip()


def number(name: str) -> int:
    """A whole-number setting, naming it when it is not one."""
    value = text(name)
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, got {value!r}")
