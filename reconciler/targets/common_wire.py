"""Wire JSON both APIs spell alike (the iTwins/Access Control APIs and the Projects API). Pure.

Roles have the same shape on both wires: ``{"id", "displayName", "description",
"permissions"}``; emails are compared lower-cased.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import ItwinAccessError
from reconciler.model import Role


def text(value: object) -> str | None:
    """A non-empty string, else None (null, "", or not a string)."""
    return value if isinstance(value, str) and value else None


def email_of(value: object) -> str | None:
    """A lower-cased email, or None for null/empty (a "missing user")."""
    found = text(value)
    return found.strip().lower() if found and found.strip() else None


def role_ids(roles: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """displayName -> id of a project's roles; two live roles sharing a name is an error,
    because manifests key roles by name and could not say which one they mean."""
    by_name: dict[str, str] = {}
    for role in roles:
        role_id, name = text(role.get("id")), text(role.get("displayName"))
        if role_id is None or name is None:
            continue
        if name in by_name and by_name[name] != role_id:
            raise ItwinAccessError(
                f"two live roles are named {name!r} (ids {by_name[name]}, {role_id}); "
                "rename or delete one of them, then run again"
            )
        by_name[name] = role_id
    return by_name


def to_role(role: Mapping[str, Any]) -> Role:
    perms = role.get("permissions")
    return Role(
        display_name=str(role.get("displayName")),
        description=text(role.get("description")),
        permissions=frozenset(p for p in perms if isinstance(p, str))
        if isinstance(perms, list)
        else frozenset(),
        id=text(role.get("id")),
    )
