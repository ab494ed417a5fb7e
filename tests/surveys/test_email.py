"""One click from a real email (aiosmtpd): the score is recorded without a login, then updated."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from patron.db import transaction
from patron.events.tables import LoggedEvent
from patron.messages.tables import OutboxMessage
from patron.surveys import service
from patron.surveys.tables import SurveyResponse
from tests.messages.conftest import run_lane, sink, smtp_config  # noqa: F401 (fixture)
from tests.surveys.conftest import NOW, client, person, survey

_DIV = re.compile(r'<div data-survey-buttons="nps"[^>]*>(.*?)</div>', re.S)


def _buttons(html: str) -> list[str]:
    """The eleven score links of the email, in order 0..10."""
    block = _DIV.search(html).group(1)
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', block)]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _click(http, url: str):
    """Follow the email's link as a mail client would: the click redirect, then the answer."""
    first = http.get(_path(url), follow_redirects=False)
    assert first.status_code == 302, first.text  # messages' click tracking
    answer = http.get(_path(first.headers["location"]), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return http.get(answer.headers["location"])


def test_a_score_button_in_a_real_email_answers_without_login_and_a_second_click_updates(
    sqlite_db,
    sink,  # noqa: F811
    monkeypatch,
):
    db = sqlite_db
    monkeypatch.setenv("PATRON_SURVEYS_ALERT_EMAIL", "team@shop.example")
    survey_id = survey(db)
    with transaction(db.sessions) as s:
        customer_id = person(s, 1).id
        asked = service.ask(
            session=s, survey_id=survey_id, customer_id=customer_id, key="t1", now=NOW
        )
    assert "request_id" in asked
    assert run_lane(db, smtp_config(sink), "bulk", now=NOW) == 1
    [received] = sink.to("c1@example.com")
    html = received.message.get_body(("html",)).get_content()
    buttons = _buttons(html)
    assert len(buttons) == 11

    http = client(db)  # no login, no cookie
    page = _click(http, buttons[9])
    assert page.status_code == 200 and 'data-state="saved"' in page.text
    assert "What is the main reason" in page.text
    # The follow-up from the hosted page, then a change of mind from the same email.
    token = urlsplit(str(page.url)).path.split("/")[2]
    done = http.post(f"/s/{token}", data={"reason": "fast delivery", "liked": ["delivery"]})
    assert done.status_code == 200 and 'data-testid="promoter-ask"' in done.text
    _click(http, buttons[3])
    _click(http, buttons[2])  # still a detractor: the team is alerted once

    with transaction(db.sessions) as s:
        [row] = s.scalars(select(SurveyResponse)).all()
        answered = s.scalar(select(func.count()).where(LoggedEvent.type == "survey.answered"))
        alerts = s.scalars(
            select(OutboxMessage.address).where(OutboxMessage.source == "survey-alert")
        ).all()
    assert alerts == ["team@shop.example"]
    assert (row.score, row.nps_category, row.revisions) == (2, "detractor", 4)
    assert row.answers["reason"] == "fast delivery" and row.answers["liked"] == ["delivery"]
    assert row.customer_id == customer_id and row.request_id == asked["request_id"]
    assert answered == 1  # the second click updated the answer: nothing counted twice
