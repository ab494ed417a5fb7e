"""Pure rules of gatherings: input checks, signed links, seats and the waitlist, reminders,
the `.ics` invite, attendance CSV rows and the check-in QR code. No I/O, no clock."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import segno
from itsdangerous import BadSignature, URLSafeSerializer

from patron.errors import InvalidInput

ANSWERS = ("yes", "no", "maybe")
# Where an invitation stands: invited (no answer), going, waitlisted, maybe, declined.
STATUSES = ("invited", "going", "waitlisted", "maybe", "declined")
STATUS_OF = {"yes": "going", "no": "declined", "maybe": "maybe"}
# Reminders before the start: the name (an outbox occurrence) and how long before.
REMINDERS = (("remind-1d", timedelta(days=1)), ("remind-1h", timedelta(hours=1)))
MAX_TITLE = 200
LINK_PURPOSES = ("rsvp", "ics", "checkin")


class BadLink(Exception):
    """A link that was tampered with, is for another purpose, or has expired."""


@dataclass(frozen=True)
class GatheringInput:
    """What an event is: title, description, when and where, how many seats."""

    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    description: str = ""
    online_url: str | None = None
    place: str | None = None
    capacity: int | None = None
    waitlist: bool = True


def zone(name: str) -> ZoneInfo:
    """The zoneinfo time zone of a name, or InvalidInput."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidInput(f"timezone: {name!r} is not an IANA time zone (e.g. Europe/Paris)")


def local(value: datetime, tz: str) -> datetime:
    """A naive wall-clock time read in time zone tz; an aware one as given."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone(tz))
    return value


def check(data: GatheringInput) -> GatheringInput:
    """Refuse an event whose fields do not make sense; naive times are read in its time zone."""
    if not data.title.strip() or len(data.title) > MAX_TITLE:
        raise InvalidInput(f"title: 1 to {MAX_TITLE} characters")
    zone(data.timezone)
    starts, ends = local(data.starts_at, data.timezone), local(data.ends_at, data.timezone)
    if ends <= starts:
        raise InvalidInput("ends_at must be after starts_at")
    if not (data.online_url or data.place):
        raise InvalidInput("give an online_url or a place (or both)")
    if data.online_url and not data.online_url.startswith(("https://", "http://")):
        raise InvalidInput("online_url must be an http(s) URL")
    if data.capacity is not None and data.capacity < 1:
        raise InvalidInput("capacity must be at least 1 (or none for no limit)")
    return GatheringInput(
        title=data.title.strip(),
        starts_at=starts.astimezone(UTC),
        ends_at=ends.astimezone(UTC),
        timezone=data.timezone,
        description=data.description,
        online_url=data.online_url or None,
        place=data.place or None,
        capacity=data.capacity,
        waitlist=data.waitlist,
    )


# Signed links -------------------------------------------------------------------------------


def _serializer(secret: str, purpose: str) -> URLSafeSerializer:
    """An itsdangerous serializer whose salt is the link's purpose."""
    return URLSafeSerializer(secret, salt=f"patron.gatherings.{purpose}")


def sign(secret: str, purpose: str, *, gathering_id: int, customer_id: int, expires: datetime):
    """A token for one customer's link to one event, valid until `expires`."""
    payload = {"g": gathering_id, "c": customer_id, "x": int(expires.timestamp())}
    return _serializer(secret, purpose).dumps(payload)


def verify(secret: str, purpose: str, token: str, *, now: datetime) -> tuple[int, int]:
    """(gathering id, customer id) of a valid token; BadLink otherwise."""
    try:
        payload = _serializer(secret, purpose).loads(token)
    except BadSignature:
        raise BadLink("the link's signature does not match")
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(k), int) for k in ("g", "c", "x")
    ):
        raise BadLink("the link is malformed")
    if payload["x"] < now.timestamp():
        raise BadLink("the link has expired")
    return payload["g"], payload["c"]


def link_expiry(ends_at: datetime) -> datetime:
    """Links of an event work until a week after it ends (late check-ins, the .ics)."""
    return ends_at + timedelta(days=7)


# Seats -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """The outcome of an answer: the new status and the change in seats taken."""

    status: str
    seats_delta: int
    frees_seat: bool


def seat(answer: str, *, current: str, going: int, capacity: int | None, waitlist: bool) -> Seat:
    """Where an answer puts a guest, given the seats taken (`going`) before it.

    A guest already going keeps the seat on "yes"; "no" or "maybe" frees it. A "yes" over
    capacity waits on the list (or is refused when the event has no waitlist).
    """
    if answer not in ANSWERS:
        raise InvalidInput(f"answer must be one of {', '.join(ANSWERS)}")
    had = current == "going"
    if answer == "yes":
        if had:
            return Seat("going", 0, False)
        if capacity is None or going < capacity:
            return Seat("going", 1, False)
        if current == "waitlisted" or waitlist:
            return Seat("waitlisted", 0, False)
        raise InvalidInput("the event is full")
    return Seat(STATUS_OF[answer], -1 if had else 0, had)


def due_reminders(starts_at: datetime, *, now: datetime) -> list[str]:
    """The reminders whose time has come and the event has not started yet."""
    if now >= starts_at:
        return []
    return [name for name, before in REMINDERS if now >= starts_at - before]


# The .ics invite ----------------------------------------------------------------------------


def ics(
    *,
    uid: str,
    title: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    tz: str,
    location: str | None,
    url: str | None,
    organizer: str | None,
    stamp: datetime,
    status: str = "CONFIRMED",
) -> bytes:
    """An iCalendar (RFC 5545) invite with the event in its own time zone."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Patron//gatherings//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("summary", title)
    if description:
        ev.add("description", description)
    zone_info = zone(tz)
    ev.add("dtstart", starts_at.astimezone(zone_info))
    ev.add("dtend", ends_at.astimezone(zone_info))
    ev.add("dtstamp", stamp)
    if location:
        ev.add("location", location)
    if url:
        ev.add("url", url)
    if organizer:
        ev.add("organizer", f"mailto:{organizer}")
    ev.add("status", status)
    cal.add_component(ev)
    if tz != "UTC":
        cal.add_missing_timezones()
    return cal.to_ical()


# Attendance ---------------------------------------------------------------------------------


def attendance_rows(text: str) -> tuple[list[str], list[str]]:
    """(emails, external ids) of a CSV with an `email` or `external_id` column (webinar export)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    email_col = fields.get("email") or fields.get("e-mail") or fields.get("email address")
    id_col = fields.get("external_id") or fields.get("customer_id")
    if not email_col and not id_col:
        raise InvalidInput("the CSV needs an `email` or an `external_id` column")
    emails, ids = [], []
    for row in reader:
        if email_col and (row.get(email_col) or "").strip():
            emails.append(row[email_col].strip().lower())
        elif id_col and (row.get(id_col) or "").strip():
            ids.append(row[id_col].strip())
    return emails, ids


def qr_svg(url: str) -> str:
    """The check-in QR code of a link, as an SVG document."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2)
    return out.getvalue().decode()


def qr_png(url: str) -> bytes:
    """The check-in QR code of a link, as a PNG (what mail clients show)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=5, border=2)
    return out.getvalue()
