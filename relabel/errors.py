"""Errors and warnings raised by relabel.

Every error a user can cause derives from :class:`RelabelError`. Subclasses also derive
from ``ValueError`` where that is what a caller would catch. Messages follow one shape:
what was expected, what was found (counts and the first offenders), and where (file, field).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "RelabelError",
    "InputError",
    "LabelSpaceError",
    "PairingError",
    "ComparisonError",
    "OverridesError",
    "DownloadError",
    "RelabelWarning",
    "format_offenders",
    "quoted",
    "repeated",
]

#: Longest ``repr`` of one offending value quoted in a message; longer ones are cut in the middle.
QUOTE_LIMIT = 80
#: Longest error message; a longer one keeps its start and end (a safety net behind :func:`quoted`).
MESSAGE_LIMIT = 2000


class RelabelError(Exception):
    """Base class of every error relabel raises on bad input or a failed step.

    A message longer than :data:`MESSAGE_LIMIT` characters keeps its start and its end, so
    that a value from a hostile file (a 60 MB image key) never floods a terminal or a log.
    """

    def __init__(self, *args: Any) -> None:
        if len(args) == 1 and isinstance(args[0], str) and len(args[0]) > MESSAGE_LIMIT:
            text = args[0]
            cut = len(text) - MESSAGE_LIMIT + 200
            args = (f"{text[:MESSAGE_LIMIT - 400]} … ({cut} characters left out) … {text[-200:]}",)
        super().__init__(*args)


class InputError(RelabelError, ValueError):
    """A user file or argument does not match its documented format."""


class LabelSpaceError(InputError):
    """Class ids, keys or names do not fit the label space."""


class PairingError(InputError):
    """Predictions and annotations cannot be joined by image key."""


class ComparisonError(InputError):
    """Runs cannot be compared as asked (groups, seeds, image sets, label spaces)."""


class OverridesError(InputError):
    """An override file does not validate."""


class DownloadError(RelabelError, OSError):
    """A named source could not be fetched or failed its checksum."""


class RelabelWarning(UserWarning):
    """Something looks wrong but the result is still computed."""


def format_offenders(values: Iterable[Any], *, total: int | None = None, limit: int = 5) -> str:
    """Format offending values as ``"N offenders, first 5: 'a', 'b', …"``.

    >>> format_offenders(["a", "b", "c"], limit=2)
    "3 offenders, first 2: 'a', 'b'"
    """
    values = list(values)
    n = len(values) if total is None else total
    shown = ", ".join(quoted(v) for v in values[:limit])
    noun = "offender" if n == 1 else "offenders"
    if n <= limit:
        return f"{n} {noun}: {shown}"
    return f"{n} {noun}, first {min(limit, len(values))}: {shown}"


def quoted(value: Any, *, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)``, cut in the middle when longer than ``limit`` characters (with the length it had).

    >>> quoted("ILSVRC2012_val_00000001.JPEG")
    "'ILSVRC2012_val_00000001.JPEG'"
    >>> quoted("x" * 1000, limit=20)
    "'xxxxxxxx…xxxxxxxxx' (1002 characters)"
    """
    text = repr(_plain(value))
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]} ({len(text)} characters)"


def repeated(values: Iterable[Any]) -> list[Any]:
    """The values that occur more than once, each listed once, in the order of their first repeat.

    >>> repeated(["a", "b", "a", "c", "b", "a"])
    ['a', 'b']
    """
    seen: set[Any] = set()
    out: dict[Any, None] = {}
    for value in values:
        if value in seen:
            out[value] = None
        else:
            seen.add(value)
    return list(out)


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones so that ``repr`` reads naturally."""
    return value.item() if hasattr(value, "item") and callable(value.item) else value
