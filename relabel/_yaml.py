"""Strict YAML reading shared by every YAML reader (runs manifests, override files).

PyYAML keeps the last value of a key repeated within a mapping; for a manifest's ``runs`` or an
override's ``classes`` that silently drops data. :func:`compose` parses one document into its
node tree (which knows every line) and its value; :func:`repeated_keys` finds the keys a
mapping repeats, with their lines, so that each reader can refuse them in its own words.
PyYAML is imported when a YAML file is read, not before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["YAMLSyntaxError", "RepeatedKey", "compose", "repeated_keys"]


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


def compose(text: str, *, construct: bool = True) -> tuple[Any, Any]:
    """One YAML document: its root node (``None`` for an empty text) and, with ``construct``, its value.

    Raises :class:`YAMLSyntaxError` for anything PyYAML cannot read (the safe loader: plain
    data only), with the line and column where PyYAML knows them.
    """
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if construct and root is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or str(e)
        if mark is None:
            raise YAMLSyntaxError(problem) from None
        raise YAMLSyntaxError(problem, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as e:
        raise YAMLSyntaxError(str(e)) from None
    finally:
        loader.dispose()
    return root, data


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
