"""Public survey pages (no login): the one-click score link and the phone-friendly hosted page.

`GET /s/{token}/{score}` records the score of the link's slot and sends the browser to the
hosted page, which asks the follow-up questions (`POST /s/{token}` saves them). A second answer
from the same link updates the response. A tampered, expired or out-of-scale link answers 400
and records nothing. The signed token is the only credential: no cookie, no CSRF token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import InvalidInput, NotFound
from patron.reviews import service as reviews
from patron.surveys import links, rules, service, settings
from patron.web.render import templates

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


def _page(context: dict, status_code: int = 200) -> HTMLResponse:
    """A public page outside the dashboard layout."""
    html = templates().get_template("surveys/public.html").render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_NO_STORE)


def _bad(message: str) -> HTMLResponse:
    return _page({"state": "invalid", "message": message, "title": "This link is not valid"}, 400)


def _slot(request: Request, token: str) -> links.Slot:
    """The link's slot; links.BadLink when it is not valid."""
    return links.read(
        request.app.state.settings.secret_key,
        token,
        now=utcnow(),
        max_age_days=settings.number(settings.LINK_DAYS),
    )


def _show(
    session: Session,
    slot: links.Slot,
    token: str,
    state: str,
    secret: str,
    error: str | None = None,
):
    """The hosted page of a slot: its questions with the answers given so far."""
    survey = service.check_slot(session=session, slot=slot)
    questions = service.questions_of(survey)
    response = service.response_of(session=session, slot=slot)
    answers = dict(response.answers) if response else {}
    referral = settings.text(settings.REFERRAL_URL)
    category = response.nps_category if response else None
    review_links = []
    if category == "promoter" and state == "done":  # promoters are asked for a review
        review_links = reviews.review_links(
            session=session,
            customer_id=slot.customer_id,
            secret=secret,
            public_url="",
            now=utcnow(),
        )
    return _page(
        {
            "state": state,
            "title": survey.name,
            "token": token,
            "main": questions[0],
            "rest": questions[1:],
            "answers": answers,
            "category": category,
            "review_links": review_links,
            "referral_url": referral if referral.startswith(("https://", "http://")) else "",
            "error": error,
        },
        status_code=422 if error else 200,
    )


@router.get("/s/{token}/{score}")
def one_click(request: Request, token: str, score: str, session: Session = SESSION):
    """Record the score of an email's button, then show the follow-up questions."""
    try:
        slot = _slot(request, token)
        survey = service.check_slot(session=session, slot=slot)
        main = service.questions_of(survey)[0]
        value = rules.check_score(main, score)
        with session.begin_nested():
            service.answer(
                session=session, slot=slot, answers={main.id: value}, channel="email", now=utcnow()
            )
    except (links.BadLink, rules.SurveyError, InvalidInput, NotFound) as exc:
        return _bad(str(exc))
    return RedirectResponse(f"/s/{token}?saved=1", status_code=303, headers=_NO_STORE)


@router.get("/s/{token}")
def hosted(request: Request, token: str, saved: int = 0, session: Session = SESSION):
    """The hosted survey page (also the landing page after a one-click answer)."""
    try:
        slot = _slot(request, token)
        secret = request.app.state.settings.secret_key
        return _show(session, slot, token, "saved" if saved else "ask", secret)
    except (links.BadLink, InvalidInput, NotFound) as exc:
        return _bad(str(exc))


@router.post("/s/{token}")
async def submit(request: Request, token: str, session: Session = SESSION):
    """Save the page's answers (merged into the response of the link)."""
    secret = request.app.state.settings.secret_key
    try:
        slot = _slot(request, token)
        survey = service.check_slot(session=session, slot=slot)
    except (links.BadLink, InvalidInput, NotFound) as exc:
        return _bad(str(exc))
    form = await request.form()
    answers = {}
    for q in service.questions_of(survey):
        values = [v for v in form.getlist(q.id) if isinstance(v, str)]
        if q.type == "multiple":
            answers[q.id] = values
        elif values:
            answers[q.id] = values[0]
    try:
        with session.begin_nested():
            service.answer(
                session=session, slot=slot, answers=answers, channel="link", now=utcnow()
            )
    except InvalidInput as exc:
        return _show(session, slot, token, "ask", secret, error=exc.message)
    return _show(session, slot, token, "done", secret)
