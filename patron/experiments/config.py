"""Settings of experiments, read from the environment when used (like webhooks')."""

from __future__ import annotations

import os
from collections.abc import Mapping

from patron.config import Setting
from patron.errors import InvalidInput
from patron.experiments.analysis import Options

SETTINGS = (
    Setting(
        "PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT",
        "0",
        "Share of customers (0-50, decimals allowed) who get no marketing message at all, checked "
        "at the outbox at send time; they measure what the whole programme adds.",
    ),
    Setting(
        "PATRON_EXPERIMENTS_HOLDOUT_SALT",
        "global-holdout",
        "Salt of the global holdout's hash; changing it draws a new holdout.",
    ),
    Setting(
        "PATRON_EXPERIMENTS_CAP_PERCENTILE",
        "99",
        "Percentile of revenue per recipient at which outliers are capped (100: no cap).",
    ),
    Setting(
        "PATRON_EXPERIMENTS_MDE_PERCENT",
        "5",
        "Smallest relative lift worth detecting, used by the required-sample calculator.",
    ),
)


def _number(env: Mapping[str, str], name: str, default: str, low: float, high: float) -> float:
    """A numeric setting within bounds, or InvalidInput naming it."""
    raw = env.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, not {raw!r}")
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low:g} and {high:g}")
    return value


def holdout_share(env: Mapping[str, str] = os.environ) -> float:
    """The global holdout as a share in [0, 0.5]."""
    return _number(env, "PATRON_EXPERIMENTS_GLOBAL_HOLDOUT_PERCENT", "0", 0, 50) / 100


def holdout_salt(env: Mapping[str, str] = os.environ) -> str:
    """The global holdout's salt."""
    return env.get("PATRON_EXPERIMENTS_HOLDOUT_SALT", "global-holdout") or "global-holdout"


def options(metric: str, env: Mapping[str, str] = os.environ) -> Options:
    """Analysis options from the settings."""
    return Options(
        metric=metric,
        cap_percentile=_number(env, "PATRON_EXPERIMENTS_CAP_PERCENTILE", "99", 50, 100),
        mde=_number(env, "PATRON_EXPERIMENTS_MDE_PERCENT", "5", 0.1, 100) / 100,
    )
