"""Guards: safety rules evaluated on a plan before anything is written (design.md §5).

Pure, and never raising for a violation: a blocked plan still prints, and lists each
``GuardViolation`` with the guard's name, the numbers, and how to allow it.

Liftable with ``--allow NAME``: ``member-removals`` (in a project with at least
``member_removal_min_members`` members, removing more than ``member_removal_percent`` % of them;
in the whole plan, removing more than ``max_member_removals``), ``role-deletions`` (any),
``project-deletions`` (any). Never liftable: ``last-owner`` (a project's accepted owners never
drop below one; an owner this plan adds may stay an invitation) and ``self-protection`` (the
applying identity never removes its own ownership or membership, nor the administration
permissions this plan uses). Pending invitations count as
members everywhere here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.effective import after_project
from reconciler.errors import PlanError
from reconciler.model import LiveContext, Project, Rights, State
from reconciler.plan.kinds import (
    MEMBER_REMOVALS_GUARD,
    OWNER,
    PROJECT_DELETIONS,
    ROLE_DELETIONS,
    SPECS,
)
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.preflight import ORG_ADMIN, WARNING, PlanProblem, required
from reconciler.plan.settings import CONFIG_KEYS as CONFIG_KEYS
from reconciler.plan.settings import POLICY
from reconciler.plan.settings import GuardSettings as GuardSettings
from reconciler.visible import visible

# The guards operations count toward (MEMBER_REMOVALS_GUARD, ROLE_DELETIONS, PROJECT_DELETIONS)
# are named in the registry, beside the kinds that count (reconciler.plan.kinds).
LAST_OWNER = "last-owner"
SELF_PROTECTION = "self-protection"
# Preflight found operations the applying identity lacks the rights for. Liftable because the
# rights model read through the API can be incomplete (account-level roles are not visible).
PERMISSION_DENIED = "permission-denied"
LIFTABLE: tuple[str, ...] = (
    MEMBER_REMOVALS_GUARD,
    ROLE_DELETIONS,
    PROJECT_DELETIONS,
    PERMISSION_DENIED,
)
UNLIFTABLE: tuple[str, ...] = (LAST_OWNER, SELF_PROTECTION)


@dataclass(frozen=True)
class GuardViolation:
    guard: str
    message: str  # names the project and the numbers; how() says how to allow it
    project: str | None = None  # None: the whole plan
    numbers: Mapping[str, Any] = field(default_factory=dict)
    allowed: bool = False  # lifted by --allow
    lift: bool | None = None  # policies (``policy:NAME``): whether the rule says it is liftable

    def __post_init__(self) -> None:
        # Messages name live roles and projects: control characters are shown, never sent.
        object.__setattr__(self, "message", visible(self.message))

    @property
    def liftable(self) -> bool:
        return self.guard in LIFTABLE if self.lift is None else self.lift

    def how(self) -> str:
        if self.liftable:
            return f"allow with --allow {self.guard}"
        if self.lift is not None:
            return "this policy cannot be allowed"
        return "this guard cannot be allowed"

    def __str__(self) -> str:
        return f"{self.guard}: {self.message}; {self.how()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "guard": self.guard,
            "message": self.message,
            "project": self.project,
            "numbers": dict(self.numbers),
            "allowed": self.allowed,
            "liftable": self.liftable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardViolation:
        return cls(
            guard=str(data["guard"]),
            message=str(data["message"]),
            project=data.get("project"),
            numbers=dict(data.get("numbers") or {}),
            allowed=bool(data.get("allowed", False)),
            lift=bool(data.get("liftable")) if str(data["guard"]).startswith(POLICY) else None,
        )


def check_allow(allow: Collection[str]) -> tuple[str, ...]:
    """Validated, sorted, de-duplicated allowances; PlanError for an unknown or unliftable one."""
    for name in allow:
        if name.startswith(POLICY):
            continue  # a policy rule's name: checked against the config's rules by the plan
        if name in UNLIFTABLE:
            raise PlanError(f"guard {name} cannot be allowed")
        if name not in LIFTABLE:
            raise PlanError(
                f"unknown guard {name!r} in --allow; known guards: " + ", ".join(LIFTABLE)
            )
    return tuple(sorted(set(allow)))


def rights_violations(
    problems: Iterable[PlanProblem], allow: Collection[str] = ()
) -> list[GuardViolation]:
    """A guard per ``permission-denied`` preflight problem: an apply must not start when the
    plan already knows some of its operations will be refused halfway through."""
    return [
        GuardViolation(
            PERMISSION_DENIED,
            p.message,
            p.project,
            {"operations": len(p.operations)},
            allowed=PERMISSION_DENIED in allow,
        )
        for p in problems
        if p.code == PERMISSION_DENIED
    ]


def evaluate(
    operations: Sequence[Operation],
    actual: State,
    context: LiveContext,
    settings: GuardSettings,
    allow: Collection[str] = (),
) -> tuple[list[GuardViolation], list[PlanProblem]]:
    """Every violation (each marked ``allowed`` when lifted) and what could not be checked."""
    by_project: dict[str, list[Operation]] = defaultdict(list)
    for op in operations:
        by_project[op.project].append(op)
    found: list[GuardViolation] = []
    problems: list[PlanProblem] = []
    total_removals = 0
    projects = {p.number: p for p in actual.projects}
    for number, ops in sorted(by_project.items()):
        live = projects.get(number)
        if _counted(ops, PROJECT_DELETIONS):
            found.append(
                GuardViolation(PROJECT_DELETIONS, f"project {number} would be deleted", number)
            )
            continue
        deleted_roles = [op.key for op in _counted(ops, ROLE_DELETIONS)]
        if deleted_roles:
            found.append(
                GuardViolation(
                    ROLE_DELETIONS,
                    f"project {number} would delete {len(deleted_roles)} role(s): "
                    + ", ".join(deleted_roles),
                    number,
                    {"roles": len(deleted_roles)},
                )
            )
        removals = len(_counted(ops, MEMBER_REMOVALS_GUARD))
        total_removals += removals
        if live is None:
            continue
        found.extend(_member_removals(number, live, removals, settings))
        found.extend(_last_owner(number, live, ops))
        if context.identity is None:
            continue
        rights = context.rights.get(number, Rights())
        found.extend(_self_protection(number, live, ops, context, rights))
    if total_removals > settings.max_member_removals:
        found.append(
            GuardViolation(
                MEMBER_REMOVALS_GUARD,
                f"the plan would remove {total_removals} members in all "
                f"(more than {settings.max_member_removals})",
                None,
                {"removals": total_removals, "limit": settings.max_member_removals},
            )
        )
    if context.identity is None and operations:
        problems.append(
            PlanProblem(
                "unverified",
                "the applying identity is unknown (no email in the token, and GET /users/me did "
                "not say; set `identity` in the config): self-protection could not be checked",
                WARNING,
            )
        )
    allowed = set(allow)
    marked = [
        GuardViolation(v.guard, v.message, v.project, v.numbers, v.guard in allowed) for v in found
    ]
    return marked, problems


def _counted(ops: Iterable[Operation], guard: str) -> list[Operation]:
    """The operations the registry counts toward ``guard``."""
    return [op for op in ops if guard in SPECS[op.kind].guards]


def _member_removals(
    number: str, live: Project, removals: int, settings: GuardSettings
) -> list[GuardViolation]:
    members = len(live.members) + len(live.group_members)  # invitations included
    if members < settings.member_removal_min_members or not removals:
        return []
    percent = 100.0 * removals / members
    if percent <= settings.member_removal_percent:
        return []
    return [
        GuardViolation(
            MEMBER_REMOVALS_GUARD,
            f"project {number} would remove {removals} of {members} members "
            f"({percent:.1f} % > {settings.member_removal_percent:g} %)",
            number,
            {
                "removals": removals,
                "members": members,
                "percent": round(percent, 1),
                "limit_percent": settings.member_removal_percent,
            },
        )
    ]


def _last_owner(number: str, live: Project, ops: Sequence[Operation]) -> list[GuardViolation]:
    """Only accepted owners count: an owner added by this plan may become a pending invitation
    (C4, or an external user) that is never accepted, so removing the last accepted owner waits
    until a new owner has accepted."""
    removed = {op.key for op in ops if op.kind is OpKind.REMOVE_OWNER}
    owners = {o.key for o in live.owners if not o.pending}
    if not removed & owners or owners - removed:
        return []
    waiting = sorted(
        {op.key for op in ops if op.kind is OpKind.ADD_OWNER}
        | {o.key for o in live.owners if o.pending and o.key not in removed}
    )
    if waiting:
        why = (
            "; an owner added or invited counts only once accepted, so keep the current owner(s) "
            "in the manifest until " + ", ".join(waiting) + " has accepted, then remove them"
        )
    else:
        why = "; declare another owner, and remove these once it has accepted"
    return [
        GuardViolation(
            LAST_OWNER,
            f"project {number} would be left without an accepted owner "
            f"({len(removed & owners)} removed of {len(owners)}){why}",
            number,
            {"owners": len(owners), "removed": len(removed & owners), "waiting": len(waiting)},
        )
    ]


def _self_protection(
    number: str,
    live: Project,
    ops: Sequence[Operation],
    context: LiveContext,
    rights: Rights,
) -> list[GuardViolation]:
    me = context.identity
    found: list[GuardViolation] = []
    for op in ops:
        if op.kind is OpKind.REMOVE_OWNER and op.key == me:
            found.append(
                GuardViolation(
                    SELF_PROTECTION,
                    f"project {number}: {me} would remove its own ownership",
                    number,
                )
            )
    if rights.owner or context.org_admin:
        return found  # owners and org admins hold every permission without any role
    for op in ops:
        if op.kind in (OpKind.REMOVE_MEMBER, OpKind.CANCEL_INVITATION) and op.key == me:
            found.append(
                GuardViolation(
                    SELF_PROTECTION,
                    f"project {number}: {me} would remove its own membership "
                    "(it is neither an owner nor an organization administrator)",
                    number,
                )
            )
    used = {n for op in ops for n in required(op) if n not in (OWNER, ORG_ADMIN)}
    lost = _my_permissions(live, me) - _my_permissions(after_project(live, number, ops), me)
    lost &= used
    if lost:
        found.append(
            GuardViolation(
                SELF_PROTECTION,
                f"project {number}: {me} would lose permission(s) this plan uses: "
                + ", ".join(sorted(lost)),
                number,
                {"permissions": len(lost)},
            )
        )
    return found


def _my_permissions(project: Project | None, me: str | None) -> set[str]:
    """The permissions ``me`` holds through visible roles in ``project`` (live, or as the plan
    leaves it: ``effective.after_project``, the one replay of operations on a project)."""
    if project is None:
        return set()
    user_roles: set[str] = set()
    for m in project.members:
        if m.key == me and not m.pending:
            user_roles = set(m.roles)
    in_groups = {g.name for g in project.groups if me in g.members}
    group_roles = {gm.group: set(gm.roles) for gm in project.group_members}
    role_perms = {r.display_name: set(r.permissions) for r in project.roles}
    roles = set(user_roles)
    for group in in_groups:
        roles |= group_roles.get(group, set())
    return {p for role in roles for p in role_perms.get(role, set())}
