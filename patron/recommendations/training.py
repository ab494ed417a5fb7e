"""The training use case: read purchases and views, fit every kind, store a new version.

A version is written `training`, then filled and marked `ready` in one transaction; serving
reads the latest ready version, so a failed run (marked `failed` with the reason) leaves the
previous one serving. Older versions than the previous are deleted.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from patron.customers import read as customers
from patron.db import transaction
from patron.recommendations import config, model
from patron.recommendations.tables import ProductFlag, RecList, RecVersion

TRAIN_JOB = "recommendations.train"
PER_CUSTOMER = 30
CHUNK = 5000


@dataclass(frozen=True)
class Data:
    """What training reads: interactions by index and the catalogue arrays."""

    interactions: model.Interactions
    catalogue: customers.Catalogue
    customer_ids: np.ndarray
    category: np.ndarray
    replenishable: np.ndarray


def epoch_day(moment: datetime) -> float:
    """A timestamp as fractional days since the Unix epoch."""
    return moment.timestamp() / 86400.0


def load(session: Session, *, before: datetime | None = None) -> Data:
    """Purchases, views and the catalogue as index arrays (products by id, customers by id)."""
    cat = customers.catalogue(session)
    lines = customers.purchase_lines(session, before=before)
    views = customers.product_views(session, before=before)
    ids, user = np.unique(
        np.concatenate([lines.customer_id, views.customer_id]), return_inverse=True
    )
    item = np.searchsorted(cat.product_id, np.concatenate([lines.product_id, views.product_id]))
    it = model.Interactions(
        user=user.astype(np.int64),
        item=item.astype(np.int64),
        basket=np.concatenate([lines.order_id, np.full(len(views.product_id), -1)]),
        day=np.concatenate([lines.day, views.day]),
        n_users=len(ids),
        n_items=len(cat.product_id),
    )
    _names, codes = np.unique(cat.category.astype(str), return_inverse=True)
    codes = np.where(cat.category.astype(str) == "", -1, codes)
    return Data(it, cat, ids, codes, _replenishable(session, cat))


def _replenishable(session: Session, cat: customers.Catalogue) -> np.ndarray:
    """Per catalogue position: may be recommended again after a purchase."""
    policy = config.policy()
    mask = np.isin(np.char.lower(cat.category.astype(str)), list(policy.replenishable_categories))
    flagged = session.scalars(select(ProductFlag.product_id).where(ProductFlag.replenishable)).all()
    return mask | np.isin(cat.product_id, np.asarray(flagged, dtype=np.int64))


def _items(ids: np.ndarray, cols: np.ndarray, scores: np.ndarray) -> list[list]:
    """One stored list: [[product id, score], ...] without the empty slots."""
    keep = cols >= 0
    return [
        [int(p), round(float(s), 5)] for p, s in zip(ids[cols[keep]], scores[keep], strict=True)
    ]


def list_rows(data: Data, fitted: model.ItemModel, version_id: int):
    """Rows of recommendation_lists for every product, customer and the shop (a generator)."""
    pids = data.catalogue.product_id
    for kind in ("cross_sell", "up_sell", "down_sell"):
        cols, scores = model.ranked(getattr(fitted, kind), model.Params().keep)
        for row in np.flatnonzero(cols[:, 0] >= 0):
            items = _items(pids, cols[row], scores[row])
            yield {
                "version_id": version_id,
                "owner": "product",
                "owner_id": int(pids[row]),
                "kind": kind,
                "items": items,
            }
    best = np.argsort(-fitted.popular, kind="stable")[: PER_CUSTOMER * 2]
    best = best[fitted.popular[best] > 0]
    yield {
        "version_id": version_id,
        "owner": "shop",
        "owner_id": 0,
        "kind": "popular",
        "items": _items(pids, best, fitted.popular[best]),
    }
    exclude = fitted.history.multiply(~data.replenishable[None, :]).tocsr()
    cols, scores = model.recommend_users(fitted.history, fitted.personal, exclude, PER_CUSTOMER)
    for row in np.flatnonzero(cols[:, 0] >= 0):
        yield {
            "version_id": version_id,
            "owner": "customer",
            "owner_id": int(data.customer_ids[row]),
            "kind": "personal",
            "items": _items(pids, cols[row], scores[row]),
        }


def _write(session: Session, rows) -> int:
    """Insert rows in chunks; returns how many."""
    chunk, count = [], 0
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            session.execute(insert(RecList), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        session.execute(insert(RecList), chunk)
        count += len(chunk)
    return count


def train(*, sessions: sessionmaker[Session], now: datetime) -> RecVersion:
    """Train and store a new version; on failure record why and keep the previous serving."""
    with transaction(sessions) as session:
        version = RecVersion(state="training", started_at=now, stats={})
        session.add(version)
        session.flush()
        version_id = version.id
    started = time.perf_counter()
    try:
        with transaction(sessions) as session:
            data = load(session)
            params = model.Params(half_life_days=config.half_life_days())
            fitted = model.train(
                data.interactions,
                category=data.category,
                price=data.catalogue.price_cents,
                now_day=epoch_day(now),
                params=params,
            )
            written = _write(session, list_rows(data, fitted, version_id))
            stats = {
                "customers": int(data.interactions.n_users),
                "products": int(data.interactions.n_items),
                "interactions": len(data.interactions.user),
                "lists": written,
                "seconds": round(time.perf_counter() - started, 3),
            }
            _finish(session, version_id, "ready", now, stats=stats)
            _prune(session, version_id)
    except Exception as exc:  # any failure: the previous version keeps serving
        reason = f"{type(exc).__name__}: {exc}"
        with transaction(sessions) as session:
            _finish(
                session,
                version_id,
                "failed",
                now,
                error=reason,
                stats={"trace": traceback.format_exc(limit=3)[-2000:]},
            )
    with sessions() as session:
        return session.get(RecVersion, version_id)


def _finish(
    session: Session, version_id: int, state: str, now: datetime, *, error=None, stats=None
) -> None:
    """Mark a version ready or failed."""
    version = session.get(RecVersion, version_id)
    version.state, version.finished_at, version.error = state, now, error
    version.stats = stats or {}


def _prune(session: Session, version_id: int) -> None:
    """Delete finished versions older than the previous ready one (a run still training is
    left alone)."""
    ready = session.scalars(
        select(RecVersion.id).where(RecVersion.state == "ready").order_by(RecVersion.id.desc())
    ).all()
    if len(ready) > 2:
        old = select(RecVersion.id).where(RecVersion.id < ready[1], RecVersion.state != "training")
        session.execute(delete(RecList).where(RecList.version_id.in_(old)))
        session.execute(
            delete(RecVersion).where(RecVersion.id < ready[1], RecVersion.state != "training")
        )


def train_job(*, ctx, now, payload) -> None:
    """The `recommendations.train` job (its failures are recorded on the version)."""
    train(sessions=ctx.sessions, now=now() if callable(now) else now)
