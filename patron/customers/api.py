"""REST API of customer data under /api/: customers, products and orders."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Body, Depends, FastAPI, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from patron.customers import service
from patron.customers.schemas import (
    ConsentStatus,
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerStatsRead,
    CustomerUpdate,
    OrderCreate,
    OrderPage,
    OrderRead,
    ProductCreate,
    ProductPage,
    ProductRead,
    RefundCreate,
)
from patron.db import utcnow
from patron.deps import READ_SESSION, SESSION, require_scope
from patron.errors import InvalidInput, PayloadTooLarge

router = APIRouter(prefix="/api")
READ = [Depends(require_scope("read"))]
WRITE = [Depends(require_scope("write"))]
MAX_BODY_BYTES = 1_048_576  # 1 MiB: far above any single customer or order, bounds memory
LIMIT = Query(50, ge=1, le=500, description="Items per page (1-500).")
CURSOR = Query(None, max_length=64, description="`next_cursor` of the previous page.")


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the page after the item with last_id."""
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for, or InvalidInput when it was not made by encode_cursor."""
    if cursor is None:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidInput("cursor is not valid: pass the next_cursor of a previous page")


def _page(items: list, limit: int) -> tuple[list, str | None]:
    """Split limit + 1 fetched items into a page and the cursor after it (None at the end)."""
    page = items[:limit]
    return page, encode_cursor(page[-1].id) if len(items) > limit else None


def _customer_reads(session: Session, customers: list) -> list[CustomerRead]:
    """Response bodies of customers with their consent and aggregates."""
    stats = service.stats_of(session=session, customer_ids=[c.id for c in customers])
    return [
        CustomerRead.model_validate(
            {
                **{
                    name: getattr(c, name)
                    for name in CustomerRead.model_fields
                    if name not in ("consent", "stats")
                },
                "consent": {row.channel: row for row in c.consents},
                "stats": CustomerStatsRead.model_validate(stats[c.id])
                if c.id in stats
                else CustomerStatsRead(),
            }
        )
        for c in customers
    ]


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerRead,
    tags=["customers"],
    summary="Create a customer (409 when the external id exists)",
    dependencies=WRITE,
)
def create_customer(body: CustomerCreate, session: Session = SESSION):
    """Creates a customer with its profile and consent."""
    now = utcnow()
    customer = service.create_customer(
        session=session, external_id=body.external_id, profile=body.profile(), now=now
    )
    service.record_consents(session=session, customer=customer, consents=body.consents(), now=now)
    return _customer_reads(session, [customer])[0]


@router.patch(
    "/customers/{customer_id}",
    response_model=CustomerRead,
    tags=["customers"],
    summary="Update a customer's profile and consent",
    dependencies=WRITE,
)
def update_customer(customer_id: int, body: CustomerUpdate, session: Session = SESSION):
    """Updates the fields sent; attributes are merged."""
    now = utcnow()
    customer = service.update_customer(
        session=session, customer_id=customer_id, profile=body.profile(), now=now
    )
    service.record_consents(session=session, customer=customer, consents=body.consents(), now=now)
    return _customer_reads(session, [customer])[0]


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerRead,
    tags=["customers"],
    summary="Get a customer with consent and aggregates",
    dependencies=READ,
)
def get_customer(customer_id: int, session: Session = READ_SESSION):
    """Returns one customer."""
    return _customer_reads(
        session, [service.get_customer(session=session, customer_id=customer_id)]
    )[0]


@router.get(
    "/customers",
    response_model=CustomerPage,
    tags=["customers"],
    summary="List or search customers (cursor pagination)",
    dependencies=READ,
)
def list_customers(
    q: str | None = Query(
        None, max_length=200, description="Case-insensitive search in external id, email and name."
    ),
    email_consent: ConsentStatus | None = Query(None, description="Email consent status."),
    min_orders: int | None = Query(None, ge=0, description="At least this many orders."),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    session: Session = READ_SESSION,
):
    """Returns customers in id order, one page at a time."""
    items = service.list_customers(
        session=session,
        q=q,
        email_consent=email_consent,
        min_orders=min_orders,
        after_id=decode_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = _page(items, limit)
    return CustomerPage(items=_customer_reads(session, page), next_cursor=next_cursor)


@router.delete(
    "/customers/{customer_id}",
    status_code=204,
    response_model=None,
    tags=["customers"],
    summary="Delete a customer and their data",
    dependencies=WRITE,
)
def delete_customer(customer_id: int, session: Session = SESSION) -> None:
    """Deletes a customer with their orders, events and aggregates."""
    service.delete_customer(session=session, customer_id=customer_id, now=utcnow())


@router.put(
    "/products/{sku}",
    response_model=ProductRead,
    tags=["products"],
    summary="Create or replace a product by SKU (idempotent)",
    dependencies=WRITE,
)
def put_product(sku: str, body: ProductCreate, session: Session = SESSION):
    """Creates the product with this SKU or replaces its fields."""
    if len(sku) > 128:
        raise InvalidInput("sku must be at most 128 characters")
    return service.upsert_product(
        session=session,
        sku=sku,
        name=body.name,
        category=body.category,
        price_cents=body.price_cents,
        currency=body.currency,
        now=utcnow(),
    )


@router.get(
    "/products/{sku}",
    response_model=ProductRead,
    tags=["products"],
    summary="Get a product by SKU",
    dependencies=READ,
)
def get_product(sku: str, session: Session = READ_SESSION):
    """Returns one product."""
    return service.get_product(session=session, sku=sku)


@router.get(
    "/products",
    response_model=ProductPage,
    tags=["products"],
    summary="List products (cursor pagination)",
    dependencies=READ,
)
def list_products(
    category: str | None = Query(None, max_length=255),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    session: Session = READ_SESSION,
):
    """Returns products in id order, one page at a time."""
    items = service.list_products(
        session=session, category=category, after_id=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = _page(items, limit)
    return ProductPage(items=page, next_cursor=next_cursor)


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderRead,
    tags=["orders"],
    summary="Record an order (409 when the external id exists)",
    dependencies=WRITE,
)
def create_order(body: OrderCreate, session: Session = SESSION):
    """Records an order of a known customer (or a new one with create_customer)."""
    return service.create_order(
        session=session,
        order=body.to_input(),
        now=utcnow(),
        create_customer_if_missing=body.create_customer,
    )


@router.get(
    "/orders/{order_id}",
    response_model=OrderRead,
    tags=["orders"],
    summary="Get an order with its lines",
    dependencies=READ,
)
def get_order(order_id: int, session: Session = READ_SESSION):
    """Returns one order."""
    return service.get_order(session=session, order_id=order_id)


@router.get(
    "/orders",
    response_model=OrderPage,
    tags=["orders"],
    summary="List orders, optionally of one customer (cursor pagination)",
    dependencies=READ,
)
def list_orders(
    customer_id: int | None = Query(None, description="Customer id."),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    session: Session = READ_SESSION,
):
    """Returns orders in id order, one page at a time."""
    items = service.list_orders(
        session=session, customer_id=customer_id, after_id=decode_cursor(cursor), limit=limit + 1
    )
    page, next_cursor = _page(items, limit)
    return OrderPage(items=page, next_cursor=next_cursor)


@router.post(
    "/orders/{external_id}/refund",
    response_model=OrderRead,
    tags=["orders"],
    summary="Refund an order in full or in part",
    dependencies=WRITE,
)
def refund_order(
    external_id: str, body: RefundCreate | None = Body(None), session: Session = SESSION
):
    """Refunds `amount_cents` more, or everything not yet refunded when omitted."""
    amount = body.amount_cents if body else None
    return service.refund_order(
        session=session, external_id=external_id, amount_cents=amount, now=utcnow()
    )


@router.post(
    "/orders/{external_id}/cancel",
    response_model=OrderRead,
    tags=["orders"],
    summary="Cancel an order",
    dependencies=WRITE,
)
def cancel_order(external_id: str, session: Session = SESSION):
    """Cancels an order so it no longer counts in aggregates."""
    return service.cancel_order(session=session, external_id=external_id, now=utcnow())


class BodyLimit:
    """ASGI middleware refusing /api/ request bodies over a size limit before parsing them."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES, prefix: str = "/api/"):
        self.app, self.limit, self.prefix = app, limit, prefix

    async def __call__(self, scope, receive, send):
        """Check Content-Length, or buffer up to the limit when the body is streamed."""
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(scope, receive, send)
        if length is not None:
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message], receive), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._refuse(scope, receive, send)
        replayed = _replay([{"type": "http.request", "body": body}], receive)
        return await self.app(scope, replayed, send)

    async def _refuse(self, scope, receive, send):
        """Answer with the payload-too-large error."""
        error = PayloadTooLarge(f"request body is larger than {self.limit} bytes")
        await JSONResponse(error.to_dict(), status_code=error.status)(scope, receive, send)


def _replay(messages: list[dict], then):
    """An ASGI receive callable that hands out already-read messages, then defers to `then`."""
    pending = list(messages)

    async def receive():
        return pending.pop(0) if pending else await then()

    return receive


def install(app: FastAPI) -> None:
    """Limit the body size of every /api/ request."""
    app.add_middleware(BodyLimit)
