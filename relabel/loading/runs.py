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


def canonical_val_keys(n: int) -> np.ndarray:
    """Keys of the ImageNet validation images in sorted file-name order (ReaL's order)."""
    if n != 50_000:
        raise InputError(
            f"the canonical ImageNet validation order has 50000 images, but the array has {n} rows; "
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
) -> Run:
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
            f"{where}, column 'image': image keys must be unique; {format_offenders(dup)} appear more than once"
        )
    k = len(label_space)
    bad = (ids < 0) | (ids >= k)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise InputError(
            f"{where}: predicted class ids must lie in 0..{k - 1} (label space {label_space.name!r} has {k} classes); "
            f"{format_offenders(np.unique(ids[bad]).tolist())} at images {format_offenders(images[rows], total=len(rows))}"
        )
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float32)
        if scores.ndim == 1:
            scores = scores[:, None]
        if scores.shape != ids.shape:
            raise InputError(f"{where}: scores have shape {scores.shape} but class ids {ids.shape}")
        _check_finite(scores, images, where, "scores")
    return Run(meta, images, ids.astype(np.int64, copy=False), scores, logits, source)


def _check_finite(values: np.ndarray, images: np.ndarray, where: str, field: str) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        rows = np.flatnonzero(~finite.reshape(len(values), -1).all(axis=1))
        raise InputError(
            f"{where}: {field} must be finite (no NaN or inf); {len(rows)} images have bad values, "
            f"first: {format_offenders(images[rows][:5], total=len(rows))}"
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
) -> Run:
    """A run from an array: (N, K) float logits, (N, k) int top-k ids or (N,) int top-1 ids.

    Logits are reduced to the top-``topk`` ids with softmax probabilities as scores, and kept
    only when ``keep_logits`` is set.
    """
    where = source or f"run {meta.name!r}"
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
        return _validated(meta, images, ids, probs, logits, label_space, source)
    if arr.dtype.kind in "iu":
        if arr.ndim not in (1, 2):
            raise InputError(f"{where}: integer arrays must be (images,) or (images, k) class ids; found {arr.shape}")
        return _validated(meta, images, arr.astype(np.int64), None if scores is None else np.asarray(scores), None, label_space, source)
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
    return [float(x) if ("." in x or "e" in x.lower()) else int(x) for x in re.split(r"[,\s]+", inner.strip()) if x]


def _column_values(table: pd.DataFrame, column: str) -> list[list[Any]]:
    return [_parse_list_cell(c) for c in table[column]]


def _rectangular(rows: list[list[Any]], where: str) -> np.ndarray:
    lengths = {len(r) for r in rows}
    if len(lengths) != 1 or 0 in lengths:
        raise InputError(f"{where}: every row must hold the same number (≥ 1) of predictions; found lengths {sorted(lengths)[:5]}")
    return np.asarray(rows, dtype=object)


def _to_ids(values: np.ndarray, label_space: LabelSpace, where: str) -> np.ndarray:
    """Class ids from ints or from names/keys resolved through the label space."""
    flat = values.reshape(-1)
    if all(isinstance(v, (int, np.integer)) for v in flat):
        return flat.astype(np.int64).reshape(values.shape)
    if all(isinstance(v, (float, np.floating)) for v in flat):
        numeric = flat.astype(np.float64)
        if not np.isfinite(numeric).all() or (numeric != np.round(numeric)).any():
            bad = numeric[~np.isfinite(numeric) | (numeric != np.round(numeric))]
            raise InputError(f"{where}: class ids must be integers; {format_offenders(bad)}")
        return numeric.astype(np.int64).reshape(values.shape)
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
    list per row); ``topk_ids``; timm's ``index_0, index_1, …`` or ``index``; timm's
    ``label_0, …`` or ``label`` (class names, keys or descriptions); a column named
    ``pred_index``, ``pred``, ``prediction``, ``predicted``, ``pred_class``, ``top1`` or
    ``class_index``. Scores likewise from ``score_column``, ``topk_scores``, ``prob_*``/``prob``,
    ``logit_*``/``logit``, ``score`` or ``confidence``.
    """
    where = source or f"run {meta.name!r}"
    lower = {str(c).lower(): c for c in table.columns}
    image_col = image_column or next((lower[c] for c in _IMAGE_COLUMNS if c in lower), None)
    if image_col is None or image_col not in table.columns:
        raise InputError(
            f"{where}: no image column; expected {image_column!r} or one of {_IMAGE_COLUMNS}, found {list(map(str, table.columns))}"
        )
    if table[image_col].isna().any():
        rows = np.flatnonzero(table[image_col].isna().to_numpy())
        raise InputError(f"{where}, column {image_col!r}: empty image keys at rows {format_offenders(rows)}")

    def pick(candidates: list[str]) -> tuple[str, list[str]] | None:
        for cand in candidates:
            numbered = _numbered(table, cand)
            if numbered:
                return cand, numbered
            if cand in table.columns:
                return cand, [cand]
            if cand.lower() in lower:
                return cand, [lower[cand.lower()]]
        return None

    if pred_column is not None and pred_column not in table.columns and not _numbered(table, pred_column):
        raise InputError(f"{where}: no prediction column {pred_column!r}; found {list(map(str, table.columns))}")
    found = pick([pred_column] if pred_column else ["topk_ids", "index", "label", *_PRED_COLUMNS])
    if found is None:
        raise InputError(
            f"{where}: no prediction column; expected topk_ids, timm's index/label columns or one of {_PRED_COLUMNS} "
            f"(or name it with pred_column), found {list(map(str, table.columns))}"
        )
    name, columns = found
    if len(columns) > 1:
        values = table[columns].to_numpy(dtype=object)
    else:
        values = _rectangular(_column_values(table, columns[0]), f"{where}, column {columns[0]!r}")
    ids = _to_ids(values, label_space, f"{where}, column {name!r}")

    if score_column is not None and score_column not in table.columns and not _numbered(table, score_column):
        raise InputError(f"{where}: no score column {score_column!r}; found {list(map(str, table.columns))}")
    score_found = pick([score_column] if score_column else ["topk_scores", "prob", "logit", *_SCORE_COLUMNS])
    scores = None
    if score_found is not None:
        sname, scols = score_found
        raw = table[scols].to_numpy(dtype=object) if len(scols) > 1 else _rectangular(
            _column_values(table, scols[0]), f"{where}, column {scols[0]!r}"
        )
        try:
            scores = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{where}, column {sname!r}: scores must be numbers") from None
        if scores.shape[1] != ids.shape[1]:
            scores = scores[:, : ids.shape[1]] if scores.shape[1] > ids.shape[1] else None
    return _validated(meta, table[image_col].to_numpy(), ids, scores, None, label_space, source)


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


def _list_column_to_array(column: pa.ChunkedArray, dtype: Any, where: str) -> np.ndarray:
    """A (fixed-size) list column as a 2-D numpy array, refusing ragged or null rows."""
    column = column.combine_chunks()
    if column.null_count:
        raise InputError(f"{where}: {column.null_count} rows are null")
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
        values = column.flatten().to_numpy(zero_copy_only=False)
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = np.diff(column.offsets.to_numpy())
        if len(lengths) and (lengths != lengths[0]).any() or (len(lengths) and lengths[0] == 0):
            raise InputError(f"{where}: every row must hold the same number (≥ 1) of values; found {sorted(set(lengths.tolist()))[:5]}")
        width = int(lengths[0]) if len(lengths) else 0
        values = column.flatten().to_numpy(zero_copy_only=False)
    else:
        raise InputError(f"{where}: expected a list column, found type {column.type}")
    return values.astype(dtype).reshape(len(column), width)


def _read_parquet(path: Path) -> tuple[pa.Table, dict[str, Any]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: cannot read as Parquet: {e}") from None
    metadata = (table.schema.metadata or {}).get(METADATA_KEY)
    meta = json.loads(metadata) if metadata else {}
    return table, meta


def _read_json_table(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        try:
            return pd.read_json(path, lines=True)
        except ValueError as e:
            raise InputError(f"{path}: neither JSON nor JSON lines: {e}") from None
    if isinstance(data, list):
        return pd.DataFrame.from_records(data)
    if isinstance(data, dict) and {"columns", "data"} <= set(data):
        return pd.DataFrame(data["data"], columns=data["columns"])
    if isinstance(data, dict):
        return pd.DataFrame({k: (list(v.values()) if isinstance(v, dict) else v) for k, v in data.items()})
    raise InputError(f"{path}: expected a list of records or an object of columns")


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
    except (ValueError, OSError, RuntimeError, Exception) as e:  # torch raises UnpicklingError and others
        raise InputError(f"{path}: cannot load arrays ({type(e).__name__}: {e})") from None
    import torch

    if isinstance(obj, torch.Tensor):
        return {"values": obj.numpy()}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(v, torch.Tensor):
                out[str(k)] = v.float().numpy() if v.dtype in (torch.float16, torch.bfloat16) else v.numpy()
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
            ids = _list_column_to_array(arrow["topk_ids"], np.int64, f"{where}, column 'topk_ids'")
            scores = (
                _list_column_to_array(arrow["topk_scores"], np.float32, f"{where}, column 'topk_scores'")
                if "topk_scores" in arrow.column_names
                else None
            )
            images = arrow["image"].to_numpy(zero_copy_only=False)
            if "logits" in arrow.column_names:
                logits = _list_column_to_array(arrow["logits"], np.float32, f"{where}, column 'logits'")
                if logits.shape[1] != len(label_space):
                    raise LabelSpaceError(
                        f"{where}, column 'logits': {logits.shape[1]} classes but label space "
                        f"{label_space.name!r} has {len(label_space)}"
                    )
                _check_finite(logits, np.asarray(images, dtype=object), where, "logits")
                if not keep_logits:
                    logits = None
            else:
                logits = None
            return _validated(meta, images, ids, scores, logits, label_space, where)
        table = arrow.to_pandas()
    elif suffix in {".csv", ".tsv"}:
        meta = _meta(file_meta, path, name, group, strength, seed)
        try:
            table = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot parse as CSV: {e}") from None
    elif suffix in {".json", ".jsonl"}:
        meta = _meta(file_meta, path, name, group, strength, seed)
        table = _read_json_table(path)
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
    n = len(values)
    image_key_name = next((k for k in ("images", "image", "keys") if k in arrays), None)
    if image_key_name is not None:
        images = arrays[image_key_name].astype(str)
    elif order is not None:
        images = _read_order(order, n, where)
    elif canonical_order:
        images = canonical_val_keys(n)
    else:
        raise InputError(
            f"{where}: arrays carry no image keys; give an image-order file (one key or path per line) "
            f"or state that rows follow the sorted ImageNet validation order (--canonical-order)"
        )
    images = np.asarray([image_key(i) for i in images], dtype=object) if image_key_name is None else images
    scores = arrays.get("topk_scores")
    return run_from_arrays(images, values, meta=meta, label_space=label_space, scores=scores,
                           keep_logits=keep_logits, topk=topk, source=where)


def _meta(file_meta: dict[str, Any], path: Path, name: str | None, group: str | None,
          strength: float | None, seed: int | None) -> RunMeta:
    merged = {"name": path.stem, **file_meta}
    for key, value in (("name", name), ("group", group), ("strength", strength), ("seed", seed)):
        if value is not None:
            merged[key] = value
    return RunMeta.from_dict(merged, where=f"{path}, run metadata")
