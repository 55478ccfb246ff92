"""The web reads the read model only through projections.queries: no sqlite3, no SQL,
and nothing from the projections' internals (handlers, schema, state)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
# The web's own stores (password hashes; sign-in rate limits shared by workers):
# databases of their own, not the read model.
OWN_STORES = {"credentials.py", "ratelimit_store.py"}
INTERNALS = ("projections.handlers", "projections.schema", "projections.state")
# SQL as this project writes it (keywords in capitals), not "Select a programme".
SQL = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT INTO\b|\bUPDATE \S+ SET\b|\bDELETE FROM\b")


def web_modules() -> list[Path]:
    return sorted(p for p in WEB.rglob("*.py") if p.name not in OWN_STORES or p.parent != WEB)


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", web_modules(), ids=lambda p: str(p.relative_to(WEB)))
def test_a_web_module_reads_only_through_projection_queries(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = imported(tree)
    assert "sqlite3" not in names
    assert [n for n in names if n.startswith(INTERNALS)] == []
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert [s for s in strings if SQL.search(s)] == []
