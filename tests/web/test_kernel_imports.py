"""The web kernel imports no capability: only other kernel modules."""

from __future__ import annotations

import ast
from pathlib import Path

import patron.web

ALLOWED = {"patron.web", "patron.manifest", "patron.config", "patron.errors", "patron.db"}
ALLOWED |= {"patron.auth", "patron.money", "patron.text"}


def test_web_kernel_imports_only_kernel_modules():
    imported = set()
    for path in Path(patron.web.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
    ours = {m for m in imported if m.startswith("patron")}
    assert ours and all(any(m == a or m.startswith(a + ".") for a in ALLOWED) for m in ours), ours
