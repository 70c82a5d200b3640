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
    "repeated",
]


class RelabelError(Exception):
    """Base class of every error relabel raises on bad input or a failed step."""


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
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    noun = "offender" if n == 1 else "offenders"
    if n <= limit:
        return f"{n} {noun}: {shown}"
    return f"{n} {noun}, first {min(limit, len(values))}: {shown}"


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
