"""Reading and writing override files: JSON and YAML with line numbers, the CSV table by suffix.

:func:`load` validates a file (JSON Schema, then range and uniqueness rules, then class keys
when a class list is given) and names the file, line and field of every problem; :func:`write`
writes one atomically. JSON is parsed twice on the way in — by :mod:`json` for the values (its
messages name line and column) and by PyYAML for the node tree that gives each field its line —
and keys repeated within an object are refused in both.

A file is a small thing a person can read, so what could only be an attack or an accident is
refused before it is parsed: a file over :data:`MAX_FILE_BYTES`, nesting deeper than
:data:`~relabel.overrides.validation.MAX_DEPTH`, YAML aliases and anchors (a 477-byte "billion
laughs" expands without bound), integers longer than Python will convert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relabel import _atomic, _yaml
from relabel.errors import OverridesError, format_offenders
from relabel.overrides.model import Overrides, build
from relabel.overrides.table import load_csv, to_csv_table
from relabel.overrides.validation import MAX_DEPTH, Locator, Problem, raise_problems, render_path

if TYPE_CHECKING:
    from relabel.labelspace import LabelSpace

__all__ = ["MAX_FILE_BYTES", "load", "loads", "dumps_json", "dumps_yaml", "write"]

MAX_FILE_BYTES = 16 * 2**20
"""The largest override file relabel reads (16 MiB). An ImageNet-1k file that overrides every
class with its evidence is under 2 MiB; a file of 16 MiB loads in a few seconds."""


# --------------------------------------------------------------------------------------------
# Reading


def load(
    source: str | Path | Mapping[str, Any],
    *,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
    skip_absent: bool = False,
) -> Overrides:
    """Read and validate an override file (``.json``, ``.yaml``/``.yml`` or ``.csv``), or its content.

    ``source`` is a path, or the document itself as a plain ``dict`` or an OmegaConf
    ``DictConfig`` (Hydra's config; interpolations are resolved). Every problem is reported with
    the file, the line and the field, e.g.
    ``overrides.json, line 12: overrides[0].transforms.random_resized_crop.scale: min 0.9 > max 0.5``
    (a dict names the field only). With ``classes`` (a :class:`~relabel.LabelSpace`, a
    trainer's ``class_to_idx`` or a list of class keys), class keys that are not among them are
    errors too — unless ``skip_absent`` (a trainer on a subset of the file's classes), when
    :meth:`~relabel.overrides.Overrides.resolve` leaves them out with a warning.
    """
    if not isinstance(source, (str, Path)):
        return _load_mapping(source, classes=classes, skip_absent=skip_absent)
    path = Path(source)
    if not path.exists():
        raise OverridesError(f"override file {path} does not exist")
    if not path.is_file():
        raise OverridesError(f"{path}: not a file (an override file is .json, .yaml, .yml or .csv)")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise OverridesError(f"{path}: {size / 2**20:.1f} MiB is larger than an override file can be "
                             f"(at most {MAX_FILE_BYTES // 2**20} MiB; one for every ImageNet-1k class is under 2 MiB)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise OverridesError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_csv(text, source=str(path), classes=classes, skip_absent=skip_absent)
    if suffix not in {".json", ".yaml", ".yml"}:
        raise OverridesError(f"{path}: unsupported override file suffix {suffix!r}; use .json, .yaml, .yml or .csv")
    return loads(text, source=str(path), format="json" if suffix == ".json" else "yaml", classes=classes,
                 skip_absent=skip_absent)


def _load_mapping(data: Any, *, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None,
                  skip_absent: bool) -> Overrides:
    """An override document given as a dict or an OmegaConf ``DictConfig``."""
    where = f"<{type(data).__name__}>"
    if type(data).__module__.split(".")[0] == "omegaconf":
        from omegaconf import OmegaConf
        from omegaconf.errors import OmegaConfBaseException

        try:
            data = OmegaConf.to_container(data, resolve=True)
        except OmegaConfBaseException as e:
            raise OverridesError(f"{where}: cannot resolve the config: {e}") from None
    if not isinstance(data, Mapping):
        raise OverridesError(f"load_overrides takes a path, a dict or an OmegaConf DictConfig; got "
                             f"{type(data).__name__}")
    from relabel.overrides.validation import jsonable

    data = jsonable(data, where, keep_nonfinite=True)
    return build(data, source=where, locator=None, origin=lambda i, j: render_path(("overrides", i, "classes", j)),
                 classes=classes, skip_absent=skip_absent)[0]


def loads(
    text: str,
    *,
    source: str = "<overrides>",
    format: str = "json",
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
    skip_absent: bool = False,
) -> Overrides:
    """Parse and validate override text (``format`` ``"json"`` or ``"yaml"``); see :func:`load`."""
    if format not in ("json", "yaml"):
        raise OverridesError(f"unknown override format {format!r}; expected one of ['json', 'yaml']")
    if len(text) > MAX_FILE_BYTES:
        raise OverridesError(f"{source}: {len(text)} characters is larger than an override file can be "
                             f"(at most {MAX_FILE_BYTES // 2**20} MiB)")
    data, locator = _parse(text, source=source, as_json=format == "json")

    def origin(i: int, j: int) -> str:
        line = locator.line(("overrides", i, "classes", j))
        return f"line {line}" if line is not None else render_path(("overrides", i, "classes", j))

    return build(data, source=source, locator=locator, origin=origin, classes=classes, skip_absent=skip_absent)[0]


_JSON_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{}\n]')


def _json_depth_problem(text: str, source: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before :mod:`json` recurses into it (one linear scan)."""
    depth, line = 0, 1
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise OverridesError(f"{source}, line {line}: nested more than {MAX_DEPTH} levels deep; an override "
                                     f"file needs far fewer")
        elif token in "]}":
            depth -= 1


class _NodeLocator(Locator):
    """Line numbers from a PyYAML node tree (JSON is YAML, so this serves both)."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def line(self, path: tuple[str | int, ...], *, at_key: bool = False) -> int | None:
        import yaml

        node, key_node = self.root, None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        node, key_node = v, k
                        break
                else:
                    key_node = None
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node, key_node = node.value[part], None
            else:
                key_node = None
                break
        target = key_node if (at_key and key_node is not None) else node
        return target.start_mark.line + 1


class _LazyLocator(Locator):
    """Lines of a JSON document, found only when a message needs one (PyYAML's node tree is slow to build)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._inner: Locator | None = None
        self._tried = False

    def line(self, path: tuple[str | int, ...], *, at_key: bool = False) -> int | None:
        if not self._tried:
            self._tried = True
            root = _json_nodes(self.text)
            self._inner = _NodeLocator(root) if root is not None else None
        return self._inner.line(path, at_key=at_key) if self._inner is not None else None


def _json_nodes(text: str) -> Any:
    """The YAML node tree of JSON text (for line numbers), or ``None`` when PyYAML cannot read it."""
    try:
        # Raw tabs in valid JSON are whitespace (inside strings they must be escaped), but PyYAML
        # refuses some of them: spaces keep every line number.
        return _yaml.compose(text.replace("\t", " "), construct=False, max_depth=MAX_DEPTH)[0]
    except _yaml.YAMLSyntaxError:
        return None


def _parse(text: str, *, source: str, as_json: bool) -> tuple[Any, Locator]:
    if as_json:
        from relabel._json import RepeatedJSONKeys, loads_strict

        _json_depth_problem(text, source)
        if not text.strip():
            raise OverridesError(f"{source}: the file is empty; expected an object with 'schema' and 'overrides'")
        try:
            data = loads_strict(text)
        except json.JSONDecodeError as e:
            raise OverridesError(f"{source}, line {e.lineno}, column {e.colno}: not valid JSON: {e.msg}") from None
        except RepeatedJSONKeys as e:
            root = _json_nodes(text)
            if root is not None:
                _refuse_repeated(root, source)
            raise OverridesError(f"{source}: fields repeated within one object: {format_offenders(e.keys)}") from None
        except ValueError as e:  # an integer longer than Python converts
            raise OverridesError(f"{source}: not a number relabel can read: {e}") from None
        return data, _LazyLocator(text)
    try:
        root, data = _yaml.compose(text, max_depth=MAX_DEPTH)
    except _yaml.YAMLSyntaxError as e:
        raise OverridesError(f"{source}{e.where}: not valid YAML: {e.problem}") from None
    if root is None:
        raise OverridesError(f"{source}: the file is empty; expected an object with 'schema' and 'overrides'")
    _refuse_repeated(root, source)
    return data, _NodeLocator(root)


def _refuse_repeated(root: Any, source: str) -> None:
    repeated = _yaml.repeated_keys(root)
    if repeated:
        raise_problems([Problem(r.path + (r.key,), f"field {r.key!r} appears twice in this object "
                                                   f"(first on line {r.first_line})", line=r.line)
                        for r in repeated], source=source, locator=_NodeLocator(root))


# --------------------------------------------------------------------------------------------
# Writing


def dumps_json(overrides: Overrides) -> str:
    """The override file as JSON text (two-space indent; short lists and flat objects on one line)."""
    return _json_text(overrides.to_dict(), 0) + "\n"


def _json_text(value: Any, depth: int) -> str:
    pad = "  " * depth
    if isinstance(value, dict):
        flat = json.dumps(value, ensure_ascii=False, allow_nan=False)
        if not value or (len(flat) <= 72 and all(not isinstance(v, dict) for v in value.values())
                         and all(not isinstance(x, (dict, list)) for v in value.values() if isinstance(v, list)
                                 for x in v)):
            return flat
        items = [f"{pad}  {json.dumps(k, ensure_ascii=False)}: {_json_text(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        items = [f"{pad}  {_json_text(v, depth + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def dumps_yaml(overrides: Overrides) -> str:
    """The override file as YAML text (block style; lists of numbers or keys in flow style)."""
    import yaml

    return yaml.safe_dump(overrides.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def write(
    overrides: Overrides,
    path: str | Path,
    *,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
) -> Path:
    """Write the file atomically (temp file + rename); the format follows the suffix.

    ``.json`` and ``.yaml``/``.yml`` hold everything; ``.csv`` is
    :func:`~relabel.overrides.to_csv_table` (``classes`` gives its ``class_index`` column).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = dumps_json(overrides)
    elif suffix in {".yaml", ".yml"}:
        text = dumps_yaml(overrides)
    elif suffix == ".csv":
        text = to_csv_table(overrides, classes=classes).to_csv(index=False)
    else:
        raise OverridesError(f"unsupported override file suffix {suffix!r}; use .json, .yaml, .yml or .csv")
    return _atomic.write_text(path, text)
