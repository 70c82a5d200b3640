"""The fast CSV writer: byte for byte what ``DataFrame.to_csv(index=False)`` writes, on hostile tables too."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from relabel import _csvout
from relabel._csvout import csv_text, write_csv

HOSTILE_TEXT = ["plain", "", "a,b", 'say "hi"', '"', '""', "line\nbreak", "carriage\rreturn", "both\r\nends", "\ttab",
                " lead", "trail ", "é ünïcödé", "emoji 🦜", "line\u2028sep", "#hash", "'single'", ",", "\n", "a;b",
                "x" * 500, "nul\x00char", "back\\slash"]
FLOATS = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-05, 1e-4, 9.999999999999999e-05, 1e16, 9999999999999998.0, 1.5e300,
          5e-324, -5e-324, 2.2250738585072014e-308, 0.1, 1 / 3, 2 / 3, 123456789.125, -1e-300, 1e22, 1.7976931348623157e308]


def _same(frame: pd.DataFrame, *, fast: bool = True) -> None:
    """``frame`` is written as pandas writes it, and (``fast``) by the fast path, not by pandas itself."""
    assert csv_text(frame) == frame.to_csv(index=False)
    assert (_csvout._segments(frame) is not None) == fast


def _cycle(values: list, n: int) -> list:
    return [values[i % len(values)] for i in range(n)]


def test_floats_of_every_kind_are_written_as_pandas_writes_them():
    n = len(FLOATS) * 3
    with np.errstate(over="ignore"):  # the largest doubles are inf as float32
        f32 = np.array(_cycle(FLOATS, n), dtype=np.float32)
    frame = pd.DataFrame({"f": _cycle(FLOATS, n), "g": _cycle(FLOATS[::-1], n), "f32": f32,
                          "f16": np.array(_cycle([0.1, -0.0, np.nan, 65504.0, 6e-08, 1 / 3], n), dtype=np.float16)})
    _same(frame)


def test_float_bit_patterns_drawn_at_random_are_written_as_pandas_writes_them():
    """Every exponent, subnormals, NaNs with payloads, both zeros: 100,000 doubles from random bits."""
    rng = np.random.default_rng(18)
    n = 100_000
    bits = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    frame = pd.DataFrame({"x": bits.view(np.float64), "y": rng.normal(size=n) * 10.0 ** rng.integers(-30, 30, n),
                          "k": rng.integers(0, 50, n) / 50})
    _same(frame)


def test_integers_and_booleans():
    frame = pd.DataFrame({
        "i64": np.array([0, -1, 2**63 - 1, -2**63, 7], dtype=np.int64),
        "u64": np.array([0, 2**64 - 1, 1, 2**63, 5], dtype=np.uint64),
        "i8": np.array([-128, 127, 0, 1, -1], dtype=np.int8),
        "b": [True, False, True, True, False],
        "nullable_int": pd.array([1, None, -3, 2**62, None], dtype="Int64"),
        "nullable_bool": pd.array([True, None, False, None, True], dtype="boolean"),
        "u8": pd.array([0, 255, None, 1, 2], dtype="UInt8"),
    })
    _same(frame)


@pytest.mark.parametrize("dtype", ["str", "object", pd.StringDtype("python"), pd.StringDtype("pyarrow"),
                                   pd.StringDtype("pyarrow", na_value=np.nan)])
def test_text_that_needs_quotes_or_is_missing(dtype):
    texts = [*HOSTILE_TEXT, None, np.nan]
    column = pd.Series(texts, dtype=dtype)
    frame = pd.DataFrame({"text": column, "n": range(len(texts)), "again": column[::-1].to_numpy()})
    _same(frame)


def test_object_columns_of_text_with_every_missing_marker():
    frame = pd.DataFrame({"a": pd.Series(["x", None, np.nan, pd.NA, "y,z"], dtype=object),
                          "none": pd.Series([None] * 5, dtype=object), "n": range(5)})
    _same(frame)


def test_categories_of_text():
    values = pd.Categorical(["b", None, "a,c", "b", 'q"'], categories=["unused", "b", "a,c", 'q"'])
    frame = pd.DataFrame({"c": values, "ordered": pd.Categorical(["x", "y", "x", None, "y"], ordered=True), "n": range(5)})
    _same(frame)


@pytest.mark.parametrize("column", [
    pd.Series([1, "a", 2.5, None, True], dtype=object),
    pd.Series(pd.to_datetime(["2024-01-01", None, "2024-03-04", "2024-01-01", "2025-01-01"], format="ISO8601")),
    pd.Series(pd.array([0.1, None, -0.0, 1e-05, 2.0], dtype="Float64")),
    pd.Series(pd.Categorical([1, 2, None, 1, 2])),
    pd.Series(pd.to_timedelta([1, 2, 3, None, 5], unit="s")),
    pd.Series(pd.interval_range(0, 5)),
    pd.Series([1 + 2j, 0j, 3j, 1.0 + 0j, -1j]),
    pd.Series([[1, 2], None, (3,), "x", {"a": 1}], dtype=object),
    pd.Series(np.array([0.1, -0.0, np.nan, 1e300, 2.5], dtype=np.longdouble)),
    pd.Series([b"a", b"b,c", None, b"", b"d"], dtype=object),
    pd.Series(pd.array([1, None, 3, 4, 5], dtype="int64[pyarrow]")),
    pd.Series(pd.array(["a", None, "b,c", "", "d"], dtype="string[pyarrow]").astype(pd.ArrowDtype(pa.string()))),
], ids=["mixed-object", "datetime", "Float64", "int-categories", "timedelta", "interval", "complex", "containers",
        "long-double", "bytes", "arrow-int", "arrow-string"])
def test_a_column_type_left_to_pandas_is_written_by_pandas(column):
    frame = pd.DataFrame({"x": column, "n": range(5)})
    _same(frame, fast=False)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": ["", None, "a"]}),
    pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype="str")}),
    pd.DataFrame(),
    pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])),
], ids=["one-column", "no-rows", "empty", "two-header-rows"])
def test_shapes_left_to_pandas(frame):
    _same(frame, fast=False)


def test_column_names_and_the_index_as_pandas_writes_them():
    frame = pd.DataFrame([[1, "a", 0.5, 2]], columns=["a,b", 'q"', 3, "a,b"], index=[7])
    _same(frame)
    frame.index.name = "ignored"
    _same(frame)


def test_many_rows_and_neighbours_with_few_combinations(monkeypatch):
    """More rows than a chunk; the run columns of a sweep (one value per run) are joined before the rows."""
    monkeypatch.setattr(_csvout, "_CHUNK_ROWS", 4096)
    n = 5 * 4096 + 17
    rng = np.random.default_rng(5)
    run = np.repeat([f"run,{i}" for i in range(n // 100 + 1)], 100)[:n]
    frame = pd.DataFrame({"run": pd.Series(run, dtype="str"), "strength": np.repeat(rng.random(n // 100 + 1), 100)[:n],
                          "class": np.tile(np.arange(100), n // 100 + 1)[:n],
                          "acc": rng.integers(0, 51, n) / 50, "p": rng.random(n), "flag": rng.random(n) < 0.5,
                          "note": pd.Series(rng.choice(HOSTILE_TEXT, n), dtype="str")})
    assert len(_csvout._segments(frame)) < frame.shape[1]
    _same(frame)


def test_random_tables_of_the_handled_types():
    rng = np.random.default_rng(1)
    makers = [
        lambda n: rng.choice(FLOATS, n),
        lambda n: rng.integers(-5, 5, n),
        lambda n: rng.random(n) < 0.3,
        lambda n: pd.Series(rng.choice([*HOSTILE_TEXT, None], n), dtype="str"),
        lambda n: pd.Series(rng.choice(np.array([*HOSTILE_TEXT, None], dtype=object), n), dtype=object),
        lambda n: pd.Categorical(rng.choice(["p", "q,r", None], n)),
        lambda n: pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)), dtype="Int64"),
        lambda n: rng.random(n).astype(np.float32),
    ]
    for _ in range(40):
        n = int(rng.integers(1, 300))
        picks = rng.integers(0, len(makers), int(rng.integers(2, 8)))
        frame = pd.DataFrame({f"c{j}": makers[k](n) for j, k in enumerate(picks)})
        _same(frame)


def test_the_file_holds_the_bytes_pandas_writes(tmp_path):
    frame = pd.DataFrame({"text": pd.Series(HOSTILE_TEXT, dtype="str"), "x": np.linspace(-1, 1, len(HOSTILE_TEXT))})
    write_csv(frame, tmp_path / "fast.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert os.linesep.encode() in (tmp_path / "fast.csv").read_bytes()


def test_text_that_cannot_be_encoded_is_refused_as_pandas_refuses_it(tmp_path):
    frame = pd.DataFrame({"text": pd.Series(["ok", "lone \ud800 surrogate"], dtype=object), "n": [1, 2]})
    with pytest.raises(UnicodeEncodeError):
        frame.to_csv(tmp_path / "pandas.csv", index=False)
    with pytest.raises(UnicodeEncodeError):
        write_csv(frame, tmp_path / "fast.csv")
