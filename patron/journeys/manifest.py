"""Manifest of journeys: definitions, versions, enrolments, trigger intake and the step engine.

Extension point `journeys.steps`: capabilities contribute `steps.StepType`s (loyalty's
give_points, issue_coupon).
"""

from pathlib import Path

from patron.journeys import api, cli, engine, intake, report, tables, views
from patron.manifest import Consumer, JobHandler, Manifest, NavItem, Panel, Schedule

manifest = Manifest(
    name="journeys",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    consumers=(Consumer(intake.CONSUMER, intake.EVENT_TYPES, intake.on_events),),
    jobs=(JobHandler(engine.STEPS_JOB, engine.steps_job, queue="default", outside=True),),
    # The safety net that runs due steps every minute (enrolment and wake-ups wake it at once).
    schedules=(Schedule(engine.STEPS_JOB, lambda settings: 1, queue="default"),),
    panels=(Panel("journeys", "journeys/panel.html", report.panel_context, order=75),),
    nav=(NavItem("/journeys", "Journeys", order=55),),
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
)
