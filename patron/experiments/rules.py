"""Pure rules of experiments: hashing customers to arms, checking arm definitions.

A customer's unit number in [0, 1) is a pure function of (salt, customer id): the salt's
BLAKE2b digest (64 bits) keys a SplitMix64 finaliser over the id, in NumPy uint64 arithmetic
(wrapping, the same on every machine, process and version), so a million ids hash at once.
The unit line is cut in order: [0, h) holdout, then the test share split by the arms'
percentages, the rest waits for the winner (rollout). No I/O, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HOLDOUT, ROLLOUT = -1, -2
HOLDOUT_KEY = "holdout"
KINDS = ("broadcast", "journey")
METRICS = ("revenue", "clicks")
MAX_ARMS = 6
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class ArmError(ValueError):
    """An experiment definition that cannot run, with the reason."""


def salt_key(salt: str) -> np.uint64:
    """The salt's 64-bit key: the first 8 bytes of its BLAKE2b digest."""
    digest = hashlib.blake2b(salt.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "big"))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every input bit flips about half the output bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def units(salt: str, customer_ids) -> np.ndarray:
    """Each customer's deterministic number in [0, 1) under this salt."""
    ids = np.asarray(customer_ids, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        mixed = _mix(_mix(ids + _GOLDEN) ^ salt_key(salt))
    return (mixed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def unit(salt: str, customer_id: int) -> float:
    """One customer's number in [0, 1)."""
    return float(units(salt, [customer_id])[0])


def assign(u: np.ndarray, *, holdout: float, test: float, percents: Sequence[int]) -> np.ndarray:
    """Arm index per unit: HOLDOUT below `holdout`, then arms over the test share, else ROLLOUT.

    `holdout` and `test` are shares in [0, 1]; `test` is of the customers not held out.
    """
    edges = holdout + (1.0 - holdout) * test * np.cumsum(percents) / 100.0
    index = np.searchsorted(edges, u, side="right")
    codes = np.where(index >= len(percents), ROLLOUT, index)
    return np.where(u < holdout, HOLDOUT, codes).astype(np.int64)


@dataclass(frozen=True)
class Arm:
    """One variant: its key, message template, share, send delay and offer; the first is control."""

    key: str
    percent: int
    template_id: int | None = None
    send_delay_minutes: int = 0
    offer: dict | None = None
    branch: int | None = None

    def as_dict(self) -> dict:
        """The arm as stored."""
        return {
            "key": self.key,
            "percent": self.percent,
            "template_id": self.template_id,
            "send_delay_minutes": self.send_delay_minutes,
            "offer": self.offer,
            "branch": self.branch,
        }


def _int(raw: dict, name: str, low: int, high: int, default=None) -> int | None:
    """An integer field within bounds."""
    value = raw.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ArmError(f"{name}: a whole number from {low} to {high} is required")
    return value


def parse_arms(raw: Sequence[dict], *, kind: str, check_sum: bool = True) -> list[Arm]:
    """Arms checked: 1 to 6 (one: a send against its holdout), distinct keys, percentages
    summing to 100, what each varies."""
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_ARMS:
        raise ArmError(f"arms: 1 to {MAX_ARMS} are required (the first is the control)")
    arms = []
    for item in raw:
        if not isinstance(item, dict):
            raise ArmError("arms: each arm is an object")
        key = str(item.get("key") or "").strip()
        if not key or len(key) > 32 or key == HOLDOUT_KEY:
            raise ArmError("arm key: 1 to 32 characters, not 'holdout'")
        offer = item.get("offer")
        if offer is not None and not isinstance(offer, dict):
            raise ArmError("offer: an object of template variables")
        arm = Arm(
            key=key,
            percent=_int(item, "percent", 1, 100),
            template_id=_int(item, "template_id", 1, 2**62),
            send_delay_minutes=_int(item, "send_delay_minutes", 0, 7 * 24 * 60, 0),
            offer=offer,
            branch=_int(item, "branch", 0, 9),
        )
        if arm.percent is None:
            raise ArmError(f"arm {key}: percent is required")
        if kind == "broadcast" and arm.template_id is None:
            raise ArmError(f"arm {key}: template_id is required")
        if kind == "journey" and arm.branch is None:
            raise ArmError(f"arm {key}: branch (the split's branch index) is required")
        arms.append(arm)
    if len({a.key for a in arms}) != len(arms):
        raise ArmError("arms: keys must differ")
    if check_sum and sum(a.percent for a in arms) != 100:
        raise ArmError("arms: percentages must sum to 100")
    return arms


def arm_keys(arms: Sequence[Arm]) -> list[str]:
    """Keys by arm index."""
    return [a.key for a in arms]
