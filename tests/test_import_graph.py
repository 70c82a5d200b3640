"""The house's floors: no module imports a later stage or the CLI, and the import graph has no cycle.

Every ``import`` and ``from … import`` of a relabel module counts, wherever it stands (top of the
file, inside a function, under ``TYPE_CHECKING``): an import run at call time still ties the two
modules together. The graph is read from the source with :mod:`ast`, so nothing is imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "relabel"

# The floors, lowest first. A module may import modules of its own floor or a lower one. A module
# that is not placed here fails the test: place it (and say in its docstring which stage it is).
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("relabel._version", "relabel._atomic", "relabel._text", "relabel._vocab", "relabel._json", "relabel._yaml",
                "relabel._kernels", "relabel._tables", "relabel._csvout", "relabel.errors", "relabel.progress",
                "relabel.stats", "relabel.power")),
    ("contracts", ("relabel.labelspace", "relabel.hierarchy", "relabel.annotations", "relabel.wordnet")),
    ("the override format", ("relabel.overrides",)),
    ("loading", ("relabel.loading",)),
    ("making runs", ("relabel.inference", "relabel.synthetic")),
    ("pairing", ("relabel.pairing",)),
    ("evaluation", ("relabel.evaluation",)),
    ("comparison", ("relabel.comparison",)),
    ("the CI gate and the A/A self-check", ("relabel.gate", "relabel.selfcheck")),
    ("categorisation", ("relabel.categorisation",)),
    ("recommendation", ("relabel.recommendation", "relabel.ablation")),
    ("trainer side", ("relabel.pipeline", "relabel.transforms", "relabel.trainers")),
    ("export", ("relabel.provenance", "relabel.export", "relabel.summary")),
    ("demos", ("relabel.demos",)),
    ("report", ("relabel.report",)),
    ("report thumbnails", ("relabel.thumbnails",)),
    ("command line", ("relabel.cli",)),
    ("public face", ("relabel",)),
]

# Deprecated names that moved to a later floor keep working through one import up each; each
# goes when its deprecation ends.
DEPRECATED_SHIMS = {
    ("relabel.overrides", "relabel.transforms"),  # relabel.overrides.build_transform
    ("relabel.overrides.model", "relabel.transforms"),  # Overrides.build_transform
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """The relabel modules ``module`` imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name == "relabel" or name.startswith("relabel.")} - {module}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _floor(module: str) -> int:
    best = None
    for level, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (level, len(prefix))
    if best is None:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS in {Path(__file__).name}")
    return best[0]


def test_the_graph_is_read():
    assert len(MODULES) > 40
    assert "relabel.loading.runs" in GRAPH["relabel.inference.shards"]
    assert "relabel.overrides.files" in GRAPH["relabel.transforms"]
    assert "relabel.report" in GRAPH["relabel.cli.report"]


def test_every_module_is_on_a_floor():
    for module in MODULES:
        _floor(module)


def test_no_module_imports_a_later_stage_or_the_cli():
    upward = [
        f"{module} ({FLOORS[_floor(module)][0]}) imports {target} ({FLOORS[_floor(target)][0]})"
        for module, targets in sorted(GRAPH.items()) for target in sorted(targets)
        if _floor(target) > _floor(module) and (module, target) not in DEPRECATED_SHIMS
    ]
    assert upward == []


def test_the_deprecated_shims_are_the_only_arrows_up_and_still_exist():
    for module, target in DEPRECATED_SHIMS:
        assert target in GRAPH[module], f"{module} no longer imports {target}: drop it from DEPRECATED_SHIMS"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_there_is_no_import_cycle():
    graph = {module: {t for t in targets if (module, t) not in DEPRECATED_SHIMS} for module, targets in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    # the circle of #13 as it was: overrides -> transforms -> overrides, export -> both
    old = {"relabel.overrides": {"relabel.transforms", "relabel.export"}, "relabel.transforms": {"relabel.overrides"},
           "relabel.export": {"relabel.overrides", "relabel.transforms"}}
    assert _cycles(old) == [["relabel.export", "relabel.overrides", "relabel.transforms"]]


@pytest.mark.parametrize("module", ["relabel.overrides", "relabel.inference.options", "relabel.cli.main"])
def test_torch_free_modules_import_no_torch(module):
    code = f"import sys, {module}; print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- one owner per format ------------------------------------------------------------------------

_READS = {"open", "read_parquet", "read_csv", "read_table", "read_text", "read_bytes", "load", "loads", "read_json"}


def _file_reads(path: Path) -> list[str]:
    """Calls that read a file (or parse file text), outside ``_asset`` (the page's own package data)."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == "_asset"
               for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in allowed:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _READS:
                found.append(f"{path.name}:{node.lineno} {name}()")
    return found


def test_the_report_renders_objects_and_reads_no_file():
    """The results folder is read by its owner, relabel.export.read_results; the report only renders."""
    reads = [r for path in sorted((PACKAGE / "report").glob("*.py")) for r in _file_reads(path)]
    assert reads == []
    assert "relabel.export" in GRAPH["relabel.report.content"]  # load_report goes through the owner


def test_inference_writes_runs_through_their_owner():
    assert not any(t.startswith("relabel.export") for m, ts in GRAPH.items() if m.startswith("relabel.inference")
                   for t in ts)
    assert "relabel.loading.runs" in GRAPH["relabel.inference.shards"]
