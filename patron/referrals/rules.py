"""Pure rules of referrals: identity normalisation, the fraud rules, caps, qualification."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

REWARDS = ("points", "coupon")
SOURCES = ("signup", "tracking", "api")
_GMAIL = {"gmail.com", "googlemail.com"}
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "apartment": "apt",
    "drive": "dr",
    "lane": "ln",
}


class ProgrammeError(ValueError):
    """A programme setting is out of range; `field` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Programme:
    """The referral programme's settings."""

    min_order_cents: int = 0
    window_days: int = 30
    reward: str = "points"
    referrer_points: int = 500
    referee_points: int = 250
    referrer_campaign_id: int | None = None
    referee_campaign_id: int | None = None
    cap: int = 10
    cap_days: int = 30
    velocity_count: int = 5
    velocity_minutes: int = 60

    @classmethod
    def from_dict(cls, raw: dict) -> Programme:
        """Settings from stored JSON (unknown keys ignored, missing ones defaulted)."""
        known = {f.name for f in fields(cls)}
        return check(cls(**{k: v for k, v in raw.items() if k in known}))


def check(p: Programme) -> Programme:
    """The programme if its settings hold together, else ProgrammeError."""
    for name in ("min_order_cents", "window_days", "referrer_points", "referee_points"):
        value = getattr(p, name)
        if not isinstance(value, int) or value < 0:
            raise ProgrammeError(name, "a whole number, not negative")
    for name in ("cap", "cap_days", "velocity_count", "velocity_minutes"):
        value = getattr(p, name)
        if not isinstance(value, int) or value < 1:
            raise ProgrammeError(name, "a whole number, at least 1")
    if p.reward not in REWARDS:
        raise ProgrammeError("reward", f"one of {', '.join(REWARDS)}")
    if p.reward == "coupon" and not (p.referrer_campaign_id and p.referee_campaign_id):
        raise ProgrammeError("reward", "coupon rewards need both campaign ids")
    return p


def normalise_email(email: str | None) -> str | None:
    """Lower case without +tags; Gmail without dots (the same inbox)."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def normalise_phone(phone: str | None) -> str | None:
    """The last nine digits (country prefixes and punctuation dropped); None when too short."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 7 else None


def normalise_address(address) -> str | None:
    """Lower-case words with common abbreviations, from a string or a dict of parts."""
    if isinstance(address, dict):
        keys = ("line1", "line2", "street", "city", "postal_code", "zip", "country")
        address = " ".join(str(address[k]) for k in keys if address.get(k))
    if not isinstance(address, str):
        return None
    words = re.findall(r"[a-z0-9]+", address.lower())
    words = [_ADDRESS_WORDS.get(w, w) for w in words]
    return " ".join(words) if len(words) >= 2 else None


@dataclass(frozen=True)
class Identity:
    """What tells a person apart: normalised contact points and the devices seen."""

    customer_id: int
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    devices: frozenset[str] = frozenset()
    anonymous_ids: frozenset[str] = frozenset()


def identity(
    customer_id: int,
    *,
    email=None,
    phone=None,
    address=None,
    devices=(),
    anonymous_ids=(),
) -> Identity:
    """An identity with its fields normalised."""
    return Identity(
        customer_id,
        normalise_email(email),
        normalise_phone(phone),
        normalise_address(address),
        frozenset(d for d in devices if d),
        frozenset(a for a in anonymous_ids if a),
    )


def self_referral(referrer: Identity, referee: Identity) -> str | None:
    """The self-referral rule the pair breaks, or None."""
    if referrer.customer_id == referee.customer_id:
        return "self_referral"
    for name in ("email", "phone", "address"):
        mine, theirs = getattr(referrer, name), getattr(referee, name)
        if mine is not None and mine == theirs:
            return f"self_referral_{name}"
    if referrer.devices & referee.devices:
        return "self_referral_device"
    if referrer.anonymous_ids & referee.anonymous_ids:
        return "self_referral_anonymous_id"
    return None


def cap_since(now: datetime, programme: Programme) -> datetime:
    """Start of the cap's rolling period."""
    return now - timedelta(days=programme.cap_days)


def over_cap(count_in_period: int, programme: Programme) -> bool:
    """Whether one more referral would pass the referrer's cap for the period."""
    return count_in_period >= programme.cap


def velocity_window(now: datetime, programme: Programme) -> datetime:
    """Start of the fixed velocity window `now` falls in (one alert per window)."""
    minutes = programme.velocity_minutes
    epoch_minutes = int(now.timestamp() // 60)
    return datetime.fromtimestamp((epoch_minutes - epoch_minutes % minutes) * 60, tz=now.tzinfo)


def too_fast(count_in_window: int, programme: Programme) -> bool:
    """Whether a referrer's attributions in the window call for a velocity alert."""
    return count_in_window >= programme.velocity_count


def first_order_rule(total_cents: int, programme: Programme) -> str | None:
    """The rule a referee's first order breaks, or None."""
    return "minimum_order" if total_cents < programme.min_order_cents else None


def refund_rule(total_cents: int, refunded_cents: int, programme: Programme) -> str | None:
    """A refund inside the window rejects when nothing is left or what is left is below the
    minimum; a small partial refund above it keeps the referral."""
    left = total_cents - refunded_cents
    return "refunded" if left <= 0 or left < programme.min_order_cents else None


def qualifies_at(placed_at: datetime, programme: Programme) -> datetime:
    """When the referral qualifies if the first order is not refunded before."""
    return placed_at + timedelta(days=programme.window_days)
