"""/docs and /redoc work without internet: local assets only, under a 'self'-only policy."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from patron.db import make_engine, make_sessionmaker, transaction
from patron.migrate import upgrade
from patron.web.headers import headers_for
from tests import factories

ASSET = re.compile(r'(?:src|href)="([^"]+)"')
# A script, style, font or fetch the policy refused. ReDoc's footer logo is an <img> from its
# CDN: refused (img-src 'self' data:), cosmetic, and so not counted here.
BLOCKED = re.compile(r"violates .*(script|style|font|connect|worker|default)-src")
TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_reference_only_local_assets_that_answer(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = ASSET.findall(page.text)
    assert any(a.endswith(".js") for a in assets), page.text
    assert "<script>" not in page.text  # no inline script: the policy allows 'self' only
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        kind = next(v for k, v in TYPES.items() if url.endswith(k))
        assert kind in answer.headers["content-type"], (url, answer.headers["content-type"])
        assert len(answer.content) > 100, url
    assert "/openapi.json" in page.text


def test_docs_policy_allows_no_other_origin(client):
    for path in ("/docs", "/redoc", "/static/vendor/redoc/redoc.standalone.js"):
        policy = client.get(path).headers["content-security-policy"]
        assert "http" not in policy and "jsdelivr" not in policy, policy
        assert "script-src 'self';" in policy, policy
    assert "cdn" not in " ".join(headers_for("/docs").values())


def test_licences_are_vendored_beside_the_bundles(client):
    swagger = client.get("/static/vendor/swagger-ui/LICENSE")
    assert swagger.status_code == 200 and "Apache License" in swagger.text
    licence = client.get("/static/vendor/redoc/LICENSE")
    assert licence.status_code == 200 and "MIT License" in licence.text
    notices = client.get("/static/vendor/redoc/redoc.standalone.js.LICENSE.txt")
    assert notices.status_code == 200


@pytest.fixture
def server(tmp_path, start_server) -> str:
    """A real server on a migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'docs.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        factories.customer(s, "c1")
    engine.dispose()
    return start_server(url)


def _offline(page, base: str) -> tuple[list[str], list[str]]:
    """Abort every request not to the server; returns (aborted URLs, CSP console errors)."""
    host = urlsplit(base).netloc
    aborted, refused = [], []

    def only_local(route):
        if urlsplit(route.request.url).netloc == host:
            return route.continue_()
        aborted.append(route.request.url)
        return route.abort()

    page.route("**/*", only_local)
    page.on("console", lambda m: refused.append(m.text) if BLOCKED.search(m.text) else None)
    return aborted, refused


def test_docs_render_the_operations_with_the_network_limited_to_the_server(server, page):
    from playwright.sync_api import expect

    aborted, refused = _offline(page, server)
    for path, operation in (
        ("/docs", ".opblock-summary-path"),
        ("/redoc", "[data-section-id^='tag/customers']"),
    ):
        page.goto(f"{server}{path}")
        expect(page.get_by_text("/api/customers", exact=True).first).to_be_visible(timeout=30_000)
        assert page.locator(operation).count() > 0, path
    assert aborted == [] and refused == []
