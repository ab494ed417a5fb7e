"""Dashboard pages of recommendations: overview with the evaluation, a product's related
products, and the panel on the customer page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from patron.deps import SESSION
from patron.errors import NotFound
from patron.recommendations import rules, service
from patron.web.render import render
from patron.web.session import current_user

router = APIRouter(include_in_schema=False)


@router.get("/recommendations")
def overview(request: Request, _user=Depends(current_user), session: Session = SESSION):
    """Training runs, the latest evaluation table and the click report."""
    return render(
        request,
        "recommendations/overview.html",
        {
            "versions": service.versions(session=session),
            "evaluation": service.latest_evaluation(session=session),
            "report": service.report(session=session),
            "popular": service.for_customer_popular(session=session),
        },
    )


@router.get("/recommendations/products/{sku}")
def product_page(
    sku: str, request: Request, _user=Depends(current_user), session: Session = SESSION
):
    """A product with its cross-sell, up-sell and down-sell lists."""
    try:
        lists = {
            k: service.related(session=session, sku=sku, kind=k, n=8) for k in rules.PRODUCT_KINDS
        }
    except NotFound as exc:
        return render(
            request,
            "web/not_found.html",
            {
                "message": exc.message,
                "back_href": "/recommendations",
                "back_label": "Recommendations",
            },
            status_code=404,
        )
    product = service.product(session=session, sku=sku)
    return render(request, "recommendations/product.html", {"product": product, "lists": lists})


def customer_panel(*, session: Session, customer_id: int) -> dict | None:
    """Context of the recommendations panel on a customer's page."""
    try:
        personal = service.for_customer(session=session, customer_id=customer_id, n=6)
        cross = service.for_customer(
            session=session, customer_id=customer_id, kind="cross_sell", n=6
        )
    except NotFound:
        return None
    return {"recs_personal": personal, "recs_cross": cross}
