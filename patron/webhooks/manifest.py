"""Manifest of webhooks: endpoints, the fan-out consumer, the delivery job, pages, API, CLI."""

from pathlib import Path

from patron.config import Setting
from patron.manifest import Consumer, JobHandler, Manifest, NavItem
from patron.webhooks import api, cli, delivery, service, tables, views

manifest = Manifest(
    name="webhooks",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    consumers=(
        Consumer(delivery.CONSUMER, delivery.SubscribableTypes(), delivery.fan_out, batch=100),
    ),
    jobs=(JobHandler(service.DELIVER_JOB, delivery.deliver_job, outside=True, max_attempts=10),),
    nav=(NavItem("/webhooks", "Webhooks", order=80),),
    settings=(
        Setting(
            "PATRON_WEBHOOK_TIMEOUT_SECONDS",
            "10",
            "Seconds a webhook POST may take before the attempt counts as failed.",
        ),
        Setting(
            "PATRON_WEBHOOK_DISABLE_AFTER_FAILURES",
            "8",
            "Failed webhook attempts in a row (with the hours below) that disable an endpoint.",
        ),
        Setting(
            "PATRON_WEBHOOK_DISABLE_AFTER_HOURS",
            "24",
            "Hours an endpoint must have been failing (with the attempts above) to be disabled; "
            "a 410 Gone disables at once.",
        ),
    ),
    templates=Path(__file__).parent / "templates",
)
