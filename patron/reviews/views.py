"""Dashboard page of reviews: the moderation queue with approve and reject, and requests."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import PatronError
from patron.reviews import service
from patron.web.render import render
from patron.web.session import check_csrf, current_user, flash

router = APIRouter(include_in_schema=False)
STATES = ("pending", "approved", "rejected")


@router.get("/reviews")
def moderation(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Reviews waiting for moderation (or approved, rejected), and recent requests."""
    state = request.query_params.get("state", "pending")
    state = state if state in STATES else "pending"
    return render(
        request,
        "reviews/queue.html",
        {
            "state": state,
            "states": STATES,
            "reviews": service.queue(session=session, state=state, limit=200),
            "requests": service.requests(session=session, limit=50),
        },
    )


@router.post("/reviews/{review_id}")
async def decide(
    request: Request, review_id: int, _user=Depends(current_user), session: Session = SESSION
):
    """Approve or reject one review."""
    form = await request.form()
    check_csrf(request, form.get("csrf_token"))
    try:
        with session.begin_nested():
            review = service.moderate(
                session=session,
                review_id=review_id,
                action=str(form.get("action", "")),
                reason=str(form.get("reason", "")),
                now=utcnow(),
            )
        flash(request, f"Review {review.id} {review.state}.")
    except PatronError as exc:
        flash(request, exc.message, "error")
    return RedirectResponse("/reviews", status_code=303)
