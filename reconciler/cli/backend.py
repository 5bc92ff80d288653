"""``Backend``: everything the CLI asks of a target, so it never reaches behind one.

The core sees a target as ``apply.Target`` (read and execute). A CLI session needs more: the
batch size of member adds for the plan, a listing of every project for ``export --all`` (with
what it could not tell apart), the members a read left out, notices to tell once after a run,
the applying identity, how it signs in, and the secrets to keep out of every output. Both
``ItwinsTarget`` and ``ProjectsTarget`` satisfy this protocol (``targets.common.ClientTarget``
gives the defaults; mypy checks it where the session holds one, and
tests/targets/test_backend.py checks the answers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from reconciler.api import ApiClient
from reconciler.apply import Target
from reconciler.plan.operations import Operation
from reconciler.targets.listing import Listing


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

    def warm(self) -> None:
        """Learn what every read begins with (identity, catalogues), before the read."""
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
