"""REST API of gatherings and advocates: scopes, 4xx with messages, the whole flow."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from tests import factories


def _key(db, scopes: str) -> dict:
    with transaction(db.sessions) as session:
        key = auth_service.create_key(session=session, name=scopes, scopes=scopes, now=utcnow())[1]
    return {"Authorization": f"Bearer {key}"}


def test_api_flow_and_bad_input(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as s:
        ids = [factories.customer(s, f"c{i}", email=f"c{i}@example.com").id for i in (1, 2, 3)]
    client = TestClient(create_app(db.settings(), engine=db.engine))
    write, read = _key(db, "write"), _key(db, "read")
    body = {
        "title": "Product webinar",
        "starts_at": "2030-01-10T18:00:00",
        "ends_at": "2030-01-10T19:00:00",
        "timezone": "America/New_York",
        "online_url": "https://meet.example/x",
        "capacity": 1,
    }
    assert client.post("/api/gatherings", json=body, headers=read).status_code == 403
    for bad, message in [
        ({"timezone": "Nowhere/City"}, "time zone"),
        ({"online_url": None}, "online_url or a place"),
        ({"ends_at": "2030-01-10T17:00:00"}, "after"),
    ]:
        answer = client.post("/api/gatherings", json=body | bad, headers=write)
        assert answer.status_code == 422 and message in answer.json()["message"]
    created = client.post("/api/gatherings", json=body, headers=write)
    assert created.status_code == 201, created.text
    g = created.json()
    assert g["starts_at"].startswith("2030-01-10T23:00:00") and g["going"] == 0
    base = f"/api/gatherings/{g['id']}"
    assert client.post(f"{base}/invitations", json={}, headers=write).status_code == 422
    invited = client.post(f"{base}/invitations", json={"customer_ids": ids}, headers=write)
    assert invited.json() == {"invited": 3}
    yes = client.post(f"{base}/rsvp", json={"customer_id": ids[0], "answer": "yes"}, headers=write)
    assert yes.json()["status"] == "going"
    full = client.post(f"{base}/rsvp", json={"customer_id": ids[1], "answer": "yes"}, headers=write)
    assert full.json()["status"] == "waitlisted"
    assert (
        client.post(
            f"{base}/rsvp", json={"customer_id": ids[2], "answer": "perhaps"}, headers=write
        ).status_code
        == 422
    )
    stranger = client.post(
        f"{base}/rsvp", json={"customer_id": 999, "answer": "yes"}, headers=write
    )
    assert stranger.status_code == 404
    grown = client.patch(base, json={"capacity": 2}, headers=write).json()
    assert grown["going"] == 2  # the waitlisted guest got the new seat
    assert client.patch(base, json={"capacity": 1}, headers=write).status_code == 422
    csv = client.post(
        f"{base}/attendance.csv",
        content=b"external_id\nc2\nnope\n",
        headers=write | {"content-type": "text/csv"},
    )
    assert csv.json()["recorded"] == 1 and csv.json()["unmatched"] == ["nope"]
    by_email = client.post(f"{base}/attendance", json={"emails": ["C1@example.com"]}, headers=write)
    assert by_email.json() == {"recorded": 1, "unmatched": []}
    counts = client.get(f"{base}/counts", headers=read).json()
    assert (counts["going"], counts["attended"], counts["invited_total"]) == (2, 2, 3)
    guests = client.get(f"{base}/guests?status=going", headers=read).json()
    assert sorted(r["customer_id"] for r in guests) == ids[:2]
    assert client.get("/api/gatherings/999", headers=read).status_code == 404
    assert client.get("/api/advocates/ambassadors", headers=read).json() == []
    score = client.get(f"/api/advocates/customers/{ids[0]}", headers=read).json()
    assert score["score"] == 0 and set(score["parts"]) >= {"promoter", "community"}
    assert client.get("/api/advocates/customers/999", headers=read).status_code == 404
