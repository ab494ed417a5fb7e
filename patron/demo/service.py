"""Loading the demo shop: bulk inserts in one transaction, then aggregates, access and scores.

The loader writes through the customers capability's bulk path (`customers.bulk.load_*`,
chunked executemany per table): going through customers.service one row at a time would take
minutes for a whole shop, and the generated rows are valid by construction. Aggregates are then
rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from patron.analytics import service as analytics_service
from patron.auth import service as auth_service
from patron.customers import bulk
from patron.customers import service as customers_service
from patron.demo.rules import CUSTOMER_PREFIX, DemoShop
from patron.errors import Conflict

MARKER = f"{CUSTOMER_PREFIX}000001"
READ_WRITE_KEY, TRACK_KEY = "demo: read+write", "demo: track"


@dataclass(frozen=True)
class LoadSummary:
    """How many rows of each kind the loader wrote."""

    customers: int
    products: int
    orders: int
    lines: int
    events: int


@dataclass(frozen=True)
class DemoAccess:
    """Credentials printed for the person trying the demo."""

    email: str
    password: str
    user_created: bool
    read_write_key: str
    track_key: str


def is_loaded(*, session: Session) -> bool:
    """Whether the database already holds the demo shop."""
    return bool(customers_service.customer_ids(session=session, external_ids=[MARKER]))


def _load_products(session: Session, shop: DemoShop, now: datetime) -> dict[str, int]:
    """Insert the catalogue (skipping SKUs that exist) and map SKUs to ids."""
    products = [{**p, "currency": "USD"} for p in shop.products]
    return bulk.load_products(session=session, products=products, now=now)


def _load_customers(session: Session, shop: DemoShop) -> list[int]:
    """Insert customers and consents; return customer ids by generated index."""
    by_external = bulk.load_customers(session=session, customers=shop.customers)
    ids = [by_external[c["external_id"]] for c in shop.customers]
    consents = [
        {
            "customer_id": ids[c["customer"]],
            "channel": c["channel"],
            "status": c["status"],
            "source": c["source"],
            "updated_at": c["updated_at"],
        }
        for c in shop.consents
    ]
    bulk.load_consents(session=session, consents=consents)
    return ids


def _load_orders(
    session: Session, shop: DemoShop, customer_ids: list[int], product_ids: dict[str, int]
) -> None:
    """Insert orders and their lines."""
    orders = [
        {
            **{k: v for k, v in o.items() if k != "customer"},
            "customer_id": customer_ids[o["customer"]],
            "currency": "USD",
            "source": "demo",
            "created_at": o["placed_at"],
            "updated_at": o["placed_at"],
        }
        for o in shop.orders
    ]
    by_external = bulk.load_orders(session=session, orders=orders)
    order_ids = [by_external[o["external_id"]] for o in shop.orders]
    lines = []
    for line in shop.lines:
        product = shop.products[line["product"]]
        lines.append(
            {
                "order_id": order_ids[line["order"]],
                "product_id": product_ids.get(product["sku"]),
                "sku": product["sku"],
                "name": product["name"],
                "category": product["category"],
                "quantity": line["quantity"],
                "unit_price_cents": line["unit_price_cents"],
                "total_cents": line["quantity"] * line["unit_price_cents"],
            }
        )
    bulk.load_order_lines(session=session, lines=lines)


def _load_events(session: Session, shop: DemoShop, customer_ids: list[int]) -> None:
    """Insert events and the anonymous ids linked to customers."""
    events = [
        {
            "message_id": e["message_id"],
            "type": e["type"],
            "name": e["name"],
            "customer_id": None if e["customer"] is None else customer_ids[e["customer"]],
            "anonymous_id": e["anonymous_id"],
            "properties": e["properties"],
            "context": {"source": "demo"},
            "occurred_at": e["occurred_at"],
            "received_at": e["occurred_at"],
        }
        for e in shop.events
    ]
    links = [
        {
            "anonymous_id": link["anonymous_id"],
            "customer_id": customer_ids[link["customer"]],
            "linked_at": link["linked_at"],
        }
        for link in shop.links
    ]
    bulk.load_events(session=session, events=events, links=links)


def load_shop(*, session: Session, shop: DemoShop, now: datetime) -> LoadSummary:
    """Writes a generated shop into the database and rebuilds every customer's aggregates."""
    product_ids = _load_products(session, shop, now)
    customer_ids = _load_customers(session, shop)
    _load_orders(session, shop, customer_ids, product_ids)
    _load_events(session, shop, customer_ids)
    customers_service.rebuild_stats(session)
    return LoadSummary(
        customers=len(shop.customers),
        products=len(shop.products),
        orders=len(shop.orders),
        lines=len(shop.lines),
        events=len(shop.events),
    )


def _fresh_key(session: Session, name: str, scopes: str, now: datetime) -> str:
    """Revoke earlier demo keys of this name and create a new one (keys are shown once)."""
    for row in auth_service.list_keys(session=session):
        if row.name == name and row.revoked_at is None:
            auth_service.revoke_key(session=session, key_id=row.id, now=now)
    return auth_service.create_key(session=session, name=name, scopes=scopes, now=now)[1]


def prepare_access(*, session: Session, email: str, password: str, now: datetime) -> DemoAccess:
    """Creates the demo admin unless present, and fresh read+write and track API keys."""
    created = True
    try:
        auth_service.create_user(session=session, email=email, password=password, now=now)
    except Conflict:
        created = False
    return DemoAccess(
        email=email,
        password=password,
        user_created=created,
        read_write_key=_fresh_key(session, READ_WRITE_KEY, "read,write", now),
        track_key=_fresh_key(session, TRACK_KEY, "track", now),
    )


def refresh_analytics(*, sessions: sessionmaker[Session], now: datetime) -> bool:
    """Runs the analytics refresh over the loaded shop; returns whether it ran."""
    analytics_service.refresh(sessions=sessions, now=now)
    return True
