"""Pure training of the recommendation kinds on sparse matrices (NumPy and SciPy only).

Co-purchase is item-to-item collaborative filtering (Linden, Smith & York 2003, "Amazon.com
recommendations: item-to-item collaborative filtering") on baskets weighted by an exponential
time decay, scored by cosine or lift; next-basket co-occurrence links the items of an order to
those of the same customer's next order (Rendle et al. 2010 motivate the sequential signal).
Personal is item-kNN (Deshpande & Karypis 2004): the customer's decayed history times a pruned
item-item similarity. Up-sell and down-sell keep same-category pairs above or below the
product's price, backed by co-view or co-purchase evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

LN2 = float(np.log(2.0))


@dataclass(frozen=True)
class Interactions:
    """Events as index arrays: user, item, basket (order; -1 for a view) and day, per row."""

    user: np.ndarray
    item: np.ndarray
    basket: np.ndarray
    day: np.ndarray
    n_users: int
    n_items: int


@dataclass(frozen=True)
class Params:
    """Knobs of training; the defaults are what bench/recommend.py measures."""

    half_life_days: float = 180.0
    similarity: str = "cosine"
    next_weight: float = 1.0
    neighbours: int = 50
    keep: int = 50
    shrink: float = 5.0
    knn_shrink: float = 1.0
    cross_in_personal: float = 0.125
    popular_window_days: float = 90.0


@dataclass(frozen=True)
class ItemModel:
    """Item-to-item scores of each kind (items x items CSR), popularity and the user history."""

    cross_sell: sparse.csr_matrix
    up_sell: sparse.csr_matrix
    down_sell: sparse.csr_matrix
    personal: sparse.csr_matrix
    popular: np.ndarray
    history: sparse.csr_matrix
    last_basket: sparse.csr_matrix
    viewed: sparse.csr_matrix


def decay(day: np.ndarray, now_day: float, half_life_days: float) -> np.ndarray:
    """Exponential time-decay weights: 1 now, 1/2 one half-life ago."""
    age = np.maximum(now_day - day, 0.0)
    return np.exp(-LN2 * age / half_life_days)


def _matrix(rows, cols, data, shape) -> sparse.csr_matrix:
    """A CSR matrix whose duplicate cells keep their largest value."""
    if len(rows) == 0:
        return sparse.csr_matrix(shape, dtype=np.float32)
    key = rows.astype(np.int64) * shape[1] + cols
    order = np.lexsort((-data, key))
    key, data = key[order], data[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, data = key[first], data[first]
    return sparse.csr_matrix(
        (data.astype(np.float32), (key // shape[1], key % shape[1])), shape=shape
    )


def _baskets(it: Interactions, weight: np.ndarray):
    """Orders x items (weight of the order in each cell) and each order's user and day."""
    bought = it.basket >= 0
    ids, basket = np.unique(it.basket[bought], return_inverse=True)
    shape = (len(ids), it.n_items)
    matrix = _matrix(basket, it.item[bought], weight[bought], shape)
    user = np.zeros(len(ids), dtype=np.int64)
    day = np.zeros(len(ids))
    user[basket] = it.user[bought]
    day[basket] = it.day[bought]
    return matrix, user, day


def _successors(user: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (order, the same customer's next order), set-based."""
    order = np.lexsort((day, user))
    same = user[order][1:] == user[order][:-1]
    return order[:-1][same], order[1:][same]


def _zero_diagonal(m: sparse.csr_matrix) -> sparse.csr_matrix:
    """The matrix without its diagonal."""
    m = m.tocsr(copy=True)
    m.setdiag(0)
    m.eliminate_zeros()
    return m


def normalise(m: sparse.csr_matrix, counts: np.ndarray, method: str, shrink: float):
    """Cosine (c_ij / sqrt(n_i n_j)) or lift (c_ij N / n_i n_j), shrunk toward 0 for rare pairs."""
    counts = np.asarray(counts, dtype=np.float64)
    m = m.tocoo()
    support = m.data / (m.data + shrink)
    if method == "lift":
        total = max(counts.sum(), 1.0)
        value = m.data * total / np.maximum(counts[m.row] * counts[m.col], 1e-12)
        value = np.log1p(value) * support
    else:
        value = m.data / np.sqrt(np.maximum(counts[m.row] * counts[m.col], 1e-12)) * support
    return sparse.csr_matrix((value.astype(np.float32), (m.row, m.col)), shape=m.shape)


def top_k(m: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Each row's k largest entries, as CSR."""
    cols, scores = ranked(m, k)
    rows = np.repeat(np.arange(m.shape[0]), k)
    keep = cols.ravel() >= 0
    return sparse.csr_matrix(
        (scores.ravel()[keep], (rows[keep], cols.ravel()[keep])), shape=m.shape
    )


DENSE_CELLS = 4_000_000


def _block_top(dense: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top k columns of each row of a dense block (scores <= 0 count as none)."""
    k_eff = min(k, dense.shape[1])
    part = np.argpartition(-dense, k_eff - 1, axis=1)[:, :k_eff]
    vals = np.take_along_axis(dense, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    cols = np.where(vals > 0, cols, -1)
    out_c = np.full((dense.shape[0], k), -1, dtype=np.int64)
    out_v = np.zeros((dense.shape[0], k), dtype=np.float32)
    out_c[:, :k_eff], out_v[:, :k_eff] = cols, np.where(vals > 0, vals, 0)
    return out_c, out_v


def ranked(m: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's top k columns and scores as dense arrays (-1 and 0 where a row has fewer)."""
    m = m.tocsr()
    n = m.shape[0]
    cols = np.full((n, k), -1, dtype=np.int64)
    scores = np.zeros((n, k), dtype=np.float32)
    step = max(1, DENSE_CELLS // max(m.shape[1], 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        cols[start:stop], scores[start:stop] = _block_top(m[start:stop].toarray(), k)
    return cols, scores


def _price_pairs(m: sparse.csr_matrix, category: np.ndarray, price: np.ndarray, sign: int):
    """Only same-category pairs whose second item costs more (sign 1) or less (sign -1)."""
    m = m.tocoo()
    same = (category[m.row] == category[m.col]) & (category[m.row] >= 0)
    step = (price[m.col] - price[m.row]) * sign > 0
    keep = same & step
    return sparse.csr_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=m.shape)


def train(
    it: Interactions,
    *,
    category: np.ndarray,
    price: np.ndarray,
    now_day: float,
    params: Params = Params(),
) -> ItemModel:
    """Every kind's item-item scores from purchases (basket >= 0) and views (basket -1)."""
    weight = decay(it.day, now_day, params.half_life_days).astype(np.float32)
    baskets, order_user, order_day = _baskets(it, weight)
    binary = baskets.copy()
    binary.data[:] = 1.0
    counts = np.asarray(baskets.sum(axis=0)).ravel()
    together = _zero_diagonal(binary.T @ baskets)
    cross = normalise(together, counts, params.similarity, params.shrink)
    before, after = _successors(order_user, order_day)
    nxt = _zero_diagonal(binary[before].T @ baskets[after])
    cross = cross + params.next_weight * normalise(nxt, counts, params.similarity, params.shrink)
    cross = top_k(cross, params.keep)

    users = (it.n_users, it.n_items)
    bought = it.basket >= 0
    history = _matrix(it.user[bought], it.item[bought], weight[bought], users)
    viewed = _matrix(it.user[~bought], it.item[~bought], weight[~bought], users)
    binary_history = history.copy()
    binary_history.data[:] = 1.0
    knn = _zero_diagonal(binary_history.T @ history)
    knn = normalise(knn, np.asarray(history.sum(axis=0)).ravel(), "cosine", params.knn_shrink)
    personal = top_k(knn + params.cross_in_personal * cross, params.neighbours)

    either = (history + viewed).tocsr()
    either.data[:] = 1.0
    seen = _zero_diagonal(either.T @ either)
    evidence = normalise(seen, np.asarray(either.sum(axis=0)).ravel(), "cosine", params.shrink)
    evidence = evidence + cross
    up = top_k(_price_pairs(evidence, category, price, 1), params.keep)
    down = top_k(_price_pairs(evidence, category, price, -1), params.keep)

    recent = it.day >= now_day - params.popular_window_days
    popular = np.bincount(
        it.item[bought & recent], weights=weight[bought & recent], minlength=it.n_items
    )
    last = _last_baskets(baskets, order_user, order_day, it.n_users)
    return ItemModel(cross, up, down, personal, popular, history, last, viewed)


def _last_baskets(baskets, order_user, order_day, n_users) -> sparse.csr_matrix:
    """Users x items: the items of each user's latest order."""
    if baskets.shape[0] == 0:
        return sparse.csr_matrix((n_users, baskets.shape[1]), dtype=np.float32)
    order = np.lexsort((order_day, order_user))
    is_last = np.ones(len(order), dtype=bool)
    is_last[:-1] = order_user[order][1:] != order_user[order][:-1]
    latest = order[is_last]
    pick = sparse.csr_matrix(
        (np.ones(len(latest), dtype=np.float32), (order_user[latest], latest)),
        shape=(n_users, baskets.shape[0]),
    )
    out = (pick @ baskets).tocsr()
    out.data[:] = 1.0
    return out


def recommend_users(
    query: sparse.csr_matrix,
    scores: sparse.csr_matrix,
    exclude: sparse.csr_matrix,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top k items of each user for query @ scores, without the excluded cells, in dense
    blocks of rows (argpartition per row: no global sort)."""
    n = query.shape[0]
    cols = np.full((n, k), -1, dtype=np.int64)
    values = np.zeros((n, k), dtype=np.float32)
    step = max(1, DENSE_CELLS // max(scores.shape[1], 1))
    query, exclude = query.tocsr(), exclude.tocsr()
    for start in range(0, n, step):
        stop = min(start + step, n)
        dense = (query[start:stop] @ scores).toarray()
        if exclude.nnz:
            block = exclude[start:stop].tocoo()
            dense[block.row, block.col] = 0.0
        cols[start:stop], values[start:stop] = _block_top(dense, k)
    return cols, values


def _keys(m: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Sorted cell keys (row position * columns + column) of the given rows of m."""
    sub = m[rows].tocoo()
    return np.sort(sub.row.astype(np.int64) * m.shape[1] + sub.col)


def fill_popular(cols: np.ndarray, popular: np.ndarray, exclude: sparse.csr_matrix):
    """Rows' empty slots (-1) filled, in order, with the most popular items not yet had."""
    k, n_items = cols.shape[1], len(popular)
    best = np.argsort(-popular, kind="stable")[: k * 3]
    best = best[popular[best] > 0]
    out = cols.copy()
    short = np.flatnonzero((out < 0).any(axis=1))
    if len(short) == 0 or len(best) == 0:
        return out
    pos = np.arange(len(short), dtype=np.int64)[:, None]
    cand = np.broadcast_to(best, (len(short), len(best)))
    keys = pos * n_items + cand
    present = out[short]
    have = (pos * n_items + present)[present >= 0]
    bad = np.isin(keys, have)
    if exclude.nnz:
        bad |= np.isin(keys, _keys(exclude, short))
    compact = np.take_along_axis(cand, np.argsort(bad, axis=1, kind="stable"), axis=1)
    n_valid = (~bad).sum(axis=1)
    free = present < 0
    rank = np.cumsum(free, axis=1) - 1
    r, c = np.nonzero(free & (rank < n_valid[:, None]))
    present[r, c] = compact[r, rank[r, c]]
    out[short] = present
    return out
