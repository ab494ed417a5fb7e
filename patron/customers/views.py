"""Dashboard pages of customers: the searchable list and one customer's detail."""

from __future__ import annotations

import importlib
import importlib.util

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.customers import queries, service
from patron.dashboard.web import current_user, render
from patron.deps import READ_SESSION
from patron.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/customers")
def customer_list(
    request: Request,
    q: str = "",
    before: int | None = None,
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """List customers newest first, with a search box and a next-page link."""
    page = queries.search_customers(session=session, text=q[:200], before=before)
    return render(request, "customers/list.html", {"page": page, "q": q, "before": before})


def _insights(session: Session, customer_id: int) -> dict | None:
    """Scores from the analytics capability, when it offers `customer_insights`."""
    if importlib.util.find_spec("patron.analytics.service") is None:
        return None
    provider = getattr(
        importlib.import_module("patron.analytics.service"), "customer_insights", None
    )
    return provider(session=session, customer_id=customer_id) if provider else None


@router.get("/customers/{customer_id}")
def customer_detail(
    request: Request, customer_id: int, _user=Depends(current_user), session: Session = READ_SESSION
):
    """Show a customer's profile, consent, aggregates, orders and recent events."""
    try:
        customer = service.get_customer(session=session, customer_id=customer_id)
    except NotFound as exc:
        return render(
            request,
            "dashboard/not_found.html",
            {"message": exc.message, "back_href": "/customers", "back_label": "Customers"},
            status_code=404,
        )
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "name": queries.display_name(customer),
            "consents": {c: service.consent_status(customer, c) for c in ("email", "sms", "push")},
            "stats": queries.customer_stats(session=session, customer_id=customer_id),
            "orders": queries.customer_orders(session=session, customer_id=customer_id),
            "events": queries.customer_events(session=session, customer_id=customer_id),
            "anonymous_ids": queries.anonymous_ids(session=session, customer_id=customer_id),
            "insights": _insights(session, customer_id),
        },
    )
