"""Pure parts: business rules, link tags, the sparse model and the metrics (no database)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from patron.recommendations import evaluate, model, rules, synthetic

CATEGORY_OF = {i: f"c{i % 3}" for i in range(30)}


@settings(max_examples=60, deadline=None)
@given(
    candidates=st.lists(st.integers(0, 34), max_size=40),
    inactive=st.sets(st.integers(0, 29)),
    bought=st.sets(st.integers(0, 29)),
    refill=st.sets(st.integers(0, 29)),
    cap=st.integers(1, 4),
    n=st.integers(1, 12),
)
def test_allowed_keeps_every_rule(candidates, inactive, bought, refill, cap, n):
    policy = rules.Policy(excluded_categories=frozenset({"c2"}), max_per_category=cap)
    got = rules.allowed(
        candidates,
        category_of=CATEGORY_OF,
        inactive=inactive,
        replenishable=refill,
        bought=bought,
        policy=policy,
        n=n,
    )
    assert len(got) <= n and len(got) == len(set(got))
    assert all(p in CATEGORY_OF and p not in inactive for p in got)
    assert all(CATEGORY_OF[p] != "c2" for p in got)
    assert all(p not in bought or p in refill for p in got)
    counts = [sum(CATEGORY_OF[p] == c for p in got) for c in ("c0", "c1")]
    assert max(counts) <= cap
    assert got == [p for p in dict.fromkeys(candidates) if p in got]  # order kept


def test_replenishable_categories_and_merge():
    policy = rules.Policy(replenishable_categories=rules.parse_categories(" C0 , x"))
    got = rules.allowed(
        [0, 1, 3],
        category_of=CATEGORY_OF,
        inactive=(),
        replenishable=(),
        bought={0, 1, 3},
        policy=policy,
        n=5,
    )
    assert got == [0, 3]
    assert rules.merge([[[1, 0.5], [2, 0.4]], [[2, 0.3]]]) == [2, 1]


def test_links_are_tagged_and_read_back():
    url = rules.product_url("https://shop.example/p/{sku}", sku="AB-1", kind="up_sell")
    assert url == "https://shop.example/p/AB-1?patron_rec=up_sell"
    assert rules.tagged(url) == ("up_sell", "AB-1")
    assert rules.tagged("https://shop.example/p/AB-1?patron_rec=evil") is None
    assert rules.tagged("https://shop.example/p/AB-1") is None


def test_top_k_and_fill_popular():
    m = sparse.csr_matrix(np.array([[0, 3, 1, 2], [0, 0, 0, 0], [5, 0, 0, 1]], dtype=np.float32))
    cols, _scores = model.ranked(m, 2)
    assert cols.tolist() == [[1, 3], [-1, -1], [0, 3]]
    exclude = sparse.csr_matrix(np.array([[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]))
    filled = model.fill_popular(cols, np.array([9.0, 8.0, 7.0, 1.0]), exclude)
    assert filled.tolist() == [[1, 3], [1, 2], [0, 3]]


def test_metrics_by_hand():
    truth = sparse.csr_matrix(np.array([[0, 1, 0, 1], [1, 0, 0, 0]], dtype=np.float32))
    recs = np.array([[1, 2], [2, 3]])
    hit, ndcg, coverage = evaluate.metrics(recs, truth, 4)
    assert hit == 0.5 and coverage == 0.75
    assert abs(ndcg - 0.5 * 1.0 / (1 + 1 / np.log2(3))) < 1e-9


def test_planted_structure_is_learned_and_beats_popularity():
    shop = synthetic.generate(customers=12000, lines=60000, categories=30, per_category=30, seed=4)
    fitted = model.train(
        shop.interactions, category=shop.category, price=shop.price, now_day=shop.days
    )
    cols, _ = model.ranked(fitted.cross_sell, 3)
    items = np.arange(len(shop.complement))
    goes_with = {(i, c) for i, c in zip(items, shop.complement, strict=True)}
    goes_with |= {(c, i) for i, c in goes_with}  # the relation is symmetric
    assert np.mean([(i, c) in goes_with for i, c in zip(items, cols[:, 0], strict=True)]) > 0.9
    assert (cols == shop.complement[:, None]).any(axis=1).mean() > 0.9
    rows = {
        r.kind: r
        for r in evaluate.evaluate(
            shop.interactions, cutoff_day=shop.days * 0.85, category=shop.category, price=shop.price
        )
    }
    assert rows["personal"].hit_rate >= 1.5 * rows["popular"].hit_rate
    assert rows["cross_sell"].hit_rate >= 1.5 * rows["popular"].hit_rate
    assert rows["personal"].coverage > rows["popular"].coverage
