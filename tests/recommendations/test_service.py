"""Training, serving and the business rules on a small planted shop (SQLite)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from patron.db import transaction
from patron.errors import InvalidInput, NotFound
from patron.recommendations import service, training
from patron.recommendations.tables import RecList, RecVersion
from tests.recommendations.shop import NOW, load, planted


@pytest.fixture
def trained(sqlite_db):
    """A planted shop in SQLite, trained once."""
    shop = planted()
    with transaction(sqlite_db.sessions) as s:
        ids = load(s, shop)
    version = service.train(sessions=sqlite_db.sessions, now=NOW)
    assert version.state == "ready", version.error
    return sqlite_db, shop, ids, version


def _index(sku: str) -> int:
    return int(sku[1:])


def test_planted_complements_come_out_on_top(trained):
    db, shop, _ids, _version = trained
    hits = []
    with transaction(db.sessions) as s:
        for i in range(0, 48, 3):
            top = service.related(session=s, sku=f"P{i:03d}", n=3)
            assert not top.fallback
            hits.append(int(shop.complement[i]) in [_index(p.sku) for p in top.items])
    assert np.mean(hits) >= 0.8


def test_up_and_down_sell_stay_in_the_category_and_move_the_price(trained):
    db, _shop, _ids, _version = trained
    with transaction(db.sessions) as s:
        base = service.product(session=s, sku="P010")
        up = service.related(session=s, sku="P010", kind="up_sell", n=5)
        down = service.related(session=s, sku="P010", kind="down_sell", n=5)
    assert up.items and down.items
    assert all(p.category == base.category and p.price_cents > base.price_cents for p in up.items)
    assert all(p.category == base.category and p.price_cents < base.price_cents for p in down.items)


def test_customer_lists_drop_bought_and_inactive_and_cap_categories(trained, monkeypatch):
    db, _shop, ids, _version = trained
    monkeypatch.setenv("PATRON_RECS_MAX_PER_CATEGORY", "1")
    cid = ids["customers"]["c5"]
    with transaction(db.sessions) as s:
        bought = service.serving.bought_by(s, [cid])[cid]
        first = service.for_customer(session=s, customer_id=cid, n=6)
        assert not first.fallback and first.items
        service.set_flags(session=s, sku=first.items[0].sku, now=NOW, active=False)
    with transaction(db.sessions) as s:
        again = service.for_customer(session=s, customer_id=cid, n=6)
    skus = [p.sku for p in again.items]
    assert first.items[0].sku not in skus
    assert not {p.product_id for p in again.items} & bought
    categories = [p.category for p in again.items]
    assert len(categories) == len(set(categories))


def test_replenishable_products_come_back_and_excluded_categories_never(trained, monkeypatch):
    db, _shop, ids, version = trained
    monkeypatch.setenv("PATRON_RECS_MAX_PER_CATEGORY", "50")
    with transaction(db.sessions) as s:
        for cid in ids["customers"].values():
            bought = service.serving.bought_by(s, [cid]).get(cid, set())
            ranked = service.serving.candidates(s, version.id, cid, "cross_sell")
            again = [p for p in ranked[:20] if p in bought]
            if again:
                break
        sku = s.get(service.customers.Product, again[0]).sku
        shown = service.for_customer(session=s, customer_id=cid, kind="cross_sell", n=50).items
        assert again[0] not in {p.product_id for p in shown}
        service.set_flags(session=s, sku=sku, now=NOW, replenishable=True)
    with transaction(db.sessions) as s:
        shown = service.for_customer(session=s, customer_id=cid, kind="cross_sell", n=50).items
        assert again[0] in {p.product_id for p in shown}
        category = shown[0].category
    monkeypatch.setenv("PATRON_RECS_EXCLUDED_CATEGORIES", f"x, {category.upper()}")
    with transaction(db.sessions) as s:
        shown = service.for_customer(session=s, customer_id=cid, kind="cross_sell", n=50).items
    assert shown and all(p.category != category for p in shown)


def test_no_history_gets_popular_flagged_and_unknowns_are_404(trained):
    db, _shop, _ids, _version = trained
    with transaction(db.sessions) as s:
        new = service.customers.Customer(
            external_id="new", attributes={}, created_at=NOW, updated_at=NOW
        )
        s.add(new)
        s.flush()
        result = service.for_customer(session=s, customer_id=new.id, kind="personal", n=5)
        assert result.fallback and len(result.items) == 5
        asked = service.for_customer(session=s, customer_id=new.id, kind="popular", n=5)
        assert not asked.fallback and asked.items == result.items
        with pytest.raises(NotFound):
            service.for_customer(session=s, customer_id=10**9)
        with pytest.raises(NotFound):
            service.related(session=s, sku="nope")
        with pytest.raises(InvalidInput):
            service.for_customer(session=s, customer_id=new.id, kind="bogus")


def test_a_failed_training_keeps_the_previous_version_serving(trained, monkeypatch):
    db, _shop, _ids, version = trained

    def broken(*args, **kwargs):
        raise MemoryError("out of memory while fitting")

    monkeypatch.setattr(training.model, "train", broken)
    failed = service.train(sessions=db.sessions, now=NOW)
    assert failed.state == "failed" and "out of memory" in failed.error
    with transaction(db.sessions) as s:
        assert service.current_version(s).id == version.id
        assert (
            s.scalar(
                select(func.count()).select_from(RecList).where(RecList.version_id == failed.id)
            )
            == 0
        )
        assert service.related(session=s, sku="P001").version_id == version.id


def test_evaluation_beats_popularity_and_is_stored(trained):
    db, _shop, _ids, _version = trained
    result = service.run_evaluation(sessions=db.sessions, now=NOW, test_days=30)
    rows = {r["kind"]: r for r in result.rows}
    assert rows["personal"]["hit_rate"] > rows["popular"]["hit_rate"]
    assert rows["personal"]["ndcg"] > rows["popular"]["ndcg"]
    assert rows["cross_sell"]["hit_rate"] > rows["popular"]["hit_rate"]
    with transaction(db.sessions) as s:
        assert service.latest_evaluation(session=s).id == result.id
        assert s.scalar(select(func.count()).select_from(RecVersion)) == 1
