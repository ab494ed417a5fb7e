"""Manifest of experiments: tables, the decision job, the global holdout, API, CLI, pages."""

from pathlib import Path

from patron.experiments import api, cli, config, holdout, service, tables, views
from patron.manifest import JobHandler, Manifest, NavItem

manifest = Manifest(
    name="experiments",
    routers=(api.router, views.router),
    commands=cli.register,
    tables=(tables,),
    jobs=(JobHandler(service.DECIDE_JOB, service.decide_job, queue="default"),),
    nav=(NavItem("/experiments", "Experiments", order=59),),
    settings=config.SETTINGS,
    contributes={"messages.holdout": (holdout.held_out,)},
    templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
)
