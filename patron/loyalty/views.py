"""Dashboard pages of loyalty: programme and tiers, earn rules (with simulation), rewards,
liability and tier distribution; the member statement panel on the customer page."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import InvalidInput, PatronError
from patron.loyalty import forms, redemption, reports, service
from patron.loyalty.rules import TRIGGERS
from patron.segments import service as segments
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)


def _page(request: Request, session: Session, *, simulation=None, forms=None, status_code=200):
    """The loyalty page with its forms (re-filled after an error)."""
    now = utcnow()
    programme = service.get_programme(session=session)
    typed = forms or {}
    return render(
        request,
        "loyalty/index.html",
        {
            "programme": programme,
            "typed": typed,
            "segments": segments.list_segments(session=session),
            "triggers": TRIGGERS,
            "rules": service.list_rules(session=session),
            "rewards": redemption.list_rewards(session=session),
            "liability": reports.liability(session=session, now=now),
            "tiers": reports.tier_distribution(session=session),
            "simulation": simulation,
            "error": typed.get("error"),
        },
        status_code=status_code,
    )


def _json(text: str) -> dict:
    """A JSON object from a form's textarea, or InvalidInput."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(value, dict):
        raise InvalidInput("a JSON object is required")
    return value


@router.get("/loyalty")
def loyalty_page(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Programme, rules, rewards and reports."""
    return _page(request, session)


def _posted(request: Request, session: Session, form, name: str, action, done: str):
    """Run a form's action; on error show the page again with the form as typed (4xx)."""
    check_csrf(request, form.get("csrf_token", ""))
    typed = {key: form.getlist(key) for key in form}
    try:
        with session.begin_nested():
            result = action()
    except ValueError as exc:
        message = str(exc).splitlines()[0]
        return _page(request, session, forms={name: typed, "error": message}, status_code=422)
    except PatronError as exc:
        return _page(
            request, session, forms={name: typed, "error": exc.message}, status_code=exc.status
        )
    if result is not None and name == "rule" and form.get("action") == "simulate":
        return _page(request, session, simulation=result, forms={"rule": typed})
    flash(request, done, "success")
    return RedirectResponse("/loyalty", status_code=303)


@router.post("/loyalty/programme")
async def programme_save(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Save the programme's settings and tiers (the form, or the advanced JSON)."""
    form = await request.form()

    def save():
        if form.get("config", "").strip():
            config = _json(form["config"])
        else:
            current = service.get_programme(session=session).model_dump(mode="json")
            config = forms.programme_config(form, current)
        service.save_programme(session=session, config=config, now=utcnow())

    return _posted(request, session, form, "programme", save, "Programme saved.")


@router.post("/loyalty/rules")
async def rule_create(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Simulate a rule on the last 30 days, or add it (inactive)."""
    form = await request.form()

    def run():
        text = form.get("config", "").strip()
        config = _json(text) if text else forms.rule_config(form)
        if form.get("action") == "simulate":
            return reports.simulate(session=session, config=config, days=30, now=utcnow())
        service.save_rule(session=session, config=config, now=utcnow())
        return None

    return _posted(request, session, form, "rule", run, "Rule added (inactive): turn it on below.")


@router.post("/loyalty/rules/{rule_id}/toggle")
def rule_toggle(
    request: Request,
    rule_id: int = Path(ge=1, le=2**31 - 1),
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Turn a rule on or off."""
    check_csrf(request, csrf_token)
    row = service.get_rule(session=session, rule_id=rule_id)
    row.active = not row.active
    flash(request, f"Rule {'on' if row.active else 'off'}.", "success")
    return RedirectResponse("/loyalty", status_code=303)


@router.post("/loyalty/rewards")
def reward_create(
    request: Request,
    name: str = Form(""),
    kind: str = Form("custom"),
    cost_points: int = Form(0),
    stock: str = Form(""),
    limit: str = Form(""),
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Add a reward to the catalogue."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            redemption.create_reward(
                session=session,
                name=name,
                kind=kind,
                cost_points=cost_points,
                now=utcnow(),
                stock=int(stock) if stock.strip() else None,
                per_customer_limit=int(limit) if limit.strip() else None,
            )
    except (PatronError, ValueError) as exc:
        message = getattr(exc, "message", "stock and limit must be whole numbers")
        return _page(request, session, forms={"error": message}, status_code=422)
    flash(request, "Reward added.", "success")
    return RedirectResponse("/loyalty", status_code=303)


def panel_context(*, session: Session, customer_id: int) -> dict | None:
    """The member statement on the customer page (hidden for non-members)."""
    account = service.account(session=session, customer_id=customer_id)
    if account is None:
        return None
    return {
        "loyalty": reports.summary(session=session, customer_id=customer_id, now=utcnow()),
        "loyalty_entries": reports.statement(session=session, customer_id=customer_id, limit=50),
        "loyalty_tiers": reports.tier_history(session=session, customer_id=customer_id),
    }
