"""Dashboard pages of customers: the searchable list and one customer's detail."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.customers import facets, queries, service
from patron.deps import READ_SESSION
from patron.errors import NotFound
from patron.manifest import contributions
from patron.web import pagination
from patron.web.render import panels, render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)


def _facet_filters(request: Request, all_facets: list) -> tuple[dict[str, str], list]:
    """The facet values chosen in the query string and their SQL filters (422 if unknown)."""
    chosen = {f.name: request.query_params.get(f.name, "")[:200] for f in all_facets}
    filters = [f.where(chosen[f.name]) for f in all_facets if chosen[f.name]]
    return chosen, filters


@router.get("/customers")
def customer_list(
    request: Request,
    q: str = "",
    cursor: str | None = None,
    sort: str = "created",
    _user=Depends(current_user),
    session: Session = READ_SESSION,
):
    """List customers with a total, sorting, facet filters (stage, segment, consent) and pages."""
    all_facets = facets.facets(contributions(facets.POINT))
    chosen, filters = _facet_filters(request, all_facets)
    after = pagination.decode(cursor)
    text = q[:200]
    rows = queries.list_customers(
        session=session,
        text=text,
        filters=filters,
        sort=sort,
        after=after,
        limit=queries.PAGE_SIZE + 1,
    )
    page = pagination.page(rows, queries.PAGE_SIZE, key=lambda row: (row.sort_key, row.id))
    ids = [row.id for row in page["items"]]
    context = {
        "page": page,
        "q": q,
        "sort": sort,
        "sorts": {name: spec[0] for name, spec in queries.SORTS.items()},
        "paged": bool(after),
        "total": queries.count_customers(session=session, text=text, filters=filters),
        "filtered": bool(text.strip() or filters),
        "facets": [(f, f.options(session=session)) for f in all_facets],
        "chosen": chosen,
        "columns": [
            (f, f.values(session=session, customer_ids=ids)) for f in all_facets if f.values
        ],
        "base_query": urlencode({"q": q, "sort": sort, **{k: v for k, v in chosen.items() if v}}),
    }
    return render(request, "customers/list.html", context)


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
