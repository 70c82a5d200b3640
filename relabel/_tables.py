"""Table reading shared by the loaders: CSV/TSV and Parquet files, column picking, list cells.

Every reader of a user table (label spaces, annotations, runs, original labels) goes through
here, so a CSV is split the same way everywhere, image keys stay text everywhere (``000123``
keeps its zeros), the same column names are recognised everywhere, and a list cell such as
``"[1, 2]"``, numpy's ``"[1 2]"`` or ``"a|b"`` is read the same way everywhere, or refused.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from relabel.errors import InputError, format_offenders, quoted, repeated

__all__ = [
    "IMAGE_COLUMNS",
    "pick_column",
    "read_csv",
    "read_arrow",
    "frame_from_arrow",
    "read_parquet",
    "image_keys",
    "as_text",
    "parse_list_cell",
    "parse_list_cells",
]

#: Column names (any case) that hold image keys, in order of preference.
IMAGE_COLUMNS = ("image", "image_key", "filename", "file_name", "file", "path", "image_path", "img", "key",
                 "image_id", "image_name", "img_name", "id")


def pick_column(
    columns: Sequence[Any],
    candidates: Sequence[str],
    *,
    where: str,
    field: str,
    given: Any = None,
    required: bool = True,
) -> Any:
    """The column ``given`` (which must exist), else the first of ``candidates`` present (any case).

    >>> pick_column(["File_Name", "label"], IMAGE_COLUMNS, where="x.csv", field="image")
    'File_Name'
    >>> pick_column(["name"], IMAGE_COLUMNS[:2], where="x.csv", field="image")
    Traceback (most recent call last):
    ...
    relabel.errors.InputError: x.csv: no image column; expected one of ['image', 'image_key'], found ['name']
    """
    lower: dict[str, Any] = {}
    for column in columns:
        lower.setdefault(str(column).lower(), column)
    found = [str(c) for c in columns]
    if given is not None:
        if given in list(columns):
            return given
        if str(given).lower() in lower:
            return lower[str(given).lower()]
        raise InputError(f"{where}: no {field} column {given!r}; found {found}")
    for candidate in candidates:
        if candidate.lower() in lower:
            return lower[candidate.lower()]
    if required:
        raise InputError(f"{where}: no {field} column; expected one of {list(candidates)}, found {found}")
    return None


def read_csv(
    path: str | Path, *, image_column: str | None = None, all_text: bool = False, error: type[Exception] = InputError
) -> pd.DataFrame:
    """A CSV (``,``) or, for a ``.tsv`` suffix, TSV (tab) table with a header row.

    Image-key columns (:data:`IMAGE_COLUMNS` or ``image_column``, any case) are read as text,
    so ``000123`` keeps its zeros; ``all_text`` reads every column as text and keeps empty
    cells as ``""``. A file that is not UTF-8, is empty or cannot be split is an ``error``.
    """
    path = Path(path)
    kind, sep = ("TSV", "\t") if path.suffix.lower() == ".tsv" else ("CSV", ",")
    try:
        if all_text:
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        header = pd.read_csv(path, sep=sep, nrows=0).columns
        wanted = {c.lower() for c in IMAGE_COLUMNS} | ({str(image_column).lower()} if image_column else set())
        return pd.read_csv(path, sep=sep, dtype={c: str for c in header if str(c).lower() in wanted})
    except UnicodeDecodeError as e:  # pandas decodes in chunks: its byte offsets are not the file's
        raise error(f"{path}: not UTF-8 text ({e.reason})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise error(f"{path}: cannot parse as {kind}: {e}") from None


def read_arrow(path: str | Path, *, error: type[Exception] = InputError) -> pa.Table:
    """A Parquet file as an Arrow table (schema metadata kept)."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
        twice = repeated(names)
        if twice:
            raise error(f"{path}: column names must be unique; {format_offenders(twice)} appear more than once")
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise error(f"{path}: cannot read as Parquet: {e}") from None


def frame_from_arrow(table: pa.Table, *, where: str) -> pd.DataFrame:
    """An Arrow table as a DataFrame; an index that pandas stored (e.g. timm's ``filename``) becomes a column."""
    frame = table.to_pandas()
    if any(name is not None for name in frame.index.names):
        clash = [n for n in frame.index.names if n in frame.columns]
        if clash:
            raise InputError(f"{where}: the stored index {clash} has the name of a column; rename one of them")
        frame = frame.reset_index()
    return frame


def read_parquet(path: str | Path) -> pd.DataFrame:
    """A Parquet file as a DataFrame, with a stored pandas index turned back into columns."""
    return frame_from_arrow(read_arrow(path), where=str(path))


def as_text(values: Any) -> np.ndarray:
    """Values as an object array of ``str``, converting only what is not text already."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if arr.dtype.kind in "US":
        return arr.astype(str).astype(object)
    if arr.dtype == object and all(type(v) is str for v in arr):
        return arr
    return np.asarray([str(v) for v in arr], dtype=object)


def image_keys(table: pd.DataFrame, column: Any, *, where: str) -> np.ndarray:
    """The image keys in ``column`` as text; empty cells are an error naming their rows."""
    missing = table[column].isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InputError(f"{where}, column {column!r}: empty image keys at rows {format_offenders(rows, total=len(rows))}")
    return as_text(table[column].to_numpy())


_TOKEN = re.compile(r"""\s*(?:(?P<quoted>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<comma>,)|(?P<bare>[^\s,'"\[\]]+))""")
_SPACE = re.compile(r"\s*")
_INT = re.compile(r"[+-]?[0-9]+")


def _skip_space(text: str, pos: int) -> int:
    """The position of the first character at or after ``pos`` that is not white space."""
    space = _SPACE.match(text, pos)
    return space.end() if space else pos


def _bracketed(text: str) -> list[Any]:
    """``[…]`` as a Python/JSON list (``[1, 'a']``) or numpy's printed form (``[1 2]``, ``['a' 'b']``).

    A JSON array of numbers and strings is read by ``json.loads``; anything else by one
    scanner that reads both forms, in one pass over the text (time linear in its length):
    ``ast.literal_eval`` would silently join numpy's ``['a' 'b']`` into the single string
    ``'ab'`` (adjacent string literals concatenate).
    """
    if not text.endswith("]"):
        raise ValueError("expected the list to end with its closing ']'")
    try:
        values = json.loads(text)
    except (ValueError, RecursionError):
        values = None
    if isinstance(values, list) and all(type(v) in (int, float, str) for v in values):
        return values
    inner = text[1:-1]
    values = []
    separators: list[bool] = []  # whether a comma preceded each value
    comma = False
    pos = _skip_space(inner, 0)
    while pos < len(inner):
        match = _TOKEN.match(inner, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read {inner[pos:pos + 20]!r}")
        pos = _skip_space(inner, match.end())
        if match.group("comma"):
            if comma or not values:
                raise ValueError("an empty value between commas")
            comma = True
            continue
        quoted_text = match.group("quoted")
        if quoted_text:  # escapes (\n, \') need Python's reading; plain text is the text between the quotes
            values.append(ast.literal_eval(quoted_text) if "\\" in quoted_text else quoted_text[1:-1])
        else:
            token = match.group("bare")
            try:
                values.append(int(token) if _INT.fullmatch(token) else float(token))
            except ValueError:
                raise ValueError(f"{token[:40]!r} is neither a number nor quoted text") from None
        separators.append(comma)
        comma = False
    if len(set(separators[1:])) > 1:
        raise ValueError("values are separated partly by commas and partly by spaces")
    return values


def parse_list_cell(cell: Any) -> list[Any]:
    """The values of a list-valued table cell; text that cannot be read completely is a ``ValueError``.

    A list/array is taken as is; an empty cell is an empty list; text ``[…]`` is a Python or
    JSON list or numpy's printed array; other text is split at ``|``; any other value is a list
    of one.

    >>> parse_list_cell("['laptop', 3]"), parse_list_cell("[  1 607   0]"), parse_list_cell("desk | monitor")
    (['laptop', 3], [1, 607, 0], ['desk', 'monitor'])
    >>> parse_list_cell("[1, 2")
    Traceback (most recent call last):
    ...
    ValueError: expected the list to end with its closing ']'
    """
    if isinstance(cell, (list, tuple, np.ndarray)):
        return list(cell)
    if not isinstance(cell, str):
        return [] if cell is None or (pd.api.types.is_scalar(cell) and pd.isna(cell)) else [cell]
    text = cell.strip()
    if not text:
        return []
    if text.startswith("["):
        return _bracketed(text)
    parts = [part.strip() for part in text.split("|")]
    if "" in parts:
        raise ValueError("an empty label between '|'")
    return parts


def parse_list_cells(cells: Sequence[Any], owners: Sequence[Any] | np.ndarray, *, where: str, what: str) -> list[list[Any]]:
    """:func:`parse_list_cell` on each cell; a cell that cannot be read is an error naming its image."""
    out = []
    for owner, cell in zip(owners, cells):
        try:
            out.append(parse_list_cell(cell))
        except (ValueError, SyntaxError) as e:
            raise InputError(
                f"{where}, image {quoted(owner)}: cannot read the {what} {quoted(cell)} "
                f"(expected a list such as [1, 2] or ['a', 'b'], numpy's [1 2], or values separated by '|'): {e}"
            ) from None
    return out


def select_split(dataset: Any, split: str | None, source: str, *, option: str = "split=") -> tuple[Any, str]:
    """One split of an HF ``DatasetDict`` (the only one when ``split`` is not given), and its name for messages."""
    import datasets as hf

    if not isinstance(dataset, hf.DatasetDict):
        return dataset, source
    if split is None:
        if len(dataset) != 1:
            raise InputError(f"{source}: several splits {list(dataset)}; choose one with {option}")
        split = next(iter(dataset))
    if split not in dataset:
        raise InputError(f"{source}: no split {split!r}; found {list(dataset)}")
    return dataset[split], f"{source} (split {split!r})"
