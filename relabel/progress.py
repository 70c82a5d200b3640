"""The single progress helper: silent unless the CLI switches it on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_enabled = False


def enable(on: bool = True) -> None:
    """Switch progress bars on (the CLI's ``--verbose`` does this) or off."""
    global _enabled
    _enabled = on


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Iterate over ``iterable``, showing a tqdm bar on stderr when progress is enabled."""
    if not _enabled:
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, desc=desc, total=total, unit=unit, leave=False)
