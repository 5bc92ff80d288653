"""Live roles and groups sharing a name (left by runs racing, issue 12), read so a plan can
merge them instead of failing. Pure.

Under each name the object with the most assignments is kept (then the first listed); the
others become ``model.Duplicate`` records that ``reconciler.repair`` turns into operations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model import Duplicate, user_key
from reconciler.targets.common_wire import email_of, text

JSON = dict[str, Any]


@dataclass(frozen=True)
class Merged:
    """The roles and groups a project keeps (one per name), and the rest."""

    roles: list[JSON]
    groups: list[JSON]
    duplicates: tuple[Duplicate, ...]
    dropped_groups: frozenset[str]  # ids of duplicate groups (their member rows are left out)
    # kept group id -> ids of the roles its duplicates hold and it lacks: the read shows the
    # kept group holding them too, so the plan keeps or drops them as the manifests say
    moved_group_roles: dict[str, set[str]]
    role_names: dict[str, str]  # every role id, duplicates included -> its name


def _role_ids(obj: Mapping[str, Any]) -> set[str]:
    roles = obj.get("roles")
    return {
        str(r["id"])
        for r in (roles if isinstance(roles, list) else [])
        if isinstance(r, dict) and isinstance(r.get("id"), str)
    }


def _by_name(items: Sequence[JSON], field: str) -> dict[str, list[JSON]]:
    out: dict[str, list[JSON]] = defaultdict(list)
    for item in items:
        name, oid = text(item.get(field)), text(item.get("id"))
        if name is not None and oid is not None:
            out[name].append(item)
    return out


def merge(
    roles: Sequence[JSON],
    groups: Sequence[JSON],
    users: Sequence[JSON],
    group_rows: Sequence[JSON],
    invitations: Iterable[JSON],
) -> Merged:
    holders: dict[str, set[str]] = defaultdict(set)  # role id -> keys holding it
    held: dict[str, set[str]] = defaultdict(set)  # holder key -> role ids
    group_ids = {str(g.get("id")): text(g.get("name")) or "" for g in groups}
    for user in users:
        key = user_key(email_of(user.get("email")), text(user.get("id")))
        held[key] |= _role_ids(user)
    for invitation in invitations:
        email = email_of(invitation.get("email"))
        if email is not None:
            held[email] |= _role_ids(invitation)
    group_roles: dict[str, set[str]] = {}
    for row in group_rows:
        gid = text(row.get("id")) or text(row.get("groupId")) or ""
        group_roles[gid] = _role_ids(row)
        held[group_ids.get(gid) or gid] |= group_roles[gid]
    for key, ids in held.items():
        for rid in ids:
            holders[rid].add(key)

    role_names = {str(r["id"]): str(r["displayName"]) for r in roles if text(r.get("id"))}
    duplicates: list[Duplicate] = []
    dropped_roles: set[str] = set()
    for name, same in _by_name(roles, "displayName").items():
        if len(same) < 2:
            continue
        keep = min(same, key=lambda r: (-len(holders[str(r["id"])]), same.index(r)))
        kid = str(keep["id"])
        for other in same:
            oid = str(other["id"])
            if oid == kid:
                continue
            dropped_roles.add(oid)
            moving = frozenset(k for k in holders[oid] if kid not in held[k])
            duplicates.append(Duplicate("role", name, oid, kid, holders=moving))
    dropped_groups: set[str] = set()
    moved: dict[str, set[str]] = defaultdict(set)
    for name, same in _by_name(list(groups), "name").items():
        if len(same) < 2:
            continue

        def weight(g: JSON, same: list[JSON] = same) -> tuple[int, int, int]:
            members = g.get("members")
            count = len(members) if isinstance(members, list) else 0
            return (-len(group_roles.get(str(g["id"]), ())), -count, same.index(g))

        kid = str(min(same, key=weight)["id"])
        for other in same:
            oid = str(other["id"])
            if oid == kid:
                continue
            dropped_groups.add(oid)
            lacking = group_roles.get(oid, set()) - group_roles.get(kid, set())
            moved[kid] |= lacking
            names = frozenset(role_names.get(r, r) for r in lacking)
            duplicates.append(Duplicate("group", name, oid, kid, roles=names))
    return Merged(
        roles=[r for r in roles if str(r.get("id")) not in dropped_roles],
        groups=[g for g in groups if str(g.get("id")) not in dropped_groups],
        duplicates=tuple(duplicates),
        dropped_groups=frozenset(dropped_groups),
        moved_group_roles=dict(moved),
        role_names=role_names,
    )


def keep_first(pairs: Iterable[tuple[str, str]], preferred: Mapping[str, str]) -> dict[str, str]:
    """name -> id from (name, id) pairs where names may repeat: the ``preferred`` id of a name
    (the one a read kept) when it is among them, else the first."""
    out: dict[str, str] = {}
    for name, oid in pairs:
        if name not in out or preferred.get(name) == oid:
            out[name] = oid
    return out
