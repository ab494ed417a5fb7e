"""Signed links of gatherings for one guest: RSVP (yes, no, maybe), the .ics invite, check-in."""

from __future__ import annotations

from urllib.parse import quote

from patron.config import load_settings
from patron.gatherings import rules
from patron.messages import config as message_config

RSVP_PATH, ICS_PATH, CHECKIN_PATH, QR_PATH = "/g/rsvp/", "/g/ics/", "/g/checkin/", "/g/qr/"


def public_base() -> str:
    """The public base URL of messages' links (PATRON_MESSAGES_PUBLIC_URL)."""
    return message_config.from_env("").public_url


def secret_and_base() -> tuple[str, str]:
    """The process's secret key and public base URL (those of messages' links)."""
    return load_settings().secret_key, public_base()


def guest_links(secret: str, base: str, gathering, customer_id: int) -> dict[str, str]:
    """Every link of one guest to one event."""
    expires = rules.link_expiry(gathering.ends_at)

    def token(purpose: str) -> str:
        return quote(
            rules.sign(
                secret, purpose, gathering_id=gathering.id, customer_id=customer_id, expires=expires
            )
        )

    rsvp, checkin = f"{base}{RSVP_PATH}{token('rsvp')}", token("checkin")
    return {
        "rsvp_url": rsvp,
        "rsvp_yes_url": f"{rsvp}?answer=yes",
        "rsvp_no_url": f"{rsvp}?answer=no",
        "rsvp_maybe_url": f"{rsvp}?answer=maybe",
        "ics_url": f"{base}{ICS_PATH}{token('ics')}.ics",
        "checkin_url": f"{base}{CHECKIN_PATH}{checkin}",
        "checkin_qr_url": f"{base}{QR_PATH}{checkin}.png",
    }
