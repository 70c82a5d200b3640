"""Label spaces: class index ↔ stable key ↔ display name.

A :class:`LabelSpace` orders classes ``0..K-1``. Each class has a stable ``key`` (the WordNet
id for ImageNet, any string for a custom set) and a display ``name``. Keys are unique; names
need not be (ImageNet has two "crane" classes), so resolving a name to an index refuses
ambiguous names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from relabel._json import RepeatedJSONKeys, loads_strict
from relabel.errors import LabelSpaceError, format_offenders

__all__ = ["LabelSpace", "imagenet_1k", "load_label_space"]


@dataclass(frozen=True)
class LabelSpace:
    """Ordered classes with unique keys and display names.

    Examples
    --------
    >>> space = LabelSpace.from_names(["laptop", "notebook", "desk"])
    >>> len(space), space.keys[1], space.index_of_keys(["desk"]).tolist()
    (3, 'notebook', [2])
    """

    keys: tuple[str, ...]
    names: tuple[str, ...]
    name: str = "custom"
    lemmas: tuple[tuple[str, ...], ...] | None = None
    _key_index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.names):
            raise LabelSpaceError(
                f"label space {self.name!r}: {len(self.keys)} keys but {len(self.names)} names"
            )
        if not self.keys:
            raise LabelSpaceError(f"label space {self.name!r} has no classes")
        empty = [i for i, key in enumerate(self.keys) if not key]
        if empty:
            raise LabelSpaceError(
                f"label space {self.name!r}: class keys must not be empty; empty at class indices "
                f"{format_offenders(empty)}"
            )
        seen: dict[str, int] = {}
        duplicates: dict[str, None] = {}
        for i, key in enumerate(self.keys):
            if key in seen:
                duplicates[key] = None
            seen[key] = i
        if duplicates:
            raise LabelSpaceError(
                f"label space {self.name!r}: class keys must be unique; "
                f"{format_offenders(duplicates)} appear more than once"
            )
        object.__setattr__(self, "_key_index", seen)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def num_classes(self) -> int:
        """Number of classes K."""
        return len(self.keys)

    @classmethod
    def from_names(cls, names: Sequence[str], *, name: str = "custom") -> LabelSpace:
        """A label space whose keys are the given (unique) names, in the given order."""
        names = tuple(str(n) for n in names)
        return cls(keys=names, names=names, name=name)

    def table(self) -> pd.DataFrame:
        """The classes as a DataFrame with ``class_index``, ``class_key``, ``class_name``."""
        return pd.DataFrame(
            {
                "class_index": np.arange(len(self), dtype=np.int64),
                "class_key": list(self.keys),
                "class_name": list(self.names),
            }
        )

    def index_of_keys(self, keys: Sequence[str], *, where: str = "") -> np.ndarray:
        """Class indices of ``keys``; unknown keys raise an error naming the first few."""
        out = np.fromiter((self._key_index.get(str(k), -1) for k in keys), dtype=np.int64, count=len(keys))
        unknown = [k for k, i in zip(keys, out) if i < 0]
        if unknown:
            raise LabelSpaceError(
                f"{where}class keys not in label space {self.name!r} ({len(self)} classes): "
                f"{format_offenders(list(dict.fromkeys(unknown)))}"
            )
        return out

    def index_of_names(self, names: Sequence[str], *, where: str = "") -> np.ndarray:
        """Class indices of display names, keys or timm-style descriptions ("tench, Tinca tinca").

        A name that several classes share (ImageNet's two "crane" classes) is refused.
        """
        by_name, ambiguous = self._name_lookup()
        asked = pd.unique(np.asarray(names, dtype=object))
        bad_ambiguous = [n for n in asked if n in ambiguous]
        if bad_ambiguous:
            raise LabelSpaceError(
                f"{where}class names that several classes share cannot be resolved to an index "
                f"(give class indices or keys instead): {format_offenders(bad_ambiguous)}"
            )
        unknown = [n for n in asked if n not in by_name]
        if unknown:
            raise LabelSpaceError(
                f"{where}class names not in label space {self.name!r}: {format_offenders(unknown)}"
            )
        return np.fromiter((by_name[n] for n in names), dtype=np.int64, count=len(names))

    def _name_lookup(self) -> tuple[dict[str, int], set[str]]:
        """Every accepted spelling of a class (key, display name, lemmas joined by ", ") → index."""
        by_name: dict[str, int] = {}
        ambiguous: set[str] = set()
        spellings = [(n, i) for i, n in enumerate(self.names)]
        if self.lemmas is not None:
            spellings += [(", ".join(lem), i) for i, lem in enumerate(self.lemmas) if lem]
        for spelling, i in spellings:
            if by_name.get(spelling, i) != i:
                ambiguous.add(spelling)
            by_name[spelling] = i
        for key, i in self._key_index.items():
            by_name[key] = i
            ambiguous.discard(key)
        return by_name, ambiguous


def imagenet_1k() -> LabelSpace:
    """The ImageNet-1k label space (WordNet ids in sorted order, the torchvision/timm order)."""
    return _imagenet_1k_cached()


@cache
def _imagenet_1k_cached() -> LabelSpace:
    with resources.files("relabel.annotations").joinpath("imagenet1k_classes.tsv").open("r", encoding="utf-8") as f:
        table = pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False)
    lemmas = tuple(tuple(x.split("|")) if x else () for x in table["lemmas"]) if "lemmas" in table else None
    return LabelSpace(
        keys=tuple(table["class_key"]), names=tuple(table["class_name"]), name="imagenet-1k", lemmas=lemmas
    )


def load_label_space(source: str | Path | Sequence[str] | LabelSpace) -> LabelSpace:
    """A label space by name (``imagenet-1k``), from a file, or from a list of class names.

    Files: CSV/TSV with a ``key`` (or ``class_key``) column and optionally ``name``
    (``class_name``) and ``index`` (``class_index``) columns, or a single column of names;
    JSON holding a list of names, a list of ``{"key": …, "name": …}`` objects, or a
    ``{key: name}`` object; a text file with one name per line.
    """
    if isinstance(source, LabelSpace):
        return source
    if isinstance(source, (list, tuple)):
        return LabelSpace.from_names(source)
    text = str(source)
    if text.lower() in {"imagenet-1k", "imagenet", "imagenet1k"}:
        return imagenet_1k()
    path = Path(text)
    if not path.is_file():
        raise LabelSpaceError(f"label space {text!r} is neither 'imagenet-1k' nor an existing file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _label_space_from_json(path)
        if suffix in {".csv", ".tsv"}:
            return _label_space_from_table(path, sep="\t" if suffix == ".tsv" else ",")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return LabelSpace.from_names(lines, name=path.stem)
    except UnicodeDecodeError as e:
        raise LabelSpaceError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except LabelSpaceError as e:
        message = str(e)
        raise LabelSpaceError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def _label_space_from_json(path: Path) -> LabelSpace:
    try:
        data = loads_strict(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise LabelSpaceError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RepeatedJSONKeys as e:
        raise LabelSpaceError(
            f"{path}: class keys must be unique; {format_offenders(e.keys)} appear more than once"
        ) from None
    if isinstance(data, dict) and "classes" in data:
        data = data["classes"]
    if isinstance(data, dict):
        return LabelSpace(keys=tuple(map(str, data)), names=tuple(map(str, data.values())), name=path.stem)
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return LabelSpace.from_names(data, name=path.stem)
    if isinstance(data, list) and all(isinstance(x, dict) and "key" in x for x in data):
        return LabelSpace(
            keys=tuple(str(x["key"]) for x in data),
            names=tuple(str(x.get("name", x["key"])) for x in data),
            name=path.stem,
        )
    raise LabelSpaceError(
        f"{path}: expected a list of class names, a list of {{'key': …, 'name': …}} objects "
        f"or a {{key: name}} object"
    )


def _label_space_from_table(path: Path, *, sep: str) -> LabelSpace:
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise LabelSpaceError(f"{path}: cannot parse as {'TSV' if sep == chr(9) else 'CSV'}: {e}") from None
    columns = {c.lower(): c for c in table.columns}
    key_col = columns.get("class_key") or columns.get("key")
    name_col = columns.get("class_name") or columns.get("name")
    index_col = columns.get("class_index") or columns.get("index")
    if key_col is None and name_col is None:
        if len(table.columns) == 1:
            names = [table.columns[0], *table.iloc[:, 0]]
            return LabelSpace.from_names(names, name=path.stem)
        raise LabelSpaceError(
            f"{path}: expected a 'key' or 'name' column (also accepted: class_key, class_name); "
            f"found columns {list(table.columns)}"
        )
    if index_col is not None:
        table = table.iloc[_index_order(table[index_col], path, index_col)]
    keys = table[key_col] if key_col else table[name_col]
    names = table[name_col] if name_col else keys
    return LabelSpace(keys=tuple(keys), names=tuple(names), name=path.stem)


def _index_order(column: pd.Series, path: Path, index_col: str) -> np.ndarray:
    """Row order given by an index column that must hold each of ``0..K-1`` exactly once."""
    k = len(column)
    where = f"{path}, column {index_col!r}: expected each class index 0..{k - 1} once"
    values = column.str.strip()
    not_int = values[~values.str.fullmatch(r"-?\d+")]
    if len(not_int):
        raise LabelSpaceError(f"{where}; not an integer: {format_offenders(not_int.tolist())}")
    index = values.astype(np.int64).to_numpy()
    out_of_range = index[(index < 0) | (index >= k)]
    if len(out_of_range):
        raise LabelSpaceError(f"{where}; out of range: {format_offenders(out_of_range.tolist())}")
    repeated = pd.unique(index[pd.Series(index).duplicated().to_numpy()])
    if len(repeated):
        raise LabelSpaceError(f"{where}; repeated: {format_offenders(repeated.tolist())}")
    return np.argsort(index, kind="stable")
