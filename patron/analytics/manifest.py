"""Manifest of customer intelligence: scores, KPIs, cohorts, CLV, the scheduled refresh.

Extension point `analytics.advocates` (owned here, see `refresh.is_advocate`): providers
`(session=, customer_ids: np.ndarray) -> np.ndarray[bool]` say who is an advocate; the
ambassador lifecycle stage is given to advocates who bought (advocates contributes one).
"""

from pathlib import Path

from patron.analytics import api, cli, context, events, facets, service, tables, views
from patron.manifest import JobHandler, Manifest, NavItem, Panel, Schedule

REFRESH_JOB = "analytics.refresh"

manifest = Manifest(
    name="analytics",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    jobs=(JobHandler(REFRESH_JOB, service.refresh_job, queue="bulk", max_attempts=2),),
    schedules=(
        Schedule(REFRESH_JOB, lambda settings: settings.refresh_interval_minutes, queue="bulk"),
    ),
    nav=(NavItem("/analytics", "Analytics", order=30),),
    panels=(
        Panel(
            "insights",
            "analytics/_insights.html",
            views.insights_panel,
            order=10,
            wants_settings=True,
        ),
    ),
    contributes={
        "messages.context": (context.message_context,),
        "customers.list_facets": (facets.STAGE, facets.RFM),
    },
    templates=Path(__file__).parent / "templates",
)
