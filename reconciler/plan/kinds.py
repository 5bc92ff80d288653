"""Operation kinds: one registry (``SPECS``) holding everything the code knows about each kind.

Pure data, no I/O. Each ``KindSpec`` says where the kind runs in a project (``phase``, design.md
§5), how it counts ("add", "change", "remove"), which project section it changes, the rights it
needs (preflight), the guards it counts toward, what its failure holds back in an apply
(``blocks``, read by ``apply.blocked_by``), the words renderers use, its drift category, and
the backends that can execute it. Preflight, guards, apply, the renderers and drift read it;
targets keep their own handler maps, which a test checks against ``backends`` here.

Adding a kind is one ``OpKind`` member and one ``KindSpec``, plus what only the new kind can
say: how ``diff`` finds it and how each target executes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class OpKind(StrEnum):
    # Declaration order breaks ties inside a phase (``Operation.sort_key``): a rename comes
    # before a create, which may reuse the old name.
    CREATE_PROJECT = "create_project"
    UPDATE_PROJECT = "update_project"
    RENAME_ROLE = "rename_role"
    CREATE_ROLE = "create_role"
    UPDATE_ROLE = "update_role"
    RENAME_GROUP = "rename_group"
    CREATE_GROUP = "create_group"
    UPDATE_GROUP = "update_group"
    ADD_OWNER = "add_owner"
    ADD_MEMBER = "add_member"
    ADD_GROUP_MEMBER = "add_group_member"
    UPDATE_MEMBER = "update_member"
    UPDATE_GROUP_MEMBER = "update_group_member"
    REINVITE_MEMBER = "reinvite_member"
    REMOVE_MEMBER = "remove_member"
    REMOVE_GROUP_MEMBER = "remove_group_member"
    CANCEL_INVITATION = "cancel_invitation"
    DELETE_GROUP = "delete_group"
    DELETE_ROLE = "delete_role"
    REMOVE_OWNER = "remove_owner"
    DELETE_PROJECT = "delete_project"


class Action(StrEnum):
    """The Terraform-style bucket of "Plan: N to add, N to change, N to remove."."""

    ADD = "add"
    CHANGE = "change"
    REMOVE = "remove"


class Drift(StrEnum):
    """How ``export.drift`` sorts an operation of a drift plan."""

    CHANGED = "changed"  # a managed object changed outside the manifests
    # a live object no manifest lists, when its key is not declared in its section
    EXTRA = "extra"


class Match(StrEnum):
    """Which operations of ``Blocks.kinds`` a failure holds back (same project, always)."""

    PROJECT = "project"  # every one
    SAME_KEY = "same key"  # those on the same object
    # those whose ``after["roles"]`` name the failed operation's object (a role not created)
    GIVES_ROLE = "gives the role"
    # those deleting a role the failed operation's ``before["roles"]`` still holds
    HELD_ROLE = "deletes a held role"


@dataclass(frozen=True)
class Blocks:
    """When an operation fails, the later ones of its project that must be skipped."""

    match: Match
    kinds: frozenset[OpKind] | None = None  # None: any kind the match applies to


# Sections of a project an operation changes (``model.Project`` attribute names).
PROJECT = "project"
ROLES = "roles"
GROUPS = "groups"
OWNERS = "owners"
MEMBERS = "members"
GROUP_MEMBERS = "group_members"

# Backends (config ``backend``) that execute a kind.
ITWINS = "itwins"
PROJECTS = "projects"
_BOTH = frozenset({ITWINS, PROJECTS})
_ITWINS = frozenset({ITWINS})

# Pseudo-permission: adding/removing owners and deleting an iTwin need an owner, or an
# organization administrator who need not be one (contract C1/C2); no role permission is enough.
OWNER = "owner"

# Guards an operation counts toward (reconciler.plan.guards).
MEMBER_REMOVALS_GUARD = "member-removals"
ROLE_DELETIONS = "role-deletions"
PROJECT_DELETIONS = "project-deletions"

_MANAGE_ROLES = ("administration_manage_roles",)
_MANAGE_GROUPS = ("administration_manage_groups",)
_INVITE = ("administration_invite_member",)
_REMOVE = ("administration_remove_member",)


@dataclass(frozen=True)
class KindSpec:
    kind: OpKind
    phase: int  # design.md §5: the order of operations within a project
    action: Action
    section: str
    verb: str  # "<verb> <noun> <name>" in plans
    noun: str
    rights: tuple[str, ...]  # permissions (or OWNER) the applying identity needs
    backends: frozenset[str]
    guards: frozenset[str] = frozenset()
    blocks: tuple[Blocks, ...] = ()
    # Skipped when anything else of its project failed (a project is never deleted on a
    # partly-failed run).
    needs_all: bool = False
    drift: Drift = Drift.CHANGED
    # A group's member list changes: adding people also needs the invite permission, removing
    # them the remove permission.
    member_list: bool = False
    # ``after["roles"]`` (``payloads.given_roles``): roles the member holds afterwards
    gives_roles: bool = False
    # ``before["roles"]`` (``payloads.held_roles``): it may leave a role held when it fails
    releases_roles: bool = False
    # The renamed object's name field in ``before``/``after`` (rename kinds only).
    renames: str | None = None

    @property
    def quoted(self) -> bool:
        """Names (role, group) are quoted in plans; emails and project numbers are not."""
        return self.section in (ROLES, GROUPS, GROUP_MEMBERS)


_ROLE_NOT_THERE = (
    Blocks(Match.SAME_KEY, frozenset({OpKind.UPDATE_ROLE})),
    Blocks(Match.GIVES_ROLE),
)
_GROUP_NOT_THERE = (
    Blocks(
        Match.SAME_KEY,
        frozenset({OpKind.UPDATE_GROUP, OpKind.ADD_GROUP_MEMBER, OpKind.UPDATE_GROUP_MEMBER}),
    ),
)
_ROLE_STILL_HELD = (Blocks(Match.HELD_ROLE, frozenset({OpKind.DELETE_ROLE})),)
_GROUP_STILL_USED = (Blocks(Match.SAME_KEY, frozenset({OpKind.DELETE_GROUP})),)
_A, _C, _R = Action.ADD, Action.CHANGE, Action.REMOVE
_K = OpKind
_REMOVALS = frozenset({MEMBER_REMOVALS_GUARD})  # pending invitations count as members

SPECS: Mapping[OpKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            _K.CREATE_PROJECT, 1, _A, PROJECT, "create", "project", ("itwins_create",), _BOTH,
            blocks=(Blocks(Match.PROJECT),),
        ),
        KindSpec(_K.UPDATE_PROJECT, 1, _C, PROJECT, "update", "project", ("itwins_modify",), _BOTH),
        KindSpec(
            _K.RENAME_ROLE, 2, _C, ROLES, "rename", "role", _MANAGE_ROLES, _BOTH,
            blocks=_ROLE_NOT_THERE, renames="displayName",
        ),
        KindSpec(
            _K.CREATE_ROLE, 2, _A, ROLES, "create", "role", _MANAGE_ROLES, _BOTH,
            blocks=_ROLE_NOT_THERE,
        ),
        KindSpec(_K.UPDATE_ROLE, 2, _C, ROLES, "update", "role", _MANAGE_ROLES, _BOTH),
        KindSpec(
            _K.RENAME_GROUP, 3, _C, GROUPS, "rename", "group", _MANAGE_GROUPS, _ITWINS,
            blocks=_GROUP_NOT_THERE, renames="name",
        ),
        KindSpec(
            _K.CREATE_GROUP, 3, _A, GROUPS, "create", "group", _MANAGE_GROUPS, _ITWINS,
            blocks=_GROUP_NOT_THERE, member_list=True,
        ),
        KindSpec(
            _K.UPDATE_GROUP, 3, _C, GROUPS, "update", "group", _MANAGE_GROUPS, _ITWINS,
            blocks=_GROUP_STILL_USED, member_list=True,
        ),
        KindSpec(
            _K.ADD_OWNER, 4, _A, OWNERS, "add", "owner", (OWNER,), _ITWINS,
            blocks=(Blocks(Match.PROJECT, frozenset({OpKind.REMOVE_OWNER})),),
        ),
        KindSpec(
            _K.ADD_MEMBER, 5, _A, MEMBERS, "add", "member", _INVITE, _BOTH, gives_roles=True
        ),
        KindSpec(
            _K.ADD_GROUP_MEMBER, 5, _A, GROUP_MEMBERS, "add", "group member", _INVITE, _ITWINS,
            gives_roles=True,
        ),
        KindSpec(
            _K.UPDATE_MEMBER, 5, _C, MEMBERS, "update", "member", _INVITE, _BOTH,
            blocks=_ROLE_STILL_HELD, gives_roles=True, releases_roles=True,
        ),
        KindSpec(
            _K.UPDATE_GROUP_MEMBER, 5, _C, GROUP_MEMBERS, "update", "group member", _INVITE,
            _ITWINS, blocks=_ROLE_STILL_HELD + _GROUP_STILL_USED, gives_roles=True,
            releases_roles=True,
        ),
        KindSpec(
            # cancel the old invitation, send a new one
            _K.REINVITE_MEMBER, 5, _C, MEMBERS, "re-invite", "member", _INVITE + _REMOVE, _ITWINS,
            blocks=_ROLE_STILL_HELD, gives_roles=True, releases_roles=True,
        ),
        KindSpec(
            _K.REMOVE_MEMBER, 6, _R, MEMBERS, "remove", "member", _REMOVE, _BOTH,
            guards=_REMOVALS, blocks=_ROLE_STILL_HELD, drift=Drift.EXTRA, releases_roles=True,
        ),
        KindSpec(
            _K.REMOVE_GROUP_MEMBER, 6, _R, GROUP_MEMBERS, "remove", "group member", _REMOVE,
            _ITWINS, guards=_REMOVALS, blocks=_ROLE_STILL_HELD + _GROUP_STILL_USED,
            drift=Drift.EXTRA, releases_roles=True,
        ),
        KindSpec(
            _K.CANCEL_INVITATION, 6, _R, MEMBERS, "cancel", "invitation of", _REMOVE, _ITWINS,
            guards=_REMOVALS, blocks=_ROLE_STILL_HELD, drift=Drift.EXTRA, releases_roles=True,
        ),
        KindSpec(
            _K.DELETE_GROUP, 7, _R, GROUPS, "delete", "group", _MANAGE_GROUPS, _ITWINS,
            drift=Drift.EXTRA,
        ),
        KindSpec(
            _K.DELETE_ROLE, 7, _R, ROLES, "delete", "role", _MANAGE_ROLES, _BOTH,
            guards=frozenset({ROLE_DELETIONS}), drift=Drift.EXTRA,
        ),
        KindSpec(
            _K.REMOVE_OWNER, 8, _R, OWNERS, "remove", "owner", (OWNER,), _ITWINS,
            drift=Drift.EXTRA,
        ),
        KindSpec(
            _K.DELETE_PROJECT, 9, _R, PROJECT, "delete", "project", (OWNER,), _BOTH,
            guards=frozenset({PROJECT_DELETIONS}), needs_all=True,
        ),
    )
}  # fmt: skip


def kinds(
    *,
    action: Action | None = None,
    section: str | None = None,
    guard: str | None = None,
    backend: str | None = None,
) -> frozenset[OpKind]:
    """The kinds whose spec matches every given criterion."""
    return frozenset(
        s.kind
        for s in SPECS.values()
        if (action is None or s.action is action)
        and (section is None or s.section == section)
        and (guard is None or guard in s.guards)
        and (backend is None or backend in s.backends)
    )
