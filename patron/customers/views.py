"""Dashboard pages of customers: the searchable list and one customer's detail."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from markupsafe import Markup
from sqlalchemy.orm import Session

from patron.customers import queries, service
from patron.dashboard.web import current_user, render, templates
from patron.deps import SESSION
from patron.errors import NotFound
from patron.manifest import installed

router = APIRouter(include_in_schema=False)


@router.get("/customers")
def customer_list(
    request: Request,
    q: str = "",
    before: int | None = None,
    _user=Depends(current_user),
    session: Session = SESSION,
):
    """List customers newest first, with a search box and a next-page link."""
    page = queries.search_customers(session=session, text=q[:200], before=before)
    return render(request, "customers/list.html", {"page": page, "q": q, "before": before})


def _panels(session: Session, customer_id: int) -> list[Markup]:
    """The customer-page panels other capabilities contribute, rendered in order."""
    rendered = []
    for panel in installed().panels():
        context = panel.context(session=session, customer_id=customer_id)
        if context is not None:
            rendered.append(Markup(templates.get_template(panel.template).render(**context)))
    return rendered


@router.get("/customers/{customer_id}")
def customer_detail(
    request: Request, customer_id: int, _user=Depends(current_user), session: Session = SESSION
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
            "panels": _panels(session, customer_id),
        },
    )
