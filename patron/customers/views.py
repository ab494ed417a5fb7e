"""Dashboard pages of customers: the searchable list and one customer's detail."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.customers import queries, service
from patron.deps import READ_SESSION
from patron.errors import NotFound
from patron.web import pagination
from patron.web.render import panels, render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)


@router.get("/customers")
def customer_list(
    request: Request,
    q: str = "",
    cursor: str | None = None,
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """List customers newest first, with a search box and a next-page link."""
    after = pagination.decode(cursor)
    rows = queries.search_customers(
        session=session,
        text=q[:200],
        before=after.id if after else None,
        limit=queries.PAGE_SIZE + 1,
    )
    page = pagination.page(rows, queries.PAGE_SIZE, key=lambda row: (row.id, row.id))
    return render(request, "customers/list.html", {"page": page, "q": q, "paged": bool(after)})


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
            "web/not_found.html",
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
            "panels": panels(
                session=session, customer_id=customer_id, settings=request.app.state.settings
            ),
        },
    )
