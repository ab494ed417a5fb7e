"""`patron demo`: load the demo shop, print how to log in, and serve it."""

from __future__ import annotations

import os
import time

import typer

from patron.config import load_settings
from patron.coupons import demo as coupons_demo
from patron.db import transaction, utcnow
from patron.demo import rules, service
from patron.gatherings import demo as gatherings_demo
from patron.jobs import worker
from patron.journeys import playbooks as journey_playbooks
from patron.messages import demo as messages_demo
from patron.referrals import demo as referrals_demo
from patron.reviews import demo as reviews_demo
from patron.runtime import fail, open_runtime, run_cli
from patron.surveys import demo as surveys_demo

# Demo data of each capability, in an order where later ones may build on earlier ones.
CAPABILITY_DEMOS = (
    messages_demo,
    coupons_demo,
    referrals_demo,
    surveys_demo,
    reviews_demo,
    gatherings_demo,
)

DEMO_EMAIL = "admin@patron.local"


def demo(
    seed: int = typer.Option(42, help="Random seed: the same seed gives the same shop."),
    customers: int = typer.Option(5000, help="Number of customers to generate."),
    database_url: str = typer.Option(None, help="Overrides PATRON_DATABASE_URL."),
    password: str = typer.Option("patron-demo", help="Password of the demo admin."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Load, then exit."),
    host: str = typer.Option(None, help="Overrides PATRON_HOST."),
    port: int = typer.Option(None, help="Overrides PATRON_PORT."),
) -> None:
    """Load a synthetic shop (once), create a demo admin and API keys, then serve."""
    if not 1 <= customers <= 500_000:
        raise fail("--customers must be between 1 and 500000")
    if database_url:
        os.environ["PATRON_DATABASE_URL"] = database_url  # seen by the served app too
    runtime = open_runtime(load_settings())
    now = utcnow()
    run_cli(lambda: _load(runtime, seed=seed, customers=customers, now=now))
    with transaction(runtime.sessions) as session:
        access = run_cli(
            lambda: service.prepare_access(
                session=session, email=DEMO_EMAIL, password=password, now=now
            )
        )
    started = time.perf_counter()
    worker.pump_events(runtime.sessions)  # advocacy credits feed the ambassador stage
    if service.refresh_analytics(sessions=runtime.sessions, now=now):
        worker.drain(runtime.sessions, runtime.settings)  # segments react to the refresh
        typer.echo(f"refreshed customer scores in {time.perf_counter() - started:.1f}s")
    with transaction(runtime.sessions) as session:
        installed = run_cli(lambda: journey_playbooks.install_all(session=session, now=now))
    typer.echo(f"journey playbooks ready, paused: {len(installed)}")
    settings = runtime.settings
    url = f"http://{host or settings.host}:{port or settings.port}"
    _print_access(access, url)
    runtime.engine.dispose()
    if not no_serve:
        import uvicorn

        os.environ.setdefault("PATRON_INPROCESS_WORKER", "true")  # jobs run beside the dashboard
        uvicorn.run(
            "patron.asgi:app",
            host=host or settings.host,
            port=port or settings.port,
            log_level=settings.log_level,
            access_log=False,
        )


def _load(runtime, *, seed: int, customers: int, now) -> None:
    """Generate and load the shop unless the database holds it already."""
    with transaction(runtime.sessions) as session:
        if service.is_loaded(session=session):
            typer.echo("the database holds the demo shop already; not loading it again")
            return
        started = time.perf_counter()
        shop = rules.generate(seed=seed, customers=customers, now=now)
        generated = time.perf_counter()
        summary = service.load_shop(session=session, shop=shop, now=now)
        for capability in CAPABILITY_DEMOS:
            capability.seed_demo(session=session, now=now)
    typer.echo(
        f"generated the shop in {generated - started:.1f}s and loaded it in "
        f"{time.perf_counter() - generated:.1f}s: {summary.customers} customers, "
        f"{summary.products} products, {summary.orders} orders "
        f"({summary.lines} lines), {summary.events} events; demo templates, a past broadcast, "
        "coupons, referrals, an NPS survey, reviews and events (labelled Demo:)"
    )


def _print_access(access: service.DemoAccess, url: str) -> None:
    """Print the dashboard address, login and API keys."""
    note = "" if access.user_created else " (user existed already: password unchanged)"
    typer.echo(
        "\n".join(
            [
                "",
                "  Patron demo",
                f"  Dashboard:  {url}/",
                f"  Log in as:  {access.email}",
                f"  Password:   {access.password}{note}",
                f"  API key (read, write):  {access.read_write_key}",
                f"  Track key (track):      {access.track_key}",
                "  Keys are shown once; each run of `patron demo` replaces them.",
                "",
            ]
        )
    )


def register(app: typer.Typer) -> None:
    """Add the `demo` command."""
    app.command("demo")(demo)
