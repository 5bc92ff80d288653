"""Preflight: what the plan can tell before anything is written, beyond the guards.

Pure. From the LiveContext read beside the live state it reports, as ``PlanProblem`` values:

- ``permission-denied``: operations the applying identity cannot perform (itwin-api.md §6),
  grouped per project and missing permission, so an apply does not fail halfway through;
- ``unknown-permission``: a role permission absent from the live permission list;
- ``unknown-user``: a group member the directory does not know;
- ``unverified``: what could not be checked (identity or rights unknown, project creation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import LiveContext, ProjectState, Rights, State
from reconciler.plan.kinds import GROUPS, OWNER, OWNERS, SPECS
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import GroupDef, GroupUpdate, NewProject
from reconciler.visible import visible

ERROR = "error"
WARNING = "warning"

# Pseudo-permissions for what no role grants. OWNER (adding/removing owners, deleting an
# iTwin) is the registry's (reconciler.plan.kinds); ORG_ADMIN: organization administrators.
ORG_ADMIN = "organization administrator"
# Operations on owners need to know who applies (its own ownership is always kept): without
# it they are refused rather than guessed (issue 11).
IDENTITY = "identity"
# Changing groups the identity could not list (403: the contract documents listing groups for
# org admins only): what exists is unknown, so a "create" may be a duplicate.
READ_GROUPS = "to list the project's groups"


@dataclass(frozen=True)
class PlanProblem:
    """A finding about the plan: ``severity`` "error" (apply would fail) or "warning"."""

    code: str
    message: str
    severity: str = ERROR
    project: str | None = None
    source: str | None = None  # "file:line:col" of the declaration concerned
    operations: tuple[str, ...] = field(default=())  # ids of the operations concerned
    brief: str | None = None  # a short form shown beside each operation concerned

    def __post_init__(self) -> None:
        # Messages name live roles and projects: control characters are shown, never sent.
        object.__setattr__(self, "message", visible(self.message))
        if self.brief is not None:
            object.__setattr__(self, "brief", visible(self.brief))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{self.severity}: {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "project": self.project,
            "source": self.source,
            "operations": list(self.operations),
            "brief": self.brief,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanProblem:
        return cls(
            code=str(data["code"]),
            message=str(data["message"]),
            severity=str(data["severity"]),
            project=data.get("project"),
            source=data.get("source"),
            operations=tuple(str(x) for x in data.get("operations", ())),
            brief=data.get("brief"),
        )


def required(op: Operation) -> tuple[str, ...]:
    """The permissions (or OWNER / ORG_ADMIN) the applying identity needs for ``op``."""
    spec = SPECS[op.kind]
    needs = list(spec.rights)
    if spec.member_list:
        # Changing a group's member list also needs the invite/remove permissions.
        before, after = _member_lists(op)
        if after - before:
            needs.append("administration_invite_member")
        if before - after:
            needs.append("administration_remove_member")
    return tuple(needs)


def _member_lists(op: Operation) -> tuple[set[str], set[str]]:
    """A group creation's or update's member list before and after it."""
    if op.kind is OpKind.CREATE_GROUP:
        return set(), set(GroupDef.of(op).members)
    members = GroupUpdate.of(op).members
    return (set(members.old), set(members.new)) if members is not None else (set(), set())


def may(rights: Rights, org_admin: bool, needs: Iterable[str]) -> list[str]:
    """The needs the identity lacks (empty: allowed). Owners hold every permission implicitly;
    organization administrators may do everything an owner may (contract C1, C2, §2.2)."""
    if rights.owner or org_admin:
        return []
    missing = []
    for need in needs:
        if need in (OWNER, ORG_ADMIN):
            ok = False  # no role grants these
        else:
            ok = need in rights.permissions
        if not ok:
            missing.append(need)
    return missing


def check_rights(operations: Sequence[Operation], context: LiveContext) -> list[PlanProblem]:
    """``permission-denied`` (error) and ``unverified`` (warning) problems for ``operations``."""
    problems: list[PlanProblem] = []
    created = {op.project for op in operations if op.kind is OpKind.CREATE_PROJECT}
    denied: dict[tuple[str, str], list[str]] = defaultdict(list)
    unverified: set[str] = set()
    for op in operations:
        section = SPECS[op.kind].section
        if context.identity is None and section == OWNERS:
            denied[(op.project, IDENTITY)].append(op.id)
            continue
        if section == GROUPS and GROUPS in context.unreadable.get(op.project, ()):
            denied[(op.project, READ_GROUPS)].append(op.id)
            continue
        if op.kind is OpKind.CREATE_PROJECT:
            problems.extend(_check_create(op, context))
            continue
        if op.project in created:
            continue  # the creator owns the new project: every permission
        rights = context.rights.get(op.project)
        if rights is None and not context.org_admin:
            unverified.add(op.project)
            continue
        for need in may(rights or Rights(), context.org_admin, required(op)):
            denied[(op.project, need)].append(op.id)
    for number in sorted(unverified):
        problems.append(
            PlanProblem(
                "unverified",
                f"project {number}: the applying identity's rights were not read; "
                "its operations could not be checked",
                WARNING,
                number,
            )
        )
    for (number, need), ids in sorted(denied.items()):
        if need == IDENTITY:
            problems.append(
                PlanProblem(
                    "permission-denied",
                    f"project {number}: {len(ids)} operation(s) on owners need the applying "
                    "identity, which could not be determined (no email in the token, and "
                    "GET /users/me did not say; set `identity` in the config): " + _some(ids),
                    ERROR,
                    number,
                    None,
                    tuple(ids),
                    "denied: the applying identity is unknown",
                )
            )
            continue
        what = _WHAT.get(need, f"permission {need}")
        problems.append(
            PlanProblem(
                "permission-denied",
                f"project {number}: {len(ids)} operation(s) need {what}, which "
                f"{context.identity or 'the applying identity'} lacks: " + _some(ids),
                ERROR,
                number,
                None,
                tuple(ids),
                f"denied: needs {what}",
            )
        )
    return problems


_WHAT = {
    OWNER: "to be an owner or an organization administrator",
    ORG_ADMIN: "to be an organization administrator",
    READ_GROUPS: "to list the project's groups (refused: 403), as an organization administrator "
    "or a holder of administration_manage_groups",
}


def _check_create(op: Operation, context: LiveContext) -> list[PlanProblem]:
    if context.org_admin:
        return []
    # itwins_create is granted on the parent iTwin (or the Account iTwin without a parent).
    parent = NewProject.of(op).parent
    rights = context.rights.get(parent) if parent is not None else None
    if rights is not None:
        if not may(rights, False, ("itwins_create",)):
            return []
        return [
            PlanProblem(
                "permission-denied",
                f"project {op.project}: creating it needs itwins_create on its parent "
                f"{parent} or organization administration",
                ERROR,
                op.project,
                op.source,
                (op.id,),
                "denied: needs itwins_create on the parent",
            )
        ]
    return [
        PlanProblem(
            "unverified",
            f"project {op.project}: creating it needs itwins_create on the account or "
            "organization administration; this could not be checked",
            WARNING,
            op.project,
            op.source,
            (op.id,),
            "unverified: needs itwins_create or organization administration",
        )
    ]


def check_manifest_facts(desired: State, context: LiveContext) -> list[PlanProblem]:
    """Unknown permissions and unknown group members, each with its manifest location."""
    problems: list[PlanProblem] = []
    known = context.known_permissions
    for project in desired.projects:
        if project.state is ProjectState.ABSENT:
            continue
        if known is not None and project.managed("roles") is not None:
            for role in project.roles:
                for perm in sorted(role.permissions - known):
                    problems.append(
                        PlanProblem(
                            "unknown-permission",
                            f"project {project.number}: role {role.display_name!r} uses "
                            f"permission {perm!r}, which the live permission list lacks",
                            ERROR,
                            project.number,
                            str(role.source) if role.source else None,
                        )
                    )
        if project.managed("groups") is not None:
            for group in project.groups:
                for email in sorted(group.members & context.unknown_users):
                    problems.append(
                        PlanProblem(
                            "unknown-user",
                            f"project {project.number}: group {group.name!r} member {email} "
                            "is not known to the directory",
                            ERROR,
                            project.number,
                            str(group.source) if group.source else None,
                        )
                    )
    return problems


def _some(ids: Sequence[str], shown: int = 5) -> str:
    """The first few ids: the full list is in the problem's ``operations``."""
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more
