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
from patron.loyalty import redemption, reports, service
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
RULE_EXAMPLE = {
    "name": "Double points this weekend for at-risk members",
    "trigger": "multiplier",
    "multiplier": 2,
    "segment_id": None,
    "starts_at": "2026-12-05T00:00:00Z",
    "ends_at": "2026-12-07T00:00:00Z",
    "limit_count": 3,
    "limit_period_days": 30,
    "budget_points": 100000,
}


def _page(request: Request, session: Session, *, simulation=None, forms=None, status_code=200):
    """The loyalty page with its forms (re-filled after an error)."""
    now = utcnow()
    programme = service.get_programme(session=session)
    forms = forms or {}
    return render(
        request,
        "loyalty/index.html",
        {
            "programme": programme,
            "programme_json": forms.get(
                "programme", json.dumps(programme.model_dump(mode="json"), indent=2)
            ),
            "rule_json": forms.get("rule", json.dumps(RULE_EXAMPLE, indent=2)),
            "rules": service.list_rules(session=session),
            "rewards": redemption.list_rewards(session=session),
            "liability": reports.liability(session=session, now=now),
            "tiers": reports.tier_distribution(session=session),
            "simulation": simulation,
            "error": forms.get("error"),
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


def _submit(request, session, csrf_token, name: str, text: str, action, done: str):
    """Run a form's action; on error show the page again with the form as typed."""
    check_csrf(request, csrf_token)
    try:
        with session.begin_nested():
            result = action(text)
    except PatronError as exc:
        return _page(
            request, session, forms={name: text, "error": exc.message}, status_code=exc.status
        )
    if name == "simulate":
        return _page(request, session, simulation=result, forms={"rule": text})
    flash(request, done, "success")
    return RedirectResponse("/loyalty", status_code=303)


@router.post("/loyalty/programme")
def programme_save(
    request: Request,
    config: str = Form(""),
    csrf_token: str = Form(""),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Save the programme's settings and tiers."""
    return _submit(
        request,
        session,
        csrf_token,
        "programme",
        config,
        lambda t: service.save_programme(session=session, config=_json(t), now=utcnow()),
        "Programme saved.",
    )


@router.post("/loyalty/rules")
def rule_create(
    request: Request,
    config: str = Form(""),
    csrf_token: str = Form(""),
    action: str = Form("save"),
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """Simulate a rule on the last 30 days, or add it (inactive)."""
    if action == "simulate":

        def simulate(text):
            try:
                return reports.simulate(session=session, config=_json(text), days=30, now=utcnow())
            except ValueError as exc:
                raise InvalidInput(str(exc).splitlines()[0]) from None

        return _submit(request, session, csrf_token, "simulate", config, simulate, "")
    return _submit(
        request,
        session,
        csrf_token,
        "rule",
        config,
        lambda t: service.save_rule(session=session, config=_json(t), now=utcnow()),
        "Rule added (inactive): turn it on below.",
    )


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
