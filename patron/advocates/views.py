"""Dashboard page of advocates: the ambassadors, their score, its parts and their perks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from patron.advocates import rules, service
from patron.deps import READ_SESSION
from patron.web.render import render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)


@router.get("/ambassadors")
def ambassadors_page(
    request: Request,
    everyone: bool = Query(False),
    _user=Depends(current_user),
    session=READ_SESSION,
):
    """Who the ambassadors are, why (the parts of their score), and what they get."""
    weights = service.weights()
    return render(
        request,
        "advocates/ambassadors.html",
        {
            "rows": service.ambassadors(session=session, limit=200, everyone=everyone),
            "parts": rules.PARTS,
            "weights": dict(zip(rules.PARTS, weights.tolist(), strict=True)),
            "threshold": service.threshold(),
            "everyone": everyone,
            "activity": service.recent_activity(session=session, limit=20),
        },
    )


def panel_context(*, session, customer_id: int) -> dict | None:
    """The customer page's Advocacy panel: score and parts; hidden without any credit."""
    score = service.score_of(session=session, customer_id=customer_id)
    if not any(p["count"] for p in score["parts"].values()):
        return None
    return {"advocacy": score}
