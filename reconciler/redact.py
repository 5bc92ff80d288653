"""``redact(text, secrets)``: the one scrubber that keeps secrets out of what we print or raise.

Every place that turns text we did not write into output goes through it: the API client on a
server's error message (which may echo a token), the token endpoint on its refusal, and the
CLI's stdout/stderr writers and error line. It replaces each secret value it is given, and the
credentials of any ``scheme://user:pass@host`` URL, by ``***``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import overload

MASK = "***"

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


@overload
def redact(text: str, secrets: Iterable[str | None] = ()) -> str: ...


@overload
def redact(text: None, secrets: Iterable[str | None] = ()) -> None: ...


def redact(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    """``text`` with every non-empty secret, and every URL's user info, replaced by ``***``."""
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _USERINFO.sub(rf"\1{MASK}@", text)
