"""Manifest of segments: rule trees, saved segments, memberships.

Extension point `segments.conditions`: capabilities contribute
`conditions.ContributedCondition`s (a pure condition type and its SQL compiler; loyalty adds
"loyalty"), read here into the condition registry.
"""

from pathlib import Path

from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, contributions
from patron.segments import api, cli, events, reactions, service, shortcuts, tables, views
from patron.segments.conditions import registry

registry.add_source(lambda: contributions(registry.POINT))

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
