"""The one state type shared by manifests (desired) and targets (live).

Every object is a frozen dataclass. Collections are tuples kept sorted by key so that two
states built from the same facts compare equal and render in the same order. Identity fields
(``id``) and provenance (``source``) never take part in equality: the diff compares what a
manifest can say, not where it was said or what the server called it.

Keys (design.md §4): project by ``number``; role by ``display_name``; group by ``name``; user by
lower-cased email. Live "missing users" (deleted from IMS) have ``email=None``; their key is
``"id:<member id>"`` so they can still be matched and removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from types import MappingProxyType
from typing import NamedTuple, TypeVar

Scalar = str | int | float | bool | None

# Project attributes a manifest may declare, by their manifest (camelCase) names. Targets
# translate them to each API's own field names (number/projectNumber, ianaTimeZone/timeZone...).
PROJECT_ATTRIBUTES: tuple[str, ...] = (
    "displayName",
    "class",
    "subClass",
    "type",
    "status",
    "dataCenterLocation",
    "geographicLocation",
    "latitude",
    "longitude",
    "ianaTimeZone",
    "parent",
)

# Sections of a project that `manage` can govern.
SECTIONS: tuple[str, ...] = ("roles", "groups", "members", "owners")


class Manage(StrEnum):
    AUTHORITATIVE = "authoritative"  # what is declared is what you get: undeclared live objects go
    ADDITIVE = "additive"  # declared objects are created/updated; nothing is ever removed


class ProjectState(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"


class Source(NamedTuple):
    """Where a desired object was declared: file, 1-based line and column, JSON path.

    A named tuple (read-only, ordered and hashed by its fields, as a frozen ordered dataclass
    would be): one is made for each of 100,000 members, and a tuple is made in one step, without
    an instance ``__dict__`` (issue 17).
    """

    file: str
    line: int
    column: int
    path: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def user_key(email: str | None, member_id: str | None) -> str:
    """The key of a user (member, owner, group member): lower-cased email, else its id."""
    if email:
        return email.strip().lower()
    return f"id:{member_id}"


@dataclass(frozen=True)
class Role:
    display_name: str
    description: str | None = None  # None in a manifest: not managed (create uses display_name)
    permissions: frozenset[str] = frozenset()
    id: str | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    # Manifest ``renamedFrom``: the role's old name, renamed in place when it is live.
    renamed_from: str | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.display_name


@dataclass(frozen=True)
class GroupInvitation:
    """A pending invitation to a group (someone the API invited rather than added), with its
    times (ISO 8601 as the API writes them): the invitation ledger judges expiry by them."""

    email: str  # lower-cased
    invited_on: str | None = None
    expires_on: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    description: str | None = None
    members: frozenset[str] = frozenset()  # lower-cased emails; pending invitations included
    ims_groups: frozenset[str] = frozenset()
    id: str | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    renamed_from: str | None = field(default=None, compare=False, repr=False)  # see Role
    # Live only: which of ``members`` are pending invitations, and their times.
    invitations: tuple[GroupInvitation, ...] = field(default=(), compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class UserMember:
    """A user holding roles in a project, or a pending invitation to become one.

    Pending invitations count as members with their roles (design.md §5): the plan never
    re-invites, and cancels and re-sends only when the roles differ.
    """

    email: str | None  # lower-cased; None for a live "missing user"
    roles: frozenset[str] = frozenset()  # role display names
    pending: bool = field(default=False, compare=False)
    id: str | None = field(default=None, compare=False)  # member id; invitation id when pending
    # A pending invitation's times (ISO 8601 as the API writes them, from the earliest of the
    # person's invitations and the latest expiry: accepting one accepts them all, contract C7).
    invited_on: str | None = field(default=None, compare=False)
    expires_on: str | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)

    @cached_property
    def key(self) -> str:
        # Cached (in the instance's __dict__, which a frozen dataclass leaves writable to
        # cached_property): the diff, plan and facts ask for it about ten times a member.
        return user_key(self.email, self.id)


@dataclass(frozen=True)
class GroupMember:
    """A group (by name) holding roles in a project."""

    group: str
    roles: frozenset[str] = frozenset()
    id: str | None = field(default=None, compare=False)  # the group's id
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.group


@dataclass(frozen=True)
class Owner:
    email: str | None
    pending: bool = field(default=False, compare=False)
    id: str | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    invited_on: str | None = field(default=None, compare=False)  # as UserMember's
    expires_on: str | None = field(default=None, compare=False)

    @cached_property
    def key(self) -> str:
        # Cached (in the instance's __dict__, which a frozen dataclass leaves writable to
        # cached_property): the diff, plan and facts ask for it about ten times a member.
        return user_key(self.email, self.id)


@dataclass(frozen=True)
class Duplicate:
    """A live role or group sharing its name with the one the project keeps under that name
    (two runs racing each created it, issue 12). Only live states carry them; the plan merges
    them away (``reconciler.repair``).

    ``holders`` (roles): keys of the user members, invitations and groups holding this role
    but not the kept one, whose assignment moves to the kept one. ``roles`` (groups): the roles
    this group holds as a member, which move to the kept group."""

    kind: str  # "role" or "group"
    name: str
    id: str
    keep: str  # the id of the one kept under ``name``
    holders: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()


_K = TypeVar("_K", Role, Group, UserMember, GroupMember, Owner)


def _sorted(items: Iterable[_K]) -> tuple[_K, ...]:
    return tuple(sorted(items, key=_key))


_key = attrgetter("key")


@dataclass(frozen=True)
class Project:
    number: str
    attributes: Mapping[str, Scalar] = field(default_factory=dict)
    state: ProjectState = ProjectState.PRESENT
    # Which sections are managed, and how. A section not in this mapping is not managed at all
    # (the manifest left it out). Live states carry every section as AUTHORITATIVE.
    manage: Mapping[str, Manage] = field(default_factory=dict)
    roles: tuple[Role, ...] = ()
    groups: tuple[Group, ...] = ()
    members: tuple[UserMember, ...] = ()
    group_members: tuple[GroupMember, ...] = ()
    owners: tuple[Owner, ...] = ()
    id: str | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    duplicates: tuple[Duplicate, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # Normalise so equality is order-independent and the object is truly read-only.
        object.__setattr__(
            self, "attributes", MappingProxyType(dict(sorted(self.attributes.items())))
        )
        object.__setattr__(self, "manage", MappingProxyType(dict(self.manage)))
        object.__setattr__(self, "roles", _sorted(self.roles))
        object.__setattr__(self, "groups", _sorted(self.groups))
        object.__setattr__(self, "members", _sorted(self.members))
        object.__setattr__(self, "group_members", _sorted(self.group_members))
        object.__setattr__(self, "owners", _sorted(self.owners))

    @property
    def key(self) -> str:
        return self.number

    @property
    def display_name(self) -> str | None:
        value = self.attributes.get("displayName")
        return value if isinstance(value, str) else None

    def managed(self, section: str) -> Manage | None:
        return self.manage.get(section)

    def role(self, display_name: str) -> Role | None:
        return next((r for r in self.roles if r.display_name == display_name), None)

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def evolve(self, **changes: object) -> Project:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class State:
    """A set of projects: desired (from manifests) or actual (read live)."""

    projects: tuple[Project, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "projects", tuple(sorted(self.projects, key=lambda p: p.number)))

    def project(self, number: str) -> Project | None:
        return self._by_number.get(number)

    @cached_property
    def _by_number(self) -> dict[str, Project]:
        # Made once per state: a plan looks up each of its (thousand) projects by number in
        # several passes, which a scan per lookup made quadratic (issue 17). The first of a
        # number wins, as the scan's did.
        index: dict[str, Project] = {}
        for p in self.projects:
            index.setdefault(p.number, p)
        return index

    def numbers(self) -> tuple[str, ...]:
        return tuple(p.number for p in self.projects)

    def sections(self) -> dict[str, tuple[str, ...]]:
        """number -> the sections each project manages: what a live read of it needs."""
        return {p.number: tuple(s for s in SECTIONS if s in p.manage) for p in self.projects}

    def deleting(self) -> tuple[str, ...]:
        """Numbers of the projects declared ``state: absent``."""
        return tuple(p.number for p in self.projects if p.state is ProjectState.ABSENT)


@dataclass(frozen=True)
class Rights:
    """What the applying identity may do in one live project (from preflight reads)."""

    owner: bool = False
    permissions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LiveContext:
    """Facts read live beside the State, used by the plan's preflight and guards.

    ``identity`` is the applying identity's lower-cased email (from the token's claims or the
    config); None when unknown, in which case self-protection guards cannot be evaluated and
    the plan says so. ``known_permissions`` is the live permission list (None: not read).
    ``rights`` is keyed by project number, for projects that exist live.
    """

    identity: str | None = None
    org_admin: bool = False
    known_permissions: frozenset[str] | None = None
    rights: Mapping[str, Rights] = field(default_factory=dict)
    unknown_users: frozenset[str] = frozenset()  # group members' emails the directory lacks
    # The applying identity is a service application: every member or owner it adds gets an
    # invitation instead (contract C4), so plans say "invite".
    service_app: bool = False
    # Project number -> sections the identity may not list (403), read as empty: e.g. groups,
    # which the contract lets only org admins list (C5); preflight refuses to change them.
    unreadable: Mapping[str, frozenset[str]] = field(default_factory=dict)
