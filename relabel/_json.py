"""Strict JSON reading shared by every reader: UTF-8 text, repeated keys refused, errors that say where.

``json.loads`` keeps the last value of a key that repeats within an object; for image keys,
class keys or a manifest's ``runs`` that silently drops data, so every reader parses through
:func:`parse` / :func:`parse_lines`, which refuse it. Errors are raised as the caller's error
class (``InputError`` unless told otherwise) and name the file, the line and the column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from relabel.errors import InputError, format_offenders, repeated

__all__ = ["RepeatedJSONKeys", "TooDeep", "loads_strict", "read_text", "parse", "parse_lines", "parse_value_or_lines"]


class RepeatedJSONKeys(Exception):
    """Raised by :func:`loads_strict` with the keys that repeat within one JSON object."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.keys = keys


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    twice = repeated(key for key, _ in pairs)
    if twice:
        raise RepeatedJSONKeys(twice)
    return dict(pairs)


class TooDeep(Exception):
    """Raised by :func:`loads_strict` for JSON nested deeper than Python's parser can follow."""


def loads_strict(text: str) -> Any:
    """``json.loads`` that raises :class:`RepeatedJSONKeys` instead of silently keeping the last value.

    JSON nested too deeply for the parser (``[[[[…`` 100,000 levels) raises :class:`TooDeep`
    instead of a ``RecursionError``.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise TooDeep() from None


_TOO_DEEP = "JSON nested too deeply (more levels of lists or objects than the reader follows, about 1000)"


def read_text(path: str | Path, *, error: type[Exception] = InputError) -> str:
    """The file's text, decoded as UTF-8; a decoding failure names the file and the byte."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def _repeated(where: str, keys: list[str]) -> str:
    return f"{where}: keys must be unique within a JSON object; {format_offenders(keys)} appear more than once"


def parse(text: str, where: str, *, error: type[Exception] = InputError) -> Any:
    """One JSON value; invalid JSON or a key repeated within an object is an ``error`` naming ``where``.

    >>> parse('{"a": 1, "a": 2}', "x.json")
    Traceback (most recent call last):
    ...
    relabel.errors.InputError: x.json: keys must be unique within a JSON object; 1 offender: 'a' appear more than once
    """
    try:
        return loads_strict(text)
    except json.JSONDecodeError as e:
        raise error(f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RepeatedJSONKeys as e:
        raise error(_repeated(where, e.keys)) from None
    except TooDeep:
        raise error(f"{where}: {_TOO_DEEP}") from None


def parse_lines(text: str, where: str, *, error: type[Exception] = InputError) -> list[Any]:
    """JSON lines: one value per non-blank line; errors name the line's number in the file.

    Lines are split at ``\\n`` only (a JSON string may hold U+2028, which ``str.splitlines``
    would treat as a line break).

    >>> parse_lines('{"a": 1}\\n\\n{"a": 2', "x.jsonl")
    Traceback (most recent call last):
    ...
    relabel.errors.InputError: x.jsonl, line 3: not valid JSON (column 8: Expecting ',' delimiter)
    """
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append(loads_strict(line))
        except json.JSONDecodeError as e:
            raise error(f"{where}, line {number}: not valid JSON (column {e.colno}: {e.msg})") from None
        except RepeatedJSONKeys as e:
            raise error(_repeated(f"{where}, line {number}", e.keys)) from None
        except TooDeep:
            raise error(f"{where}, line {number}: {_TOO_DEEP}") from None
    return out


def parse_value_or_lines(text: str, where: str, *, error: type[Exception] = InputError) -> Any:
    """One JSON value, or the list of values when the text holds one JSON value per line.

    The text is parsed once as a single value; only when a complete value is followed by more
    text (``Extra data``) is it read again as JSON lines.
    """
    try:
        return loads_strict(text)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":
            return parse_lines(text, where, error=error)
        raise error(f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RepeatedJSONKeys as e:
        raise error(_repeated(where, e.keys)) from None
    except TooDeep:
        raise error(f"{where}: {_TOO_DEEP}") from None
