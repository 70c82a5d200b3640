"""The single progress helper: silent unless the CLI switches it on."""

from __future__ import annotations

import time

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_enabled = False


def enable(on: bool = True) -> None:
    """Switch progress bars on (the CLI's ``--verbose`` does this) or off."""
    global _enabled
    _enabled = on


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None, unit: str = "it",
             status: Callable[[], str] | None = None) -> Iterator[T]:
    """Iterate over ``iterable``, showing a tqdm bar on stderr when progress is enabled.

    ``status`` gives text shown after the bar (read about once a second).
    """
    if not _enabled:
        yield from iterable
        return
    from tqdm.auto import tqdm

    bar = tqdm(iterable, desc=desc, total=total, unit=unit, leave=False)
    if status is None:
        yield from bar
        return
    shown = 0.0
    for item in bar:
        now = time.monotonic()
        if now - shown >= 1.0:
            bar.set_postfix_str(status(), refresh=False)
            shown = now
        yield item
