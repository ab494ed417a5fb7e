"""Manifest of segments: rule trees, saved segments, memberships."""

from pathlib import Path

from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel
from patron.segments import api, cli, events, reactions, service, shortcuts, tables, views

manifest = Manifest(
    name="segments",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    event_types=events.EVENT_TYPES,
    consumers=(
        Consumer(
            "segments.scores",
            frozenset({"scores.refreshed"}),
            reactions.on_scores_refreshed,
        ),
    ),
    jobs=(
        JobHandler(reactions.RECOMPUTE_JOB, reactions.recompute_job, queue="bulk", outside=True),
    ),
    nav=(NavItem("/segments", "Segments", order=40),),
    panels=(Panel("segments", "segments/_panel.html", views.segments_panel, order=20),),
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
    setup_app=api.install,
    contributes={
        "customers.activity": (service.update_for_customers,),
        "customers.list_facets": (shortcuts.SEGMENT_FACET,),
    },
)
