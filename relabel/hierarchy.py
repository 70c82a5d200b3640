"""Hierarchy: a parent DAG over class keys and inner nodes, and the distances between classes.

A :class:`Hierarchy` maps each node (a class key or an inner node such as WordNet's
*portable computer*) to its parents. Several parents are allowed (WordNet's *dog* is both a
*canine* and a *domestic animal*); cycles are not. Nodes may have display names.

Measures for a pair of nodes (a, b), as :meth:`Hierarchy.measures` returns them:

* ``lca``: the lowest common ancestor, chosen as the common ancestor ``x`` that minimises
  ``up(a, x) + up(b, x)``, where ``up(n, x)`` is the fewest parent hops from ``n`` up to ``x``
  (every node is its own ancestor at 0 hops). Ties go to the larger ``lca_depth``, then to the
  smaller node key, so the choice is deterministic.
* ``path_length``: ``up(a, lca) + up(b, lca)``, hops from a up to the LCA and down to b
  (2 for siblings, 1 for a parent and its child, 0 for a node and itself).
* ``lca_depth``: the *shortest* path from a root (a node without parents) down to the LCA,
  root = 0. In a DAG this depth is not monotone along a path (WordNet's *terrier* is at depth
  10 but its ancestor *canine* at 12, because *dog* is reached sooner through *domestic
  animal*), which is why the LCA is chosen by path length, never as "the deepest ancestor".
* ``is_ancestor``: a is an ancestor of b or b of a.

Pairs without a common ancestor (a forest), or with a node the hierarchy does not know, get
missing values (``<NA>``) and an empty ``lca``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel._json import RepeatedJSONKeys, loads_strict
from relabel.errors import InputError, format_offenders

__all__ = ["Hierarchy", "imagenet_1k_hierarchy", "load_hierarchy"]

_CHILD_COLUMNS = ("child",)
_PARENT_COLUMNS = ("parent",)
_NAME_COLUMNS = ("child_name", "parent_name")


@dataclass(frozen=True)
class Hierarchy:
    """A parent DAG over class keys and inner nodes, with optional display names.

    ``parents`` maps a node to the tuple of its parents; a node that appears only as a parent
    is a root. Construction checks for cycles (an :class:`~relabel.errors.InputError` naming
    the nodes on one). ``lexnames`` optionally gives a node's WordNet lexicographer file
    (``noun.animal``, ``noun.artifact``, …): the broad kind of thing it is, which the
    categoriser uses as evidence (WordNet-based hierarchies have it; parent-map files do not).

    Examples
    --------
    Two computers under *portable computer*, a notebook *paper* elsewhere::

        entity ─┬─ computer ── portable computer ─┬─ laptop
                │                                  └─ notebook
                └─ paper ── notepad

    >>> h = Hierarchy({"computer": ("entity",), "portable computer": ("computer",),
    ...                "laptop": ("portable computer",), "notebook": ("portable computer",),
    ...                "paper": ("entity",), "notepad": ("paper",)})
    >>> m = h.measures(["laptop", "laptop"], ["notebook", "notepad"])
    >>> m["lca"].tolist(), m["path_length"].tolist(), m["lca_depth"].tolist()
    (['portable computer', 'entity'], [2, 5], [2, 0])
    """

    parents: Mapping[str, tuple[str, ...]]
    names: Mapping[str, str] = field(default_factory=dict)
    source: str = "hierarchy"
    lexnames: Mapping[str, str] = field(default_factory=dict)
    _up: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)
    _depth: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parents = {str(c): tuple(dict.fromkeys(str(p) for p in ps)) for c, ps in self.parents.items()}
        for ps in list(parents.values()):
            for p in ps:
                parents.setdefault(p, ())
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "names", {str(k): str(v) for k, v in self.names.items()})
        object.__setattr__(self, "lexnames", {str(k): str(v) for k, v in self.lexnames.items() if v})
        order = _topological_order(parents, self.source)
        up: dict[str, dict[str, int]] = {}
        for node in order:  # parents before children
            dist = {node: 0}
            for p in parents[node]:
                for a, hops in up[p].items():
                    if hops + 1 < dist.get(a, 1 << 30):
                        dist[a] = hops + 1
            up[node] = dist
        depth = {n: min(up[n][a] for a in up[n] if not parents[a]) for n in order}
        object.__setattr__(self, "_up", up)
        object.__setattr__(self, "_depth", depth)

    @classmethod
    def from_edges(
        cls, edges: Iterable[tuple[str, str]], *, names: Mapping[str, str] | None = None, source: str = "hierarchy",
        lexnames: Mapping[str, str] | None = None,
    ) -> Hierarchy:
        """A hierarchy from (child, parent) pairs; repeated edges count once."""
        parents: dict[str, list[str]] = {}
        for child, parent in edges:
            parents.setdefault(str(child), []).append(str(parent))
        return cls({c: tuple(ps) for c, ps in parents.items()}, names or {}, source, lexnames or {})

    def __len__(self) -> int:
        return len(self.parents)

    def __contains__(self, node: object) -> bool:
        return node in self.parents

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every node, classes and inner nodes, sorted."""
        return tuple(sorted(self.parents))

    @property
    def roots(self) -> tuple[str, ...]:
        """Nodes without parents, sorted."""
        return tuple(sorted(n for n, ps in self.parents.items() if not ps))

    def name(self, node: str) -> str:
        """The display name of ``node`` (its key when it has none)."""
        return self.names.get(node, node)

    def lexname(self, node: str) -> str | None:
        """The WordNet lexicographer file of ``node`` (``noun.animal``), or ``None`` when unknown."""
        return self.lexnames.get(node)

    def depth(self, node: str) -> int:
        """Shortest number of hops from a root down to ``node`` (root = 0)."""
        return self._depth[node]

    def ancestors(self, node: str) -> dict[str, int]:
        """Every ancestor of ``node`` (itself included, at 0) with the fewest hops up to it."""
        return dict(self._up[node])

    def is_ancestor(self, ancestor: str, node: str) -> bool:
        """Whether ``ancestor`` lies on some path from ``node`` up to a root (a node is its own)."""
        return node in self._up and ancestor in self._up[node]

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys that are not nodes of the hierarchy, in the given order, without repeats."""
        return [k for k in dict.fromkeys(str(k) for k in keys) if k not in self.parents]

    def lca(self, a: str, b: str) -> str | None:
        """The lowest common ancestor of ``a`` and ``b`` (see the module docstring), or ``None``."""
        return self._pair(str(a), str(b))[0]

    def path_length(self, a: str, b: str) -> int | None:
        """Hops from ``a`` up to the LCA and down to ``b``, or ``None`` without a common ancestor."""
        return self._pair(str(a), str(b))[1]

    def _pair(self, a: str, b: str) -> tuple[str | None, int | None]:
        up_a, up_b = self._up.get(a), self._up.get(b)
        if up_a is None or up_b is None:
            return None, None
        if len(up_b) < len(up_a):
            up_a, up_b = up_b, up_a
        best: tuple[int, int, str] | None = None
        for x, hops in up_a.items():
            other = up_b.get(x)
            if other is None:
                continue
            rank = (hops + other, -self._depth[x], x)
            if best is None or rank < best:
                best = rank
        if best is None:
            return None, None
        return best[2], best[0]

    def measures(self, a: Sequence[str], b: Sequence[str]) -> pd.DataFrame:
        """LCA and distances for each pair ``(a[i], b[i])``.

        Returns
        -------
        pandas.DataFrame
            One row per pair: ``lca`` (node key, ``""`` when none), ``lca_name`` (its display
            name), ``lca_depth`` (shortest hops from a root to the LCA), ``path_length`` (hops
            a → LCA → b), ``is_ancestor`` (one of the two is an ancestor of the other); the
            numbers are nullable integers, ``<NA>`` when a node is unknown or there is no
            common ancestor.
        """
        if len(a) != len(b):
            raise InputError(f"{self.source}: measures() needs as many first as second nodes ({len(a)} vs {len(b)})")
        lca, length, depth, ancestor = [], [], [], []
        memo: dict[tuple[str, str], tuple[str | None, int | None]] = {}
        for x, y in zip(map(str, a), map(str, b)):
            key = (x, y) if x <= y else (y, x)
            if key not in memo:
                memo[key] = self._pair(*key)
            node, hops = memo[key]
            lca.append(node or "")
            length.append(hops)
            depth.append(self._depth[node] if node is not None else None)
            ancestor.append(node is not None and node in (x, y))
        return pd.DataFrame(
            {
                "lca": lca,
                "lca_name": [self.name(n) if n else "" for n in lca],
                "lca_depth": pd.array(depth, dtype="Int64"),
                "path_length": pd.array(length, dtype="Int64"),
                "is_ancestor": np.asarray(ancestor, dtype=bool),
            }
        )


def _topological_order(parents: Mapping[str, tuple[str, ...]], source: str) -> list[str]:
    """Nodes with every parent before its children; a cycle is an error that names one."""
    children: dict[str, list[str]] = {n: [] for n in parents}
    remaining = {n: len(ps) for n, ps in parents.items()}
    for child, ps in parents.items():
        for p in ps:
            children[p].append(child)
    order = [n for n in sorted(parents) if remaining[n] == 0]
    i = 0
    while i < len(order):
        for child in children[order[i]]:
            remaining[child] -= 1
            if remaining[child] == 0:
                order.append(child)
        i += 1
    if len(order) < len(parents):
        stuck = sorted(n for n, r in remaining.items() if r > 0)
        cycle = _one_cycle(parents, set(stuck))
        raise InputError(
            f"{source}: the parent map must not contain cycles; found {' -> '.join(map(repr, cycle))} "
            f"({len(stuck)} nodes on or below a cycle)"
        )
    return order


def _one_cycle(parents: Mapping[str, tuple[str, ...]], stuck: set[str]) -> list[str]:
    """Follow parents inside the nodes that could not be ordered until one repeats."""
    node = min(stuck)
    seen: dict[str, int] = {}
    path: list[str] = []
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(p for p in parents[node] if p in stuck)
    return path[seen[node]:] + [node]


def imagenet_1k_hierarchy() -> Hierarchy:
    """The WordNet 3.0 hypernym DAG of the ImageNet-1k classes shipped in ``relabel.annotations``.

    1000 classes (the leaves, keyed by WordNet id) and 860 inner nodes up to *entity*; 75
    nodes have two parents. See ``annotations/README.md`` for how the files are generated.
    """
    return _imagenet_1k_hierarchy_cached()


@cache
def _imagenet_1k_hierarchy_cached() -> Hierarchy:
    files = resources.files("relabel.annotations")
    with files.joinpath("imagenet1k_hierarchy.tsv").open("r", encoding="utf-8") as f:
        edges = pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False)
    with files.joinpath("imagenet1k_hierarchy_nodes.tsv").open("r", encoding="utf-8") as f:
        nodes = pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False)
    return Hierarchy.from_edges(
        zip(edges["child"], edges["parent"]),
        names=dict(zip(nodes["node"], nodes["name"])),
        source="imagenet-1k WordNet hierarchy",
        lexnames=dict(zip(nodes["node"], nodes["lexname"])),
    )


def load_hierarchy(source: str | Path | Hierarchy) -> Hierarchy:
    """A hierarchy by name (``imagenet-1k``) or from a parent-map file.

    Files:

    * CSV / TSV with columns ``child`` and ``parent``, one row per edge (a child with two
      parents has two rows), and optionally ``child_name`` / ``parent_name`` display names;
    * JSON ``{child: parent}`` or ``{child: [parent, …]}`` (an empty list marks a root), or
      ``{"parents": {…}, "names": {node: name}}``.

    Nodes are class keys (those of the label space) or inner nodes of any name.
    """
    if isinstance(source, Hierarchy):
        return source
    text = str(source)
    if text.lower() in {"imagenet-1k", "imagenet", "imagenet1k", "wordnet"}:
        return imagenet_1k_hierarchy()
    path = Path(text)
    if not path.is_file():
        raise InputError(f"hierarchy {text!r} is neither 'imagenet-1k' nor an existing file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _hierarchy_from_json(path)
        if suffix in {".csv", ".tsv"}:
            return _hierarchy_from_table(path, sep="\t" if suffix == ".tsv" else ",")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    raise InputError(f"{path}: a hierarchy file must be .csv, .tsv or .json; got {suffix or 'no suffix'!r}")


def _hierarchy_from_table(path: Path, *, sep: str) -> Hierarchy:
    kind = "TSV" if sep == "\t" else "CSV"
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"{path}: cannot parse as {kind}: {e}") from None
    columns = {c.strip().lower(): c for c in table.columns}
    allowed = (*_CHILD_COLUMNS, *_PARENT_COLUMNS, *_NAME_COLUMNS)
    missing = [c for c in ("child", "parent") if c not in columns]
    if missing:
        raise InputError(
            f"{path}: a parent map needs columns 'child' and 'parent' (optional: 'child_name', 'parent_name'); "
            f"missing {missing}, found columns {list(table.columns)}"
        )
    unknown = [c for lower, c in columns.items() if lower not in allowed]
    if unknown:
        raise InputError(
            f"{path}: unknown columns {format_offenders(unknown)}; a parent map has columns "
            f"'child', 'parent' and optionally 'child_name', 'parent_name'"
        )
    child = table[columns["child"]].str.strip()
    parent = table[columns["parent"]].str.strip()
    for column, values in ((columns["child"], child), (columns["parent"], parent)):
        empty = np.flatnonzero(values.to_numpy() == "") + 2  # 1-based lines, after the header
        if len(empty):
            raise InputError(f"{path}, column {column!r}: empty node at lines {format_offenders(empty.tolist())}")
    names: dict[str, str] = {}
    conflicts: dict[str, None] = {}
    for node_col, name_col in ((child, "child_name"), (parent, "parent_name")):
        if name_col not in columns:
            continue
        for node, name in zip(node_col, table[columns[name_col]].str.strip()):
            if not name:
                continue
            if names.get(node, name) != name:
                conflicts[node] = None
            names[node] = name
    if conflicts:
        raise InputError(f"{path}: nodes with two different names: {format_offenders(conflicts)}")
    return Hierarchy.from_edges(zip(child, parent), names=names, source=str(path))


def _hierarchy_from_json(path: Path) -> Hierarchy:
    try:
        data = loads_strict(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RepeatedJSONKeys as e:
        raise InputError(
            f"{path}: each child may appear once; {format_offenders(e.keys)} appear more than once"
        ) from None
    names: Any = {}
    if isinstance(data, dict) and "parents" in data and isinstance(data["parents"], dict):
        unknown = [k for k in data if k not in {"parents", "names"}]
        if unknown:
            raise InputError(f"{path}: unknown fields {format_offenders(unknown)}; expected 'parents' and 'names'")
        names = data.get("names", {})
        data = data["parents"]
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise InputError(f"{path}, field 'names': expected an object {{node: name}} of strings")
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected an object {{child: parent}} or {{child: [parents]}}, found a JSON {type(data).__name__}"
        )
    parents: dict[str, tuple[str, ...]] = {}
    bad: list[str] = []
    for child, value in data.items():
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(p, str) and p.strip() for p in values):
            bad.append(child)
            continue
        parents[child] = tuple(p.strip() for p in values)
    if bad:
        raise InputError(
            f"{path}: each child's parent must be a node name or a list of them; "
            f"not so for children {format_offenders(bad)}"
        )
    empty = [c for c in parents if not c.strip()]
    if empty:
        raise InputError(f"{path}: a child key is empty")
    return Hierarchy(parents, names, source=str(path))
