"""The import contracts hold on the project, and an import that breaks one makes them fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PURE = "Rules are pure: no database, web, CLI or service code"
TABLES = "No capability imports another capability's tables"
KERNEL = "The kernel imports no capability"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run lint-imports with root's pyproject.toml on the patron package found under root."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _status(output: str, name: str) -> str:
    """Whether the named contract was kept, from lint-imports' summary."""
    summary = output.replace(" \n", " ")
    start = summary.index(name)
    kept, broken = summary.find("KEPT", start), summary.find("BROKEN", start)
    if broken == -1 or (kept != -1 and kept < broken):
        return "KEPT"
    return "BROKEN"


@pytest.fixture(scope="module")
def copy_of_project(tmp_path_factory) -> Path:
    """A pristine copy of the package and its contracts, to break one import at a time."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(
        ROOT / "patron",
        root / "patron",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_project_keeps_every_contract():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert {_status(result.stdout, name) for name in (PURE, TABLES, KERNEL)} == {"KEPT"}


@pytest.mark.parametrize(
    ("module", "line", "broken", "chain"),
    [
        (
            "tracking/rules.py",
            "from patron.customers import tables",
            {PURE, TABLES},
            "patron.tracking.rules -> patron.customers.tables",
        ),
        (
            "customers/rules.py",
            "import sqlalchemy",
            {PURE},
            "patron.customers.rules -> sqlalchemy",
        ),
        (
            "analytics/rfm.py",
            "from patron.analytics import service",
            {PURE},
            "patron.analytics.rfm -> patron.analytics.service",
        ),
        (
            "dashboard/overview.py",
            "from patron.customers.tables import Customer",
            {TABLES},
            "patron.dashboard.overview -> patron.customers.tables",
        ),
        (
            "events/service.py",
            "from patron.segments import service",
            {KERNEL},
            "patron.events.service -> patron.segments.service",
        ),
        (
            "config.py",
            "from patron.customers import read",
            {KERNEL},
            "patron.config -> patron.customers.read",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(copy_of_project, module, line, broken, chain):
    path = copy_of_project / "patron" / module
    original = path.read_text()
    path.write_text(f"{original}\n{line}  # noqa\n")
    try:
        result = _lint_imports(copy_of_project)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    statuses = {name: _status(result.stdout, name) for name in (PURE, TABLES, KERNEL)}
    assert {name for name, status in statuses.items() if status == "BROKEN"} == broken
    assert chain in result.stdout
