"""Dashboard pages of surveys: the builder refuses bad questions, a send to a segment, playbooks."""

from __future__ import annotations

from sqlalchemy import func, select

from patron.auth import service as auth_service
from patron.db import transaction
from patron.segments import service as segments
from patron.surveys import links, service
from patron.surveys.tables import Survey, SurveyRequest
from tests import factories
from tests.dashboard.conftest import EMAIL, PASSWORD, csrf_of, login
from tests.surveys.conftest import QUESTIONS, client, person

EVERYONE = {"type": "attribute", "key": "vip", "op": "eq", "value": True}


def test_builder_send_to_a_segment_and_playbooks(sqlite_db):
    db = sqlite_db
    with transaction(db.sessions) as s:
        auth_service.create_user(session=s, email=EMAIL, password=PASSWORD, now=factories.T0)
        people = [person(s, n) for n in (1, 2)]
        for c in people:
            c.attributes = {"vip": True}
        nps = service.create_survey(session=s, name="NPS", questions=QUESTIONS, now=factories.T0)
        slot = links.Slot(nps.id, people[0].id, None, 0)
        service.answer(
            session=s,
            slot=slot,
            answers={"q1": 10, "reason": "Kind staff"},
            channel="link",
            now=factories.T0,
        )
        segment = segments.create_segment(
            session=s, name="VIP", rules_json=EVERYONE, now=factories.T0
        )
        segments.refresh_segment(session=s, segment_id=segment.id, now=factories.T0)
    with client(db) as page:
        assert login(page).status_code == 303
        token = csrf_of(page.get("/surveys").text)
        bad = page.post(
            "/surveys",
            data={
                "csrf_token": token,
                "name": "X",
                "questions": '[{"type": "text", "prompt": "Why?"}]',
            },
        )
        assert bad.status_code == 422 and "first question must be scored" in bad.text
        form = {
            "csrf_token": token,
            "name": "CSAT",
            "kind": "csat",
            "reason": "Why?",
            "choice_prompt": "What did you buy?",
            "choices": "tea, mugs",
            "choice_type": "multiple",
        }
        bad_choices = page.post("/surveys", data={**form, "choices": "tea"})
        assert bad_choices.status_code == 422 and "2 to 20 distinct choices" in bad_choices.text
        made = page.post("/surveys", data=form, follow_redirects=False)
        assert made.status_code == 303
        results = page.get(made.headers["location"])
        assert results.status_code == 200 and "Average –" in results.text
        survey_path = made.headers["location"]
        for _ in range(2):  # the second send skips everyone: asked within the limit
            page.post(
                f"{survey_path}/send", data={"csrf_token": token, "segment_id": str(segment.id)}
            )
        shown = page.get(f"/surveys/{nps.id}").text
        assert "NPS +100.0" in shown and 'data-testid="nps-chart"' in shown
        assert (
            "Kind staff" in shown
            and "Kind staff" not in page.get(f"/surveys/{nps.id}?category=detractor").text
        )
        panel = page.get(f"/customers/{people[0].id}").text
        assert 'data-testid="feedback-panel"' in panel and "Kind staff" in panel
        installed = page.post(
            "/surveys/playbooks/promoter_ask", data={"csrf_token": token}, follow_redirects=False
        )
        assert installed.headers["location"].startswith("/journeys/")
        assert "installed" in page.get("/surveys").text
    with transaction(db.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SurveyRequest)) == 2
        made = s.scalar(select(Survey).order_by(Survey.id.desc()))
        assert made.name == "CSAT" and [q["type"] for q in made.questions] == [
            "csat",
            "text",
            "multiple",
        ]
        assert made.questions[2]["choices"] == ["tea", "mugs"]
