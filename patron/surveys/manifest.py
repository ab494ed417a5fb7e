"""Manifest of surveys: NPS, CSAT, CES and choice surveys, one-click email answers, results.

Contributes `survey_buttons`/`survey_url` to `messages.context`, the `survey_request` step to
`journeys.steps` and NPS counts to `analytics.nps` (the analytics page's NPS KPI).
"""

from pathlib import Path

from patron.manifest import Manifest, NavItem, Panel
from patron.surveys import (
    api,
    cli,
    context,
    events,
    panel,
    public,
    results,
    settings,
    steps,
    tables,
    views,
)

manifest = Manifest(
    name="surveys",
    routers=(api.router, public.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    nav=(NavItem("/surveys", "Surveys", order=65),),
    panels=(Panel("feedback", "surveys/panel.html", panel.feedback_panel, order=80),),
    settings=settings.SETTINGS,
    contributes={
        "messages.context": (context.message_context,),
        "journeys.steps": (steps.SURVEY_REQUEST,),
        "analytics.nps": (results.nps_counts,),
    },
    templates=Path(__file__).parent / "templates",
)
