"""Commands of surveys: `patron surveys list|create|send|results`."""

from __future__ import annotations

import json

import typer

from patron.db import transaction, utcnow
from patron.runtime import fail, open_runtime, run_cli
from patron.surveys import results, service

surveys_app = typer.Typer(
    help="Surveys: NPS, CSAT, CES and choice questions.", no_args_is_help=True
)
DEFAULT_QUESTIONS = (
    '[{"type": "nps"}, {"type": "text", "prompt": "What is the main reason for your score?"}]'
)


@surveys_app.command("list")
def list_command() -> None:
    """List surveys with their answers and NPS."""
    runtime = open_runtime()
    with transaction(runtime.sessions) as s:
        for survey in service.list_surveys(session=s):
            row = results.summary(s, survey_id=survey.id)
            nps = "–" if row["nps"] is None else f"{row['nps']:+.1f}"
            typer.echo(f"{survey.id}\t{survey.name}\t{survey.state}\t{row['answers']}\t{nps}")


@surveys_app.command("create")
def create_command(
    name: str,
    questions: str = typer.Option(DEFAULT_QUESTIONS, help="The questions as JSON."),
) -> None:
    """Create a survey (an NPS question and a follow-up by default)."""
    try:
        parsed = json.loads(questions)
    except ValueError:
        raise fail("--questions is not valid JSON", 2)
    runtime = open_runtime()

    def create():
        with transaction(runtime.sessions) as s:
            return service.create_survey(session=s, name=name, questions=parsed, now=utcnow()).id

    typer.echo(f"survey {run_cli(create)} created")


@surveys_app.command("send")
def send_command(
    survey_id: int,
    segment: int = typer.Option(..., "--segment", help="Ask this segment's members."),
) -> None:
    """Email the survey to a segment's members (the recontact limit applies)."""
    runtime = open_runtime()

    def send():
        with transaction(runtime.sessions) as s:
            return service.ask_segment(
                session=s, survey_id=survey_id, segment_id=segment, now=utcnow()
            )

    out = run_cli(send)
    typer.echo(f"asked {out['asked']}, skipped {out['skipped']} (asked a survey lately)")


@surveys_app.command("results")
def results_command(survey_id: int) -> None:
    """NPS overall and per month, as JSON."""
    runtime = open_runtime()

    def read():
        with transaction(runtime.sessions) as s:
            service.get_survey(session=s, survey_id=survey_id)
            return {
                "summary": results.summary(s, survey_id=survey_id),
                "months": results.over_time(s, survey_id=survey_id),
            }

    typer.echo(json.dumps(run_cli(read), default=str, indent=2))


def register(root: typer.Typer) -> None:
    """Add `patron surveys` to the root CLI."""
    root.add_typer(surveys_app, name="surveys")
