"""The flat override table: one row per overridden class, for trainers that read a CSV.

Columns: ``class_key``; ``class_index``; per augmentation the file mentions, a state column
named after it (``horizontal_flip``: ``on``, ``off``, or empty = not mentioned, the trainer's
pipeline decides) followed by one column per parameter (:data:`CSV_COLUMNS`: ``hflip_p``,
``rrc_scale_min`` …) holding the class's complete setting when it is on; ``override`` (the
override's position in the file; rows with the same value form one override) and ``reason``.
:func:`to_csv_table` makes it, :func:`load_csv` reads it back (every cell checked, errors
name the line and the column).

A table written by relabel before version 2 of the format has no state columns; it is read
as it was written: an augmentation whose every cell is empty is off (the crop excepted).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from relabel.errors import OverridesError
from relabel.overrides.catalogue import SPECS, Parameter
from relabel.overrides.model import Overrides, build
from relabel.overrides.validation import Locator, render_path, suggest
from relabel.overrides.vocabulary import SCHEMA_VERSION, Augmentation

if TYPE_CHECKING:
    import pandas as pd

    from relabel.labelspace import LabelSpace

__all__ = ["CSV_COLUMNS", "STATE_VALUES", "to_csv_table", "load_csv"]


def _columns() -> tuple[tuple[str, Augmentation, str, int | None], ...]:
    out: list[tuple[str, Augmentation, str, int | None]] = []
    for s in SPECS:
        for p in s.parameters:
            if p.name == "strength":
                continue  # expanded into the four factors in the table
            if p.kind == "range":
                out += [(f"{s.csv}_{p.name}_min", Augmentation(s.name), p.name, 0),
                        (f"{s.csv}_{p.name}_max", Augmentation(s.name), p.name, 1)]
            elif p.kind in ("pair", "odd_size"):
                out += [(f"{s.csv}_{p.name}_x", Augmentation(s.name), p.name, 0),
                        (f"{s.csv}_{p.name}_y", Augmentation(s.name), p.name, 1)]
            else:
                out.append((f"{s.csv}_{p.name}", Augmentation(s.name), p.name, None))
    return tuple(out)


CSV_COLUMNS: tuple[tuple[str, Augmentation, str, int | None], ...] = _columns()
"""The CSV table's parameter columns: (column, augmentation, parameter, item of a two-number value)."""

STATE_VALUES = ("on", "off", "")
"""A state column's cells: on, off for this class, or empty (not mentioned: the trainer's pipeline decides)."""

_CSV_FIXED = ("class_key", "class_index")
_CSV_TRAILING = ("override", "reason")


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv_table(
    overrides: Overrides,
    *,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
) -> pd.DataFrame:
    """The overrides as a flat table, one row per overridden class, for trainers that want one.

    Columns: ``class_key``; ``class_index`` (from ``classes``, by default the built-in label
    space the file names); for every augmentation the file mentions, its state column
    (``on``/``off``/empty: not mentioned) and one column per parameter (see
    :data:`CSV_COLUMNS`), holding the class's complete setting (:meth:`Overrides.effective`;
    empty when off or not mentioned); ``override`` (position of the override in the file) and
    ``reason``. Scale is a fraction of the image area in (0, 1], not percent. Evidence, side
    and the default section are not in the table.
    """
    import pandas as pd

    index, _ = overrides._class_index(classes)
    unknown = [key for key in overrides.classes if key not in index]
    if unknown:
        raise OverridesError(overrides._unknown_message(unknown, "the classes given"))
    sections = [overrides.default, *(o.transforms for o in overrides.overrides)]
    mentioned = [a for a in Augmentation if any(a.value in section for section in sections)]
    layout: list[str] = []
    for aug in mentioned:
        layout.append(aug.value)
        layout += [c for c, a, _, _ in CSV_COLUMNS if a is aug]
    by_column = {c: (a, p, i) for c, a, p, i in CSV_COLUMNS}
    rows = []
    for position, o in enumerate(overrides.overrides):
        for key in o.classes:
            effective = overrides.effective(key)
            row: dict[str, Any] = {"class_key": key, "class_index": index[key]}
            for column in layout:
                if column not in by_column:
                    entry = effective.get(column)
                    row[column] = "" if entry is None else ("off" if entry.get("enabled", True) is False else "on")
                    continue
                aug, param, item = by_column[column]
                params = effective.get(aug.value) or {}
                value = None if params.get("enabled", True) is False else params.get(param)
                row[column] = _cell(value if item is None or value is None else value[item])
            row["override"] = position
            row["reason"] = o.reason
            rows.append(row)
    table = pd.DataFrame(rows, columns=[*_CSV_FIXED, *layout, *_CSV_TRAILING])
    table["class_index"] = table["class_index"].astype("int64")
    table["override"] = table["override"].astype("int64")
    for column in layout:
        if column in by_column:
            aug, param, _ = by_column[column]
            kind = aug.spec.parameter(param)
            if kind.kind == "integer" or kind.integer or kind.kind == "odd_size":
                table[column] = table[column].astype("Int64")
            elif kind.kind in ("number", "range", "pair"):
                table[column] = table[column].astype("Float64")
    return table


class _CsvLocator(Locator):
    """Paths into the document built from a CSV file → the CSV's line and column names."""

    def __init__(self, rows_of_override: list[list[int]], class_line: dict[tuple[int, int], int]) -> None:
        self.rows_of_override = rows_of_override
        self.class_line = class_line

    def line(self, path: tuple[str | int, ...], *, at_key: bool = False) -> int | None:
        if len(path) >= 4 and path[0] == "overrides" and path[2] == "classes":
            return self.class_line.get((int(path[1]), int(path[3])))
        if (len(path) >= 2 and path[0] == "overrides" and isinstance(path[1], int)
                and path[1] < len(self.rows_of_override)):
            return self.rows_of_override[path[1]][0]
        return None

    def field(self, path: tuple[str | int, ...]) -> str:
        if len(path) >= 4 and path[0] == "overrides" and path[2] == "classes":
            return "class_key"
        if len(path) >= 5 and path[2] == "transforms":
            aug, param = path[3], path[4]
            item = path[5] if len(path) >= 6 else None
            columns = [c for c, a, p, i in CSV_COLUMNS
                       if a.value == aug and p == param and (item is None or i == item)]
            if columns:
                return "column " + "/".join(columns)
        if len(path) >= 3 and path[2] == "reason":
            return "column reason"
        return render_path(path)


def load_csv(text: str, *, source: str, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None,
             skip_absent: bool = False) -> Overrides:
    """Read the table's text (from ``source``) back into overrides; rows with one ``override`` value form one."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise OverridesError(f"{source}: the file is empty; expected a header with class_key and parameter "
                             f"columns") from None
    except csv.Error as e:
        raise OverridesError(f"{source}, line 1: not valid CSV: {e}") from None
    header = [h.strip() for h in header]
    param_columns = {c: (a, p, i) for c, a, p, i in CSV_COLUMNS}
    allowed = [*_CSV_FIXED, *Augmentation.choices(), *param_columns, *_CSV_TRAILING]
    unknown = [h for h in header if h not in allowed]
    if unknown:
        raise OverridesError(f"{source}, line 1: unknown column {unknown[0]!r}{suggest(unknown[0], allowed)}; "
                             f"expected class_key, class_index, override, reason, a state column per augmentation "
                             f"({', '.join(Augmentation.choices()[:3])}, …) and its parameter columns "
                             f"({', '.join(list(param_columns)[:4])}, …; docs/overrides.md lists them)")
    repeated = [h for h in dict.fromkeys(header) if header.count(h) > 1]
    if repeated:
        raise OverridesError(f"{source}, line 1: column {repeated[0]!r} appears more than once")
    if "class_key" not in header:
        raise OverridesError(f"{source}, line 1: missing column 'class_key'; found {header}")
    augs = [a for a in Augmentation if a.value in header or any(param_columns[c][0] is a for c in header
                                                                 if c in param_columns)]

    groups: dict[str, int] = {}
    built: list[dict[str, Any]] = []
    rows_of_override: list[list[int]] = []
    class_line: dict[tuple[int, int], int] = {}
    indices: list[tuple[int, str, int]] = []  # (line, key, class_index) for the class_index check
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise OverridesError(f"{source}, line {line}: expected {len(header)} cells (as in the header), "
                                     f"got {len(row)}")
            cells = {h: c.strip() for h, c in zip(header, row)}
            key = cells["class_key"]
            transforms = _csv_transforms(cells, augs, param_columns, source, line)
            entry = {"classes": [key], "transforms": transforms, "reason": cells.get("reason", "")}
            if cells.get("class_index", ""):
                try:
                    indices.append((line, key, int(cells["class_index"])))
                except ValueError:
                    raise OverridesError(f"{source}, line {line}, column class_index: expected an integer, "
                                         f"got {cells['class_index']!r}") from None
            group = cells.get("override", "") or f"row {line}"
            if group not in groups:
                groups[group] = len(built)
                built.append(entry)
                rows_of_override.append([line])
                class_line[(groups[group], 0)] = line
                continue
            i = groups[group]
            first = built[i]
            if first["transforms"] != transforms or first["reason"] != entry["reason"]:
                raise OverridesError(
                    f"{source}, line {line}: rows of override {group!r} must agree on every parameter and the reason "
                    f"(this row differs from line {rows_of_override[i][0]})"
                )
            class_line[(i, len(first["classes"]))] = line
            first["classes"].append(key)
            rows_of_override[i].append(line)
    except csv.Error as e:
        raise OverridesError(f"{source}, line {reader.line_num}: not valid CSV: {e}") from None
    data: dict[str, Any] = {"schema": SCHEMA_VERSION, "label_space": None, "default": {}, "overrides": built}
    locator = _CsvLocator(rows_of_override, class_line)
    overrides, known, what = build(data, source=source, locator=locator,
                                    origin=lambda i, j: f"line {class_line[(i, j)]}", classes=classes,
                                    skip_absent=skip_absent)
    if classes is not None:
        for line, key, index in indices:
            if key in known and known[key] != index:
                raise OverridesError(f"{source}, line {line}, column class_index: {key!r} has index {known[key]} "
                                     f"among {what}, not {index}")
    return overrides


def _csv_transforms(cells: dict[str, str], augs: list[Augmentation], param_columns: dict[str, Any], source: str,
                    line: int) -> dict[str, Any]:
    transforms: dict[str, Any] = {}
    for aug in augs:
        values: dict[str, Any] = {}
        pairs: dict[str, list[Any]] = {}
        for column, (a, param, item) in param_columns.items():
            if a is not aug or column not in cells or not cells[column]:
                continue
            value = _csv_value(cells[column], aug.spec.parameter(param), where=f"{source}, line {line}, column {column}")
            if item is None:
                values[param] = value
            else:
                pairs.setdefault(param, [None, None])[item] = value
        for param, pair in pairs.items():
            if None in pair:
                missing = [c for c, a, p, i in CSV_COLUMNS if a is aug and p == param and i is not None and pair[i] is None]
                raise OverridesError(f"{source}, line {line}, column {missing[0]}: empty, but its partner is given; "
                                     f"give both numbers or neither")
            values[param] = pair
        if aug.value in cells:
            state = cells[aug.value].lower()
            if state not in STATE_VALUES:
                raise OverridesError(f"{source}, line {line}, column {aug.value}: expected on, off or empty "
                                     f"(not mentioned), got {cells[aug.value]!r}")
            if state != "on" and values:
                first = next(c for c, (a, _, _) in param_columns.items() if a is aug and cells.get(c))
                raise OverridesError(f"{source}, line {line}, column {first}: a parameter is given but "
                                     f"{aug.value} is {'off' if state == 'off' else 'not mentioned (empty)'}")
            if state == "on":
                transforms[aug.value] = values or True
            elif state == "off":
                transforms[aug.value] = False
        elif values:
            transforms[aug.value] = values
        elif aug is not Augmentation.RANDOM_RESIZED_CROP:
            transforms[aug.value] = False  # a table without state columns: every cell empty meant off
    return transforms


def _csv_value(text: str, p: Parameter, *, where: str) -> Any:
    if p.kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise OverridesError(f"{where}: expected true or false, got {text!r}")
        return text.lower() == "true"
    if p.kind == "choice":
        return text
    return _csv_number(text, integer=p.kind == "integer" or p.integer or p.kind == "odd_size", where=where)


def _csv_number(text: str, *, integer: bool, where: str) -> float | int:
    if len(text) > 40:
        raise OverridesError(f"{where}: expected {'an integer' if integer else 'a number'}, got a text of "
                             f"{len(text)} characters")
    try:
        value = float(text)
    except ValueError:
        raise OverridesError(f"{where}: expected {'an integer' if integer else 'a number'}, got {text!r}") from None
    if integer:
        if not value.is_integer():
            raise OverridesError(f"{where}: expected an integer, got {text!r}")
        return int(value)
    return value
