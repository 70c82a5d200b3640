"""Runs: the predictions of one trained model on the evaluation images.

A :class:`Run` holds image keys, top-k class ids (rank 0 is the top-1 prediction), optional
top-k scores and optional full logits, plus :class:`RunMeta` (name, group, strength, seed).
Readers: relabel's Parquet schema (``image``, ``topk_ids`` list<int>, ``topk_scores``
list<float>, optional ``logits`` fixed-size list; metadata under the schema key
``relabel``), any CSV/Parquet/JSON table with an image column and a predicted-class or top-k
column (timm ``inference.py`` output included), ``.npy``/``.npz`` arrays and torch tensor
files (loaded with ``weights_only=True``) with an image-order file. All validation happens
here.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from relabel.errors import InputError, LabelSpaceError, format_offenders
from relabel.labelspace import LabelSpace
from relabel.loading.annotations import image_key

__all__ = ["Run", "RunMeta", "load_run", "run_from_table", "run_from_arrays", "run_to_arrow", "canonical_val_keys"]

METADATA_KEY = b"relabel"
DEFAULT_TOPK = 5

_IMAGE_COLUMNS = ["image", "filename", "file_name", "file", "path", "image_path", "img", "key"]
_PRED_COLUMNS = ["pred_index", "pred", "prediction", "predicted", "pred_class", "top1", "class_index"]
_SCORE_COLUMNS = ["score", "confidence", "pred_score"]


@dataclass(frozen=True)
class RunMeta:
    """Who made a run: its ``name``, recipe ``group``, optional numeric ``strength`` and ``seed``."""

    name: str
    group: str | None = None
    strength: float | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The metadata as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, where: str = "run metadata") -> RunMeta:
        """Parse metadata, checking each field's type."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InputError(f"{where}: unknown fields {sorted(unknown)}; expected name, group, strength, seed")
        if not data.get("name"):
            raise InputError(f"{where}: field 'name' is required")
        try:
            strength = None if data.get("strength") is None else float(data["strength"])
            seed = None if data.get("seed") is None else int(data["seed"])
        except (TypeError, ValueError):
            raise InputError(
                f"{where}: 'strength' must be a number and 'seed' an integer; found "
                f"strength={data.get('strength')!r}, seed={data.get('seed')!r}"
            ) from None
        group = None if data.get("group") is None else str(data["group"])
        return cls(name=str(data["name"]), group=group, strength=strength, seed=seed)


@dataclass(frozen=True)
class Run:
    """Top-k predictions of one model: ``topk_ids[i, 0]`` is image ``images[i]``'s top-1 class."""

    meta: RunMeta
    images: np.ndarray
    topk_ids: np.ndarray
    topk_scores: np.ndarray | None = None
    logits: np.ndarray | None = None
    source: str = ""

    @property
    def n_images(self) -> int:
        """Number of predicted images."""
        return len(self.images)

    @property
    def top1(self) -> np.ndarray:
        """Top-1 predicted class index per image."""
        return self.topk_ids[:, 0]

    def with_meta(self, **changes: Any) -> Run:
        """A copy with some metadata fields replaced (``None`` values leave a field as it is)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, meta=dataclasses.replace(self.meta, **changes))


def canonical_val_keys(n: int, *, where: str = "") -> np.ndarray:
    """Keys of the ImageNet validation images in sorted file-name order (ReaL's order)."""
    if n != 50_000:
        raise InputError(
            f"{where}{': ' if where else ''}the canonical ImageNet validation order has 50000 images, "
            f"but the array has {n} rows; "
            f"give an image-order file instead"
        )
    return np.asarray([f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, n + 1)], dtype=object)


def _validated(
    meta: RunMeta,
    images: Sequence[Any],
    ids: np.ndarray,
    scores: np.ndarray | None,
    logits: np.ndarray | None,
    label_space: LabelSpace,
    source: str,
    *,
    image_field: str = "column 'image'",
    ids_field: str = "column 'topk_ids'",
    scores_field: str = "column 'topk_scores'",
) -> Run:
    """Check keys, ids and scores; the ``*_field`` arguments say where each came from."""
    where = source or f"run {meta.name!r}"
    images = np.asarray([str(i) for i in images], dtype=object)
    if len(images) == 0:
        raise InputError(f"{where}: the run holds no predictions")
    if ids.ndim == 1:
        ids = ids[:, None]
    if len(ids) != len(images):
        raise InputError(f"{where}: {len(images)} image keys but {len(ids)} rows of predictions")
    keys = pd.Series(images)
    dup = keys[keys.duplicated()].unique()
    if len(dup):
        raise InputError(
            f"{where}, {image_field}: image keys must be unique; {format_offenders(dup)} appear more than once"
        )
    k = len(label_space)
    bad = (ids < 0) | (ids >= k)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise InputError(
            f"{where}, {ids_field}: predicted class ids must lie in 0..{k - 1} (label space {label_space.name!r} "
            f"has {k} classes); {format_offenders(np.unique(ids[bad]).tolist())} at images "
            f"{format_offenders(images[rows], total=len(rows))}"
        )
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float32)
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.shape != ids.shape:
            raise InputError(f"{where}, {scores_field}: scores have shape {scores.shape} but class ids {ids.shape}")
        _check_finite(scores, images, f"{where}, {scores_field}", "scores")
    return Run(meta, images, ids.astype(np.int64, copy=False), scores, logits, source)


def _check_finite(values: np.ndarray, images: np.ndarray, where: str, field: str) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        rows = np.flatnonzero(~finite.reshape(len(values), -1).all(axis=1))
        raise InputError(
            f"{where}: {field} must be finite (no NaN or inf); found at images "
            f"{format_offenders(images[rows], total=len(rows))}"
        )


def run_from_arrays(
    images: Sequence[Any],
    values: Any,
    *,
    meta: RunMeta,
    label_space: LabelSpace,
    scores: Any = None,
    keep_logits: bool = False,
    topk: int = DEFAULT_TOPK,
    source: str = "",
    field: str = "",
    images_field: str = "image keys",
) -> Run:
    """A run from an array: (N, K) float logits, (N, k) int top-k ids or (N,) int top-1 ids.

    Logits are reduced to the top-``topk`` ids with softmax probabilities as scores, and kept
    only when ``keep_logits`` is set. ``field`` and ``images_field`` say where the values and
    the image keys came from (e.g. ``"array 'logits'"``, ``"image-order file order.txt"``) for
    error messages.
    """
    where = source or f"run {meta.name!r}"
    if field:
        where = f"{where}, {field}"
    fields = {"image_field": images_field, "ids_field": field or "class ids", "scores_field": "scores"}
    arr = np.asarray(values)
    images = np.asarray([str(i) for i in images], dtype=object)
    if arr.dtype.kind == "f":
        if arr.ndim != 2:
            raise InputError(f"{where}: float arrays must be (images, classes) logits; found shape {arr.shape}")
        if arr.shape[1] != len(label_space):
            raise LabelSpaceError(
                f"{where}: logits have {arr.shape[1]} classes but label space {label_space.name!r} has {len(label_space)}"
            )
        if len(arr) != len(images):
            raise InputError(f"{where}: {len(images)} image keys but {len(arr)} rows of logits")
        _check_finite(arr, images, where, "logits")
        ids, probs = _topk_from_logits(arr, topk)
        logits = arr.astype(np.float32, copy=False) if keep_logits else None
        return _validated(meta, images, ids, probs, logits, label_space, source, **fields)
    if arr.dtype.kind in "iu":
        if arr.ndim not in (1, 2):
            raise InputError(f"{where}: integer arrays must be (images,) or (images, k) class ids; found {arr.shape}")
        return _validated(meta, images, arr.astype(np.int64), None if scores is None else np.asarray(scores), None,
                          label_space, source, **fields)
    raise InputError(f"{where}: expected float logits or integer class ids, found dtype {arr.dtype}")


def _topk_from_logits(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k ids (highest first) and their softmax probabilities, without a full sort."""
    k = min(k, logits.shape[1])
    part = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    part_values = np.take_along_axis(logits, part, axis=1)
    order = np.argsort(-part_values, axis=1, kind="stable")
    ids = np.take_along_axis(part, order, axis=1)
    top = np.take_along_axis(part_values, order, axis=1).astype(np.float64)
    row_max = logits.max(axis=1, keepdims=True).astype(np.float64)
    log_norm = np.log(np.exp(logits.astype(np.float64) - row_max).sum(axis=1, keepdims=True)) + row_max
    return ids.astype(np.int64), np.exp(top - log_norm).astype(np.float32)


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def _parse_list_cell(cell: Any) -> list[Any]:
    """A list-valued cell: a real list, ``"[1, 2]"``, numpy's ``"[1 2]"`` or ``"['a' 'b']"``."""
    if isinstance(cell, (list, tuple, np.ndarray)):
        return list(cell)
    if not isinstance(cell, str):
        return [cell]
    text = cell.strip()
    if not text.startswith("["):
        return [text]
    inner = text[1:-1]
    if "'" in inner or '"' in inner:
        return [a if a else b for a, b in _QUOTED.findall(inner)]
    return [_number(x) for x in re.split(r"[,\s]+", inner.strip()) if x]


def _number(token: str) -> Any:
    """``"3"`` → 3, ``"0.5"``/``"nan"``/``"1e-03"`` → float; anything else stays a string."""
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return token


def _column_values(table: pd.DataFrame, column: str) -> list[list[Any]]:
    return [_parse_list_cell(c) for c in table[column]]


def _rectangular(rows: list[list[Any]], images: np.ndarray, where: str) -> np.ndarray:
    """Rows of one common length ≥ 1 as a 2-D object array; else an error naming the odd rows."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    _check_lengths(lengths, images, where)
    return np.asarray(rows, dtype=object).reshape(len(rows), -1)


def _check_lengths(lengths: np.ndarray, images: np.ndarray, where: str) -> None:
    if len(lengths) == 0:
        return
    values, counts = np.unique(lengths, return_counts=True)
    common = int(values[np.argmax(counts)])
    bad = np.flatnonzero((lengths != common) | (lengths == 0))
    if len(bad):
        raise InputError(
            f"{where}: every row must hold the same number (≥ 1) of values; most rows hold {common}, "
            f"found lengths {values.tolist()[:5]} at images {format_offenders(images[bad], total=len(bad))}"
        )


def _integral(values: np.ndarray, where: str) -> np.ndarray:
    """Integer class ids from an int or float array; fractions, NaN and inf are refused."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    if values.dtype.kind != "f":
        raise InputError(f"{where}: class ids must be integers; found {values.dtype} values "
                         f"{format_offenders(pd.unique(values.reshape(-1)))}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        raise InputError(f"{where}: class ids must be integers; {format_offenders(pd.unique(values[bad]))}")
    return values.astype(np.int64)


def _to_ids(values: np.ndarray, label_space: LabelSpace, where: str) -> np.ndarray:
    """Class ids from ints or from names/keys resolved through the label space."""
    flat = values.reshape(-1)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in flat):
        return flat.astype(np.int64).reshape(values.shape)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in flat):
        return _integral(flat.astype(np.float64), where).reshape(values.shape)
    strings = [str(v) for v in flat]
    if all(s.lstrip("-").isdigit() for s in strings):
        return np.asarray(strings, dtype=np.int64).reshape(values.shape)
    return label_space.index_of_names(strings, where=f"{where}: ").reshape(values.shape)


def _numbered(table: pd.DataFrame, prefix: str) -> list[str]:
    """Columns ``prefix_0``, ``prefix_1``, … in rank order (timm's ``--results-separate-col``)."""
    found = {}
    for col in table.columns:
        m = re.fullmatch(re.escape(prefix) + r"_(\d+)", str(col))
        if m:
            found[int(m.group(1))] = col
    return [found[i] for i in range(len(found))] if found and set(found) == set(range(len(found))) else []


def run_from_table(
    table: pd.DataFrame,
    *,
    meta: RunMeta,
    label_space: LabelSpace,
    image_column: str | None = None,
    pred_column: str | None = None,
    score_column: str | None = None,
    source: str = "",
) -> Run:
    """A run from a table with an image column and predicted classes.

    Predictions are found, in this order: ``pred_column`` if given (a class per row or a
    list per row); ``topk_ids``; a column named ``pred_index``, ``pred``, ``prediction``,
    ``predicted``, ``pred_class``, ``top1`` or ``class_index``; timm's ``index_0, index_1, …``
    or ``index``; timm's ``label_0, …`` or ``label`` (class names, keys or descriptions). A
    named prediction column comes before ``label`` so that a ground-truth ``label`` column
    beside it is never read as the prediction. Scores likewise from ``score_column``,
    ``topk_scores``, ``prob_*``/``prob``, ``logit_*``/``logit``, ``score``, ``confidence`` or
    ``pred_score``.
    """
    where = source or f"run {meta.name!r}"
    found_columns = list(map(str, table.columns))
    lower = {str(c).lower(): c for c in table.columns}
    image_col = _find_image_column(table.columns, image_column)
    if image_col is None:
        expected = repr(image_column) if image_column is not None else f"one of {_IMAGE_COLUMNS}"
        raise InputError(f"{where}: no image column; expected {expected}, found {found_columns}")
    if table[image_col].isna().any():
        rows = np.flatnonzero(table[image_col].isna().to_numpy())
        raise InputError(f"{where}, column {image_col!r}: empty image keys at rows {format_offenders(rows)}")
    if len(table) == 0:
        raise InputError(f"{where}: the run holds no predictions (the table has no rows)")
    images = np.asarray([str(i) for i in table[image_col]], dtype=object)

    def pick(candidates: list[str]) -> tuple[str, list[str]] | None:
        for cand in candidates:
            numbered = _numbered(table, cand)
            if numbered:
                return f"columns {numbered[0]!r}…{numbered[-1]!r}", numbered
            if cand in table.columns:
                return f"column {cand!r}", [cand]
            if cand.lower() in lower:
                return f"column {lower[cand.lower()]!r}", [lower[cand.lower()]]
        return None

    def values_of(columns: list[str], field: str) -> np.ndarray:
        if len(columns) > 1:
            return table[columns].to_numpy(dtype=object)
        return _rectangular(_column_values(table, columns[0]), images, f"{where}, {field}")

    found = pick([pred_column] if pred_column else ["topk_ids", *_PRED_COLUMNS, "index", "label"])
    if found is None:
        if pred_column is not None:
            raise InputError(f"{where}: no prediction column {pred_column!r}; found {found_columns}")
        raise InputError(
            f"{where}: no prediction column; expected topk_ids, one of {_PRED_COLUMNS} or timm's index/label "
            f"columns (or name it with pred_column), found {found_columns}"
        )
    ids_field, columns = found
    ids = _to_ids(values_of(columns, ids_field), label_space, f"{where}, {ids_field}")

    score_found = pick([score_column] if score_column else ["topk_scores", "prob", "logit", *_SCORE_COLUMNS])
    if score_found is None and score_column is not None:
        raise InputError(f"{where}: no score column {score_column!r}; found {found_columns}")
    scores = None
    scores_field = "scores"
    if score_found is not None:
        scores_field, scols = score_found
        scores = _floats(values_of(scols, scores_field), f"{where}, {scores_field}")
        if scores.shape[1] != ids.shape[1]:
            scores = scores[:, : ids.shape[1]] if scores.shape[1] > ids.shape[1] else None
    return _validated(meta, images, ids, scores, None, label_space, source,
                      image_field=f"column {image_col!r}", ids_field=ids_field, scores_field=scores_field)


def _floats(raw: np.ndarray, where: str) -> np.ndarray:
    try:
        return raw.astype(np.float64)
    except (TypeError, ValueError):
        bad = [v for v in raw.reshape(-1) if not _is_number(v)]
        raise InputError(f"{where}: scores must be numbers; found {format_offenders(dict.fromkeys(bad))}") from None


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _find_image_column(columns: Sequence[Any], image_column: str | None) -> Any:
    """The image column: ``image_column`` if given and present, else the first known name (any case)."""
    if image_column is not None:
        return image_column if image_column in columns else None
    lower = {str(c).lower(): c for c in columns}
    return next((lower[c] for c in _IMAGE_COLUMNS if c in lower), None)


def run_to_arrow(run: Run) -> pa.Table:
    """The run in relabel's Parquet schema, metadata included."""
    columns: dict[str, Any] = {
        "image": pa.array(run.images.astype(str), pa.string()),
        "topk_ids": pa.FixedSizeListArray.from_arrays(pa.array(run.topk_ids.reshape(-1), pa.int32()), run.topk_ids.shape[1]),
    }
    if run.topk_scores is not None:
        columns["topk_scores"] = pa.FixedSizeListArray.from_arrays(
            pa.array(run.topk_scores.reshape(-1).astype(np.float32), pa.float32()), run.topk_scores.shape[1]
        )
    if run.logits is not None:
        columns["logits"] = pa.FixedSizeListArray.from_arrays(
            pa.array(run.logits.reshape(-1).astype(np.float32), pa.float32()), run.logits.shape[1]
        )
    table = pa.table(columns)
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(run.meta.to_dict()).encode()})


def _list_column_to_array(column: pa.ChunkedArray, images: np.ndarray, where: str, *, ids: bool) -> np.ndarray:
    """A (fixed-size) list column as a 2-D array (int64 class ids or float32 values).

    Refuses null rows or values, ragged rows and, for ids, values that are not integers.
    """
    column = column.combine_chunks()
    if column.null_count:
        rows = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
        raise InputError(f"{where}: rows must not be null; found at images {format_offenders(images[rows], total=len(rows))}")
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
        lengths = np.full(len(column), width, dtype=np.int64)
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = column.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
        width = int(lengths[0]) if len(lengths) else 0
    else:
        raise InputError(f"{where}: expected a list column, found type {column.type}")
    _check_lengths(lengths, images, where)
    flat = column.flatten()
    if flat.null_count:
        rows = np.unique(np.repeat(np.arange(len(column)), lengths)[flat.is_null().to_numpy(zero_copy_only=False)])
        raise InputError(f"{where}: values must not be null; found at images {format_offenders(images[rows], total=len(rows))}")
    if ids and not (pa.types.is_integer(flat.type) or pa.types.is_floating(flat.type)):
        raise InputError(f"{where}: class ids must be integers; found type {flat.type}, values "
                         f"{format_offenders(pd.unique(np.asarray(flat.to_pylist(), dtype=object)))}")
    values = flat.to_numpy(zero_copy_only=False)
    values = _integral(values, where) if ids else values.astype(np.float32)
    return values.reshape(len(column), width)


def _read_parquet(path: Path) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: cannot read as Parquet: {e}") from None
    metadata = (table.schema.metadata or {}).get(METADATA_KEY)
    if not metadata:
        return table, {}
    try:
        meta = json.loads(metadata)
    except (json.JSONDecodeError, UnicodeDecodeError):
        meta = None
    if not isinstance(meta, dict):
        raise InputError(
            f"{path}: schema metadata key 'relabel' must hold a JSON object with name, group, strength, seed; "
            f"found {metadata[:80]!r}"
        )
    return table, meta


def _read_json_table(path: Path, *, image_column: str | None, pred_column: str | None) -> pd.DataFrame:
    """Records (a list or JSON lines), pandas' ``split`` / ``columns`` / ``index`` orients.

    timm saves ``--results-format json`` as ``{filename: {column: value}}`` (orient ``index``);
    it is told from pandas' default orient ``columns`` (``{column: {row: value}}``) by where
    the prediction columns appear. Its keys land in ``image_column`` (default ``image``).
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = _json_lines(text) if path.suffix.lower() == ".jsonl" else json.loads(text)
    except json.JSONDecodeError as e:
        try:
            data = _json_lines(text)
        except json.JSONDecodeError:
            raise InputError(f"{path}: neither JSON nor JSON lines (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if isinstance(data, list):
        if not all(isinstance(r, dict) for r in data):
            raise InputError(f"{path}: expected a list of records (JSON objects)")
        return pd.DataFrame.from_records(data)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a list of records or an object of columns, found {type(data).__name__}")
    if {"columns", "data"} <= set(data):
        return pd.DataFrame(data["data"], columns=data["columns"])
    if data and all(isinstance(v, dict) for v in data.values()):
        inner = {str(k) for v in data.values() for k in v}
        if _find_image_column(list(data), image_column) is None and _names_predictions(inner, pred_column):
            table = pd.DataFrame.from_records(list(data.values()))
            table.insert(0, image_column or "image", list(data))
            return table
        return pd.DataFrame({k: list(v.values()) for k, v in data.items()})
    if all(isinstance(v, list) for v in data.values()):
        return pd.DataFrame(data)
    return pd.DataFrame.from_records([data])


def _json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _names_predictions(columns: set[str], pred_column: str | None) -> bool:
    """Whether some of ``columns`` would be read as predictions."""
    wanted = [pred_column] if pred_column else ["topk_ids", *_PRED_COLUMNS, "index", "label"]
    return any(c.lower() == w.lower() or re.fullmatch(re.escape(w) + r"_\d+", c) for c in columns for w in wanted)


def _read_order(path: str | Path, n: int, where: str) -> np.ndarray:
    order_path = Path(path)
    if not order_path.is_file():
        raise InputError(f"{where}: image-order file {order_path} does not exist")
    keys = [line.strip() for line in order_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(keys) != n:
        raise InputError(f"{where}: the image-order file {order_path} lists {len(keys)} images but the array has {n} rows")
    return np.asarray(keys, dtype=object)


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return {"values": np.load(path, allow_pickle=False)}
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        import torch

        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only=True met something other than tensors and containers
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        detail = next((line for line in lines if "GLOBAL" in line or "Unsupported" in line), lines[-1] if lines else "")
        raise InputError(
            f"{path}: cannot load: the file holds objects other than tensors, dicts, lists and strings ({detail}); "
            f"relabel loads torch files with weights_only=True and never runs pickled code, so save plain "
            f"tensors, e.g. torch.save({{'logits': logits, 'images': keys}}, path)"
        ) from None
    except Exception as e:  # numpy and torch raise ValueError, OSError, RuntimeError, zipfile errors, …
        raise InputError(f"{path}: cannot load arrays ({type(e).__name__}: {e})") from None
    import torch

    def to_numpy(t: torch.Tensor) -> np.ndarray:
        t = t.detach().cpu()
        return (t.float() if t.dtype in (torch.float16, torch.bfloat16) else t).numpy()

    if isinstance(obj, torch.Tensor):
        return {"values": to_numpy(obj)}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(v, torch.Tensor):
                out[str(k)] = to_numpy(v)
            elif isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
                out[str(k)] = np.asarray(v, dtype=object)
        return out
    raise InputError(f"{path}: expected a tensor or a dict of tensors, found {type(obj).__name__}")


def load_run(
    path: str | Path,
    *,
    label_space: LabelSpace,
    name: str | None = None,
    group: str | None = None,
    strength: float | None = None,
    seed: int | None = None,
    image_column: str | None = None,
    pred_column: str | None = None,
    score_column: str | None = None,
    order: str | Path | None = None,
    canonical_order: bool = False,
    keep_logits: bool = False,
    topk: int = DEFAULT_TOPK,
) -> Run:
    """Load one run from a file; metadata given here overrides what the file says.

    Parameters
    ----------
    path
        ``.parquet`` (relabel's schema or any table), ``.csv``/``.tsv``, ``.json``/``.jsonl``,
        ``.npy``/``.npz``, ``.pt``/``.pth``.
    order, canonical_order
        For arrays without image keys: a file with one key or path per line, or the statement
        that rows follow the sorted ImageNet validation file names. Position is never assumed.
    keep_logits, topk
        Full logits are reduced to the top-``topk`` ids and softmax scores unless kept.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise InputError(f"run file {path} does not exist")
    suffix = path.suffix.lower()
    file_meta: dict[str, Any] = {}
    if suffix == ".parquet":
        arrow, file_meta = _read_parquet(path)
        meta = _meta(file_meta, path, name, group, strength, seed)
        if "topk_ids" in arrow.column_names and pred_column is None:
            if "image" not in arrow.column_names:
                raise InputError(f"{where}: relabel run files need an 'image' column; found {arrow.column_names}")
            if arrow["image"].null_count:
                rows = np.flatnonzero(arrow["image"].is_null().to_numpy(zero_copy_only=False))
                raise InputError(f"{where}, column 'image': empty image keys at rows {format_offenders(rows)}")
            images = np.asarray([str(i) for i in arrow["image"].to_pylist()], dtype=object)
            ids = _list_column_to_array(arrow["topk_ids"], images, f"{where}, column 'topk_ids'", ids=True)
            scores = (
                _list_column_to_array(arrow["topk_scores"], images, f"{where}, column 'topk_scores'", ids=False)
                if "topk_scores" in arrow.column_names
                else None
            )
            if "logits" in arrow.column_names:
                logits = _list_column_to_array(arrow["logits"], images, f"{where}, column 'logits'", ids=False)
                if logits.shape[1] != len(label_space):
                    raise LabelSpaceError(
                        f"{where}, column 'logits': {logits.shape[1]} classes but label space "
                        f"{label_space.name!r} has {len(label_space)}"
                    )
                _check_finite(logits, images, f"{where}, column 'logits'", "logits")
                if not keep_logits:
                    logits = None
            else:
                logits = None
            return _validated(meta, images, ids, scores, logits, label_space, where)
        table = arrow.to_pandas()
        if any(n is not None for n in table.index.names):  # pandas wrote its index (timm: filename)
            table = table.reset_index()
    elif suffix in {".csv", ".tsv"}:
        meta = _meta(file_meta, path, name, group, strength, seed)
        table = _read_csv(path, sep="\t" if suffix == ".tsv" else ",", image_column=image_column)
    elif suffix in {".json", ".jsonl"}:
        meta = _meta(file_meta, path, name, group, strength, seed)
        table = _read_json_table(path, image_column=image_column, pred_column=pred_column)
    elif suffix in {".npy", ".npz", ".pt", ".pth"}:
        meta = _meta(file_meta, path, name, group, strength, seed)
        arrays = _read_arrays(path)
        return _run_from_array_file(arrays, path, meta, label_space, order, canonical_order, keep_logits, topk)
    else:
        raise InputError(
            f"{path}: unknown run format {suffix!r}; expected .parquet, .csv, .tsv, .json, .jsonl, .npy, .npz, .pt or .pth"
        )
    return run_from_table(
        table, meta=meta, label_space=label_space, image_column=image_column,
        pred_column=pred_column, score_column=score_column, source=where,
    )


def _read_csv(path: Path, *, sep: str, image_column: str | None) -> pd.DataFrame:
    """A CSV table whose image column is read as text (``000123`` keeps its zeros)."""
    try:
        header = pd.read_csv(path, sep=sep, nrows=0).columns
        image_col = _find_image_column(header, image_column)
        return pd.read_csv(path, sep=sep, dtype=None if image_col is None else {image_col: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot parse as CSV: {e}") from None


def _run_from_array_file(
    arrays: dict[str, np.ndarray],
    path: Path,
    meta: RunMeta,
    label_space: LabelSpace,
    order: str | Path | None,
    canonical_order: bool,
    keep_logits: bool,
    topk: int,
) -> Run:
    where = str(path)
    value_key = next((k for k in ("logits", "topk_ids", "ids", "preds", "predictions", "values") if k in arrays), None)
    if value_key is None:
        numeric = [k for k, v in arrays.items() if v.dtype.kind in "fiu"]
        if len(numeric) != 1:
            raise InputError(
                f"{where}: cannot tell which array holds the predictions; name it 'logits' or 'topk_ids' (found {sorted(arrays)})"
            )
        value_key = numeric[0]
    values = arrays[value_key]
    if values.ndim == 0:
        raise InputError(f"{where}, array {value_key!r}: expected one row per image, found a single value")
    n = len(values)
    image_key_name = next((k for k in ("images", "image", "keys") if k in arrays), None)
    if image_key_name is not None:
        images = arrays[image_key_name].astype(str)
        images_field = f"array {image_key_name!r}"
    elif order is not None:
        images = _read_order(order, n, where)
        images_field = f"image-order file {order}"
    elif canonical_order:
        images = canonical_val_keys(n, where=where)
        images_field = "canonical order"
    else:
        raise InputError(
            f"{where}: arrays carry no image keys; give an image-order file (one key or path per line) "
            f"or state that rows follow the sorted ImageNet validation order (--canonical-order)"
        )
    images = np.asarray([image_key(i) for i in images], dtype=object) if image_key_name is None else images
    scores = arrays.get("topk_scores")
    return run_from_arrays(images, values, meta=meta, label_space=label_space, scores=scores,
                           keep_logits=keep_logits, topk=topk, source=where,
                           field="" if value_key == "values" else f"array {value_key!r}", images_field=images_field)


def _meta(file_meta: dict[str, Any], path: Path, name: str | None, group: str | None,
          strength: float | None, seed: int | None) -> RunMeta:
    merged = {"name": path.stem, **file_meta}
    for key, value in (("name", name), ("group", group), ("strength", strength), ("seed", seed)):
        if value is not None:
            merged[key] = value
    return RunMeta.from_dict(merged, where=f"{path}, run metadata")
