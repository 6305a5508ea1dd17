"""No import cycles between dermatrack's modules, and a check that would see one.

The import graph is grimp's (the library ``lint-imports`` builds on): every ``import`` in
every module, those inside functions and under ``TYPE_CHECKING`` included, since each is
a dependency of one module on another. A cycle is a strongly connected component of that
graph with more than one module (Tarjan's algorithm). The layer contracts themselves are
checked by ``lint-imports`` (``[tool.importlinter]`` in pyproject.toml, run by ``make lint``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import grimp
import pytest


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Each group of modules that import one another in a cycle, sorted.

    Tarjan's strongly connected components, iterative so that deep graphs cannot overflow
    the stack; a component of one module is not a cycle.
    """
    modules = set(graph.modules)
    successors = {module: sorted(graph.find_modules_directly_imported_by(module) & modules)
                  for module in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            module, position = work.pop()
            if position == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            following = successors[module]
            if position < len(following):
                work.append((module, position + 1))
                target = following[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return sorted(cycles)


def _cycle_edges(graph: grimp.ImportGraph, cycle: list[str]) -> list[str]:
    members = set(cycle)
    lines = []
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"{importer}:{detail['line_number']} -> {imported}: "
                             f"{detail['line_contents']}")
    return lines


def test_dermatrack_has_no_import_cycle():
    graph = grimp.build_graph("dermatrack", cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n\n".join(
        "\n".join(_cycle_edges(graph, cycle)) for cycle in cycles)


def _package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, source in modules.items():
        (package / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def synthetic_packages(tmp_path, monkeypatch):
    """Two small packages on sys.path: ``cyclic`` (a -> b -> c -> a, the import of a
    inside a function, and d -> e on its own) and ``acyclic`` (the same without c -> a)."""
    _package(tmp_path, "cyclic", {
        "a": "from cyclic import b\n",
        "b": "import cyclic.c\n",
        "c": "def late():\n    from cyclic.a import b\n    return b\n",
        "d": "from cyclic import e\n",
        "e": "X = 1\n",
    })
    _package(tmp_path, "acyclic", {
        "a": "from acyclic import b\n",
        "b": "import acyclic.c\n",
        "c": "X = 1\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_the_check_finds_a_cycle_in_a_synthetic_package(synthetic_packages):
    cyclic = grimp.build_graph("cyclic", cache_dir=None)
    assert import_cycles(cyclic) == [["cyclic.a", "cyclic.b", "cyclic.c"]]
    assert import_cycles(grimp.build_graph("acyclic", cache_dir=None)) == []


def test_the_check_finds_two_cycles_and_a_self_contained_pair(tmp_path, monkeypatch):
    _package(tmp_path, "twocycles", {
        "a": "from twocycles import b\n",
        "b": "from twocycles import a\n",
        "c": "from twocycles import d\n",
        "d": "from twocycles import c\n",
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("twocycles", cache_dir=None)
    assert import_cycles(graph) == [["twocycles.a", "twocycles.b"],
                                    ["twocycles.c", "twocycles.d"]]
