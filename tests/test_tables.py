"""Shared table reading: list cells, column picking."""

from __future__ import annotations

import pytest

from relabel import InputError
from relabel._tables import parse_list_cell, parse_list_cells


def test_a_cell_of_700000_values_is_read_completely():
    """A 3.4 MB cell; the scanner reads it in one pass (it once re-sliced the rest of the text per value)."""
    values = [i % 1000 for i in range(700_000)]
    assert parse_list_cell("[" + ", ".join(map(str, values)) + "]") == values
    assert parse_list_cell("[" + " ".join(map(str, values)) + "]") == values  # numpy's printed form
    assert parse_list_cell("[" + " ".join(f"'n{v:08d}'" for v in values[:200_000]) + "]")[-1] == "n00000999"


@pytest.mark.parametrize(("cell", "expected"), [
    ('["a", "b"]', ["a", "b"]), ("['a' 'b']", ["a", "b"]), ("[1, 2.5]", [1, 2.5]), (r"['it\'s']", ["it's"]),
    ("[]", []), ("[ 1  2 ]", [1, 2]),
])
def test_list_cell_forms(cell, expected):
    assert parse_list_cell(cell) == expected


@pytest.mark.parametrize("cell", ["[[1], [2]]", "[1, [2]]", "[true]", "[1, 2 3]", "[" * 50_000 + "]" * 50_000])
def test_list_cells_that_are_refused(cell):
    with pytest.raises(InputError, match=r"x, image 'a\.jpg': cannot read the labels"):
        parse_list_cells([cell], ["a.jpg"], where="x", what="labels")


def test_a_long_unreadable_cell_is_quoted_short():
    with pytest.raises(InputError) as e:
        parse_list_cells(["[1, 2 " + "x" * 100_000], ["a.jpg"], where="x", what="labels")
    assert len(str(e.value)) < 600 and "characters)" in str(e.value)
