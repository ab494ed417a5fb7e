"""The web kernel through HTTP: error pages, the body limit, security headers."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from patron.app import create_app
from tests.dashboard.conftest import login

HEADERS = (
    "content-security-policy",
    "x-frame-options",
    "referrer-policy",
    "x-content-type-options",
)
BROKEN = APIRouter()


@BROKEN.get("/api/test-broken")
def broken_api():
    """A route that fails."""
    raise RuntimeError("boom in the API")


@BROKEN.get("/test-broken")
def broken_page():
    """A page that fails."""
    raise RuntimeError("boom on a page")


@pytest.fixture
def broken(db):
    """An app with a test-only router whose routes raise, without re-raising in the client."""
    app = create_app(db.settings(), engine=db.engine)
    app.include_router(BROKEN)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_unknown_page_is_an_html_404_with_the_layout(client):
    answer = client.get("/no/such/page")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Not found" in answer.text and "/static/patron.css" in answer.text


def test_unknown_api_url_is_a_json_404(client):
    for path in ("/api/no-such-thing", "/v1/no-such-thing"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.json()["error"] == "not_found" and answer.json()["message"]


def test_a_route_that_raises_answers_500_json_on_the_api_and_html_on_pages(broken, caplog):
    api = broken.get("/api/test-broken")
    assert api.status_code == 500
    assert api.json()["error"] == "internal" and api.json()["message"]
    assert "boom" not in api.text
    page = broken.get("/test-broken")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "boom" not in page.text
    assert all(name in page.headers for name in HEADERS)
    assert "boom on a page" in caplog.text  # logged with its traceback


def _big_posts(client, path):
    """A declared and a streamed 2 MiB form post to path."""
    big = b"email=" + b"x" * (2 * 1024 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def streamed():
        for _ in range(24):
            yield b"x" * 100_000

    return client.post(path, content=big, headers=form), client.post(
        path, content=streamed(), headers=form
    )


def test_a_2_mib_post_to_a_guarded_page_is_refused_401_without_login_and_413_with_one(client):
    for answer in _big_posts(client, "/segments/preview"):
        assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    login(client)
    for answer in _big_posts(client, "/segments/preview"):
        assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"


@pytest.mark.parametrize("path", ["/login"])
def test_a_2_mib_form_post_without_login_is_refused_413(client, path):
    big = b"email=" + b"x" * (2 * 1024 * 1024)
    answer = client.post(
        path, content=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 413 and answer.json()["error"] == "payload_too_large"

    def streamed():
        for _ in range(24):
            yield b"x" * 100_000

    answer = client.post(
        path, content=streamed(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 413


def test_tracking_keeps_its_own_limits_and_error_format(client):
    answer = client.post("/v1/batch", content=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert answer.status_code == 400 and answer.json()["code"] == "payload_too_large"


def test_security_headers_on_a_page_an_api_answer_and_an_asset(client):
    for path in ("/login", "/api/customers", "/static/patron.css", "/static/segments.js"):
        answer = client.get(path)
        assert answer.status_code in (200, 401), path
        for name in HEADERS:
            assert name in answer.headers, (path, name)
    page = client.get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self';" in page.headers["content-security-policy"]


def test_pages_carry_no_inline_script(client):
    login(client)
    for path in ("/", "/customers", "/segments", "/segments/new", "/analytics"):
        html = client.get(path).text
        assert " onsubmit=" not in html and " onclick=" not in html, path
        scripts = html.count("<script")
        external = html.count('<script src="/static/')
        data = html.count('<script type="application/json"')
        assert scripts == external + data, path
