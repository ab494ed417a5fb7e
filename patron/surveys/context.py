"""Message template context of surveys: `survey_buttons(survey_id)` renders one-click score links.

Contributed to `messages.context`. Each link is signed for the customer's newest request of
that survey (a link made without a request answers a slot of its own), so the score is
recorded by opening it, without a login. `survey_url(survey_id)` is the hosted page's link.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import UTC, datetime

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from patron.config import load_settings
from patron.messages.config import from_env
from patron.surveys import links, service

CELL = (
    '<a href="{url}" style="display:inline-block;min-width:28px;padding:8px 4px;margin:2px;'
    "border:1px solid #888;border-radius:4px;text-align:center;text-decoration:none;"
    'color:#222;font:600 15px sans-serif">{label}</a>'
)
LEGEND = {
    "nps": ("Not at all likely", "Extremely likely"),
    "csat": ("Very unsatisfied", "Very satisfied"),
    "ces": ("Very difficult", "Very easy"),
}


def link_settings() -> tuple[str, str]:
    """(secret key, public URL) the links are signed with and point to."""
    secret = load_settings().secret_key
    return secret, from_env(secret).public_url


def buttons_html(public_url: str, token: str, kind: str, scale: tuple[int, int]) -> Markup:
    """The score buttons of a scored question, as email-safe HTML."""
    low, high = scale
    cells = "".join(
        CELL.format(url=escape(links.score_url(public_url, token, n)), label=n)
        for n in range(low, high + 1)
    )
    left, right = LEGEND.get(kind, ("", ""))
    return Markup(
        f'<div data-survey-buttons="{escape(kind)}" style="margin:12px 0">{cells}'
        f'<div style="font:12px sans-serif;color:#666">{escape(left)} … {escape(right)}</div></div>'
    )


def _helpers(customer_id: int, requests: dict, scales: dict, keys):
    """The two functions one customer's templates call (no database access at render time).

    `keys()` gives (secret, public URL), read only when a template calls a helper.
    """
    now = datetime.now(UTC)

    def token_for(survey_id: int) -> str:
        request_id = requests.get((customer_id, int(survey_id)))
        return links.token(
            keys()[0],
            survey_id=int(survey_id),
            customer_id=customer_id,
            request_id=request_id,
            now=now,
        )

    def survey_buttons(survey_id: int) -> Markup:
        if int(survey_id) not in scales:
            raise ValueError(f"survey_buttons: there is no survey {survey_id}")
        kind, scale = scales[int(survey_id)]
        return buttons_html(keys()[1], token_for(survey_id), kind, scale)

    def survey_url(survey_id: int) -> str:
        return links.page_url(keys()[1], token_for(survey_id))

    return survey_buttons, survey_url


def message_context(*, session: Session, customer_ids: Collection[int]) -> dict[int, dict]:
    """`survey_buttons` and `survey_url` for each customer (one query for their requests)."""
    ids = list(customer_ids)
    if not ids:
        return {}
    keys = functools.cache(link_settings)
    scales = service.main_scales(session=session)
    requests = service.latest_requests(session=session, customer_ids=ids) if scales else {}
    out = {}
    for customer_id in ids:
        buttons, url = _helpers(customer_id, requests, scales, keys)
        out[customer_id] = {"survey_buttons": buttons, "survey_url": url}
    return out


def sample_context() -> dict:
    """The same names for a made-up customer (template validation)."""
    fake = "https://example.invalid/s/sample"
    return {
        "survey_buttons": lambda survey_id: buttons_html(
            "https://example.invalid", "sample", "nps", (0, 10)
        ),
        "survey_url": lambda survey_id: fake,
    }


message_context.sample = sample_context
