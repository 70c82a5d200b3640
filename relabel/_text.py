"""Text that is safe to show: control and bidirectional-override characters made visible.

Ground floor. A class name, image key or path comes from a user's file; printed raw, an
escape sequence in it would drive the terminal (an OSC sequence sets the window title even
through a pipe), a bare ``\\r`` would overwrite the line it is on and U+202E would show the
rest of a table row reversed. :func:`printable` replaces each such character by its Python
escape (``\\x1b``, ``\\r``, ``\\u202e``), so that what is shown is what the file holds.
"""

from __future__ import annotations

import re

__all__ = ["printable", "UNSAFE"]

#: C0 and C1 control characters, DEL, and the Unicode characters that change the direction or
#: the joining of the text around them (bidi embeddings, overrides, isolates and marks).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_KEEP_NEWLINES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, *, newlines: bool = False) -> str:
    """``str(value)`` with every character of :data:`UNSAFE` escaped (``newlines=True`` keeps ``\\n``)."""
    text = str(value)
    return (_KEEP_NEWLINES if newlines else UNSAFE).sub(_escape, text)
