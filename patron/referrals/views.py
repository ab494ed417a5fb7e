"""Dashboard page of referrals: the leaderboard, rejected referrals, velocity alerts, settings."""

from __future__ import annotations

from dataclasses import fields

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import PatronError
from patron.referrals import board, rules, service
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
NUMBERS = tuple(f.name for f in fields(rules.Programme) if f.name != "reward")


@router.get("/referrals")
def referrals_page(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """The leaderboard, latest rejections and alerts, and the programme's settings."""
    return render(
        request,
        "referrals/page.html",
        {
            "leaders": board.leaderboard(session=session),
            "rejected": board.latest(session=session, state="rejected"),
            "alerts": board.alerts(session=session),
            "programme": vars(service.programme(session)),
            "numbers": NUMBERS,
        },
    )


@router.post("/referrals/programme")
async def programme_save(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Save the programme's settings from the form."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    values: dict = {"reward": str(form.get("reward") or "points")}
    try:
        for name in NUMBERS:
            raw = str(form.get(name) or "").strip()
            values[name] = int(raw) if raw else None
        values = {k: v for k, v in values.items() if v is not None}
        with session.begin_nested():
            service.save_programme(session=session, values=values, now=utcnow())
    except ValueError:
        flash(request, "every setting is a whole number", "error")
    except PatronError as exc:
        flash(request, exc.message, "error")
    else:
        flash(request, "Programme saved.", "success")
    return RedirectResponse("/referrals", status_code=303)
