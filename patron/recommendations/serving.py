"""Serving: a customer's or a product's recommendations from the latest ready version.

Stored lists are candidates; the business rules (patron/recommendations/rules.py) are applied
here, with the customer's purchases read now, so flags and settings act without retraining.
No stored candidates left: popular items, flagged as a fallback.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from patron.customers import read as customers
from patron.errors import InvalidInput, NotFound
from patron.recommendations import config, rules
from patron.recommendations.tables import ProductFlag, RecList, RecVersion

RECENT = 20


@dataclass(frozen=True)
class Recommended:
    """One recommended product."""

    product_id: int
    sku: str
    name: str
    category: str | None
    price_cents: int
    currency: str
    url: str


@dataclass(frozen=True)
class Result:
    """A served list: its kind, whether it is the popular fallback, and the products."""

    kind: str
    fallback: bool
    version_id: int | None
    items: list[Recommended] = field(default_factory=list)


def current_version(session: Session) -> RecVersion | None:
    """The latest ready version (the one served)."""
    return session.scalars(
        select(RecVersion).where(RecVersion.state == "ready").order_by(RecVersion.id.desc())
    ).first()


def stored(
    session: Session, version_id: int | None, owner: str, owner_ids: Collection[int], kind: str
) -> dict[int, list]:
    """Stored candidate lists by owner id."""
    if version_id is None or not owner_ids:
        return {}
    rows = session.execute(
        select(RecList.owner_id, RecList.items).where(
            RecList.version_id == version_id,
            RecList.owner == owner,
            RecList.kind == kind,
            RecList.owner_id.in_(sorted(set(owner_ids))),
        )
    ).all()
    return {owner_id: items for owner_id, items in rows}


def popular(session: Session, version_id: int | None) -> list[int]:
    """The popular list of the version, or best sellers counted now when none is trained."""
    lists = stored(session, version_id, "shop", [0], "popular")
    if 0 in lists:
        return [int(p) for p, _ in lists[0]]
    line = customers.OrderLine
    rows = session.execute(
        select(line.product_id)
        .join(customers.Order, customers.Order.id == line.order_id)
        .where(
            line.product_id.is_not(None), customers.Order.status.not_in(customers.COUNTED_EXCLUDED)
        )
        .group_by(line.product_id)
        .order_by(func.count(func.distinct(customers.Order.customer_id)).desc(), line.product_id)
        .limit(100)
    ).all()
    return [int(r[0]) for r in rows]


def bought_by(session: Session, customer_ids: Collection[int]) -> dict[int, set[int]]:
    """Products each customer bought in counted orders (one query)."""
    rows = session.execute(
        select(customers.Order.customer_id, customers.OrderLine.product_id)
        .join(customers.OrderLine, customers.OrderLine.order_id == customers.Order.id)
        .where(
            customers.Order.customer_id.in_(sorted(set(customer_ids))),
            customers.Order.status.not_in(customers.COUNTED_EXCLUDED),
            customers.OrderLine.product_id.is_not(None),
        )
        .distinct()
    ).all()
    out: dict[int, set[int]] = defaultdict(set)
    for cid, pid in rows:
        out[cid].add(pid)
    return out


class Catalog:
    """Products and flags needed to apply the rules to some candidates (one query)."""

    def __init__(self, session: Session, product_ids: Collection[int]):
        ids = sorted(set(product_ids))
        rows = session.execute(
            select(customers.Product, ProductFlag.active, ProductFlag.replenishable)
            .outerjoin(ProductFlag, ProductFlag.product_id == customers.Product.id)
            .where(customers.Product.id.in_(ids))
        ).all()
        self.products = {p.id: p for p, _a, _r in rows}
        self.inactive = {p.id for p, active, _r in rows if active is False}
        self.replenishable = {p.id for p, _a, refill in rows if refill}

    def choose(
        self,
        candidates: list[int],
        *,
        bought: Collection[int],
        n: int,
        also_exclude: Collection[int] = (),
    ) -> list[int]:
        """The candidates the rules allow, at most n."""
        return rules.allowed(
            candidates,
            category_of={pid: p.category or "" for pid, p in self.products.items()},
            inactive=self.inactive,
            replenishable=self.replenishable,
            bought=bought,
            policy=config.policy(),
            n=n,
            also_exclude=also_exclude,
        )

    def view(self, product_id: int, kind: str) -> Recommended:
        """A product as served, with its tagged shop link."""
        p = self.products[product_id]
        url = rules.product_url(config.value("PATRON_RECS_PRODUCT_URL"), sku=p.sku, kind=kind)
        return Recommended(p.id, p.sku, p.name, p.category, p.price_cents, p.currency, url)


def serve(session, version_id, kind, candidates, *, bought, n, also_exclude=()) -> Result:
    """Apply the rules; fall back to popular items when no candidate survives."""
    fallback_pool = popular(session, version_id)
    catalog = Catalog(session, [*candidates, *fallback_pool])
    chosen = catalog.choose(candidates, bought=bought, n=n, also_exclude=also_exclude)
    fallback = not chosen and kind != "popular"
    if not chosen:
        chosen = catalog.choose(fallback_pool, bought=bought, n=n, also_exclude=also_exclude)
    shown = kind if not fallback else "popular"
    return Result(kind, fallback, version_id, [catalog.view(p, shown) for p in chosen])


def _check(kind: str, n: int, kinds=rules.KINDS) -> None:
    """422 for a bad kind or n."""
    try:
        rules.check_kind(kind, kinds)
        rules.check_n(n)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc


def for_customer(*, session: Session, customer_id: int, kind: str = "personal", n: int = 10):
    """A customer's recommendations of a kind (404 for an unknown customer)."""
    _check(kind, n)
    if session.get(customers.Customer, customer_id) is None:
        raise NotFound(f"customer {customer_id} not found")
    version = current_version(session)
    vid = version.id if version else None
    bought = bought_by(session, [customer_id]).get(customer_id, set())
    return serve(
        session, vid, kind, candidates(session, vid, customer_id, kind), bought=bought, n=n
    )


def candidates(session: Session, vid: int | None, customer_id: int, kind: str) -> list[int]:
    """Ranked candidates of one customer for a kind, from the stored lists."""
    if kind == "popular":
        return []
    if kind == "personal":
        items = stored(session, vid, "customer", [customer_id], "personal").get(customer_id, [])
        return [int(p) for p, _ in items]
    if kind == "cross_sell":
        seeds = last_order_products(session, [customer_id]).get(customer_id, [])
    elif kind == "down_sell":
        seeds = viewed_not_bought(session, customer_id) or recent_products(session, customer_id)
    else:
        seeds = recent_products(session, customer_id)
    lists = stored(session, vid, "product", seeds, kind)
    return rules.merge([lists[s] for s in seeds if s in lists])


def last_order_products(session: Session, customer_ids: Collection[int]) -> dict[int, list[int]]:
    """Products of each customer's latest counted order (one query)."""
    o, line = customers.Order, customers.OrderLine
    latest = (
        select(o.customer_id, func.max(o.placed_at).label("at"))
        .where(
            o.customer_id.in_(sorted(set(customer_ids))),
            o.status.not_in(customers.COUNTED_EXCLUDED),
        )
        .group_by(o.customer_id)
        .subquery()
    )
    rows = session.execute(
        select(o.customer_id, line.product_id)
        .join(latest, (latest.c.customer_id == o.customer_id) & (latest.c.at == o.placed_at))
        .join(line, line.order_id == o.id)
        .where(line.product_id.is_not(None), o.status.not_in(customers.COUNTED_EXCLUDED))
        .order_by(o.customer_id, line.id)
    ).all()
    out: dict[int, list[int]] = defaultdict(list)
    for cid, pid in rows:
        if pid not in out[cid]:
            out[cid].append(pid)
    return out


def recent_products(session: Session, customer_id: int) -> list[int]:
    """The customer's most recently bought distinct products."""
    o, line = customers.Order, customers.OrderLine
    rows = session.execute(
        select(line.product_id, func.max(o.placed_at))
        .join(o, o.id == line.order_id)
        .where(
            o.customer_id == customer_id,
            line.product_id.is_not(None),
            o.status.not_in(customers.COUNTED_EXCLUDED),
        )
        .group_by(line.product_id)
        .order_by(func.max(o.placed_at).desc())
        .limit(RECENT)
    ).all()
    return [int(r[0]) for r in rows]


def viewed_not_bought(session: Session, customer_id: int) -> list[int]:
    """Products the customer viewed recently but never bought."""
    e, p = customers.Event, customers.Product
    sku = e.properties["product_id"].as_string()
    rows = session.execute(
        select(p.id, func.max(e.occurred_at))
        .join(p, p.sku == sku)
        .where(e.customer_id == customer_id, e.name == customers.VIEWED)
        .group_by(p.id)
        .order_by(func.max(e.occurred_at).desc())
        .limit(RECENT * 2)
    ).all()
    bought = bought_by(session, [customer_id]).get(customer_id, set())
    return [int(pid) for pid, _ in rows if pid not in bought][:RECENT]


def related(*, session: Session, sku: str, kind: str = "cross_sell", n: int = 10) -> Result:
    """A product's related products of a kind (404 for an unknown sku)."""
    _check(kind, n, rules.PRODUCT_KINDS)
    product = session.scalars(select(customers.Product).where(customers.Product.sku == sku)).first()
    if product is None:
        raise NotFound(f"product {sku!r} not found")
    version = current_version(session)
    vid = version.id if version else None
    items = stored(session, vid, "product", [product.id], kind).get(product.id, [])
    return serve(
        session, vid, kind, [int(p) for p, _ in items], bought=(), n=n, also_exclude={product.id}
    )


def histories(session: Session, customer_ids: Collection[int]):
    """(bought products, latest order's products) of each customer, from one query."""
    o, line = customers.Order, customers.OrderLine
    rows = session.execute(
        select(o.customer_id, o.id, o.placed_at, line.product_id)
        .join(line, line.order_id == o.id)
        .where(
            o.customer_id.in_(sorted(set(customer_ids))),
            o.status.not_in(customers.COUNTED_EXCLUDED),
            line.product_id.is_not(None),
        )
        .order_by(o.customer_id, o.placed_at.desc(), o.id.desc(), line.id)
    ).all()
    bought: dict[int, set[int]] = defaultdict(set)
    last: dict[int, list[int]] = defaultdict(list)
    latest: dict[int, int] = {}
    for cid, order_id, _at, pid in rows:
        bought[cid].add(pid)
        if latest.setdefault(cid, order_id) == order_id and pid not in last[cid]:
            last[cid].append(pid)
    return bought, last


def stored_many(
    session: Session, owners: dict[tuple[str, str], Collection[int]]
) -> dict[tuple[str, str], dict[int, list]]:
    """Stored lists of the served version for several (owner, kind) pairs, in one query."""
    served = select(func.max(RecVersion.id)).where(RecVersion.state == "ready").scalar_subquery()
    wanted = [
        (RecList.owner == owner) & (RecList.kind == kind) & RecList.owner_id.in_(sorted(set(ids)))
        for (owner, kind), ids in owners.items()
        if ids
    ]
    out: dict[tuple[str, str], dict[int, list]] = {key: {} for key in owners}
    if not wanted:
        return out
    rows = session.execute(
        select(
            RecList.owner, RecList.kind, RecList.owner_id, RecList.items, RecList.version_id
        ).where(RecList.version_id == served, or_(*wanted))
    ).all()
    for owner, kind, owner_id, items, _vid in rows:
        out[(owner, kind)][owner_id] = items
    return out
