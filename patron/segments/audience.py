"""Who a segment export holds: the members who may be contacted on a channel, or others.

Pure: consent status "granted" is the only one that permits contact; "denied", "unsubscribed"
and "unknown" (never recorded) do not. Exporting anyone else must be asked for by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from patron.customers.rules import CONSENT_CHANNELS
from patron.errors import InvalidInput

CHANNELS = CONSENT_CHANNELS
AUDIENCES = ("contactable", "all", "not_contactable")
DEFAULT_CHANNEL = "email"
DEFAULT_AUDIENCE = "contactable"
PERMITTING_STATUS = "granted"
VERBS = {"email": "may be emailed", "sms": "may be texted", "push": "may get push messages"}
WHO = {
    "contactable": "members who may be contacted on {channel} (consent granted)",
    "all": "all members, whatever their {channel} consent",
    "not_contactable": "members who may not be contacted on {channel} "
    "(consent denied, unsubscribed or unknown)",
}


@dataclass(frozen=True)
class Audience:
    """A channel and which members of a segment to export for it."""

    channel: str = DEFAULT_CHANNEL
    audience: str = DEFAULT_AUDIENCE

    @property
    def contactable_column(self) -> str:
        """The name of the column saying whether a row may be contacted on the channel."""
        return f"contactable_on_{self.channel}"

    def filename(self, segment_id: int) -> str:
        """The download name, which says the channel and the audience."""
        return f"segment-{segment_id}-{self.channel}-{self.audience.replace('_', '-')}.csv"

    def describe(self) -> str:
        """Who the file holds, in words."""
        return WHO[self.audience].format(channel=self.channel)

    def rows_in(self, counts: dict) -> int:
        """How many members this audience holds, from `counts` (see exports.audience_counts)."""
        granted = counts["contactable"][self.channel]
        if self.audience == "contactable":
            return granted
        if self.audience == "not_contactable":
            return counts["members"] - granted
        return counts["members"]


def audience_of(channel: str | None = None, audience: str | None = None) -> Audience:
    """The export audience asked for (defaults: email, contactable), or InvalidInput."""
    channel = DEFAULT_CHANNEL if channel in (None, "") else channel
    audience = DEFAULT_AUDIENCE if audience in (None, "") else audience
    if channel not in CHANNELS:
        message = f"channel must be one of {', '.join(CHANNELS)}"
        raise InvalidInput(f"channel: {message}", details=[{"path": "channel", "message": message}])
    if audience not in AUDIENCES:
        message = f"audience must be one of {', '.join(AUDIENCES)}"
        raise InvalidInput(
            f"audience: {message}", details=[{"path": "audience", "message": message}]
        )
    return Audience(channel, audience)


def may_contact(status: str | None) -> bool:
    """Whether a consent status permits contact (a missing status is unknown: no)."""
    return status == PERMITTING_STATUS
