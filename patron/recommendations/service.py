"""Use cases of recommendations: train, evaluate, serve, flag products, report clicks.

The published face of the capability (other capabilities import this module only).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from patron.customers import read as customers
from patron.db import transaction
from patron.errors import InvalidInput, NotFound
from patron.jobs import service as jobs
from patron.recommendations import clicks, config, evaluate, model, serving, training
from patron.recommendations.tables import ProductFlag, RecEvaluation, RecVersion

TRAIN_JOB = training.TRAIN_JOB
Result = serving.Result
for_customer = serving.for_customer
related = serving.related
current_version = serving.current_version
report = clicks.report
train = training.train


def versions(*, session: Session, limit: int = 10) -> list[RecVersion]:
    """The latest training runs, newest first."""
    return list(
        session.scalars(select(RecVersion).order_by(RecVersion.id.desc()).limit(limit)).all()
    )


def run_evaluation(
    *, sessions: sessionmaker[Session], now: datetime, test_days: int = 30, max_users: int = 20000
) -> RecEvaluation:
    """Train before now - test_days, score every kind on the purchases after, store the table."""
    if test_days < 1:
        raise InvalidInput("test_days: at least 1")
    cutoff = now - timedelta(days=test_days)
    with sessions() as session:
        data = training.load(session)
    if data.interactions.n_users == 0:
        raise InvalidInput("no purchases to evaluate on")
    rows = evaluate.evaluate(
        data.interactions,
        cutoff_day=training.epoch_day(cutoff),
        category=data.category,
        price=data.catalogue.price_cents,
        params=model.Params(half_life_days=config.half_life_days()),
        max_users=max_users,
    )
    with transaction(sessions) as session:
        row = RecEvaluation(
            created_at=now,
            cutoff=cutoff,
            users=rows[0].users if rows else 0,
            rows=[r.as_dict() for r in rows],
        )
        session.add(row)
        session.flush()
        session.expunge(row)
    return row


def latest_evaluation(*, session: Session) -> RecEvaluation | None:
    """The most recent evaluation table."""
    return session.scalars(select(RecEvaluation).order_by(RecEvaluation.id.desc())).first()


def set_flags(
    *,
    session: Session,
    sku: str,
    now: datetime,
    active: bool | None = None,
    replenishable: bool | None = None,
) -> ProductFlag:
    """Mark a product active or not, replenishable or not (404 for an unknown sku)."""
    product = session.scalars(select(customers.Product).where(customers.Product.sku == sku)).first()
    if product is None:
        raise NotFound(f"product {sku!r} not found")
    flag = session.get(ProductFlag, product.id)
    if flag is None:
        flag = ProductFlag(product_id=product.id, active=True, replenishable=False, updated_at=now)
        session.add(flag)
    if active is not None:
        flag.active = active
    if replenishable is not None:
        flag.replenishable = replenishable
    flag.updated_at = now
    session.flush()
    return flag


def flags_of(*, session: Session, product_id: int) -> tuple[bool, bool]:
    """(active, replenishable) of a product."""
    flag = session.get(ProductFlag, product_id)
    return (True, False) if flag is None else (flag.active, flag.replenishable)


def enqueue_training(*, session: Session, now: datetime) -> None:
    """Queue a training job (one at a time)."""
    jobs.enqueue(
        session=session,
        kind=TRAIN_JOB,
        payload={},
        run_at=now,
        now=now,
        queue="bulk",
        dedupe_key=TRAIN_JOB,
        max_attempts=1,
    )


def after_refresh(*, session: Session, events, now: datetime) -> None:
    """Consumer of `scores.refreshed`: train again after each analytics refresh."""
    if events:
        enqueue_training(session=session, now=now)


def product(*, session: Session, sku: str):
    """A catalogue product by sku (404 when unknown)."""
    found = session.scalars(select(customers.Product).where(customers.Product.sku == sku)).first()
    if found is None:
        raise NotFound(f"product {sku!r} not found")
    return found


def for_customer_popular(*, session: Session, n: int = 10) -> Result:
    """The shop's popular list as served to a customer without history."""
    version = serving.current_version(session)
    vid = version.id if version else None
    return serving.serve(session, vid, "popular", [], bought=(), n=n)
