"""Semantic checks and expansion of documents (minus parts with schema errors) into ``State``.

One pass does both, because every check needs the same bookkeeping as the expansion (role sets
resolved, keys seen with their first location). Problems are collected, never raised.

Cross-references (a member's roles, a group member's group) are checked only where the section
they point into is managed authoritatively: then the manifest says exactly what will exist. In an
additive or unmanaged section the name may exist live, which only ``plan`` can know.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import Problem, Severity
from reconciler.manifest.document import Document, suggest
from reconciler.manifest.permissions import KNOWN_PERMISSIONS
from reconciler.model import (
    PROJECT_ATTRIBUTES,
    SECTIONS,
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    ProjectState,
    Role,
    Source,
    UserMember,
)

BACKENDS = ("itwins", "projects")
PROJECTS_BUILTIN_ROLE = "Team Member"
# A group holds at most 50 direct members and 50 IMS groups (contract C5: PATCH replaces each
# list and refuses more).
MAX_GROUP_ITEMS = 50

# Deliberately simple: catches typos (missing @ or domain, spaces), not every RFC 5322 corner.
# fullmatch, not `$`: "a@b.com\n" must not pass (`$` matches before a final newline).
# The loop over members makes its values in one step each: a member with its whole ``__dict__``
# at once (past the frozen dataclass's ``__init__`` and ``__setattr__``, 4 us a member), a
# ``Source`` tuple without its generated ``__new__``.
_new = object.__new__
_set = object.__setattr__
_tuple = tuple.__new__
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")

# What the legacy Projects API cannot express (design.md §2).
_PROJECTS_BACKEND_SECTIONS = ("groups", "owners")
_PROJECTS_BACKEND_ATTRIBUTES = {
    "type": None,
    "parent": None,
    "class": "Endeavor",
    "subClass": "Project",
}


def _case(first: str, again: str) -> str:
    """Said when two names are duplicates only because the platform ignores case."""
    return f" as '{first}'; names are compared ignoring case" if first != again else ""


@dataclass
class _RoleSet:
    name: str
    source: Source
    roles: list[Role]


def _quoted(value: str) -> str:
    """'value', escaped like repr when it holds a character that would break the line."""
    return f"'{value}'" if value.isprintable() else repr(value)


def text_problem(value: str) -> str | None:
    """Why a name can never converge, or None: the platform strips names (so "Team " is read
    back as "Team" and recreated on every apply) and control characters have no place in one."""
    bad = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        return f"contains the control character U+{ord(bad):04X}; remove it"
    if value != value.strip():
        return "has leading or trailing spaces, which the platform strips; remove them"
    return None


def _src(doc: Document, container: object, part: str | int, path: str) -> Source:
    line, column = doc.child(container, part)
    return Source(doc.file, line, column, path)


class Builder:
    """Collects problems and model objects over all documents of one load."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.problems: list[Problem] = []
        self.role_sets: dict[str, _RoleSet] = {}
        self.projects: dict[str, Project] = {}
        # casefolded number -> (number as declared, where)
        self._project_sources: dict[str, tuple[str, Source]] = {}
        self._shared_roles: dict[tuple[str, ...], frozenset[str]] = {}  # see shared_roles

    # ------------------------------------------------------------------ reporting
    def error(self, where: Source, message: str, severity: Severity = Severity.ERROR) -> None:
        self.problems.append(
            Problem(where.file, where.line, where.column, where.path, message, severity)
        )

    def warn(self, where: Source, message: str) -> None:
        self.error(where, message, Severity.WARNING)

    # ------------------------------------------------------------------ role sets
    def add_role_sets(self, doc: Document, role_sets: dict[str, Any], skip: set[str]) -> None:
        for name, items in role_sets.items():
            path = f"roleSets.{name}"
            if path in skip:
                continue
            line, column = doc.key(role_sets, name)
            source = Source(doc.file, line, column, path)
            if name in self.role_sets:
                self.error(
                    source,
                    f"duplicate role set '{name}' (also defined at {self.role_sets[name].source})",
                )
                continue
            roles: list[Role] = []
            seen: dict[str, tuple[str, Source]] = {}
            for index in range(len(items)):
                role = self.role(doc, items, index, f"{path}[{index}]")
                key = role.display_name.casefold()
                if key in seen:
                    first, where = seen[key]
                    self.error(
                        role.source or source,
                        f"duplicate role '{role.display_name}' in role set '{name}' "
                        f"(also at {where}{_case(first, role.display_name)})",
                    )
                    continue
                seen[key] = (role.display_name, role.source or source)
                roles.append(role)
            self.role_sets[name] = _RoleSet(name, source, roles)

    def role(self, doc: Document, items: list[Any], index: int, path: str) -> Role:
        item: dict[str, Any] = items[index]
        source = _src(doc, items, index, path)
        permissions = item.get("permissions", [])
        for k, permission in enumerate(permissions):
            if permission not in KNOWN_PERMISSIONS:
                where = _src(doc, permissions, k, f"{path}.permissions[{k}]")
                self.warn(
                    where,
                    f"unknown permission '{permission}'{suggest(permission, KNOWN_PERMISSIONS)} "
                    "(not in the shipped list; plan checks the live list)",
                )
        self.check_text(doc, item, "displayName", f"{path}.displayName", "role name")
        return Role(
            display_name=item["displayName"],
            description=item.get("description"),
            permissions=frozenset(permissions),
            source=source,
            renamed_from=item.get("renamedFrom"),
        )

    def check_renames(self, noun: str, items: Sequence[Role | Group]) -> None:
        """``renamedFrom`` names an old name: one the same project still declares would be
        renamed away and created again (plan refuses it too, where it is live)."""
        declared = {item.key for item in items}
        for item in items:
            old = item.renamed_from
            if old is not None and old != item.key and old in declared and item.source:
                self.error(
                    item.source,
                    f"{noun} '{item.key}' is renamedFrom '{old}', which this project also "
                    f"declares; drop renamedFrom or the declaration of '{old}'",
                )

    def check_text(
        self, doc: Document, container: Any, part: str | int, path: str, what: str
    ) -> bool:
        """An error when the string at ``container[part]`` cannot be a name (``text_problem``)."""
        value = container[part]
        problem = text_problem(value) if isinstance(value, str) else None
        if problem is not None:
            self.error(_src(doc, container, part, path), f"{what} {value!r} {problem}")
        return problem is None

    # ------------------------------------------------------------------ projects
    def claim_number(self, doc: Document, projects: list[Any], index: int) -> bool:
        """Record the project's number; False (and an error) if another project has it."""
        data = projects[index]
        number = data.get("number") if isinstance(data, dict) else None
        if not isinstance(number, str):
            return True
        path = f"projects[{index}]"
        if not self.check_text(doc, data, "number", f"{path}.number", "project number"):
            return False
        # The platform compares numbers ignoring case: "BR-1" and "br-1" are one project.
        if number.casefold() in self._project_sources:
            other, where_first = self._project_sources[number.casefold()]
            where = _src(doc, data, "number", f"{path}.number")
            case = f" as '{other}'; numbers are compared ignoring case" if other != number else ""
            self.error(
                where,
                f"duplicate project number '{number}' (also declared at {where_first}{case})",
            )
            return False
        self._project_sources[number.casefold()] = (number, _src(doc, projects, index, path))
        return True

    def add_project(
        self,
        doc: Document,
        projects: list[Any],
        index: int,
        data: dict[str, Any] | None = None,
        unchecked: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        """Check and expand ``projects[index]`` (or ``data``, a copy without the ``unchecked``
        keys, which had schema errors: references into them are not checked)."""
        if data is None:
            data = projects[index]
        path = f"projects[{index}]"
        source = _src(doc, projects, index, path)
        number: str = data["number"]
        if not self.claim_number(doc, projects, index):
            return
        self.check_backend(doc, data, path)

        manage_spec: dict[str, str] = data.get("manage", {})
        manage: dict[str, Manage] = {}
        for section in SECTIONS:
            if section in data or section in manage_spec:
                manage[section] = Manage(manage_spec.get(section, Manage.AUTHORITATIVE.value))

        roles = self.project_roles(doc, data, path, number)
        self.check_builtin_roles(roles)
        groups = self.project_groups(doc, data, path)
        self.check_renames("role", roles)
        self.check_renames("group", groups)
        authoritative_roles = manage.get("roles") is Manage.AUTHORITATIVE
        authoritative_groups = manage.get("groups") is Manage.AUTHORITATIVE
        authoritative_roles = authoritative_roles and "roles" not in unchecked
        authoritative_groups = authoritative_groups and "groups" not in unchecked
        role_names = {r.display_name for r in roles} if authoritative_roles else None
        group_names = {g.name for g in groups} if authoritative_groups else None
        members, group_members = self.project_members(doc, data, path, role_names, group_names)
        owners = self.project_owners(doc, data, path)

        attributes = {name: data[name] for name in PROJECT_ATTRIBUTES if name in data}
        for name, value in attributes.items():
            where = f"{path}.{name}"
            if isinstance(value, float) and not math.isfinite(value):
                self.error(
                    _src(doc, data, name, where),
                    f"{name} must be a finite number, not {value!r}; give a number",
                )
            elif isinstance(value, str) and name != "parent":
                self.check_text(doc, data, name, where, name)
        parent = attributes.get("parent")
        if isinstance(parent, str) and parent.casefold() == number.casefold():
            self.error(
                _src(doc, data, "parent", f"{path}.parent"),
                f"project '{number}' cannot be its own parent; name another project or remove "
                "`parent`",
            )
        state = ProjectState(data.get("state", ProjectState.PRESENT.value))
        self.projects[number] = Project(
            number=number,
            attributes=attributes,
            state=state,
            manage=manage,
            roles=tuple(roles),
            groups=tuple(groups),
            members=tuple(members),
            group_members=tuple(group_members),
            owners=tuple(owners),
            source=source,
        )

    def check_parents(self) -> None:
        """A chain of declared parents that comes back to where it started never converges
        (the platform refuses a cycle); said once per cycle, at its first project."""
        parents = {
            number.casefold(): str(p.attributes["parent"]).casefold()
            for number, p in self.projects.items()
            if isinstance(p.attributes.get("parent"), str)
        }
        by_key = {number.casefold(): p for number, p in self.projects.items()}
        reported: set[str] = set()
        for start in sorted(parents):
            chain = [start]
            node = parents.get(start)
            while node is not None and node not in chain and node in parents:
                chain.append(node)
                node = parents.get(node)
            if node != start or len(chain) < 2 or reported & set(chain):
                continue
            reported |= set(chain)
            names = [by_key[k].number for k in chain]
            first = by_key[start]
            assert first.source is not None
            self.error(
                first.source,
                "parents form a cycle: "
                + " -> ".join([*names, names[0]])
                + "; break it by changing one `parent`",
            )

    def check_backend(self, doc: Document, data: dict[str, Any], path: str) -> None:
        if self.backend != "projects":
            return
        why = "backend 'projects' (the legacy Projects API)"
        for section in _PROJECTS_BACKEND_SECTIONS:
            if section in data:
                line, column = doc.key(data, section)
                self.error(
                    Source(doc.file, line, column, f"{path}.{section}"),
                    f"{why} has no {section}; remove `{section}` or use backend 'itwins'",
                )
            manage = data.get("manage", {})
            if section in manage:
                line, column = doc.key(manage, section)
                self.error(
                    Source(doc.file, line, column, f"{path}.manage.{section}"),
                    f"{why} has no {section} to manage; remove it or use backend 'itwins'",
                )
        for name, allowed in _PROJECTS_BACKEND_ATTRIBUTES.items():
            if name in data and data[name] != allowed:
                line, column = doc.key(data, name)
                what = f"only `{name}: {allowed}`" if allowed else f"no `{name}`"
                self.error(
                    Source(doc.file, line, column, f"{path}.{name}"),
                    f"{why} supports {what}; remove it or use backend 'itwins'",
                )
        members = data.get("members", [])
        for index, item in enumerate(members):
            if "group" in item:
                self.error(
                    _src(doc, members, index, f"{path}.members[{index}]"),
                    f"{why} has no groups, so a group cannot be a member; "
                    "list its users or use backend 'itwins'",
                )

    def check_builtin_roles(self, roles: list[Role]) -> None:
        # The Projects API gives every member its built-in "Team Member" role and the backend
        # hides it; a declared role of that name could never be created or converge.
        if self.backend != "projects":
            return
        for role in roles:
            if role.display_name.casefold() == PROJECTS_BUILTIN_ROLE.casefold():
                assert role.source is not None
                self.error(
                    role.source,
                    f"backend 'projects' (the legacy Projects API) gives every member its "
                    f"built-in role {PROJECTS_BUILTIN_ROLE!r}; it cannot be declared: rename "
                    "the role or remove it",
                )

    def project_roles(
        self, doc: Document, data: dict[str, Any], path: str, number: str
    ) -> list[Role]:
        items: list[dict[str, Any]] = data.get("roles", [])
        roles: list[Role] = []
        # Where each role came from, as (container, part, path): a position is looked up only
        # for an error (a `use:` value's position is a mapping entry, which fastyaml reads
        # again to find; see Document.entries_from).
        seen: dict[str, tuple[str, tuple[Any, str | int, str]]] = {}
        for index, item in enumerate(items):
            item_path = f"{path}.roles[{index}]"
            if "use" in item:
                name: str = item["use"]
                where: tuple[Any, str | int, str] = (item, "use", f"{item_path}.use")
                role_set = self.role_sets.get(name)
                if role_set is None:
                    known = sorted(self.role_sets)
                    hint = suggest(name, known) or (
                        f" (defined: {', '.join(known)})" if known else " (no `roleSets` defined)"
                    )
                    self.error(_src(doc, *where), f"unknown role set '{name}'{hint}")
                    continue
                expanded = [(role, where) for role in role_set.roles]
            else:
                role = self.role(doc, items, index, item_path)
                expanded = [(role, (items, index, item_path))]
            for role, where in expanded:
                key = role.display_name.casefold()
                if key in seen:
                    first, first_at = seen[key]
                    self.error(
                        _src(doc, *where),
                        f"duplicate role '{role.display_name}' in project '{number}' "
                        f"(also at {_src(doc, *first_at)}{_case(first, role.display_name)})",
                    )
                    continue
                seen[key] = (role.display_name, where)
                roles.append(role)
        return roles

    def project_groups(self, doc: Document, data: dict[str, Any], path: str) -> list[Group]:
        items: list[dict[str, Any]] = data.get("groups", [])
        groups: list[Group] = []
        seen: dict[str, tuple[str, Source]] = {}
        for index, item in enumerate(items):
            item_path = f"{path}.groups[{index}]"
            source = _src(doc, items, index, item_path)
            name: str = item["name"]
            self.check_text(doc, item, "name", f"{item_path}.name", "group name")
            if name.casefold() in seen:
                first, first_at = seen[name.casefold()]
                self.error(
                    source, f"duplicate group '{name}' (also at {first_at}{_case(first, name)})"
                )
                continue
            seen[name.casefold()] = (name, source)
            emails = self.emails(
                doc, item.get("members", []), f"{item_path}.members", "group member"
            )
            self.check_group_size(doc, item, item_path)
            groups.append(
                Group(
                    name=name,
                    description=item.get("description"),
                    members=frozenset(emails),
                    ims_groups=frozenset(item.get("imsGroups", [])),
                    source=source,
                    renamed_from=item.get("renamedFrom"),
                )
            )
        return groups

    def check_group_size(self, doc: Document, item: dict[str, Any], path: str) -> None:
        """A group's PATCH replaces ``members`` and ``imsGroups``, each at most 50 (contract
        C5): a larger list can never be applied, so it is refused here, not halfway through."""
        for key, what in (("members", "direct members"), ("imsGroups", "IMS groups")):
            count = len(item.get(key) or [])
            if count > MAX_GROUP_ITEMS:
                hint = (
                    "put the people into IMS groups and list those under `imsGroups`"
                    if key == "members"
                    else "merge some of the IMS groups"
                )
                self.error(
                    _src(doc, item, key, f"{path}.{key}"),
                    f"group '{item['name']}' lists {count} {what}; the API allows at most "
                    f"{MAX_GROUP_ITEMS} per group: {hint}",
                )

    def project_members(
        self,
        doc: Document,
        data: dict[str, Any],
        path: str,
        role_names: set[str] | None,
        group_names: set[str] | None,
    ) -> tuple[list[UserMember], list[GroupMember]]:
        items: list[dict[str, Any]] = data.get("members", [])
        users: list[UserMember] = []
        groups: list[GroupMember] = []
        seen_users: dict[str, Source] = {}
        seen_groups: dict[str, Source] = {}
        file = doc.file
        places = doc.places(items)
        email_ok = _EMAIL.fullmatch
        shared_roles = self.shared_roles
        known_roles = self._shared_roles
        prefix = f"{path}.members["
        for index, item in enumerate(items):
            item_path = f"{prefix}{index}]"
            line, column = places[index]
            source = _tuple(Source, (file, line, column, item_path))
            roles: list[str] = item["roles"]
            if role_names is not None and not role_names.issuperset(roles):
                self.check_roles(doc, roles, f"{item_path}.roles", role_names)
            if "group" in item:
                name: str = item["group"]
                if name in seen_groups:
                    self.error(
                        source, f"duplicate member group '{name}' (also at {seen_groups[name]})"
                    )
                    continue
                seen_groups[name] = source
                if group_names is not None and name not in group_names:
                    hint = suggest(name, group_names) or (
                        f" (groups: {', '.join(sorted(group_names))})"
                        if group_names
                        else " (the project declares no groups)"
                    )
                    where = _src(doc, item, "group", f"{item_path}.group")
                    self.error(where, f"group '{name}' is not a group of this project{hint}")
                groups.append(GroupMember(group=name, roles=frozenset(roles), source=source))
                continue
            address: str = item["email"]
            if email_ok(address):  # the common case, without self.email's call and path
                email = address if address.islower() else address.lower()  # lower() copies
            else:
                self.email(doc, item, "email", f"{item_path}.email", "member")
                continue
            if email in seen_users:
                self.error(source, f"duplicate member '{email}' (also at {seen_users[email]})")
                continue
            seen_users[email] = source
            # ``key`` filled in: the cached_property would work out the same (user_key of a
            # lower-cased email without spaces is the email) once per member, at 2 us each.
            held = known_roles.get(tuple(roles)) or shared_roles(roles)
            user = _new(UserMember)
            _set(user, "__dict__", {"email": email, "roles": held, "source": source, "key": email})
            users.append(user)
        return users, groups

    def shared_roles(self, roles: list[str]) -> frozenset[str]:
        """``frozenset(roles)``, one shared object per set of roles: the same few sets are held
        by 100,000 members (216 bytes each, 21 MB, allocated and freed)."""
        key = tuple(roles)
        known = self._shared_roles.get(key)
        if known is None:
            known = self._shared_roles[key] = frozenset(roles)
        return known

    def check_roles(self, doc: Document, roles: list[str], path: str, role_names: set[str]) -> None:
        for k, name in enumerate(roles):
            if name not in role_names:
                hint = suggest(name, role_names) or (
                    f" (roles: {', '.join(sorted(role_names))})"
                    if role_names
                    else " (the project declares no roles)"
                )
                where = _src(doc, roles, k, f"{path}[{k}]")
                self.error(where, f"role '{name}' is not a role of this project{hint}")

    def project_owners(self, doc: Document, data: dict[str, Any], path: str) -> list[Owner]:
        items: list[str] = data.get("owners", [])
        owners: list[Owner] = []
        seen: dict[str, Source] = {}
        for index in range(len(items)):
            item_path = f"{path}.owners[{index}]"
            email = self.email(doc, items, index, item_path, "owner")
            if email is None:
                continue
            source = _src(doc, items, index, item_path)
            if email in seen:
                self.error(source, f"duplicate owner '{email}' (also at {seen[email]})")
                continue
            seen[email] = source
            owners.append(Owner(email=email, source=source))
        return owners

    def emails(self, doc: Document, items: list[str], path: str, what: str) -> list[str]:
        out: list[str] = []
        seen: dict[str, Source] = {}
        for index in range(len(items)):
            item_path = f"{path}[{index}]"
            email = self.email(doc, items, index, item_path, what)
            if email is None:
                continue
            if email in seen:
                where = _src(doc, items, index, item_path)
                self.error(where, f"duplicate {what} '{email}' (also at {seen[email]})")
                continue
            seen[email] = _src(doc, items, index, item_path)
            out.append(email)
        return out

    def email(
        self, doc: Document, container: Any, part: str | int, path: str, what: str
    ) -> str | None:
        value: str = container[part]
        if not _EMAIL.fullmatch(value):
            self.error(
                _src(doc, container, part, path),
                f"malformed {what} email {_quoted(value)} (expected name@domain.tld)",
            )
            return None
        return value.lower()
