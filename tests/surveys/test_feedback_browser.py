"""Surveys and reviews in a real Chromium against a real server: the hosted survey page at
phone width after a one-click answer, and review moderation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from patron.auth import service as auth_service
from patron.db import make_engine, make_sessionmaker, transaction, utcnow
from patron.migrate import upgrade
from patron.reviews import service as reviews
from patron.reviews.tables import Review
from patron.surveys import links, service
from patron.surveys.tables import SurveyResponse
from tests import factories
from tests.live import SECRET
from tests.surveys.conftest import QUESTIONS

EMAIL, PASSWORD = "marketer@example.com", "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def database(tmp_path):
    """A user, customer c1, an NPS survey and one review waiting for moderation."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        c = factories.customer(s, "c1", email="c1@example.com", first_name="Ann")
        survey = service.create_survey(
            session=s, name="Quarterly NPS", questions=QUESTIONS, now=factories.T0
        )
        review = reviews.submit(
            session=s,
            customer_id=c.id,
            sku="MUG",
            rating=5,
            title="Lovely mug",
            body="Keeps tea warm.",
            source="api",
            now=factories.T0,
        )
        ids = (c.id, survey.id, review.id)
    engine.dispose()
    return url, ids


def _rows(url: str):
    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as s:
            return (s.scalar(select(SurveyResponse)), s.scalar(select(Review.state)))
    finally:
        engine.dispose()


def test_survey_page_at_phone_width_and_review_moderation(database, start_server, browser):
    from playwright.sync_api import expect

    url, (customer_id, survey_id, review_id) = database
    server = start_server(url)
    token = links.token(
        SECRET, survey_id=survey_id, customer_id=customer_id, request_id=None, now=utcnow()
    )

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.set_default_timeout(20_000)
    assert page.goto(f"{server}/s/{factories.tampered(token)}/9").status == 400
    page.goto(f"{server}/s/{token}/9")  # the email's button: no login
    expect(page.get_by_test_id("survey")).to_have_attribute("data-state", "saved")
    expect(page.locator("[data-testid=scale] a[aria-current=true]")).to_have_text("9")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("[data-testid=scale] a").first.bounding_box()
    assert box["height"] >= 40  # a thumb-sized target
    page.get_by_label("What is the main reason for your score?").fill("Fast delivery")
    page.get_by_label("delivery").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("survey")).to_have_attribute("data-state", "done")
    expect(page.get_by_test_id("promoter-ask")).to_be_visible()
    phone.close()
    response, state = _rows(url)
    assert (response.score, response.nps_category) == (9, "promoter")
    assert response.answers["reason"] == "Fast delivery" and state == "pending"

    desk = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = desk.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{server}/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.goto(f"{server}/reviews")
    row = page.locator(f"[data-review='{review_id}']")
    expect(row).to_contain_text("Lovely mug")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("moderation")).to_contain_text("No pending reviews")
    desk.close()
    assert _rows(url)[1] == "approved"
