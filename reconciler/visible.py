"""``visible(text)``: text safe to print on a terminal, in a CI log or in Markdown.

Names read live (a role named ``"\\x1b[2J"`` or ``"Admin\\nPlan: 0 to add"``) or taken from a
server's error reply reach plans, guard messages and error lines. Printed raw, they move the
cursor, recolour or clear the terminal, or forge lines of a plan (issue 12). Every renderer and
every guard or problem message passes them through this one function, which writes control
characters (C0, DEL, C1), line and paragraph separators, and the bidirectional controls that
reorder what a reviewer reads, as visible escapes (``\\x1b``, ``\\n``, ``\\u202e``); everything
else, non-ASCII letters included, is kept as it is.
"""

from __future__ import annotations

import re

# Cc (C0, DEL, C1), U+2028/U+2029, and the bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every unsafe character written as a visible escape."""
    return _UNSAFE.sub(_escape, text)
