"""Manifest of journeys: definitions, versions, enrolments, trigger intake and the step engine.

Extension point `journeys.steps`: capabilities contribute `steps.StepType`s (loyalty's
give_points, issue_coupon).
"""

from pathlib import Path

from patron.config import Setting
from patron.journeys import (
    api,
    cli,
    effects,
    engine,
    intake,
    notify_views,
    playbooks_api,
    report,
    schedule,
    tables,
    views,
)
from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule

manifest = Manifest(
    name="journeys",
    # Playbooks first: /api/journeys/playbooks is not a journey id.
    routers=(playbooks_api.router, notify_views.router, api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    # Large batches: a refresh appends a segment.entered per new member, enrolled set-based.
    consumers=(Consumer(intake.CONSUMER, intake.EVENT_TYPES, intake.on_events, batch=5000),),
    jobs=(
        JobHandler(engine.STEPS_JOB, engine.steps_job, queue="default", outside=True),
        JobHandler(schedule.SCHEDULE_JOB, schedule.schedule_job, queue="default"),
        JobHandler(effects.WEBHOOK_JOB, effects.webhook_job, queue="default", outside=True),
    ),
    schedules=(
        # The safety net that runs due steps every minute (enrolment and wake-ups wake it).
        Schedule(engine.STEPS_JOB, lambda settings: 1, queue="default"),
        # Date, inactivity and recurring triggers; re-runs of an occurrence enrol nobody twice.
        Schedule(schedule.SCHEDULE_JOB, lambda settings: schedule.EVERY_MINUTES, queue="default"),
    ),
    settings=(
        Setting(
            effects.SECRET_SETTING,
            "",
            "Standard Webhooks secret (`whsec_` + base64) that signs journeys' webhook steps; "
            "a webhook step fails (and parks its enrolment) while it is empty.",
        ),
        Setting(
            effects.EMAIL_SETTING,
            "",
            "Address that journeys' notify steps with `email` also mail (transactional lane); "
            "empty: notifications are only listed on the dashboard.",
        ),
    ),
    panels=(Panel("journeys", "journeys/panel.html", report.panel_context, order=75),),
    nav=(NavItem("/journeys", "Journeys", order=55),),
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
)
