"""Dashboard pages of gatherings: create through the form, invite a segment, upload attendance,
the guest's QR code and the staff check-in through the signed link."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction
from patron.gatherings import service
from patron.segments import service as segments
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login


def test_event_pages_invite_upload_and_check_in(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        ids = [factories.customer(s, f"c{i}", email=f"c{i}@example.com").id for i in (1, 2)]
        seg = segments.create_segment(
            session=s,
            name="Everyone",
            now=factories.T0,
            rules_json={
                "type": "and",
                "children": [{"type": "profile", "field": "email", "op": "contains", "value": "@"}],
            },
        )
    with TestClient(create_app(db.settings(), engine=db.engine)) as page:
        assert login(page).status_code == 303
        listing = page.get("/gatherings")
        assert listing.status_code == 200 and "No events yet" in listing.text
        form = {
            "csrf_token": csrf_of(listing.text),
            "title": "Summer evening",
            "starts_at": "2030-06-20T19:00",
            "ends_at": "2030-06-20T18:00",
            "timezone": "Europe/Paris",
            "place": "The shop",
            "capacity": "20",
        }
        bad = page.post("/gatherings", data=form)
        assert bad.status_code == 422 and "after starts_at" in bad.text
        assert 'value="Summer evening"' in bad.text
        created = page.post("/gatherings", data=form | {"ends_at": "2030-06-20T22:00"})
        assert created.status_code == 200 and "Summer evening" in created.text
        gid = int(re.search(r"/gatherings/(\d+)/invite", created.text).group(1))
        token = csrf_of(created.text)
        invited = page.post(
            f"/gatherings/{gid}/invite", data={"csrf_token": token, "segment_id": seg.id}
        )
        assert "2 customers invited" in invited.text and "Invited 2" in invited.text
        upload = page.post(
            f"/gatherings/{gid}/attendance",
            data={"csrf_token": token},
            files={"file": ("att.csv", b"email\nc1@example.com\nzed@x.com\n", "text/csv")},
        )
        assert "1 attendees recorded; not found: zed@x.com" in upload.text
        assert "attended 1" in upload.text
        qr = re.search(r'href="http://testserver(/g/qr/[^"]+)"', upload.text).group(1)
        svg = page.get(qr)
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg")
        checkin = qr.replace("/g/qr/", "/g/checkin/").removesuffix(".svg")
        # The second guest's link: check-in through the page the QR code opens.
        links = re.findall(r'href="http://testserver(/g/qr/[^"]+)"', upload.text)
        second = links[1].replace("/g/qr/", "/g/checkin/").removesuffix(".svg")
        door = page.get(second)
        assert door.status_code == 200 and "Check in" in door.text
        done = page.post(second, data={"csrf_token": csrf_of(door.text)})
        assert 'data-testid="checked"' in done.text and "Checked in." in done.text
        again = page.post(checkin, data={"csrf_token": csrf_of(door.text)})
        assert "Already checked in." in again.text
        customer_page = page.get(f"/customers/{ids[0]}")
        assert (
            customer_page.status_code == 200
            and 'data-testid="gatherings-panel"' in customer_page.text
        )
        stranger = TestClient(create_app(db.settings(), engine=db.engine))
        assert stranger.post(
            second, data={"csrf_token": "x"}, follow_redirects=False
        ).status_code in (
            303,
            401,
            403,
        )
    with transaction(db.sessions) as s:
        rows = service.guests(session=s, gathering_id=gid)
        assert sorted((r["customer_id"], r["attendance_source"]) for r in rows) == [
            (ids[0], "csv"),
            (ids[1], "checkin"),
        ]
