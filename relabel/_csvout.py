"""CSV writing of a DataFrame, byte for byte what ``DataFrame.to_csv(path, index=False)`` writes, faster.

Ground floor: :func:`relabel.export.write_table` writes every table CSV of a results folder through
here. pandas formats each cell in Python, 5-8 s for the 1,000,000 per-class rows of a 1,000-run
sweep (0.8-1.5 s here). Here each column is reduced to its distinct values (a sweep's table holds a thousand run
names and a few hundred distinct accuracies), only those are formatted, by the conversions pandas
itself applies (``astype(str)`` of the float array, ``str`` of integers and booleans, the
:mod:`csv` module for text that needs quotes), and neighbouring columns with few distinct
combinations are joined once per combination before the rows are put together.

A table with a column of another type (dates, intervals, nullable floats, a mixed ``object``
column, …), a single column, no row or several header levels is written by pandas itself.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

__all__ = ["write_csv", "csv_text"]

#: Characters that may make the csv module quote a field (pandas writes with its QUOTE_MINIMAL
#: dialect: ``,`` separates, ``"`` quotes, the line ends with ``os.linesep``); a text without any
#: is written as it is, one with any is handed to the csv module to quote.
_MAY_QUOTE = re.compile("[" + re.escape(',"\r\n' + os.linesep) + "]")

#: Rows put together and written at a time (bounds the memory of the text being built).
_CHUNK_ROWS = 65_536

#: A column's distinct values: codes (one per row, >= 0) into their formatted texts.
_Segment = tuple[np.ndarray, np.ndarray]


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` to ``path`` exactly as ``table.to_csv(path, index=False)`` does (UTF-8, ``os.linesep``)."""
    segments = _segments(table)
    if segments is None:
        table.to_csv(path, index=False)
        return
    with open(path, "wb") as out:
        for text in _pieces(table, segments):
            out.write(text.encode("utf-8"))


def csv_text(table: pd.DataFrame) -> str:
    """The text :func:`write_csv` writes for ``table`` (what ``table.to_csv(index=False)`` returns)."""
    segments = _segments(table)
    if segments is None:
        return str(table.to_csv(index=False))
    return "".join(_pieces(table, segments))


def _pieces(table: pd.DataFrame, segments: list[_Segment]) -> Iterator[str]:
    """The header (written by pandas, so the column names are quoted as pandas quotes them), then the rows."""
    yield str(table.iloc[:0].to_csv(index=False))
    end = os.linesep
    for start in range(0, len(table), _CHUNK_ROWS):
        columns = [texts[codes[start:start + _CHUNK_ROWS]].tolist() for codes, texts in segments]
        yield end.join(map(",".join, zip(*columns))) + end


def _segments(table: pd.DataFrame) -> list[_Segment] | None:
    """Each column's codes and texts, neighbours with few combinations joined; ``None``: leave it to pandas."""
    n_rows, n_columns = table.shape
    if n_rows == 0 or n_columns < 2 or isinstance(table.columns, pd.MultiIndex):
        return None
    segments: list[_Segment] = []
    for j in range(n_columns):
        column = _column(table.iloc[:, j])
        if column is None:
            return None
        if segments:
            joined = _join(segments[-1], column, n_rows)
            if joined is not None:
                segments[-1] = joined
                continue
        segments.append(column)
    return segments


def _join(left: _Segment, right: _Segment, n_rows: int) -> _Segment | None:
    """The two columns as one, when they have at most a quarter as many distinct pairs as rows."""
    left_codes, left_texts = left
    right_codes, right_texts = right
    width = len(right_texts)
    if max(len(left_texts), width) > n_rows // 4 or len(left_texts) * width >= 2**62:
        return None  # as many distinct values as pairs at least (nearly: a category may go unused)
    codes, pairs = pd.factorize(left_codes * width + right_codes)
    if len(pairs) > n_rows // 4:
        return None
    return codes.astype(np.int64, copy=False), left_texts[pairs // width] + "," + right_texts[pairs % width]


def _column(series: pd.Series) -> _Segment | None:
    """One column's distinct values formatted as pandas formats them for a CSV; ``None``: a type not handled here."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        values = series.to_numpy()
        if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):  # not long double: no integer type of its width
            # distinct bit patterns, not values: -0.0 and 0.0 are equal but written differently
            codes, bits = pd.factorize(values.view(f"i{dtype.itemsize}").astype(np.int64))
            distinct = bits.astype(f"i{dtype.itemsize}").view(dtype)
            texts = distinct.astype(str).astype(object)
            texts[np.isnan(distinct)] = ""
            return codes.astype(np.int64, copy=False), texts
        if dtype.kind in "iu":
            codes, distinct = pd.factorize(values)
            return codes.astype(np.int64, copy=False), np.array([str(v) for v in distinct.tolist()], dtype=object)
        if dtype.kind == "b":
            return values.astype(np.int64), np.array(["False", "True"], dtype=object)
        if dtype.kind == "O" and infer_dtype(values, skipna=True) in ("string", "empty"):
            return _text(*pd.factorize(values, use_na_sentinel=True))
        return None
    if isinstance(dtype, pd.StringDtype):
        return _text(*pd.factorize(series.array, use_na_sentinel=True))
    if isinstance(dtype, pd.CategoricalDtype):
        categories = np.asarray(dtype.categories, dtype=object)
        if infer_dtype(categories, skipna=False) != "string":
            return None
        return _text(series.cat.codes.to_numpy(), categories)
    if isinstance(series.array, (pd.arrays.IntegerArray, pd.arrays.BooleanArray)):
        codes, distinct = pd.factorize(series.array, use_na_sentinel=True)
        return _missing_last(codes, np.array([str(v) for v in distinct.to_numpy(dtype=object)], dtype=object))
    return None


def _text(codes: np.ndarray, distinct: object) -> _Segment:
    """Text values (``str``), quoted where the csv module quotes them; missing values (code -1) written empty."""
    values = np.asarray(distinct, dtype=object)
    texts = np.array([_quoted(v) if _MAY_QUOTE.search(v) else v for v in values.tolist()], dtype=object)
    return _missing_last(codes, texts)


def _missing_last(codes: np.ndarray, texts: np.ndarray) -> _Segment:
    """Codes >= 0: a missing value's -1 points at an empty text added last (pandas writes ``na_rep=''``)."""
    codes = np.asarray(codes, dtype=np.int64)
    if (codes < 0).any():
        texts = np.append(texts, np.array([""], dtype=object))
        codes = np.where(codes < 0, len(texts) - 1, codes)
    return codes, texts


def _quoted(text: str) -> str:
    """``text`` as the csv module writes it as one field of a row (with pandas' dialect)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=os.linesep).writerow([text, ""])
    return buffer.getvalue()[: -1 - len(os.linesep)]
