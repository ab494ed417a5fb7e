"""The public review form (no login): `GET /r/{token}` shows it, `POST /r/{token}` saves it.

The signed token names the customer and the product; a tampered or expired one answers 400.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from patron.customers.read import Product
from patron.db import utcnow
from patron.deps import SESSION
from patron.errors import InvalidInput, NotFound
from patron.reviews import links, service
from patron.web.render import templates

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


def _page(context: dict, status_code: int = 200) -> HTMLResponse:
    html = templates().get_template("reviews/public.html").render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_NO_STORE)


def _read(request: Request, token: str):
    return links.read(request.app.state.settings.secret_key, token, now=utcnow())


def _name(session: Session, sku: str) -> str:
    return session.scalar(select(Product.name).where(Product.sku == sku)) or sku


@router.get("/r/{token}")
def form(request: Request, token: str, session: Session = SESSION):
    """The review form of a product."""
    try:
        _customer_id, sku = _read(request, token)
    except links.BadLink as exc:
        return _page({"state": "invalid", "message": str(exc)}, 400)
    return _page({"state": "ask", "token": token, "product": _name(session, sku), "form": {}})


@router.post("/r/{token}")
async def save(request: Request, token: str, session: Session = SESSION):
    """Save the review; it is shown once approved."""
    try:
        customer_id, sku = _read(request, token)
    except links.BadLink as exc:
        return _page({"state": "invalid", "message": str(exc)}, 400)
    data = await request.form()
    values = {k: str(data.get(k, "")) for k in ("rating", "title", "text")}
    try:
        with session.begin_nested():
            service.submit(
                session=session,
                customer_id=customer_id,
                sku=sku,
                rating=values["rating"],
                title=values["title"],
                body=values["text"],
                source="email",
                now=utcnow(),
            )
    except (InvalidInput, NotFound) as exc:
        return _page(
            {
                "state": "ask",
                "token": token,
                "product": _name(session, sku),
                "form": values,
                "error": exc.message,
            },
            422,
        )
    return _page({"state": "done", "product": _name(session, sku)})
