"""``Listing``: every project number an identity can see, as a target lists them for
``export --all``, with what the listing could not settle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Listing:
    """Every project number the identity can see (``export --all``), Account iTwins excepted.

    ``scope`` says in words what was listed (for warnings); ``truncated``: the API's cap cut
    the listing, so more may exist; ``ambiguous``: numbers naming several live objects (a
    Project and a Program), which cannot name one project, with their kinds."""

    numbers: tuple[str, ...]
    scope: str = "the projects it can see"
    truncated: bool = False
    ambiguous: Mapping[str, Sequence[str]] = field(default_factory=dict)
