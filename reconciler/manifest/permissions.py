"""The permission catalogue shipped for offline checks.

A verbatim copy of the list the emulator serves at ``GET /accesscontrol/itwins/permissions``
(BRIEF decision 1; kept in sync by hand, as the emulator and the reconciler must not import each
other). ``validate`` warns about a permission outside it; ``plan`` checks the live list instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import Problem
from reconciler.manifest.document import suggest
from reconciler.model import Project, Source

KNOWN_PERMISSIONS_ORDERED: tuple[str, ...] = (
    "administration_invite_member",
    "administration_remove_member",
    "administration_manage_roles",
    "administration_manage_groups",
    "itwins_read",
    "itwins_create",
    "itwins_modify",
    "itwins_delete",
    "imodels_read",
    "imodels_webview",
    "imodels_write",
    "imodels_manage",
    "imodels_delete",
    "storage_read",
    "storage_write",
    "storage_delete",
    "forms_read",
    "forms_write",
    "forms_delete",
    "issues_read",
    "issues_write",
    "issues_delete",
    "realitydata_read",
    "realitydata_use",
    "realitydata_modify",
    "realitydata_delete",
    "synchronization_read",
    "synchronization_write",
    "changedelements_read",
    "clashdetection_read",
    "clashdetection_write",
    "savedviews_read",
    "savedviews_write",
    "webhooks_read",
    "webhooks_write",
)

KNOWN_PERMISSIONS: frozenset[str] = frozenset(KNOWN_PERMISSIONS_ORDERED)


def check_permissions(projects: Sequence[Project], known: frozenset[str]) -> list[Problem]:
    """Plan time: every role permission outside the live list ``known`` is an ERROR."""
    problems: set[Problem] = set()
    for project in projects:
        for role in project.roles:
            for permission in sorted(role.permissions - known):
                source = role.source or project.source or Source("<unknown>", 0, 0)
                path = f"{source.path}.permissions" if source.path else "permissions"
                problems.add(
                    Problem(
                        source.file,
                        source.line,
                        source.column,
                        path,
                        f"permission '{permission}' of role '{role.display_name}' is not known "
                        f"to the service{suggest(permission, known)}",
                    )
                )
    return sorted(problems)
