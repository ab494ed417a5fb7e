"""Dashboard forms of loyalty: map posted fields to the programme and rule configs."""

from __future__ import annotations

from datetime import UTC, datetime

from patron.errors import InvalidInput

PROGRAMME_INTS = ("return_window_days", "expiry_months", "tier_grace_days")
RULE_INTS = ("points", "limit_count", "limit_period_days", "budget_points", "segment_id")


def _number(label: str, text: str, kind=int):
    """A number typed in a field, None when empty, or InvalidInput."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise InvalidInput(f"{label}: enter a number") from None


def _moment(label: str, text: str) -> str | None:
    """A datetime-local value read as UTC, in ISO form."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()
    except ValueError:
        raise InvalidInput(f"{label}: enter a date and time") from None


def programme_config(form, current: dict) -> dict:
    """The programme config of the posted form (fields not on the form kept as they are)."""
    config = dict(current)
    config["name"] = form.get("name", "").strip()
    config["rounding"] = form.get("rounding", "floor")
    config["expiry"] = form.get("expiry", "rolling")
    config["tier_basis"] = form.get("tier_basis", "points")
    config["enabled"] = form.get("enabled") == "on"
    rate = _number("points per currency unit", form.get("points_per_unit"), float)
    if rate is not None:
        config["points_per_unit"] = rate
    for key in PROGRAMME_INTS:
        value = _number(key.replace("_", " "), form.get(key))
        if value is not None:
            config[key] = value
    benefits = {t["name"]: t.get("benefits", {}) for t in current.get("tiers", [])}
    rows = zip(
        form.getlist("tier_name"),
        form.getlist("tier_threshold"),
        form.getlist("tier_multiplier"),
        strict=False,
    )
    tiers = []
    for name, threshold, multiplier in rows:
        if not name.strip() and not threshold.strip():
            continue
        tier = {"name": name.strip(), "threshold": _number(f"tier {name} threshold", threshold)}
        tier["multiplier"] = _number(f"tier {name} multiplier", multiplier, float) or 1.0
        tier["benefits"] = benefits.get(tier["name"], {})
        if tier["threshold"] is None:
            raise InvalidInput(f"tier {name}: a threshold is required")
        tiers.append(tier)
    config["tiers"] = tiers
    return config


def rule_config(form) -> dict:
    """The earn rule config of the posted form (fields of other triggers ignored)."""
    trigger = form.get("trigger", "")
    config: dict = {"name": form.get("name", "").strip(), "trigger": trigger}
    if trigger == "multiplier":
        config["multiplier"] = _number("multiplier", form.get("multiplier"), float) or 1.0
    else:
        config["points"] = _number("points", form.get("points")) or 0
    if trigger == "event":
        config["event_name"] = form.get("event_name", "").strip() or None
    for key in RULE_INTS[1:]:
        value = _number(key.replace("_", " "), form.get(key))
        if value is not None:
            config[key] = value
    config["starts_at"] = _moment("starts", form.get("starts_at"))
    config["ends_at"] = _moment("ends", form.get("ends_at"))
    return config
