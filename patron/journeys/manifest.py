"""Manifest of journeys: definitions, versions, enrolments, trigger intake and the step engine.

Extension point `journeys.steps`: capabilities contribute `steps.StepType`s (loyalty's
give_points, issue_coupon).
"""

from patron.journeys import api, cli, engine, intake, tables
from patron.manifest import Consumer, JobHandler, Manifest, Schedule

manifest = Manifest(
    name="journeys",
    routers=(api.router,),
    commands=cli.register,
    tables=(tables,),
    # Large batches: a refresh appends a segment.entered per new member, enrolled set-based.
    consumers=(Consumer(intake.CONSUMER, intake.EVENT_TYPES, intake.on_events, batch=5000),),
    jobs=(JobHandler(engine.STEPS_JOB, engine.steps_job, queue="default", outside=True),),
    # The safety net that runs due steps every minute (enrolment and wake-ups wake it at once).
    schedules=(Schedule(engine.STEPS_JOB, lambda settings: 1, queue="default"),),
)
