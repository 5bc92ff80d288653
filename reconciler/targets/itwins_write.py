"""Execute plan operations with the iTwins and Access Control endpoints.

Project, role and group operations live here; owner and member ones in ``itwins_members``.
Every handler is written so a re-run converges (issue 6): an answer meaning "already so" is
success — ``OwnerAlreadyExists``, a 404 on deleting what is already gone, a 409 on adding a
member who already holds the wanted roles — and a POST whose outcome is unknown (the
connection dropped) is checked before it is sent again.

Role and group names become ids here, not in the plan: objects created earlier in the same
apply have no id when the plan is made. Per project, name -> id caches are filled by ``read``
and by creations, and refreshed with one list call when a name is unknown.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.api import AccessControlApi, ItwinsApi
from reconciler.errors import ApiError, Conflict, ItwinAccessError, NotLive, Unprocessable
from reconciler.model import Project
from reconciler.plan.build import Operation, OpKind
from reconciler.plan.payloads import (
    GroupDef,
    GroupUpdate,
    NewProject,
    ProjectUpdate,
    Rename,
    RoleDef,
    RoleUpdate,
)
from reconciler.targets import itwins_wire as wire
from reconciler.targets.itwins_duplicates import keep_first
from reconciler.targets.itwins_jobs import JobWrites
from reconciler.targets.itwins_members import MemberWrites, gone

JSON = dict[str, Any]
FindOne = Callable[[str], JSON | None]


class Writer(MemberWrites, JobWrites):
    """Operation handlers plus the per-project id caches they share (thread-safe)."""

    def __init__(
        self, itwins: ItwinsApi, access: AccessControlApi, find_one: FindOne, jobs: bool = True
    ) -> None:
        self.jobs_enabled = jobs  # member changes through bulk jobs (itwins_jobs)
        self.notices: list[str] = []  # said once, by the CLI, after the run
        self._job_ops: set[str] = set()
        self.itwins = itwins
        self.access = access
        self.find_one = find_one
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}  # project number -> iTwin id
        self._roles: dict[str, dict[str, str]] = {}  # iTwin id -> role name -> role id
        self._groups: dict[str, dict[str, str]] = {}  # iTwin id -> group name -> group id
        # iTwin id -> email -> invitation ids, of members and of owners
        self._shadowed: dict[str, dict[str, list[str]]] = {}
        self._shadowed_owners: dict[str, dict[str, list[str]]] = {}
        # iTwin id -> member or group id -> Default role ids it holds (kept on role updates)
        self._kept: dict[str, dict[str, list[str]]] = {}

    def remember(
        self,
        project: Project,
        shadowed: Mapping[str, list[str]] | None = None,
        shadowed_owners: Mapping[str, list[str]] | None = None,
        kept: Mapping[str, list[str]] | None = None,
    ) -> None:
        """Cache what a read learnt: ids of the project, its roles and groups, and the pending
        invitations of people who are members or owners already
        (``itwins_wire.shadowed_invitations``), and the Default roles each member holds
        (``itwins_wire.default_assignments``)."""
        if project.id is None:
            return
        with self._lock:
            self._ids[project.number] = project.id
            self._shadowed[project.id] = dict(shadowed or {})
            self._shadowed_owners[project.id] = dict(shadowed_owners or {})
            self._kept[project.id] = dict(kept or {})
            self._roles[project.id] = {r.display_name: r.id for r in project.roles if r.id}
            self._groups[project.id] = {g.name: g.id for g in project.groups if g.id}

    # ------------------------------------------------------------------ dispatch

    def execute(self, operations: Sequence[Operation]) -> None:
        if not operations:
            return
        if self.is_job(operations):
            self.run_job(operations)
            return
        op = operations[0]
        kind = op.kind
        if len(operations) > 1 and any(
            (o.kind, o.project, o.batch) != (kind, op.project, op.batch) for o in operations
        ):
            raise ValueError("a batch must share project, kind and batch index")
        if kind is OpKind.ADD_MEMBER:
            self._add_members(operations)
        elif kind is OpKind.ADD_GROUP_MEMBER:
            self._add_group_members(operations)
        else:
            for single in operations:
                self._HANDLERS[single.kind](self, single)

    def run_one(self, op: Operation) -> None:
        """One operation by its own endpoint (a job's fallback)."""
        self._HANDLERS[op.kind](self, op)

    # ------------------------------------------------------------------ ids

    def project_id(self, op: Operation) -> str:
        if op.project_id:
            return op.project_id
        with self._lock:
            known = self._ids.get(op.project)
        if known:
            return known
        itwin = self.find_one(op.project)  # created earlier in this apply, or by a past run
        if itwin is None or not isinstance(itwin.get("id"), str):
            raise NotLive("iTwinNotFound", f"no iTwin numbered {op.project}")
        self._set_id(op.project, str(itwin["id"]))
        return str(itwin["id"])

    def _set_id(self, number: str, itwin_id: str) -> None:
        with self._lock:
            self._ids[number] = itwin_id

    def _cache(self, table: dict[str, dict[str, str]], itwin_id: str) -> dict[str, str]:
        with self._lock:
            return dict(table.get(itwin_id, {}))

    def _store(self, table: dict[str, dict[str, str]], itwin_id: str, name: str, oid: str) -> None:
        with self._lock:
            table.setdefault(itwin_id, {})[name] = oid

    def _forget(self, table: dict[str, dict[str, str]], itwin_id: str, name: str) -> None:
        with self._lock:
            table.get(itwin_id, {}).pop(name, None)

    def role_ids(self, itwin_id: str, names: Sequence[str]) -> list[str]:
        """Role names -> ids, listing the roles again once when a name is not cached."""
        cache = self._cache(self._roles, itwin_id)
        if any(n not in cache for n in names):
            cache = self._refresh_roles(itwin_id)
        missing = [n for n in names if n not in cache]
        if missing:
            names = ", ".join(map(repr, missing))
            raise NotLive("RoleNotFound", f"no role named {names} in the project {itwin_id}")
        return [cache[n] for n in names]

    def _refresh_roles(self, itwin_id: str) -> dict[str, str]:
        # A name held twice (runs racing) resolves to the role the read kept.
        pairs = [
            (str(r["displayName"]), str(r["id"]))
            for r in self.access.roles(itwin_id)
            if isinstance(r.get("displayName"), str) and isinstance(r.get("id"), str)
        ]
        table = keep_first(pairs, self._cache(self._roles, itwin_id))
        with self._lock:
            self._roles[itwin_id] = table
        return dict(table)

    def group_id(self, itwin_id: str, name: str) -> str:
        cache = self._cache(self._groups, itwin_id)
        if name not in cache:
            cache = self._refresh_groups(itwin_id)
        if name not in cache:
            raise NotLive("GroupNotFound", f"no group named {name!r} in the project {itwin_id}")
        return cache[name]

    def _refresh_groups(self, itwin_id: str) -> dict[str, str]:
        pairs = [
            (str(g["name"]), str(g["id"]))
            for g in self.access.groups(itwin_id)
            if isinstance(g.get("name"), str) and isinstance(g.get("id"), str)
        ]
        table = keep_first(pairs, self._cache(self._groups, itwin_id))
        with self._lock:
            self._groups[itwin_id] = table
        return dict(table)

    def _parent_id(self, number: Any) -> str | None:
        if number is None:
            return None
        text = str(number)
        if text.startswith("id:"):
            return text[3:]
        itwin = self.find_one(text)
        if itwin is None:
            raise NotLive("iTwinNotFound", f"no parent iTwin {text}")
        return str(itwin["id"])

    def _fields(self, attrs: Mapping[str, Any]) -> JSON:
        fields = wire.itwin_fields(attrs)
        if "parent" in attrs:
            fields["parentId"] = self._parent_id(attrs["parent"])
        return fields

    # ------------------------------------------------------------------ projects

    def create_project(self, op: Operation) -> None:
        body = self._fields(NewProject.of(op).attributes)
        body.setdefault("class", wire.DEFAULT_CLASS)
        body.setdefault("subClass", wire.DEFAULT_SUBCLASS)
        body["number"] = op.project
        body.setdefault("displayName", op.project)
        try:
            itwin_id = self.itwins.create(body).get("id")
        except Conflict:
            itwin_id = None  # iTwinExists: a resent POST that had succeeded, or a past run
        if not isinstance(itwin_id, str):
            existing = self.find_one(op.project)
            if existing is None:
                raise ApiError("POST", "/itwins/", None, None, "created iTwin not found by number")
            itwin_id = str(existing["id"])
        self._set_id(op.project, itwin_id)
        with self._lock:
            self._roles.setdefault(itwin_id, {})
            self._groups.setdefault(itwin_id, {})

    def update_project(self, op: Operation) -> None:
        self.itwins.update(self.project_id(op), self._fields(ProjectUpdate.of(op).desired))

    def delete_project(self, op: Operation) -> None:
        try:
            self.itwins.delete(self.project_id(op))
        except ItwinAccessError as exc:  # the iTwin may be gone already (NotLive)
            if not gone(exc):
                raise

    # ------------------------------------------------------------------ roles

    def create_role(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        role = RoleDef.of(op)
        name = role.display_name or op.key
        description = role.description or name  # the API requires one
        role_id = self._create_named(
            itwin_id,
            name,
            lambda: self.access.create_role(itwin_id, name, str(description)),
            self._refresh_roles,
        )
        self._store(self._roles, itwin_id, name, role_id)
        permissions = sorted(role.permissions)
        if permissions:  # a role is created bare, then given its permissions (contract §4)
            self.access.update_role(itwin_id, role_id, {"permissions": permissions})

    def _create_named(
        self,
        itwin_id: str,
        name: str,
        post: Callable[[], JSON],
        refresh: Callable[[str], dict[str, str]],
    ) -> str:
        """POST a named object safely: look for it by name just before sending (another run
        may have created it since the plan was read: issue 12), and after an ambiguous failure
        or a conflict, so neither a concurrent run nor a resent POST makes a twin."""

        def found() -> str | None:
            return refresh(itwin_id).get(name) or None

        def created() -> str | None:
            answer = post()
            return str(answer["id"]) if isinstance(answer.get("id"), str) else None

        existing = found()
        if existing:
            return existing
        try:
            # The client's one retry policy: an ambiguous failure is resent only when the
            # object is not found by name meanwhile.
            new_id = self.access.client.create_once(created, found)
        except (Conflict, Unprocessable):
            new_id = found()  # a twin by name: another run's, or our resent POST's
            if new_id is None:
                raise
        existing = new_id or found()  # an answer without an id: look it up
        if existing:
            return existing
        raise ApiError(
            "POST", f"/accesscontrol/itwins/{itwin_id}", None, None, f"{name!r} not created"
        )

    def rename_role(self, op: Operation) -> None:
        """PATCH the live role's ``displayName``: members and groups holding it keep it."""
        itwin_id, rename = self.project_id(op), Rename.of(op)
        self.access.update_role(itwin_id, rename.id, {"displayName": rename.new})
        self._forget(self._roles, itwin_id, rename.old)
        self._store(self._roles, itwin_id, rename.new, rename.id)

    def update_role(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        update = RoleUpdate.of(op)
        self.access.update_role(itwin_id, str(update.id), update.desired)

    def delete_role(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        try:
            self.access.delete_role(itwin_id, str(RoleDef.of(op).id))
        except ApiError as exc:
            if not gone(exc):
                raise
        self._forget(self._roles, itwin_id, op.key)

    # ------------------------------------------------------------------ groups

    def create_group(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        group = GroupDef.of(op)
        name = group.name or op.key
        description = group.description or name
        group_id = self._create_named(
            itwin_id,
            name,
            lambda: self.access.create_group(itwin_id, name, str(description)),
            self._refresh_groups,
        )
        self._store(self._groups, itwin_id, name, group_id)
        fields: JSON = {"members": sorted(group.members), "imsGroups": sorted(group.ims_groups)}
        if any(fields.values()):
            self._update_group(itwin_id, group_id, fields)

    def rename_group(self, op: Operation) -> None:
        """PATCH the live group's ``name``: its members and the roles it holds stay."""
        itwin_id, rename = self.project_id(op), Rename.of(op)
        self.access.update_group(itwin_id, rename.id, {"name": rename.new})
        self._forget(self._groups, itwin_id, rename.old)
        self._store(self._groups, itwin_id, rename.new, rename.id)

    def update_group(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        update = GroupUpdate.of(op)
        self._update_group(itwin_id, str(update.id), update.desired)

    def _update_group(self, itwin_id: str, group_id: str, fields: JSON) -> None:
        try:
            self.access.update_group(itwin_id, group_id, fields)
        except ApiError as exc:
            # The API says only "Requested team member is not available." at members[i]:
            # name the email, or a failed apply leaves the user guessing which one it was.
            match = re.fullmatch(r"members\[(\d+)\]", exc.target or "")
            members = fields.get("members") or []
            if exc.code != "TeamMemberNotFound" or not match or int(match[1]) >= len(members):
                raise
            email = members[int(match[1])]
            message = f"group member {email} is not known to the directory: {exc.message}"
            raise exc.with_message(message) from exc

    def delete_group(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        try:
            self.access.delete_group(itwin_id, str(GroupDef.of(op).id))
        except ApiError as exc:
            if not gone(exc):
                raise
        self._forget(self._groups, itwin_id, op.key)

    _HANDLERS: Mapping[OpKind, Callable[[Writer, Operation], None]] = {
        OpKind.CREATE_PROJECT: create_project,
        OpKind.UPDATE_PROJECT: update_project,
        OpKind.DELETE_PROJECT: delete_project,
        OpKind.RENAME_ROLE: rename_role,
        OpKind.CREATE_ROLE: create_role,
        OpKind.UPDATE_ROLE: update_role,
        OpKind.DELETE_ROLE: delete_role,
        OpKind.RENAME_GROUP: rename_group,
        OpKind.CREATE_GROUP: create_group,
        OpKind.UPDATE_GROUP: update_group,
        OpKind.DELETE_GROUP: delete_group,
        OpKind.ADD_OWNER: MemberWrites.add_owner,
        OpKind.REMOVE_OWNER: MemberWrites.remove_owner,
        OpKind.ADD_MEMBER: lambda w, op: w._add_members([op]),
        OpKind.ADD_GROUP_MEMBER: lambda w, op: w._add_group_members([op]),
        OpKind.UPDATE_MEMBER: MemberWrites.update_member,
        OpKind.UPDATE_GROUP_MEMBER: MemberWrites.update_group_member,
        OpKind.REINVITE_MEMBER: MemberWrites.reinvite_member,
        OpKind.REMOVE_MEMBER: MemberWrites.remove_member,
        OpKind.REMOVE_GROUP_MEMBER: MemberWrites.remove_group_member,
        OpKind.CANCEL_INVITATION: MemberWrites.cancel_invitation,
    }
