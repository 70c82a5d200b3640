"""Strict JSON parsing shared by the readers: an object whose keys repeat is an error."""

from __future__ import annotations

import json
from typing import Any


class RepeatedJSONKeys(Exception):
    """Raised by :func:`loads_strict` with the keys that repeat within one JSON object."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.keys = keys


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    repeated: dict[str, None] = {}
    for key, value in pairs:
        if key in out:
            repeated[key] = None
        out[key] = value
    if repeated:
        raise RepeatedJSONKeys(list(repeated))
    return out


def loads_strict(text: str) -> Any:
    """``json.loads`` that raises :class:`RepeatedJSONKeys` instead of silently keeping the last value."""
    return json.loads(text, object_pairs_hook=_unique_pairs)
