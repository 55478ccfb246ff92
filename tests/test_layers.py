"""The layout stays true: each layer imports only the layers below it, no modules of the
four packages import each other in a circle, and none is over 400 lines (issue 10).

    govledger  (command line, demo, composition root)
    web        (pages)
    projections (read models, reports)
    ledger     (domain, application, event store, import/export)

grimp builds the import graph from the source, lazy imports inside functions included,
so a layer cannot reach upward by importing late either.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

LAYERS = ("govledger", "web", "projections", "ledger")  # highest first
REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 400  # a module a newcomer can read in one sitting


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*LAYERS, cache_dir=None)


def _routes(graph: grimp.ImportGraph, importer: str, imported: str) -> list[str]:
    """Each upward import as 'module:line imports module'."""
    lines = []
    for chain in sorted(graph.find_shortest_chains(importer=importer, imported=imported)):
        first, second = chain[0], chain[1]
        details = graph.get_import_details(importer=first, imported=second)
        line = details[0]["line_number"] if details else "?"
        lines.append(f"{first}:{line} imports {second}" + (f" (-> {chain[-1]})" if len(chain) > 2 else ""))
    return lines


def upward_imports(graph: grimp.ImportGraph) -> list[str]:
    found = []
    for lower_index, lower in enumerate(LAYERS):
        for higher in LAYERS[:lower_index]:
            found += _routes(graph, lower, higher)
    return found


def import_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


def test_no_layer_imports_a_layer_above_it(graph: grimp.ImportGraph) -> None:
    upward = upward_imports(graph)
    assert not upward, "Upward imports:\n" + "\n".join(upward)


def test_no_import_circles(graph: grimp.ImportGraph) -> None:
    circles = import_circles(graph)
    assert not circles, "Import circles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def test_no_module_is_over_400_lines() -> None:
    long = [
        f"{path.relative_to(REPO)}: {lines} lines"
        for layer in LAYERS
        for path in sorted((REPO / layer).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, f"Split these by what users call things (at most {MAX_LINES} lines):\n" + "\n".join(long)


def test_the_checks_catch_what_they_guard() -> None:
    """The same checks on a made-up graph with one upward import and one circle."""
    fake = grimp.ImportGraph()
    for module in ("govledger.cli", "web.app", "projections.handlers", "projections.projector",
                   "ledger.domain"):
        fake.add_module(module)
    for layer in LAYERS:
        fake.add_module(layer)
    fake.add_import(importer="govledger.cli", imported="web.app")  # downward: fine
    fake.add_import(importer="ledger.domain", imported="web.app", line_number=3, line_contents="import web")
    fake.add_import(importer="projections.handlers", imported="projections.projector")
    fake.add_import(importer="projections.projector", imported="projections.handlers")
    assert upward_imports(fake) == ["ledger.domain:3 imports web.app"]
    assert import_circles(fake) == [["projections.handlers", "projections.projector"]]
