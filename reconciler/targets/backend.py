"""``Backend``: everything the CLI asks of a target, so it never reaches behind one.

The core sees a target as ``apply.Target`` (read and execute). A CLI session needs more: the
batch size of member adds for the plan, a listing of every project for ``export --all`` (with
what it could not tell apart), the members a read left out, notices to tell once after a run,
the applying identity, how it signs in, and the secrets to keep out of every output. Both
``ItwinsTarget`` and ``ProjectsTarget`` satisfy this protocol (checked by mypy where the
session holds one, and by tests/targets/test_backend.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.api import ApiClient
from reconciler.apply import Target
from reconciler.plan import Operation


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


class Backend(Target, Protocol):
    """A target as a CLI session uses it."""

    client: ApiClient

    @property
    def members_per_request(self) -> int | None:
        """Members one add request may carry (None: the plan's default batching)."""
        ...

    @property
    def left_out(self) -> Mapping[str, Sequence[str]]:
        """Project number -> members the last read left out (they cannot be managed here)."""
        ...

    @property
    def notices(self) -> tuple[str, ...]:
        """What the run should tell the user once, after it (e.g. a fallback taken)."""
        ...

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, token requests included."""
        ...

    def listing(self) -> Listing:
        """Every project the identity can see."""
        ...

    def identity(self) -> str | None:
        """The applying identity (an email), when known."""
        ...

    def service_app(self) -> bool:
        """Whether it signs in as a service application."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret it holds (token, client secret), to scrub from any output."""
        ...

    def job_batches(self, operations: Sequence[Operation]) -> dict[str, int]:
        """Operation id -> job number of its project, for what apply sends together (empty:
        every request on its own)."""
        ...
