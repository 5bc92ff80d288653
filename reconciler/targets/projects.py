"""The legacy backend: the deprecated Projects API v1 (design.md §2, contract §5).

``ProjectsTarget`` implements ``reconciler.apply.Target`` like ``ItwinsTarget``: the same plan,
guards, renderers and journal drive it. What differs is only the wire:

- projects are found by ``projectNumber`` (exact query for a few, paging through all for many);
- per project two reads: roles, and team members (roles as objects, ``Prefer:
  return=representation``); plus the caller's permissions (``GET /projects/{id}/permissions``);
  and once per target whether the caller is an organization administrator (see ``org_admin``);
- no groups and no owners: live projects carry only the ``roles`` and ``members`` sections, so a
  plan never touches the others, export writes none, and an operation on them is refused (the
  manifest checks reject such manifests for this backend first);
- members are added one per request (the API takes one), by email with role *names*; their roles
  are replaced with role *ids*, keeping the hidden "Team Member" role (see ``projects_wire``);
- no invitations: every member is a member.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from reconciler.api import DEFAULT_CONCURRENCY, AccessControlApi, ApiClient, bounded_map
from reconciler.api.projects import ProjectsApi
from reconciler.errors import (
    ApiError,
    Conflict,
    Forbidden,
    ItwinAccessError,
    NotFound,
    Unprocessable,
)
from reconciler.model import LiveContext, Project, Rights, State
from reconciler.plan.build import Operation, OpKind
from reconciler.plan.payloads import (
    MemberPayload,
    NewProject,
    ProjectUpdate,
    Rename,
    RoleDef,
    RoleUpdate,
)
from reconciler.targets import common_wire
from reconciler.targets import projects_wire as wire
from reconciler.targets.common import ClientTarget, holds_every_permission
from reconciler.targets.listing import Listing

JSON = dict[str, Any]
Progress = Callable[[int, int], None]
BACKEND = "projects"


class ProjectsTarget(ClientTarget):
    """Live projects through the deprecated Projects API."""

    backend = BACKEND
    # The API adds one member per request: the plan should batch member adds one by one.
    members_per_request = 1

    def __init__(
        self,
        client: ApiClient,
        *,
        identity: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        lookup_threshold: int = 2,
        detect_org_admin: bool = True,
    ) -> None:
        super().__init__(client, identity=identity)
        self.api = ProjectsApi(client)
        self.detect_org_admin = detect_org_admin
        self._org_admin: bool | None = None
        self.concurrency = concurrency
        self.lookup_threshold = lookup_threshold
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}  # project number -> id, of every project seen
        # left_out (ClientTarget): the basic team members each read leaves out, for export

    # ------------------------------------------------------------------ read

    def all_numbers(self) -> list[str]:
        """Numbers of every project the caller can see (``export --all``)."""
        numbers = []
        for page in self.api.list_pages():
            for live in page:
                self._seen(live)
                number = live.get("projectNumber")
                if isinstance(number, str) and number:
                    numbers.append(number)
        return sorted(set(numbers))

    def listing(self) -> Listing:
        """``all_numbers`` for ``export --all`` (this API has no cap nor twin numbers)."""
        return Listing(tuple(self.all_numbers()))

    def read(
        self,
        numbers: Sequence[str],
        progress: Progress | None = None,
        sections: Mapping[str, Collection[str]] | None = None,
        deleting: Collection[str] = (),
    ) -> tuple[State, LiveContext]:
        """The same two lists per project whatever is managed (roles and members, the only
        sections this API has). ``sections`` and ``deleting`` are accepted for ``Target`` and
        not used: the legacy backend keeps its read as it was (issue 17 is about the iTwins
        backend; reading only members where roles are not managed is left to do)."""
        del sections, deleting
        identity = self.identity()
        found = self.find(numbers)
        rows = [found[n] for n in sorted(found)]
        total, done = len(rows), [0]
        if progress is not None:
            progress(0, total)

        def fetch(live: JSON) -> tuple[Project, Rights]:
            project_id = str(live["id"])
            members = self.api.members(project_id)
            project = wire.project(live, self.api.roles(project_id), members)
            rights = Rights(permissions=frozenset(self._my_permissions(project_id)))
            with self._lock:
                self.left_out[project.number] = wire.basic_team_members(members)
                done[0] += 1
                count = done[0]
            if progress is not None:
                progress(count, total)
            return project, rights

        results = bounded_map(fetch, rows, self.concurrency)
        context = LiveContext(
            identity=identity,
            org_admin=self.org_admin() if self.detect_org_admin else False,
            known_permissions=None,  # the Projects API has no permission catalogue
            rights={p.number: r for p, r in results},
        )
        return State(tuple(p for p, _ in results)), context

    def org_admin(self) -> bool:
        """Whether the caller administers its organization (only org admins may delete
        projects, and preflight checks it). The Projects API cannot say; the same token on the
        same platform can: "holds every permission on its primary Account iTwin", as the iTwins
        backend reads it. Any refusal (e.g. a token without the iTwins scope) means no."""
        if self._org_admin is None:
            try:
                known = frozenset(AccessControlApi(self.client).all_permissions())
            except ApiError:
                self._org_admin = False
            else:
                self._org_admin = holds_every_permission(self.client, known)
        return self._org_admin

    def _my_permissions(self, project_id: str) -> list[str]:
        try:
            return self.api.my_permissions(project_id)
        except (Forbidden, NotFound):  # path not confirmed by the contract (§5): unknown
            return []

    def find(self, numbers: Sequence[str]) -> dict[str, JSON]:
        """number -> live project (full representation) of the numbers that exist live."""
        wanted = set(numbers)
        found: dict[str, JSON] = {}
        if not wanted:
            return found
        if len(wanted) <= self.lookup_threshold:
            for number in sorted(wanted):
                live = self._find_one(number)
                if live is not None:
                    found[number] = live
            return found
        for page in self.api.list_pages():
            for live in page:
                self._seen(live)
                key = live.get("projectNumber")
                if isinstance(key, str) and key in wanted:
                    found[key] = live
            if wanted <= found.keys():
                break
        return found

    def _find_one(self, number: str) -> JSON | None:
        for page in self.api.list_pages(number=number):
            for live in page:
                self._seen(live)
                if live.get("projectNumber") == number:
                    return live
        return None

    def _seen(self, live: JSON) -> None:
        project_id, number = live.get("id"), live.get("projectNumber")
        if isinstance(project_id, str) and isinstance(number, str):
            with self._lock:
                self._ids[number] = project_id

    def _project_id(self, op: Operation) -> str:
        if op.project_id:
            return op.project_id
        with self._lock:
            cached = self._ids.get(op.project)
        if cached:
            return cached
        live = self._find_one(op.project)
        if live is None:
            raise ItwinAccessError(f"project {op.project} does not exist live")
        return str(live["id"])

    # ------------------------------------------------------------------ execute

    def execute(self, operations: Sequence[Operation]) -> None:
        # A batch is several adds of one project; this API takes one member per request, so a
        # batch (if a plan made one) is sent member by member.
        for op in operations:
            self._execute_one(op)

    def _execute_one(self, op: Operation) -> None:
        handler = HANDLERS.get(op.kind)
        if handler is None:
            raise ItwinAccessError(
                f"project {op.project}: the {BACKEND} backend cannot "
                f"{op.kind.value.replace('_', ' ')} (it has no groups, owners or invitations); "
                "use the itwins backend"
            )
        handler(self, op)

    def _create_project(self, op: Operation) -> None:
        fields = wire.project_fields({"number": op.project, **NewProject.of(op).attributes})
        try:
            created = self.api.create(fields)
        except Conflict:
            # Already there (a resent create, or a concurrent one): adopt the live project.
            live = self._find_one(op.project)
            if live is None:
                raise
            created = live
        self._seen(created)

    def _rename_role(self, op: Operation) -> None:
        """PATCH displayName: the members holding the role keep it."""
        rename = Rename.of(op)
        self.api.update_role(self._project_id(op), rename.id, {"displayName": rename.new})

    def _create_role(self, project_id: str, role: RoleDef) -> None:
        name = role.display_name
        if name.casefold() == wire.TEAM_MEMBER.casefold():
            raise ItwinAccessError(
                f"role {name!r} is the Projects API's own role, which this backend manages by "
                "itself (it is never read as a project role); remove it from the manifest"
            )
        try:
            created = self.api.create_role(project_id, name, role.description)
        except ApiError as exc:
            if not exc.may_have_acted:
                raise
            # An ambiguous failure (5xx, no answer) may hide a success: look before failing.
            role_id = common_wire.role_ids(self.api.roles(project_id)).get(name)
            if role_id is None:
                raise
            created = {"id": role_id}
        permissions = sorted(role.permissions)
        if permissions:
            # Permissions cannot be given at creation (contract §4/§5): PATCH them after.
            self.api.update_role(project_id, str(created["id"]), {"permissions": permissions})

    def _add_member(self, project_id: str, member: MemberPayload) -> None:
        email, roles = str(member.email), sorted(member.new_roles)
        try:
            self.api.add_member(project_id, email, roles)
        except (Conflict, Unprocessable):
            # Already a member (a basic team member is not read, see projects_wire; or a
            # resent add): make its roles what the plan says.
            row = self._member(project_id, email)
            if row is None:
                raise
            self._update_member(project_id, str(row["id"]), roles)

    def _member(self, project_id: str, email: str) -> JSON | None:
        for row in self.api.members(project_id):
            if str(row.get("email") or "").strip().lower() == email.lower():
                return row
        return None

    def _update_member(self, project_id: str, member_id: str, roles: Sequence[str]) -> None:
        ids = common_wire.role_ids(self.api.roles(project_id))
        wanted = sorted(roles)
        missing = [name for name in wanted if name not in ids]
        if missing:
            raise ItwinAccessError(
                "role(s) " + ", ".join(repr(n) for n in missing) + " do not exist live"
            )
        role_ids = [ids[name] for name in wanted]
        team = ids.get(wire.TEAM_MEMBER)
        if team is not None and team not in role_ids:
            role_ids.append(team)  # the API's own role stays (see projects_wire)
        self.api.update_member(project_id, member_id, role_ids)


Handler = Callable[[ProjectsTarget, Operation], object]
# (target, project id, operation): what it returns is unused
OnProject = Callable[[ProjectsTarget, str, Operation], object]


def _on_project(call: OnProject) -> Handler:
    """A handler for an operation on an existing project: its id and the operation."""
    return lambda t, op: call(t, t._project_id(op), op)


def _update_role(t: ProjectsTarget, project_id: str, op: Operation) -> None:
    update = RoleUpdate.of(op)
    t.api.update_role(project_id, str(update.id), update.desired)


def _update_member(t: ProjectsTarget, project_id: str, op: Operation) -> None:
    member = MemberPayload.of(op)
    t._update_member(project_id, str(member.old_id), member.new_roles)


# A test checks these cover every kind the registry (reconciler.plan.kinds) gives this backend.
HANDLERS: Mapping[OpKind, Handler] = {
    OpKind.CREATE_PROJECT: ProjectsTarget._create_project,
    OpKind.UPDATE_PROJECT: _on_project(
        lambda t, pid, op: t.api.update(pid, wire.project_fields(ProjectUpdate.of(op).desired))
    ),
    OpKind.DELETE_PROJECT: _on_project(lambda t, pid, op: _gone_ok(lambda: t.api.delete(pid))),
    OpKind.RENAME_ROLE: lambda t, op: t._rename_role(op),
    OpKind.CREATE_ROLE: _on_project(lambda t, pid, op: t._create_role(pid, RoleDef.of(op))),
    OpKind.UPDATE_ROLE: _on_project(_update_role),
    OpKind.DELETE_ROLE: _on_project(
        lambda t, pid, op: _gone_ok(lambda: t.api.delete_role(pid, str(RoleDef.of(op).id)))
    ),
    OpKind.ADD_MEMBER: _on_project(lambda t, pid, op: t._add_member(pid, MemberPayload.of(op))),
    OpKind.UPDATE_MEMBER: _on_project(_update_member),
    OpKind.REMOVE_MEMBER: _on_project(
        lambda t, pid, op: _gone_ok(
            lambda: t.api.remove_member(pid, str(MemberPayload.of(op).old_id))
        )
    ),
}


def _gone_ok(call: Callable[[], None]) -> None:
    """Run a delete; "not found" means it is already gone, which is what was wanted."""
    with contextlib.suppress(NotFound):
        call()
