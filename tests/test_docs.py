"""The README documents every setting and every CLI command."""

from __future__ import annotations

from pathlib import Path

import typer

from patron.capabilities import REGISTRY
from patron.cli import app
from patron.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _command_names(typer_app: typer.Typer, prefix: str = "") -> list[str]:
    """Every command path of a Typer app, e.g. 'keys create'."""
    names = []
    for command in typer_app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        names.append(f"{prefix}{name}")
    for group in typer_app.registered_groups:
        names += _command_names(group.typer_instance, f"{prefix}{group.name} ")
    return names


def test_every_setting_is_in_the_readme_table():
    every = [*SETTINGS, *REGISTRY.settings()]
    missing = [s.name for s in every if f"`{s.name}`" not in README]
    assert missing == []


def test_every_cli_command_is_in_the_readme():
    missing = [n for n in _command_names(app) if f"patron {n}" not in README]
    assert missing == []


def test_readme_gives_the_two_setup_commands():
    assert "make demo" in README and "make test" in README
