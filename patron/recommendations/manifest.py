"""Manifest of recommendations: training job and schedule, serving API, context, journey step.

Trains after each analytics refresh (consumer of `scores.refreshed`) and on a schedule;
contributes `recommendations` / `cross_sell` to `messages.context` and the `recommend` step to
`journeys.steps`; keeps recommendation clicks from tracked events.
"""

from pathlib import Path

from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule
from patron.recommendations import (
    api,
    cli,
    clicks,
    config,
    context,
    service,
    steps,
    tables,
    training,
    views,
)

manifest = Manifest(
    name="recommendations",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    consumers=(
        Consumer(
            "recommendations.after_refresh", frozenset({"scores.refreshed"}), service.after_refresh
        ),
        Consumer(clicks.CONSUMER, frozenset({"event.tracked"}), clicks.handle, batch=500),
    ),
    jobs=(
        JobHandler(
            training.TRAIN_JOB, training.train_job, queue="bulk", outside=True, max_attempts=1
        ),
    ),
    schedules=(
        Schedule(training.TRAIN_JOB, config.interval_minutes, queue="bulk", max_attempts=1),
    ),
    nav=(NavItem("/recommendations", "Recommendations", order=60),),
    panels=(
        Panel("recommendations", "recommendations/_panel.html", views.customer_panel, order=40),
    ),
    settings=config.SETTINGS,
    contributes={
        "messages.context": (context.message_context,),
        "journeys.steps": (steps.STEP,),
    },
    templates=Path(__file__).parent / "templates",
)
