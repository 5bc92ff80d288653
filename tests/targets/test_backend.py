"""Both targets are a ``Backend`` (what the CLI asks of one), so the CLI never reaches behind
a target with getattr; the defaults of the one that lacks a feature say so plainly."""

from __future__ import annotations

from typing import Any

from reconciler.api import ApiClient, StaticToken
from reconciler.cli.backend import Backend
from reconciler.targets.itwins import ItwinsTarget
from reconciler.targets.listing import Listing
from reconciler.targets.projects import ProjectsTarget


def backends(http: Any) -> list[Backend]:
    # Typed as Backend: mypy checks each target against the protocol here.
    itwins: Backend = ItwinsTarget(ApiClient(http, StaticToken("alice-token")))
    projects: Backend = ProjectsTarget(ApiClient(http, StaticToken("alice-token")))
    return [itwins, projects]


def test_each_backend_answers_every_question_of_the_cli(emulator, itwin) -> None:
    itwins, projects = backends(emulator(itwin("P-1")))
    assert (itwins.members_per_request, projects.members_per_request) == (None, 1)
    assert itwins.secrets() == projects.secrets() == ("alice-token",)
    assert itwins.notices == projects.notices == ()
    assert projects.job_batches([]) == {}
    listing = itwins.listing()
    assert isinstance(listing, Listing)
    assert listing.numbers == ("P-1",)
    assert (listing.truncated, dict(listing.ambiguous)) == (False, {})
    assert projects.listing() == Listing(())  # the emulator's Projects API has no projects here
    assert itwins.left_out == projects.left_out == {}
