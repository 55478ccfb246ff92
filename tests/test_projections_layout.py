"""The read side's rooms: handlers and the projector don't import each other (both use
projections.state), and the projector is given its handlers rather than finding them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PROJECTIONS = Path(__file__).resolve().parents[1] / "projections"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["projector.py", "state.py"])
def test_the_projector_and_its_state_never_import_the_handlers(module: str) -> None:
    assert not any(name.startswith("projections.handlers") for name in imports_of(PROJECTIONS / module))


@pytest.mark.parametrize("path", sorted((PROJECTIONS / "handlers").glob("*.py")), ids=lambda p: p.name)
def test_a_handler_module_never_imports_the_projector(path: Path) -> None:
    assert "projections.projector" not in imports_of(path)


def test_the_projector_must_be_given_its_handlers(tmp_path: Path) -> None:
    from projections.projector import Projector

    with pytest.raises(TypeError, match="handlers"):
        Projector(object(), tmp_path / "p.db")  # type: ignore[arg-type, call-arg]
