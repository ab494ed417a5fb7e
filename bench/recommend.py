"""Benchmark of recommendations: a synthetic shop with planted structure, one time split.

Data (patron/recommendations/synthetic.py): --customers customers and about --lines purchase
lines (plus product views), 40 categories of 50 products as price ladders, each product with a
planted complement bought in the same basket or the next order. Split: train before 85% of
the year, test on each customer's new purchases after it (at most --eval-users customers).

Timed: Patron's training of every kind (co-purchase + next-basket cross-sell, up-sell,
down-sell, item-kNN personal, popularity) including the top 30 of every customer, as the
training job stores them; `implicit`'s ALS as the peer, trained on the same split (its
training, plus recommending for the evaluated customers). BLAS threads bounded with
threadpoolctl (--threads). Target: personal hit-rate@10 >= 1.5x popularity and >= ALS, and
training under 5 minutes.

    .venv/bin/python bench/recommend.py [--customers 1000000] [--lines 10000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from patron.recommendations import evaluate, model, synthetic

TARGET_SECONDS = 300.0
TARGET_RATIO = 1.5


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--eval-users", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def _ours(train, shop, cutoff):
    """Fit every kind and the top 30 of every customer; (fitted model, seconds)."""
    started = time.perf_counter()
    fitted = model.train(train, category=shop.category, price=shop.price, now_day=cutoff)
    model.recommend_users(fitted.history, fitted.personal, fitted.history, 30)
    return fitted, time.perf_counter() - started


def _als(fitted, users, args, k=10):
    """implicit's ALS on the same training purchases: (recommendations of users, seconds)."""
    from implicit.als import AlternatingLeastSquares

    history = fitted.history.tocsr().astype(np.float32)
    started = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):  # implicit's advice: its own threads
        als = AlternatingLeastSquares(
            factors=args.factors,
            iterations=args.iterations,
            regularization=0.05,
            alpha=10.0,
            random_state=args.seed,
            num_threads=args.threads,
        )
        als.fit(history, show_progress=False)
        ids, _scores = als.recommend(users, history[users], N=k, filter_already_liked_items=True)
    return np.where(np.isfinite(_scores), ids, -1).astype(np.int64), time.perf_counter() - started


def main() -> None:
    """Generate, split, train both, score, print the table."""
    args = _args()
    with threadpool_limits(limits=args.threads):
        t0 = time.perf_counter()
        shop = synthetic.generate(customers=args.customers, lines=args.lines, seed=args.seed)
        it = shop.interactions
        bought = int((it.basket >= 0).sum())
        print(
            f"shop: {args.customers:,} customers, {bought:,} purchase lines, "
            f"{len(it.user) - bought:,} views, {it.n_items:,} products "
            f"(generated in {time.perf_counter() - t0:.1f}s)"
        )
        cutoff = shop.days * 0.85
        train, truth = evaluate.split(it, cutoff)
        fitted, ours_seconds = _ours(train, shop, cutoff)
        known = np.diff(fitted.history.indptr) > 0
        truth = truth.multiply(known[:, None]).tocsr()
        users = evaluate.test_users(truth, args.eval_users, args.seed)
        sub = truth[users]
        lists = evaluate.served(fitted, users)
        als_recs, als_seconds = _als(fitted, users, args)
    results = {kind: evaluate.metrics(recs, sub, it.n_items) for kind, recs in lists.items()}
    results["ALS (implicit)"] = evaluate.metrics(als_recs, sub, it.n_items)
    _table(results, ours_seconds, als_seconds, len(users))


def _table(results: dict, ours_seconds: float, als_seconds: float, users: int) -> None:
    """Print the comparison table and the verdicts."""
    pop = results["popular"][0]
    als = results["ALS (implicit)"][0]
    print(f"\nevaluated on {users:,} customers with new purchases after the split\n")
    print(
        f"{'kind':<16}{'hit-rate@10':>12}{'NDCG@10':>10}{'coverage':>10}{'vs popular':>12}"
        f"{'vs ALS':>8}"
    )
    for kind, (hit, ndcg, coverage) in results.items():
        print(
            f"{kind:<16}{hit:>12.3f}{ndcg:>10.3f}{coverage:>10.1%}{hit / pop:>11.2f}x"
            f"{hit / als:>7.2f}x"
        )
    print(
        f"\ntraining: Patron {ours_seconds:.1f}s (every kind + top 30 of every customer), "
        f"ALS {als_seconds:.1f}s (fit + recommend the evaluated customers)"
    )
    best = results["personal"][0]
    print(
        f"personal vs popularity: {best / pop:.2f}x (target >= {TARGET_RATIO}x) "
        f"{'OK' if best >= TARGET_RATIO * pop else 'MISSED'}"
    )
    print(f"personal vs ALS: {best / als:.2f}x (target >= 1x) {'OK' if best >= als else 'MISSED'}")
    print(
        f"training: {ours_seconds:.0f}s (target < {TARGET_SECONDS:.0f}s) "
        f"{'OK' if ours_seconds < TARGET_SECONDS else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
