"""Label spaces: class index ↔ stable key ↔ display name.

A :class:`LabelSpace` orders classes ``0..K-1``. Each class has a stable ``key`` (the WordNet
id for ImageNet, any string for a custom set) and a display ``name``. Keys are unique; names
need not be (ImageNet has two "crane" classes), so resolving a name to an index refuses
ambiguous names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel import _json, _tables
from relabel.errors import LabelSpaceError, format_offenders, repeated

__all__ = ["LabelSpace", "imagenet_1k", "load_label_space"]

#: How a class index is written as text: ASCII digits with an optional minus (not "--3", not "²").
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


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
        blank = [i for i, name in enumerate(self.names) if not str(name).strip()]
        if blank:
            raise LabelSpaceError(
                f"label space {self.name!r}: class names must not be empty; empty at class indices "
                f"{format_offenders(blank)}"
            )
        duplicates = repeated(self.keys)
        if duplicates:
            raise LabelSpaceError(
                f"label space {self.name!r}: class keys must be unique; "
                f"{format_offenders(duplicates)} appear more than once"
            )
        object.__setattr__(self, "_key_index", {key: i for i, key in enumerate(self.keys)})

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_names(cls, names: Sequence[str], *, name: str = "custom") -> LabelSpace:
        """A label space whose keys are the given (unique) names, in the given order."""
        names = tuple(str(n) for n in names)
        return cls(keys=names, names=names, name=name)

    @classmethod
    def from_labels(cls, values: Sequence[Any], *, name: str = "inferred") -> LabelSpace:
        """A label space inferred from the labels used: ``0..max`` for integers, else the sorted distinct names.

        >>> LabelSpace.from_labels([2, "0", 2.0]).keys
        ('0', '1', '2')
        >>> LabelSpace.from_labels(["desk", "laptop", "desk"]).keys
        ('desk', 'laptop')
        >>> LabelSpace.from_labels(["3", 1.0, "none"]).keys
        ('1', '3', 'none')
        """
        plain = [v.strip() if isinstance(v, str) else v for v in values]
        integers = [_as_integer(v) for v in plain]
        if plain and all(i is not None and i >= 0 for i in integers):
            return cls.from_names([str(i) for i in range(max(integers) + 1)], name=name)  # type: ignore[type-var, operator]
        return cls.from_names(sorted({str(v) if i is None else str(i) for v, i in zip(plain, integers)}), name=name)

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
        return self._resolve_names(np.asarray(names, dtype=object), where=where.removesuffix(": ") or "")

    def indices(
        self,
        values: Any,
        *,
        where: str,
        owners: Sequence[Any] | np.ndarray | None = None,
        evidence: Any = None,
        ambiguous_hint: str = "",
        as_indices: bool = False,
    ) -> np.ndarray:
        """Class indices of ``values`` (1-D, or 2-D with one row per image), checked against the space.

        A value that is an integer (an int, an integral float, or ASCII text such as ``"3"``)
        is a class index; any other value is resolved as a class key, display name or
        timm-style description (:meth:`index_of_names`). Missing, nested, fractional, unknown,
        ambiguous and out-of-range values are errors that start with ``where`` and name the
        images when ``owners`` gives the image key of each row (else the row positions).

        Class names that look like integers (``"1"``, ``"2"``, ``"none"``) are matched as names
        first. A value that is both a valid index and another class's name (``"1"`` is class 0's
        name and index 1) is read as a name when the values (and ``evidence``: other labels of
        the same source) hold a name that cannot be an index, as an index when they hold an
        index that is no class's name, and is an ambiguity error otherwise. ``ambiguous_hint``
        is added to the error for names several classes share. ``as_indices`` reads integer
        values (and integer text) as class indices only: labels resolved already, or ids that
        a format defines as indices.

        >>> space = LabelSpace.from_names(["laptop", "notebook", "desk"])
        >>> space.indices([["desk", "0"], ["notebook", 2]], where="x.csv").tolist()
        [[2, 0], [1, 2]]
        >>> space.indices([0, 3.0], where="x.csv, column 'pred'", owners=["a.jpg", "b.jpg"])
        Traceback (most recent call last):
        ...
        relabel.errors.LabelSpaceError: x.csv, column 'pred': class ids must lie in 0..2 (label space 'custom'); \
1 offender: 3.0 at images 1 offender: 'b.jpg'
        >>> digits = LabelSpace.from_names(["1", "2", "3", "none"])
        >>> digits.indices(["1", "3", "none"], where="x.csv").tolist()
        [0, 2, 3]
        """
        arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
        if arr.ndim not in (1, 2):
            raise LabelSpaceError(f"{where}: expected one class label per image or one row per image; found {arr.shape}")
        flat = arr.reshape(-1)
        width = arr.shape[1] if arr.ndim == 2 else 1
        labels = np.asarray(owners, dtype=object) if owners is not None else None

        def located(mask: np.ndarray) -> str:
            rows = np.unique(np.flatnonzero(mask) // width)
            if labels is None:
                return f" at positions {format_offenders(rows.tolist(), total=len(rows))}"
            return f" at images {format_offenders(labels[rows], total=len(rows))}"

        integer_names = {} if as_indices else self._integer_names()
        if flat.dtype.kind in "iuf" and not integer_names:
            return self._check_ids(flat, where=where, located=located).reshape(arr.shape)
        if flat.dtype.kind not in "iufUSO":
            raise LabelSpaceError(
                f"{where}: class labels must be integers, keys or names; found {flat.dtype} values "
                f"{format_offenders(pd.unique(flat))}"
            )
        if flat.dtype.kind == "O":
            missing = pd.isna(flat)
            if missing.any():
                raise LabelSpaceError(f"{where}: missing class labels{located(missing)}")
            nested = np.fromiter((isinstance(v, (list, tuple, dict, set, np.ndarray)) for v in flat), bool, len(flat))
            if nested.any():
                raise LabelSpaceError(
                    f"{where}: expected one class label per value, found nested values "
                    f"{format_offenders(flat[nested])}{located(nested)}"
                )
        readings = [self._reading(value, integer_names) for value in flat.tolist()]
        is_number = np.fromiter((r[0] == "index" for r in readings), bool, len(readings))
        numbers = [r[1] for r in readings if r[0] == "index"]
        names = [r[1] for r in readings if r[0] == "name"]
        ambiguous = np.fromiter((r[0] == "either" for r in readings), bool, len(readings))
        if ambiguous.any():
            as_name = self._ambiguous_as_names(readings, evidence, integer_names, where, flat, ambiguous, located)
            for i in np.flatnonzero(ambiguous):
                _, index, name_class = readings[i]
                readings[i] = ("class", name_class if as_name else index)
            is_number = np.fromiter((r[0] == "index" for r in readings), bool, len(readings))
            numbers = [r[1] for r in readings if r[0] == "index"]
            names = [r[1] for r in readings if r[0] == "name"]

        def within(subset: np.ndarray) -> Any:
            """``located`` for a mask over the values of one kind (numbers or names)."""
            positions = np.flatnonzero(subset)

            def at(mask: np.ndarray) -> str:
                full = np.zeros(len(flat), dtype=bool)
                full[positions[mask]] = True
                return located(full)

            return at

        out = np.empty(len(flat), dtype=np.int64)
        resolved = np.fromiter((r[0] == "class" for r in readings), bool, len(readings))
        if resolved.any():
            out[resolved] = [r[1] for r in readings if r[0] == "class"]
        if numbers:
            as_array = np.asarray(numbers, dtype=np.float64) if any(isinstance(v, float) for v in numbers) else (
                _int_array(numbers))
            out[is_number] = self._check_ids(as_array, where=where, located=within(is_number))
        if names:
            is_name = ~is_number & ~resolved
            out[is_name] = self._resolve_names(np.asarray(names, dtype=object), where=where,
                                               located=within(is_name), hint=ambiguous_hint)
        return out.reshape(arr.shape)

    def _integer_names(self) -> dict[str, int]:
        """Spellings of classes (keys, names, descriptions) that are integer text, each with its class."""
        cached = self.__dict__.get("_integers")
        if cached is None:
            by_name, _ = self._name_lookup()
            cached = {text: i for text, i in by_name.items() if _INTEGER_TEXT.fullmatch(text)}
            object.__setattr__(self, "_integers", cached)
        return cached

    def _reading(self, value: Any, integer_names: dict[str, int]) -> tuple[Any, ...]:
        """How one value reads: ``("index", n)``, ``("name", text)``, ``("class", i)`` or ``("either", n, i)``.

        ``"either"``: ``n`` is a valid index and the value also spells class ``i != n``.
        """
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            number = value.item() if isinstance(value, (np.integer, np.floating)) else value
            as_int = _as_integer(number)
            text = None if as_int is None else str(as_int)
        else:
            text = str(value).strip()
            if not _INTEGER_TEXT.fullmatch(text):
                return ("name", text)
            as_int = number = int(text)
        name_class = integer_names.get(text) if text is not None else None
        if name_class is None or as_int == name_class:
            return ("index", number)
        if 0 <= as_int < len(self):  # type: ignore[operator]
            return ("either", as_int, name_class)
        return ("class", name_class)  # an integer name that is no valid index: only the name fits

    def _ambiguous_as_names(self, readings: list[tuple[Any, ...]], evidence: Any, integer_names: dict[str, int],
                            where: str, flat: np.ndarray, ambiguous: np.ndarray, located: Any) -> bool:
        """Whether values that are both an index and another class's name are names (else indices), or an error."""
        extra = [] if evidence is None else [
            self._reading(v, integer_names) for v in np.asarray(evidence, dtype=object).reshape(-1).tolist()
            if not (v is None or (pd.api.types.is_scalar(v) and pd.isna(v)))
            and not isinstance(v, (list, tuple, dict, set, np.ndarray))
        ]
        kinds = [r for r in [*readings, *extra] if r[0] != "either"]
        names_only = any(r[0] in ("name", "class") for r in kinds)
        index_only = any(r[0] == "index" and not (isinstance(r[1], float) and not float(r[1]).is_integer())
                         for r in kinds)
        if names_only != index_only:
            return names_only
        examples: dict[str, str] = {}
        for i in np.flatnonzero(ambiguous):
            _, index, name_class = readings[i]
            examples.setdefault(str(flat[i]), f"{flat[i]!r}: index {index} ({self.names[index]!r}) or the name of "
                                              f"class {name_class}")
        found = ("both names that cannot be indices and indices that are no class's name" if names_only
                 else "no other value that tells")
        raise LabelSpaceError(
            f"{where}: class labels that are both a valid class index and the name of another class in label space "
            f"{self.name!r} cannot be read safely ({found}): {'; '.join(list(examples.values())[:5])}"
            f"{located(ambiguous)}. Give class names that are not integers, or a label space in which each integer "
            f"name is its own index"
        )

    def _check_ids(self, numbers: np.ndarray, *, where: str, located: Any) -> np.ndarray:
        """Integer class ids in ``0..K-1`` from an int or float array; else an error naming the offenders."""
        if numbers.dtype.kind == "f":
            missing = np.isnan(numbers)
            if missing.any():
                raise LabelSpaceError(f"{where}: missing class labels{located(missing)}")
            fractional = ~np.isfinite(numbers) | (numbers != np.round(numbers))
            if fractional.any():
                raise LabelSpaceError(
                    f"{where}: class ids must be integers; "
                    f"{format_offenders(pd.unique(numbers[fractional]))}{located(fractional)}"
                )
        k = len(self)
        if numbers.size and (numbers.min() < 0 or numbers.max() >= k):
            outside = (numbers < 0) | (numbers >= k)
            raise LabelSpaceError(
                f"{where}: class ids must lie in 0..{k - 1} (label space {self.name!r}); "
                f"{format_offenders(pd.unique(numbers[outside]))}{located(outside)}"
            )
        return numbers.astype(np.int64)

    def _resolve_names(self, texts: np.ndarray, *, where: str, located: Any = None, hint: str = "") -> np.ndarray:
        """Class indices of keys, names or descriptions; unknown and shared names are errors."""
        prefix = f"{where}: " if where else ""
        by_name, ambiguous = self._name_lookup()

        def at(mask: np.ndarray) -> str:
            return located(mask) if located is not None else ""

        shared = np.fromiter((t in ambiguous for t in texts), bool, len(texts))
        if shared.any():
            raise LabelSpaceError(
                f"{prefix}class names that several classes share cannot be resolved to an index "
                f"(give class indices or keys instead{hint}): {format_offenders(pd.unique(texts[shared]))}{at(shared)}"
            )
        unknown = np.fromiter((t not in by_name for t in texts), bool, len(texts))
        if unknown.any():
            raise LabelSpaceError(
                f"{prefix}class names not in label space {self.name!r}: "
                f"{format_offenders(pd.unique(texts[unknown]))}{at(unknown)}"
            )
        return np.fromiter((by_name[t] for t in texts), dtype=np.int64, count=len(texts))

    def _name_lookup(self) -> tuple[dict[str, int], set[str]]:
        """Every accepted spelling of a class → index, and the spellings several classes share.

        Spellings, in order of precedence: the class key; the description timm writes (the
        lemmas joined by ", ", e.g. "maillot, tank suit"); the display name. A spelling is taken
        from the first kind that has it, and is ambiguous only when several classes share it
        there: ImageNet's "maillot" is class 638's description (639's is "maillot, tank
        suit") though both display names are "maillot"; "crane" is two classes' description.
        """
        cached = self.__dict__.get("_lookup")
        if cached is not None:
            return cached
        by_name: dict[str, int] = dict(self._key_index)
        ambiguous: set[str] = set()
        tiers = []
        if self.lemmas is not None:
            tiers.append([(", ".join(lem), i) for i, lem in enumerate(self.lemmas) if lem])
        tiers.append([(n, i) for i, n in enumerate(self.names)])
        for tier in tiers:
            found: dict[str, set[int]] = {}
            for spelling, i in tier:
                found.setdefault(spelling, set()).add(i)
            for spelling, classes in found.items():
                if spelling in by_name:
                    continue
                by_name[spelling] = min(classes)
                if len(classes) > 1:
                    ambiguous.add(spelling)
        object.__setattr__(self, "_lookup", (by_name, ambiguous))
        return by_name, ambiguous


def _int_array(values: list[int]) -> np.ndarray:
    """Python ints as int64, or as float64 when some do not fit (they are out of range anyway)."""
    try:
        return np.asarray(values, dtype=np.int64)
    except OverflowError:
        return np.asarray(values, dtype=np.float64)


def _as_integer(value: Any) -> int | None:
    """``value`` as an int when it is one (an int, an integral float, ASCII integer text), else ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if np.isfinite(value) and float(value).is_integer() else None
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value)
    return None


@cache
def imagenet_1k() -> LabelSpace:
    """The ImageNet-1k label space (WordNet ids in sorted order, the torchvision/timm order)."""
    with resources.files("relabel.annotations").joinpath("imagenet1k_classes.tsv").open("r", encoding="utf-8") as f:
        table = pd.read_csv(f, sep="\t", dtype=str, keep_default_na=False)
    lemmas = tuple(tuple(x.split("|")) if x else () for x in table["lemmas"]) if "lemmas" in table else None
    return LabelSpace(
        keys=tuple(table["class_key"]), names=tuple(table["class_name"]), name="imagenet-1k", lemmas=lemmas
    )


def load_label_space(source: str | Path | Sequence[str] | LabelSpace) -> LabelSpace:
    """A label space by name (``imagenet-1k``), from a file, or from a list of class names.

    Files:

    * CSV/TSV, which always starts with a header row: a ``key`` (or ``class_key``) column
      and/or a ``name`` (``class_name``) column, and optionally ``index`` (``class_index``)
      giving each row's class index; any other column is an error (a misspelt ``index`` would
      leave the classes in file order). A single column of names is written with the header
      ``name``; a list of names without a header belongs in a text file.
    * JSON: a list of names, a list of ``{"key": …, "name": …}`` objects, a ``{key: name}``
      object, or any of these under ``"classes"``.
    * any other suffix (``.txt``): one name per line, no header; blank lines are skipped.

    A folder saved by ``datasets.save_to_disk`` gives the names of its ``ClassLabel``
    feature (all of its ``ClassLabel`` features, in every split, must name the same classes).
    """
    if isinstance(source, LabelSpace):
        return source
    if isinstance(source, (list, tuple)):
        return LabelSpace.from_names(source)
    text = str(source)
    if text.lower() in {"imagenet-1k", "imagenet", "imagenet1k"}:
        return imagenet_1k()
    path = Path(text)
    if path.is_dir():
        return _label_space_from_hf(path)
    if not path.is_file():
        raise LabelSpaceError(f"label space {text!r} is neither 'imagenet-1k' nor an existing file or saved HF dataset")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return _label_space_from_json(path)
        if suffix in {".csv", ".tsv"}:
            return _label_space_from_table(path)
        lines = [line.strip() for line in _json.read_text(path, error=LabelSpaceError).splitlines() if line.strip()]
        return LabelSpace.from_names(lines, name=path.stem)
    except LabelSpaceError as e:
        message = str(e)
        raise LabelSpaceError(message if message.startswith(str(path)) else f"{path}: {message}") from None


def _label_space_from_hf(path: Path) -> LabelSpace:
    """The class names of the ``ClassLabel`` features of a saved HF dataset (or ``DatasetDict``)."""
    import datasets as hf

    try:
        dataset = hf.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as e:
        raise LabelSpaceError(f"label space {path}: a folder, but not a dataset saved with save_to_disk ({e})") from None
    splits = dataset.values() if isinstance(dataset, hf.DatasetDict) else [dataset]
    found: dict[tuple[str, ...], list[str]] = {}
    for split in splits:
        for column, feature in split.features.items():
            inner = getattr(feature, "feature", feature)
            if isinstance(inner, hf.ClassLabel):
                found.setdefault(tuple(inner.names), []).append(column)
    if not found:
        raise LabelSpaceError(f"label space {path}: the saved dataset has no ClassLabel feature to take class names "
                              f"from; found features {list(next(iter(splits)).features)}")
    if len(found) > 1:
        raise LabelSpaceError(f"label space {path}: ClassLabel features name different classes "
                              f"({', '.join(sorted({c for columns in found.values() for c in columns}))}); give a "
                              f"class-list file instead")
    return LabelSpace.from_names(next(iter(found)), name=path.name)


def _label_space_from_json(path: Path) -> LabelSpace:
    data = _json.parse(_json.read_text(path, error=LabelSpaceError), str(path), error=LabelSpaceError)
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


def _label_space_from_table(path: Path) -> LabelSpace:
    table = _tables.read_csv(path, all_text=True, error=LabelSpaceError)
    where = str(path)
    key_col, name_col, index_col = (
        _tables.pick_column(table.columns, candidates, where=where, field=field, required=False)
        for candidates, field in ((["class_key", "key"], "key"), (["class_name", "name"], "name"),
                                  (["class_index", "index"], "index"))
    )
    if key_col is None and name_col is None:
        if len(table.columns) == 1:
            raise LabelSpaceError(
                f"{path}: a CSV label space starts with a header row naming its 'key' or 'name' column; the first "
                f"line, {table.columns[0]!r}, is not one. Add the header 'name' above the names, or list the names "
                f"one per line in a .txt file (no header)"
            )
        raise LabelSpaceError(
            f"{path}: expected a 'key' or 'name' column (also accepted: class_key, class_name); "
            f"found columns {list(table.columns)}"
        )
    extra = [str(c) for c in table.columns if c not in {key_col, name_col, index_col}]
    if extra:  # a misspelt 'index' would leave the rows in file order: silently other classes
        raise LabelSpaceError(
            f"{path}: unknown columns {format_offenders(extra)}; a label space CSV has the columns key, name and "
            f"index (also accepted: class_key, class_name, class_index): rename a misspelt one, or remove the column"
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
    not_int = values[~values.str.fullmatch(_INTEGER_TEXT.pattern)]
    if len(not_int):
        raise LabelSpaceError(f"{where}; not an integer: {format_offenders(not_int.tolist())}")
    index = np.asarray([int(v) for v in values], dtype=object)
    out_of_range = index[(index < 0) | (index >= k)]
    if len(out_of_range):
        raise LabelSpaceError(f"{where}; out of range: {format_offenders(out_of_range.tolist())}")
    index = index.astype(np.int64)
    twice = repeated(index.tolist())
    if twice:
        raise LabelSpaceError(f"{where}; repeated: {format_offenders(twice)}")
    return np.argsort(index, kind="stable")
