"""REST API of webhooks: CRUD, secrets shown once, deliveries and attempts, 4xx, scopes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.events import service as events
from patron.events.types import event
from patron.manifest import installed
from patron.webhooks import delivery
from tests.events.test_service import pump_until_caught_up
from tests.webhooks.conftest import run_due_jobs


def _key(db, scopes: str) -> str:
    with transaction(db.sessions) as session:
        return auth_service.create_key(session=session, name="t", scopes=scopes, now=utcnow())[1]


@pytest.fixture
def api(db):
    """An admin client and a read-only client."""
    client = TestClient(create_app(db.settings(), engine=db.engine))
    admin = {"Authorization": f"Bearer {_key(db, 'admin')}"}
    read = {"Authorization": f"Bearer {_key(db, 'read')}"}
    return client, admin, read


def test_endpoint_crud(api):
    client, admin, read = api
    created = client.post(
        "/api/webhooks/endpoints",
        json={"url": "https://example.com/h", "event_types": ["order.completed"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    endpoint_id = body["id"]
    got = client.get(f"/api/webhooks/endpoints/{endpoint_id}", headers=read).json()
    assert "secret" not in got and got["event_types"] == ["order.completed"]
    listed = client.get("/api/webhooks/endpoints", headers=read).json()
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]
    changed = client.patch(
        f"/api/webhooks/endpoints/{endpoint_id}",
        json={"event_types": ["order.refunded", "customer.created"], "enabled": False},
        headers=admin,
    ).json()
    assert changed["event_types"] == ["customer.created", "order.refunded"]
    assert changed["enabled"] is False and changed["disabled_reason"] == "disabled by a user"
    enabled = client.patch(
        f"/api/webhooks/endpoints/{endpoint_id}", json={"enabled": True}, headers=admin
    ).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    rotated = client.post(f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret", headers=admin)
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != body["secret"]
    assert client.delete(f"/api/webhooks/endpoints/{endpoint_id}", headers=admin).status_code == 204
    assert client.get(f"/api/webhooks/endpoints/{endpoint_id}", headers=read).status_code == 404


@pytest.mark.parametrize(
    "body, message",
    [
        ({"url": "ftp://example.com", "event_types": ["order.completed"]}, "http"),
        ({"url": "https://u:p@example.com", "event_types": ["order.completed"]}, "credentials"),
        ({"url": "https://example.com", "event_types": ["order.shipped"]}, "order.shipped"),
        ({"url": "https://example.com", "event_types": []}, "at least one"),
    ],
)
def test_bad_input_is_422_with_a_message(api, body, message):
    client, admin, _ = api
    answer = client.post("/api/webhooks/endpoints", json=body, headers=admin)
    assert answer.status_code == 422 and message in answer.json()["message"]


def test_unknown_ids_are_404(api):
    client, admin, read = api
    assert client.get("/api/webhooks/endpoints/999", headers=read).status_code == 404
    assert client.patch("/api/webhooks/endpoints/999", json={}, headers=admin).status_code == 404
    assert client.delete("/api/webhooks/endpoints/999", headers=admin).status_code == 404
    assert client.post("/api/webhooks/endpoints/999/test", headers=admin).status_code == 404
    assert client.get("/api/webhooks/deliveries/999/attempts", headers=read).status_code == 404
    assert client.post("/api/webhooks/deliveries/999/redeliver", headers=admin).status_code == 404
    assert client.get("/api/webhooks/deliveries?endpoint_id=999", headers=read).status_code == 404
    bad_state = client.get("/api/webhooks/deliveries?state=lost", headers=read)
    assert bad_state.status_code == 422 and "state" in bad_state.json()["message"]
    assert client.get("/api/webhooks/deliveries?cursor=%%%", headers=read).status_code == 422


def test_scopes(api):
    client, admin, read = api
    body = {"url": "https://example.com/h", "event_types": ["order.completed"]}
    assert client.post("/api/webhooks/endpoints", json=body).status_code == 401
    assert client.post("/api/webhooks/endpoints", json=body, headers=read).status_code == 403
    endpoint_id = client.post("/api/webhooks/endpoints", json=body, headers=admin).json()["id"]
    for method, path in [
        ("patch", f"/api/webhooks/endpoints/{endpoint_id}"),
        ("delete", f"/api/webhooks/endpoints/{endpoint_id}"),
        ("post", f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret"),
        ("post", f"/api/webhooks/endpoints/{endpoint_id}/test"),
        ("post", "/api/webhooks/deliveries/1/redeliver"),
    ]:
        kwargs = {"json": {}} if method == "patch" else {}
        assert getattr(client, method)(path, headers=read, **kwargs).status_code == 403, path
    assert client.get("/api/webhooks/event-types", headers=read).status_code == 200


def test_deliveries_attempts_and_redeliver(db, api, receiver):
    client, admin, read = api
    endpoint = client.post(
        "/api/webhooks/endpoints",
        json={"url": f"{receiver.url}/api", "event_types": ["order.completed"]},
        headers=admin,
    ).json()
    now = utcnow()
    with transaction(db.sessions) as s:
        events.append(s, [event("order.completed", i, n=i) for i in range(3)], now=now)
    consumer = installed().consumers()[delivery.CONSUMER]
    pump_until_caught_up(db, {consumer.name: consumer}, now=now)
    ping = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/test", headers=admin)
    assert ping.status_code == 202 and ping.json()["event_type"] == "webhook.test"
    run_due_jobs(db, utcnow())
    first = client.get(
        f"/api/webhooks/deliveries?endpoint_id={endpoint['id']}&limit=2", headers=read
    ).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        f"/api/webhooks/deliveries?endpoint_id={endpoint['id']}&cursor={first['next_cursor']}",
        headers=read,
    ).json()
    items = first["items"] + rest["items"]
    assert rest["next_cursor"] is None and len(items) == 4
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    assert {i["state"] for i in items} == {"succeeded"}
    succeeded = client.get("/api/webhooks/deliveries?state=succeeded", headers=read).json()
    assert len(succeeded["items"]) == 4
    target = items[-1]
    attempts = client.get(f"/api/webhooks/deliveries/{target['id']}/attempts", headers=read)
    assert [a["status_code"] for a in attempts.json()] == [200]
    again = client.post(f"/api/webhooks/deliveries/{target['id']}/redeliver", headers=admin)
    assert again.status_code == 202 and again.json()["state"] == "pending"
    run_due_jobs(db, utcnow())
    assert receiver.ids().count(target["delivery_id"]) == 2
    attempts = client.get(f"/api/webhooks/deliveries/{target['id']}/attempts", headers=read)
    assert len(attempts.json()) == 2
