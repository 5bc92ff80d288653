"""File names and headers of exported manifests.

Project numbers are free text ("BR/2024:001", "Ünïcode", "CON"), so a file name is the number
reduced to a portable alphabet; when two numbers reduce to the same name on a case-insensitive
file system, or the name is reserved on Windows, a short hash of the number keeps them apart.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from importlib import resources

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(10)}
_MAX_STEM = 80

# Export writes the packaged schema beside the manifests and points every modeline at it
# relatively: editors then validate exported files offline, whatever version is installed.
SCHEMA_FILE = "manifest.schema.json"


def _stem(number: str) -> str:
    stem = _UNSAFE.sub("_", number).strip("._-")[:_MAX_STEM]
    return stem or "project"


def _digest(number: str) -> str:
    return hashlib.sha256(number.encode("utf-8")).hexdigest()[:8]


def project_file_names(numbers: Sequence[str]) -> dict[str, str]:
    """A distinct, portable ``<name>.yaml`` for every project number."""
    by_stem: dict[str, list[str]] = {}
    for number in numbers:
        by_stem.setdefault(_stem(number).lower(), []).append(number)
    names = {}
    for number in numbers:
        stem = _stem(number)
        reserved = stem.split(".")[0].upper() in _RESERVED
        if len(by_stem[stem.lower()]) > 1 or reserved:
            stem = f"{stem}-{_digest(number)}"
        names[number] = f"{stem}.yaml"
    return names


def schema_text() -> str:
    """The packaged manifest schema, written beside exported manifests."""
    return resources.files("reconciler").joinpath(f"_schemas/{SCHEMA_FILE}").read_text()


def modeline(depth: int = 0) -> str:
    """The editor modeline of a file ``depth`` folders below the export's root."""
    return f"yaml-language-server: $schema={'../' * depth}{SCHEMA_FILE}"
