"""Dashboard pages of webhooks: create through the form, secret shown once, actions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from patron.app import create_app
from patron.auth import service as auth_service
from patron.db import transaction, utcnow
from patron.webhooks import service
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login
from tests.webhooks.conftest import run_due_jobs


@pytest.fixture
def page(db) -> TestClient:
    """A logged-in dashboard client."""
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
    with TestClient(create_app(db.settings(), engine=db.engine)) as client:
        assert login(client).status_code == 303
        yield client


def test_create_an_endpoint_through_the_form(page, db, receiver):
    listing = page.get("/webhooks")
    assert listing.status_code == 200 and 'href="/webhooks"' in listing.text
    assert 'value="order.completed"' in listing.text and "No endpoints yet" in listing.text
    token = csrf_of(listing.text)
    bad = page.post(
        "/webhooks",
        data={"csrf_token": token, "url": "ftp://nope", "event_types": ["order.completed"]},
    )
    assert bad.status_code == 422 and "must start with http" in bad.text
    assert 'value="ftp://nope"' in bad.text  # the form keeps what was typed
    created = page.post(
        "/webhooks",
        data={
            "csrf_token": token,
            "url": f"{receiver.url}/page",
            "description": "CRM sync",
            "event_types": ["order.completed", "customer.created"],
        },
    )
    assert created.status_code == 200 and 'data-testid="secret"' in created.text
    with transaction(db.sessions) as s:
        [endpoint] = service.list_endpoints(session=s)
        secret = endpoint.secret
        assert endpoint.event_types == ["customer.created", "order.completed"]
    assert secret in created.text
    shown = page.get(f"/webhooks/{endpoint.id}").text
    assert secret not in shown and "enabled" in shown  # the secret is shown only once
    listing = page.get("/webhooks").text
    assert f"{receiver.url}/page" in listing and "CRM sync" in listing


def test_actions_on_an_endpoint(page, db, receiver):
    with transaction(db.sessions) as s:
        endpoint = service.create_endpoint(
            session=s, url=f"{receiver.url}/act", event_types=["order.completed"], now=utcnow()
        )
    base = f"/webhooks/{endpoint.id}"
    token = csrf_of(page.get(base).text)
    assert page.post(f"{base}/test", data={}, follow_redirects=False).status_code == 403
    sent = page.post(f"{base}/test", data={"csrf_token": token})
    assert "Test ping queued" in sent.text
    run_due_jobs(db, utcnow())
    shown = page.get(base).text
    assert "webhook.test" in shown and "succeeded" in shown and " ms" in shown
    [ping] = receiver.requests
    assert ping.headers["webhook-id"] in shown
    disabled = page.post(f"{base}/disable", data={"csrf_token": token}).text
    assert "Endpoint disabled." in disabled and "disabled by a user" in disabled
    assert "disabled" in page.get("/webhooks").text
    assert "Endpoint enabled." in page.post(f"{base}/enable", data={"csrf_token": token}).text
    rotated = page.post(f"{base}/rotate", data={"csrf_token": token}).text
    with transaction(db.sessions) as s:
        assert service.get_endpoint(session=s, endpoint_id=endpoint.id).secret in rotated
        [delivery] = service.list_deliveries(session=s)
    again = page.post(
        f"/webhooks/deliveries/{delivery.id}/redeliver",
        data={"csrf_token": token, "endpoint_id": endpoint.id},
    )
    assert "Redelivery queued." in again.text
    deleted = page.post(f"{base}/delete", data={"csrf_token": token})
    assert "Endpoint deleted." in deleted.text and "No endpoints yet" in deleted.text
    assert page.get(base).status_code == 404
