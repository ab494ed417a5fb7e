"""REST API of customer data under /api/: customers, products and orders."""

from __future__ import annotations

from fastapi import APIRouter, Body, Query
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
from patron.deps import READ, READ_SESSION, SESSION, WRITE
from patron.errors import InvalidInput
from patron.web import pagination

router = APIRouter(prefix="/api")
LIMIT, CURSOR = pagination.LIMIT, pagination.CURSOR


def _by_id(item) -> tuple[int, int]:
    """The (sort key, id) of an item of an id-ordered list."""
    return item.id, item.id


def _after_id(cursor: str | None) -> int | None:
    """The id the list resumes after (422 on a cursor that is not ours)."""
    position = pagination.decode(cursor)
    return None if position is None else position.id


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
        after_id=_after_id(cursor),
        limit=limit + 1,
    )
    page = pagination.page(items, limit, key=_by_id)
    return CustomerPage(
        items=_customer_reads(session, page["items"]), next_cursor=page["next_cursor"]
    )


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
        session=session, category=category, after_id=_after_id(cursor), limit=limit + 1
    )
    return pagination.page(items, limit, key=_by_id)


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
        session=session, customer_id=customer_id, after_id=_after_id(cursor), limit=limit + 1
    )
    return pagination.page(items, limit, key=_by_id)


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
