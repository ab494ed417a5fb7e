"""The pure rules of segments import only the standard library, Pydantic and other rules."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import patron.segments

ROOT = Path(patron.segments.__file__).parent
PURE = [
    ROOT / "rules.py",
    ROOT / "evaluate.py",
    ROOT / "facts.py",
    ROOT / "catalogue.py",
    ROOT / "builtins.py",
    ROOT / "audience.py",
    *sorted((ROOT / "conditions").glob("*.py")),
]
PURE_MODULES = {
    "patron.segments." + p.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
    for p in PURE
}
# patron.errors imports nothing; patron.customers.rules is the customers' rules module; the
# analytics modules named are its pure rules (stage and RFM segment names for the pick lists).
ALLOWED = {
    "pydantic",
    "numpy",
    "scipy",
    "patron.errors",
    "patron.customers.rules",
    "patron.analytics.rfm",
    "patron.analytics.lifecycle",
}


def _imports(path: Path) -> set[str]:
    """Every module a file imports (relative imports resolved are not used here)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _allowed(name: str) -> bool:
    """Standard library, an allowed package, or another pure segments module."""
    top = name.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or any(name == a or name.startswith(a + ".") for a in ALLOWED)
        or name in PURE_MODULES
        or name == "patron.segments.conditions"
    )


def test_pure_modules_import_no_sql_and_no_tables():
    for path in PURE:
        bad = sorted(name for name in _imports(path) if not _allowed(name))
        assert bad == [], f"{path.name} imports {bad}"
