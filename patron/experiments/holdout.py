"""The global holdout: customers whose hash under the holdout salt falls below the share.

Membership is a pure function of the customer id and the two settings, so the outbox's check
(`messages.holdout`) needs no table and no query.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from patron.experiments import config, rules


def members(customer_ids: Collection[int]) -> np.ndarray:
    """A boolean mask: which of these customers are in the global holdout."""
    share = config.holdout_share()
    ids = np.asarray(list(customer_ids), dtype=np.int64)
    if share <= 0 or len(ids) == 0:
        return np.zeros(len(ids), dtype=bool)
    return rules.units(config.holdout_salt(), ids) < share


def held_out(*, session, customer_ids: Collection[int]) -> set[int]:
    """The `messages.holdout` contributor: those of these customers held out of marketing."""
    ids = list(customer_ids)
    mask = members(ids)
    return {int(c) for c, held in zip(ids, mask, strict=True) if held}
