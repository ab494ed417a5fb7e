"""The template editor in a real Chromium against a real server: live preview, customer search,
errors, save."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction
from patron.messages.tables import Template, TemplateVariant
from patron.migrate import upgrade
from tests import factories
from tests.live import log_in

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"


@pytest.fixture
def database(tmp_path) -> str:
    """A migrated SQLite file with a user and two customers, the second with two orders."""
    url = f"sqlite:///{tmp_path / 'editor.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        factories.customer(s, "c1", email="ada@example.com", first_name="Ada")
        factories.customer(s, "c2", email="zoe@example.com", first_name="Zoe", last_name="Zebra")
        for n in range(2):
            factories.order(s, f"o2-{n}", "c2", days=-n)
    engine.dispose()
    return url


def test_preview_follows_the_fields_and_the_chosen_customer_then_saves(
    database, start_server, page
):
    from playwright.sync_api import expect

    server = start_server(database)
    log_in(page, f"{server}/messages/templates/new", EMAIL, PASSWORD)
    page.wait_for_selector("[data-testid=preview]")
    page.fill("[data-testid=name]", "Welcome")
    page.fill("[data-testid=subject-0]", "Welcome, {{ customer.first_name }}")
    page.fill(
        "[data-testid=body-0]",
        "<p>Hi {{ customer.first_name }}, you have {{ orders|length }} orders.</p>",
    )
    expect(page.locator("[data-testid=preview-subject]")).to_have_text("Welcome, Ada")
    for frame in ("frame-desktop", "frame-phone"):
        body = page.frame_locator(f"[data-testid={frame}]").locator("body")
        expect(body).to_contain_text("Hi Ada, you have 0 orders.")
        expect(body).to_contain_text("Unsubscribe")  # the default layout's footer
    assert page.locator("[data-testid=frame-phone]").get_attribute("sandbox") == ""
    widths = page.evaluate(
        "['frame-desktop', 'frame-phone'].map(id => document.getElementById(id).offsetWidth)"
    )
    assert widths[0] > widths[1] >= 375
    page.fill("[data-testid=customer-search]", "Zebra")
    expect(page.locator("[data-testid=preview-subject]")).to_have_text("Welcome, Zoe")
    desktop = page.frame_locator("[data-testid=frame-desktop]").locator("body")
    expect(desktop).to_contain_text("Hi Zoe, you have 2 orders.")
    page.fill("[data-testid=body-0]", "<p>{{ customer.frist_name }}</p>")
    expect(page.locator("[data-testid=preview-error]")).to_contain_text("frist_name")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=error-v0_body]")).to_contain_text("frist_name")
    page.fill("[data-testid=body-0]", "<p>Hello {{ customer.first_name }}</p>")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r".*/messages/templates/\d+$"))
    expect(page.locator(".flash-success")).to_contain_text("saved")
    expect(page.locator("[data-testid=preview-subject]")).to_have_text("Welcome, Ada")
    engine = make_engine(database)
    with transaction(make_sessionmaker(engine)) as s:
        template = s.scalar(select(Template).where(Template.name == "Welcome"))
        [variant] = s.scalars(
            select(TemplateVariant).where(TemplateVariant.template_id == template.id)
        ).all()
        assert variant.body == "<p>Hello {{ customer.first_name }}</p>"
        assert template.layout_id is not None
    engine.dispose()
