"""Pure rules of gatherings: seats and the waitlist, signed links, reminders, .ics, CSV, QR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.errors import InvalidInput
from patron.gatherings import rules

T = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def test_a_yes_takes_a_seat_until_full_then_waits():
    assert (
        rules.seat("yes", current="invited", going=1, capacity=2, waitlist=True).status == "going"
    )
    full = rules.seat("yes", current="invited", going=2, capacity=2, waitlist=True)
    assert (full.status, full.seats_delta) == ("waitlisted", 0)
    with pytest.raises(InvalidInput, match="full"):
        rules.seat("yes", current="invited", going=2, capacity=2, waitlist=False)
    kept = rules.seat("yes", current="going", going=2, capacity=2, waitlist=False)
    assert (kept.status, kept.seats_delta) == ("going", 0)
    freed = rules.seat("no", current="going", going=2, capacity=2, waitlist=True)
    assert (freed.status, freed.seats_delta, freed.frees_seat) == ("declined", -1, True)
    assert rules.seat("maybe", current="waitlisted", going=2, capacity=2, waitlist=True) == (
        rules.Seat("maybe", 0, False)
    )


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 4),
    answers=st.lists(st.tuples(st.integers(0, 6), st.sampled_from(rules.ANSWERS)), max_size=40),
)
def test_seats_never_exceed_capacity_and_match_the_guests_going(capacity, answers):
    status = dict.fromkeys(range(7), "invited")
    going = 0
    for guest, answer in answers:
        outcome = rules.seat(
            answer, current=status[guest], going=going, capacity=capacity, waitlist=True
        )
        status[guest] = outcome.status
        going += outcome.seats_delta
        assert 0 <= going <= capacity
        assert going == sum(s == "going" for s in status.values())


def test_links_are_signed_per_purpose_and_expire():
    token = rules.sign("k", "rsvp", gathering_id=3, customer_id=9, expires=T)
    assert rules.verify("k", "rsvp", token, now=T - timedelta(days=1)) == (3, 9)
    with pytest.raises(rules.BadLink, match="expired"):
        rules.verify("k", "rsvp", token, now=T + timedelta(seconds=1))
    with pytest.raises(rules.BadLink, match="signature"):
        rules.verify("k", "checkin", token, now=T)
    with pytest.raises(rules.BadLink, match="signature"):
        rules.verify("other", "rsvp", token, now=T)
    body, sig = token.rsplit(".", 1)
    with pytest.raises(rules.BadLink):
        rules.verify("k", "rsvp", body[:-2] + "xx." + sig, now=T)


def test_reminders_fall_due_a_day_and_an_hour_before():
    assert rules.due_reminders(T, now=T - timedelta(days=2)) == []
    assert rules.due_reminders(T, now=T - timedelta(hours=23)) == ["remind-1d"]
    assert rules.due_reminders(T, now=T - timedelta(minutes=30)) == ["remind-1d", "remind-1h"]
    assert rules.due_reminders(T, now=T) == []


def test_check_reads_naive_times_in_the_event_time_zone():
    data = rules.check(
        rules.GatheringInput(
            title=" Evening ",
            starts_at=datetime(2026, 7, 1, 19, 0),
            ends_at=datetime(2026, 7, 1, 21, 0),
            timezone="Europe/Paris",
            place="Shop",
        )
    )
    assert data.title == "Evening"
    assert data.starts_at.astimezone(UTC) == datetime(2026, 7, 1, 17, 0, tzinfo=UTC)
    for bad, message in [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"ends_at": datetime(2026, 7, 1, 18, 0)}, "after"),
        ({"place": None}, "online_url or a place"),
        ({"capacity": 0}, "capacity"),
        ({"online_url": "javascript:alert(1)"}, "http"),
    ]:
        values = dict(
            title="E",
            starts_at=datetime(2026, 7, 1, 19, 0),
            ends_at=datetime(2026, 7, 1, 21, 0),
            timezone="Europe/Paris",
            place="Shop",
        )
        with pytest.raises(InvalidInput, match=message):
            rules.check(rules.GatheringInput(**(values | bad)))


def test_the_ics_parses_back_in_the_event_time_zone():
    raw = rules.ics(
        uid="gathering-1@patron",
        title="Tasting, with friends",
        description="Line one\nline two",
        starts_at=T,
        ends_at=T + timedelta(hours=2),
        tz="Europe/Paris",
        location="12 rue X, Paris",
        url="https://meet.example/1",
        organizer="shop@example.com",
        stamp=T - timedelta(days=5),
    )
    cal = icalendar.Calendar.from_ical(raw)
    (event,) = cal.walk("VEVENT")
    assert str(event["summary"]) == "Tasting, with friends"
    assert str(event["description"]) == "Line one\nline two"
    start = event.decoded("dtstart")
    assert start == T and str(start.tzinfo) == "Europe/Paris" and start.hour == 18
    assert event.decoded("dtend") == T + timedelta(hours=2)
    assert str(event["location"]) == "12 rue X, Paris" and str(event["uid"]) == "gathering-1@patron"
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_attendance_csv_reads_email_or_external_id():
    emails, ids = rules.attendance_rows("\ufeffName,Email\nAda,ADA@x.com\nBob,\n")
    assert (emails, ids) == (["ada@x.com"], [])
    assert rules.attendance_rows("external_id\nc1\nc2\n") == ([], ["c1", "c2"])
    with pytest.raises(InvalidInput, match="email"):
        rules.attendance_rows("name\nAda\n")


def test_the_check_in_qr_is_an_svg():
    svg = rules.qr_svg("https://shop.example/g/checkin/abc")
    assert svg.startswith("<?xml") and "<svg" in svg and "path" in svg
    assert rules.qr_png("https://shop.example/g/checkin/abc").startswith(b"\x89PNG")
