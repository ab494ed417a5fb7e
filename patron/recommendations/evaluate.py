"""Pure offline evaluation on a time split: hit-rate@k, NDCG@k and catalogue coverage.

Train on everything before the cutoff; the truth of a customer is the set of products they
first bought after it (items already bought before are not new). Each kind is served as in
production (its own candidates, then popular items in empty slots, never an item already
bought) and compared with popularity alone (Cremonesi, Koren & Turrin 2010 on top-N metrics).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse

from patron.recommendations import model

K = 10


@dataclass(frozen=True)
class Row:
    """The metrics of one kind on the test customers."""

    kind: str
    users: int
    hit_rate: float
    ndcg: float
    coverage: float
    vs_popular: float | None = None

    def as_dict(self) -> dict:
        """JSON-ready values."""
        return asdict(self)


def split(it: model.Interactions, cutoff_day: float):
    """(train interactions, truth users x items CSR of new purchases after the cutoff)."""
    before = it.day < cutoff_day
    train = model.Interactions(
        it.user[before],
        it.item[before],
        it.basket[before],
        it.day[before],
        it.n_users,
        it.n_items,
    )
    shape = (it.n_users, it.n_items)
    bought = train.basket >= 0
    had = sparse.csr_matrix(
        (np.ones(int(bought.sum()), dtype=np.float32), (train.user[bought], train.item[bought])),
        shape=shape,
    )
    later = ~before & (it.basket >= 0)
    truth = sparse.csr_matrix(
        (np.ones(int(later.sum()), dtype=np.float32), (it.user[later], it.item[later])),
        shape=shape,
    )
    truth.data[:] = 1.0
    had.data[:] = 1.0
    truth = truth - truth.multiply(had)
    truth.eliminate_zeros()
    return train, truth


def metrics(recs: np.ndarray, truth: sparse.csr_matrix, n_items: int) -> tuple[float, float, float]:
    """(hit-rate@k, NDCG@k with binary relevance, share of the catalogue recommended)."""
    if recs.shape[0] == 0:
        return 0.0, 0.0, 0.0
    k = recs.shape[1]
    t = truth.tocoo()
    truth_keys = np.sort(t.row.astype(np.int64) * n_items + t.col)
    rows = np.arange(recs.shape[0], dtype=np.int64)[:, None]
    hit = (recs >= 0) & np.isin(rows * n_items + np.maximum(recs, 0), truth_keys)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hit * discounts).sum(axis=1)
    relevant = np.minimum(np.diff(truth.indptr), k)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[relevant]
    ndcg = np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)
    coverage = len(np.unique(recs[recs >= 0])) / max(n_items, 1)
    return float(hit.any(axis=1).mean()), float(ndcg.mean()), float(coverage)


def served(fitted: model.ItemModel, users: np.ndarray, k: int = K) -> dict[str, np.ndarray]:
    """Each kind's top k for these users, as served: candidates, popular fill, nothing bought."""
    had = fitted.history[users]
    queries = {
        "personal": (had, fitted.personal),
        "cross_sell": (fitted.last_basket[users], fitted.cross_sell),
        "up_sell": (had, fitted.up_sell),
        "down_sell": ((fitted.viewed[users] + had).tocsr(), fitted.down_sell),
    }
    out = {}
    for kind, (query, scores) in queries.items():
        cols, _ = model.recommend_users(query.tocsr(), scores, had, k)
        out[kind] = model.fill_popular(cols, fitted.popular, had)
    empty = np.full((len(users), k), -1, dtype=np.int64)
    out["popular"] = model.fill_popular(empty, fitted.popular, had)
    return out


def evaluate(
    it: model.Interactions,
    *,
    cutoff_day: float,
    category: np.ndarray,
    price: np.ndarray,
    params: model.Params = model.Params(),
    max_users: int = 20000,
    seed: int = 0,
    k: int = K,
) -> list[Row]:
    """Train before the cutoff and score every kind on (a sample of) the test customers."""
    train, truth = split(it, cutoff_day)
    fitted = model.train(train, category=category, price=price, now_day=cutoff_day, params=params)
    return score(fitted, truth, max_users=max_users, seed=seed, k=k)


def test_users(truth: sparse.csr_matrix, max_users: int, seed: int) -> np.ndarray:
    """Customers with something new after the cutoff, sampled down to max_users."""
    users = np.flatnonzero(np.diff(truth.indptr) > 0)
    if len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    return users


def score(fitted, truth, *, max_users: int, seed: int, k: int = K) -> list[Row]:
    """Rows of metrics of every kind for a fitted model against the truth."""
    known = np.diff(fitted.history.indptr) > 0
    truth = truth.multiply(known[:, None]).tocsr()
    users = test_users(truth, max_users, seed)
    sub = truth[users]
    lists = served(fitted, users, k)
    base = metrics(lists["popular"], sub, truth.shape[1])
    rows = []
    for kind, recs in lists.items():
        hit, ndcg, coverage = metrics(recs, sub, truth.shape[1])
        ratio = hit / base[0] if base[0] > 0 else None
        rows.append(Row(kind, len(users), hit, ndcg, coverage, ratio))
    return rows
