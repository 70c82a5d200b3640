"""Strict YAML reading shared by every YAML reader (runs manifests, override files).

PyYAML keeps the last value of a key repeated within a mapping; for a manifest's ``runs`` or an
override's ``classes`` that silently drops data. :func:`compose` parses one document into its
node tree (which knows every line) and its value; :func:`repeated_keys` finds the keys a
mapping repeats, with their lines, so that each reader can refuse them in its own words.
PyYAML is imported when a YAML file is read, not before.

Aliases and anchors (``&a`` … ``*a``) are refused: a 477-byte document of nested aliases
("billion laughs") expands to billions of nodes, and neither a manifest nor an override file
needs them; so is nesting deeper than :data:`MAX_DEPTH` (PyYAML's composer recurses). Both are
found in the event stream, before anything is expanded or recursed into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["YAMLSyntaxError", "RepeatedKey", "MAX_DEPTH", "compose", "repeated_keys"]

MAX_DEPTH = 32
"""How deeply a document may nest (a manifest or an override file needs fewer than 8 levels)."""


class YAMLSyntaxError(Exception):
    """Text that is not one valid YAML document; ``line`` and ``column`` count from 1 (``None`` when unknown)."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.line, self.column = problem, line, column

    @property
    def where(self) -> str:
        """``", line L, column C"`` (empty when the position is unknown), to follow a file name."""
        return f", line {self.line}, column {self.column}" if self.line is not None else ""


@dataclass(frozen=True)
class RepeatedKey:
    """A key written twice in one mapping: where (``path`` of the mapping, its ``mapping_line``) and on which lines."""

    path: tuple[str | int, ...]
    key: str
    line: int
    first_line: int
    mapping_line: int


def compose(text: str, *, construct: bool = True, max_depth: int = MAX_DEPTH) -> tuple[Any, Any]:
    """One YAML document: its root node (``None`` for an empty text) and, with ``construct``, its value.

    Raises :class:`YAMLSyntaxError` for anything PyYAML cannot read (the safe loader: plain
    data only), for aliases and anchors, and for nesting deeper than ``max_depth``, with the
    line and column where they are known. libyaml's C parser is used where PyYAML has it.
    """
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_events(loader_class, text, max_depth)
        loader = loader_class(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if construct and root is not None else None
        finally:
            loader.dispose()
    except _Refused as e:
        raise YAMLSyntaxError(e.problem, e.line, e.column) from None
    except RecursionError:
        raise YAMLSyntaxError("nested too deeply for YAML to read") from None
    except ValueError as e:  # e.g. an integer longer than Python converts
        raise YAMLSyntaxError(f"a value YAML cannot read: {e}") from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or str(e)
        if mark is None:
            raise YAMLSyntaxError(problem) from None
        raise YAMLSyntaxError(problem, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as e:
        raise YAMLSyntaxError(str(e)) from None
    return root, data


class _Refused(Exception):
    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.line, self.column = problem, mark.line + 1, mark.column + 1


def _check_events(loader_class: Any, text: str, max_depth: int) -> None:
    """Refuse aliases, anchors and nesting beyond ``max_depth`` from the event stream (no recursion, no expansion)."""
    import yaml

    loader = loader_class(text)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                what = "an alias (*" if isinstance(event, yaml.AliasEvent) else "an anchor (&"
                raise _Refused(f"{what}{event.anchor}): aliases and anchors are not allowed; write the values out",
                               event.start_mark)
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > max_depth:
                    raise _Refused(f"nested more than {max_depth} levels deep", event.start_mark)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def repeated_keys(node: Any, path: tuple[str | int, ...] = ()) -> list[RepeatedKey]:
    """Every key repeated within a mapping of the tree below ``node``, in document order."""
    import yaml

    found: list[RepeatedKey] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, Any] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            if key is not None and key in seen:
                found.append(RepeatedKey(path, key, k.start_mark.line + 1, seen[key].start_mark.line + 1,
                                         node.start_mark.line + 1))
            elif key is not None:
                seen[key] = k
            found += repeated_keys(v, path + ((key,) if key is not None else ()))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found += repeated_keys(v, path + (i,))
    return found
