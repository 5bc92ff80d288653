"""File names and headers of exported manifests.

Project numbers are free text ("BR/2024:001", "Ünïcode", "CON"), so a file name is the number
reduced to a portable alphabet; when two numbers reduce to the same name on a case-insensitive
file system, or the name is reserved on Windows, a short hash of the number keeps them apart.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from importlib import resources

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(10)}
_MAX_STEM = 80

# Where editors find the manifest schema when the packaged schema has no `$id`.
DEFAULT_SCHEMA_URL = "manifest.schema.json"


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


def schema_url() -> str:
    """The manifest schema's ``$id`` (so editors validate exported files), else its file name."""
    try:
        text = resources.files("reconciler").joinpath("_schemas/manifest.schema.json").read_text()
        value = json.loads(text).get("$id")
    except (OSError, ValueError):
        return DEFAULT_SCHEMA_URL
    return value if isinstance(value, str) and value else DEFAULT_SCHEMA_URL


def modeline() -> str:
    return f"yaml-language-server: $schema={schema_url()}"
