"""Dashboard pages through HTTP: login, CSRF, guards, logout, overview and customer pages."""

from __future__ import annotations

from datetime import timedelta

from patron.customers import service as customers_service
from patron.customers.rules import LineInput, OrderInput
from patron.db import transaction, utcnow
from tests.dashboard.conftest import csrf_of, login


def test_guarded_pages_redirect_to_login_with_the_page_to_return_to(client):
    for path in ("/", "/customers", "/customers/1"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"


def test_wrong_password_shows_the_form_again_with_401(client):
    answer = login(client, password="not the password")
    assert answer.status_code == 401
    assert "wrong email or password" in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_without_csrf_token_is_refused(client):
    client.get("/login")
    answer = client.post(
        "/login", data={"email": "owner@example.com", "password": "correct horse battery"}
    )
    assert answer.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_then_logout(client):
    answer = login(client)
    assert (answer.status_code, answer.headers["location"]) == (303, "/")
    page = client.get("/")
    assert page.status_code == 200 and "Overview" in page.text
    assert client.post("/logout", data={}).status_code == 403  # no CSRF token
    assert client.get("/", follow_redirects=False).status_code == 200
    answer = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/login")
    assert client.get("/", follow_redirects=False).status_code == 303


def _order(session, external_id: str, customer: str, cents: int, days_ago: float):
    """Record an order placed days_ago before now."""
    customers_service.record_order(
        session=session,
        now=utcnow(),
        order=OrderInput(
            external_id=external_id,
            customer_external_id=customer,
            total_cents=cents,
            placed_at=utcnow() - timedelta(days=days_ago),
            lines=(LineInput(sku="MUG-1", name="Blue Mug", unit_price_cents=cents),),
        ),
    )


def test_overview_shows_the_figures_of_the_range(client, db):
    with transaction(db.sessions) as s:
        _order(s, "o1", "ada", 1250, days_ago=2)
        _order(s, "o2", "ada", 750, days_ago=1)
        _order(s, "o3", "bob", 4000, days_ago=200)
        _order(s, "o4", "cy", 1000, days_ago=5)
    login(client)
    page = client.get("/?preset=30").text
    assert "$30.00" in page  # revenue of the last 30 days
    assert "50.0%" in page  # of ada and cy, ada bought again
    assert "<svg" in page and "<script" not in page  # static chart, no script at all
    assert "kozea.github.io" not in page
    today = utcnow().date()
    wide = client.get("/", params={"from": str(today - timedelta(days=300)), "to": str(today)})
    assert "$70.00" in wide.text


def test_overview_with_a_bad_range_explains_and_falls_back(client):
    login(client)
    page = client.get("/?from=2025-13-01")
    assert page.status_code == 200
    assert "from must be a date" in page.text and "last 30 days" in page.text


def test_customer_list_searches_and_pages(client, db):
    with transaction(db.sessions) as s:
        for n in range(60):
            customers_service.upsert_customer(
                session=s,
                external_id=f"c{n}",
                now=utcnow(),
                profile={
                    "email": f"person{n}@example.com",
                    "first_name": f"Person{n}",
                    "last_name": "Lovelace" if n == 7 else "Smith",
                },
            )
    login(client)
    found = client.get("/customers", params={"q": "lovelace"}).text
    assert "person7@example.com" in found and "person8@example.com" not in found
    first = client.get("/customers").text
    assert "person59@example.com" in first and 'rel="next"' in first
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_link.replace("&amp;", "&")).text
    assert "person0@example.com" in second and "person59@example.com" not in second
    assert 'rel="next"' not in second
    assert "No customer matches" in client.get("/customers?q=%25nobody%25").text


def test_customer_page_shows_profile_consent_orders_and_events(client, db):
    with transaction(db.sessions) as s:
        customer = customers_service.upsert_customer(
            session=s,
            external_id="ada",
            now=utcnow(),
            profile={
                "email": "ada@example.com",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "consent": {"email": "unsubscribed"},
            },
        )
        _order(s, "order-77", "ada", 2599, days_ago=3)
        customers_service.record_event(
            session=s,
            message_id="m1",
            type_="track",
            name="Product Viewed",
            customer_id=customer.id,
            anonymous_id=None,
            properties={"sku": "MUG-1"},
            context={},
            occurred_at=utcnow(),
            received_at=utcnow(),
        )
        customer_id = customer.id
    login(client)
    page = client.get(f"/customers/{customer_id}").text
    for text in (
        "Ada Lovelace",
        "ada@example.com",
        "unsubscribed",
        "order-77",
        "$25.99",
        "1 × Blue Mug",
        "Product Viewed",
    ):
        assert text in page
    missing = client.get(f"/customers/{customer_id + 1000}")
    assert missing.status_code == 404 and "does not exist" in missing.text
