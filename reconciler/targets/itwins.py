"""The default backend: iTwins API v1 + Access Control API v2 (design.md §2).

``ItwinsTarget`` implements ``reconciler.apply.Target``: ``read`` turns live JSON into a
``model.State`` plus the ``LiveContext`` preflight needs; ``execute`` performs operations
(see ``itwins_write``).

Finding projects by number (few list calls, never one per project when many are named):

- many numbers: page through every iTwin the caller can see (``$top=1000``, inactive ones
  included), stopping as soon as every number is found. ``ceil(visible / 1000)`` requests at
  most, whatever the number of projects named.
- at most ``lookup_threshold`` numbers (default 2): one exact ``number=`` query each, because a
  single project's plan should not page through a 10,000-iTwin organisation.

Then, per project found (projects missing live cost nothing more), the lists of the sections
its manifest manages (``lists_for``; issue 17: a section no manifest manages is never read) —
roles; user members and group members; groups; owners; invitations — all through one bounded
pool shared by every project; then, only where needed, the caller's permissions (skipped where
it is an owner: owners hold every permission, contract §4) and the pending invitations of each
group (people invited to a group count as its members, as invited users count as members).
The owners list is read for every project, managed or not: it is also how the caller's rights
are learnt in one request in the usual case (the applying identity owns its projects, C3);
only where it owns nothing does ``GET .../permissions`` follow. Once per target: the permission
catalogue (1 request), and whether the caller is an organization administrator (2) only when
something needs it (``_needs_org_admin``: a project to create or delete, or one it does not
own). Parent ids become parent numbers from the iTwins already listed, else one
``GET /itwins/{id}`` per unknown parent.

Requests are counted by ``ItwinsTarget.requests`` (retries and token requests included).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from reconciler.api import (
    DEFAULT_CONCURRENCY,
    AccessControlApi,
    ApiClient,
    ItwinsApi,
    bounded_imap,
    bounded_map,
)
from reconciler.api.itwins import MAX_RETURN
from reconciler.errors import ApiError, Forbidden, ItwinAccessError, NotFound
from reconciler.model import SECTIONS, LiveContext, Manage, Project, Rights, State
from reconciler.plan.build import Operation
from reconciler.targets import itwins_wire as wire
from reconciler.targets.common import ClientTarget, holds_every_permission
from reconciler.targets.common_wire import email_of
from reconciler.targets.itwins_write import Writer
from reconciler.targets.listing import Listing

JSON = dict[str, Any]
Progress = Callable[[int, int], None]

# The six per-project lists, in the order they are read.
_SECTIONS = ("roles", "users", "group_rows", "owners", "groups", "invitations")


# What self-protection needs of a project whose caller is no owner (see ``read``).
_SELF_SECTIONS = frozenset({"roles", "members", "groups"})
_SELF_LISTS = ("roles", "users", "group_rows", "groups")


def lists_for(managed: Collection[str] | None) -> tuple[str, ...]:
    """The per-project lists to read for the manifest sections ``managed`` (None: every list).

    ``owners`` always (it doubles as the rights read, see the module docstring); every list of
    members (``users``, ``group_rows``, ``invitations``, since pending invitations count as
    members) for members, and for roles too: deleting a role removes every member whose only
    role it was (the API does it), so the plan must see them to count those removals in the
    guards and policies even where no manifest manages members (issue 12 item 2); ``roles`` for
    roles and members (only the roles list says which are platform Default roles, C6, which a
    plan must neither show nor remove); ``groups`` for groups; ``invitations`` for owners.
    """
    if managed is None:
        return _SECTIONS
    wanted = {"owners"}
    if "roles" in managed or "members" in managed:
        wanted.update(("roles", "users", "group_rows", "invitations"))
    if "groups" in managed:
        wanted.add("groups")
    if "owners" in managed:
        wanted.add("invitations")
    return tuple(s for s in _SECTIONS if s in wanted)


class ItwinsTarget(ClientTarget):
    """Live projects as iTwins (class ``Endeavor``) with Access Control v2."""

    def __init__(
        self,
        client: ApiClient,
        *,
        identity: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        lookup_threshold: int = 2,
        query_scope: str | None = "auto",
        detect_org_admin: bool = True,
        jobs: bool = True,
    ) -> None:
        super().__init__(client, identity=identity)
        self.itwins = ItwinsApi(client)
        self.access = AccessControlApi(client)
        self.concurrency = concurrency
        self.lookup_threshold = lookup_threshold
        # X-iTwin-Query-Scope. "auto": "all" for an organization administrator, so it also
        # finds projects it is no member of (else creating one would clash with its number);
        # None or "memberOfItwin": only the caller's own iTwins.
        self.query_scope = query_scope
        self.detect_org_admin = detect_org_admin
        self._org_admin: bool | None = None  # read once per target
        self._known: frozenset[str] | None = None  # the permission catalogue, once per target
        self._lock = threading.Lock()
        self._numbers: dict[str, str] = {}  # iTwin id -> number, of every iTwin seen
        self.listing_truncated = False  # all_numbers stopped at the X-Max-Return cap
        self.ambiguous_numbers: dict[str, list[str]] = {}  # all_numbers: number -> subClasses
        # jobs: member adds, role changes and removals of a project in bulk jobs (issue 17)
        self.writer = Writer(self.itwins, self.access, self._find_one, jobs=jobs)

    # ------------------------------------------------------------------ read

    def warm(self) -> None:
        """The applying identity and the permission catalogue: what every read begins with."""
        super().warm()
        self._catalogue()

    def _catalogue(self) -> frozenset[str]:
        """Every permission the API knows, read once per target."""
        if self._known is None:
            self._known = frozenset(self.access.all_permissions())
        return self._known

    def read(
        self,
        numbers: Sequence[str],
        progress: Progress | None = None,
        sections: Mapping[str, Collection[str]] | None = None,
        deleting: Collection[str] = (),
    ) -> tuple[State, LiveContext]:
        """The live State of ``numbers``. ``sections`` (number -> manifest sections managed)
        limits what is read of each project (a number left out of it: everything; None:
        everything everywhere); ``deleting``: numbers declared ``state: absent`` (deleting a
        project needs organization administration, so the probe is read for them)."""
        identity = self.identity()
        known = self._catalogue()
        found = self.find(numbers)
        missing = set(numbers) - found.keys()
        if missing and self._org_admin is None and self.detect_org_admin and self.org_admin(known):
            # An organization administrator also finds projects it is no member of: creating
            # one of the same number would clash (409 iTwinExists).
            found.update(self.find(sorted(missing)))
        itwins = [found[n] for n in sorted(found)]
        parents = self._parent_numbers(itwins)

        def managed(itwin: JSON) -> Collection[str] | None:
            number = str(itwin.get("number"))
            return None if sections is None or number not in sections else sections[number]

        def lists(itwin: JSON) -> tuple[str, ...]:
            return lists_for(managed(itwin))

        tasks = [(itwin, section) for itwin in itwins for section in lists(itwin)]
        left = {str(itwin["id"]): len(lists(itwin)) for itwin in itwins}
        done = [0]
        total = len(itwins)
        if progress is not None:
            progress(0, total)

        unreadable: dict[str, set[str]] = {}

        def fetch(task: tuple[JSON, str]) -> list[JSON]:
            itwin, section = task
            try:
                rows = self._section(str(itwin["id"]), section)
            except ApiError as exc:
                if section == "roles" and isinstance(exc, Forbidden):
                    who = identity or "the applying identity"
                    raise exc.with_message(
                        f"project {itwin.get('number')}: {who} may not list its roles; reading "
                        "a project needs administration_manage_roles there, ownership, or "
                        "organization administration"
                    ) from exc
                # Listing groups is documented for org admins only (contract C5): an owner or
                # a member with roles may be refused. Read them as none and let preflight
                # refuse changes to them, rather than failing the whole run.
                if section != "groups" or not isinstance(exc, Forbidden):
                    raise
                rows = []
                with self._lock:
                    unreadable.setdefault(str(itwin.get("number")), set()).add("groups")
            with self._lock:
                left[str(itwin["id"])] -= 1
                finished = left[str(itwin["id"])] == 0
                if finished:
                    done[0] += 1
                    count = done[0]
            if finished and progress is not None:
                progress(count, total)
            return rows

        permissions: dict[int, frozenset[str]] = {}
        group_invitations: list[dict[str, list[JSON]]] = [{} for _ in range(total)]
        projects: list[Project | None] = [None] * total
        rights: dict[str, Rights] = {}

        def convert(i: int) -> None:
            """The live Project of ``itwins[i]`` from its raw lists, and the caller's rights."""
            itwin = itwins[i]
            parent = parents.get(_declared_parent(itwin) or "")
            live = wire.project(itwin, parent, group_invitations=group_invitations[i], **raw[i])
            only = managed(itwin)
            if only is not None:
                # The sections not read are not in this state (nor in its fingerprint: a hand
                # edit of a section no manifest manages does not make a saved plan stale).
                kept = [s for s in SECTIONS if s in only]
                live = live.evolve(manage=dict.fromkeys(kept, Manage.AUTHORITATIVE))
            projects[i] = live
            invitations = raw[i]["invitations"]
            owner_invitations = [x for x in invitations if wire.is_owner_invitation(x)]
            member_invitations = [x for x in invitations if not wire.is_owner_invitation(x)]
            hidden = wire.default_role_ids(raw[i]["roles"])
            self.writer.remember(
                live,
                wire.shadowed_invitations(raw[i]["users"], member_invitations),
                wire.shadowed_invitations(raw[i]["owners"], owner_invitations),
                wire.default_assignments([*raw[i]["users"], *raw[i]["group_rows"]], hidden),
            )
            rights[live.number] = (
                Rights(owner=True, permissions=known)
                if owner[i]
                else Rights(owner=False, permissions=permissions[i])
            )

        results = bounded_imap(fetch, tasks, self.concurrency)
        raw: list[dict[str, list[JSON]]] = []
        owner: list[bool] = []
        for i, itwin in enumerate(itwins):
            got = {section: next(results) for section in lists(itwin)}
            raw.append({section: got.get(section, []) for section in _SECTIONS})
            owner.append(
                identity is not None
                and any(email_of(o.get("email")) == identity for o in raw[i]["owners"])
            )
            if owner[i] and "groups" not in lists(itwin):
                # Nothing of the second wave below concerns it: convert it now, while the
                # workers read the next projects (at a rate limit, this thread only waits).
                convert(i)

        # Second wave, only where needed: the caller's permissions where it is no owner
        # (owners hold them all), and pending invitations of each group (outsiders, and
        # everyone a service app adds, are invited rather than added: contract §7.16).
        org_admin = False
        if self.detect_org_admin and self._needs_org_admin(numbers, found, owner, deleting):
            org_admin = self.org_admin(known)
        elif self._org_admin is not None:
            org_admin = self._org_admin
        # Self-protection (guards) works out what a non-owner, non-org-admin keeps from the
        # roles it holds directly and through groups: where one of those sections is managed,
        # read the others too, so a plan cannot take the caller's own rights away unseen.
        protect = [
            (i, section)
            for i, itwin in enumerate(itwins)
            if identity is not None and not owner[i] and not org_admin
            and managed(itwin) is not None
            and set(managed(itwin) or ()) & _SELF_SECTIONS
            for section in _SELF_LISTS
            if section not in lists(itwin)
        ]  # fmt: skip
        for (i, section), listed in zip(
            protect,
            bounded_map(lambda t: self._visible(str(itwins[t[0]]["id"]), t[1]), protect,
                        self.concurrency),
            strict=True,
        ):  # fmt: skip
            raw[i][section] = listed
        extra: list[tuple[int, str | None]] = [(i, None) for i in range(total) if not owner[i]]
        for i, r in enumerate(raw):
            if "groups" in lists(itwins[i]):  # invitations of the groups it manages
                extra.extend((i, str(g["id"])) for g in r["groups"] if isinstance(g.get("id"), str))

        def fetch_extra(task: tuple[int, str | None]) -> list[Any]:
            i, group_id = task
            itwin_id = str(itwins[i]["id"])
            if group_id is None:
                return self.access.my_permissions(itwin_id)
            return self.access.group_invitations(itwin_id, group_id)

        for (i, group_id), rows in zip(
            extra, bounded_map(fetch_extra, extra, self.concurrency), strict=True
        ):
            if group_id is None:
                permissions[i] = frozenset(x for x in rows if isinstance(x, str))
            else:
                group_invitations[i][group_id] = [x for x in rows if isinstance(x, dict)]

        for i in range(total):
            if projects[i] is None:
                convert(i)
        context = LiveContext(
            identity=identity,
            org_admin=org_admin,
            known_permissions=known,
            rights=rights,
            service_app=self.service_app(),
            unreadable={n: frozenset(v) for n, v in unreadable.items()},
        )
        return State(tuple(p for p in projects if p is not None)), context

    @staticmethod
    def _needs_org_admin(
        numbers: Collection[str],
        found: Mapping[str, JSON],
        owner: Sequence[bool],
        deleting: Collection[str],
    ) -> bool:
        """Whether any plan of these projects could depend on the caller administering its
        organization: one to create (rights on the account) or delete (org admins only), or
        one it does not own (C1: an org admin adds and removes owners without being one, and
        self-protection lets it drop its own roles). An owner of everything needs no probe."""
        return bool(set(numbers) - found.keys()) or bool(deleting) or not all(owner)

    def all_numbers(self) -> list[str]:
        """Numbers of every iTwin the caller can see, Account iTwins excepted (``export
        --all``). An organization administrator lists its whole organization
        (``X-iTwin-Query-Scope: all``, contract C14), not only the iTwins it is a member of;
        pages of 1,000 up to the 10,000 ``X-Max-Return`` cap (``listing_truncated`` says when
        the cap was reached, so more may exist)."""
        if self.detect_org_admin and self._org_admin is None:
            self.org_admin(self._catalogue())
        kinds: dict[str, list[str]] = {}
        listed = 0
        for page in self.itwins.list_pages(query_scope=self._scope()):
            listed += len(page)
            for itwin in page:
                self._seen(itwin)
                number = itwin.get("number")
                if isinstance(number, str) and number and itwin.get("class") != "Account":
                    kinds.setdefault(number, []).append(str(itwin.get("subClass") or "iTwin"))
        self.listing_truncated = listed >= MAX_RETURN
        # A number on several iTwins (a Project and a Program) cannot name one project.
        self.ambiguous_numbers = {n: k for n, k in kinds.items() if len(k) > 1}
        return sorted(kinds)

    def listing(self) -> Listing:
        """``all_numbers`` with what export must say of it: the scope listed, whether the cap
        cut it, and the numbers naming several iTwins."""
        numbers = tuple(self.all_numbers())
        return Listing(numbers, self.listing_scope, self.listing_truncated, self.ambiguous_numbers)

    @property
    def listing_scope(self) -> str:
        """What ``all_numbers`` lists, in words (for warnings)."""
        if self._scope() == "all":
            return "every iTwin of its organization (X-iTwin-Query-Scope: all)"
        return "the iTwins it is a member of"

    def org_admin(self, known: frozenset[str]) -> bool:
        """Whether the caller administers its organization (see ``holds_every_permission``);
        read once per target."""
        if self._org_admin is None:
            self._org_admin = holds_every_permission(self.client, known)
        return self._org_admin

    def _visible(self, itwin_id: str, section: str) -> list[JSON]:
        """A list read only for self-protection. Groups the caller may not list (that needs
        administration_manage_groups) show nothing, rather than failing the plan; any other
        refusal fails it, as guessing the caller's roles would be unsafe."""
        try:
            return self._section(itwin_id, section)
        except Forbidden:
            if section != "groups":
                raise
            return []

    def _section(self, itwin_id: str, section: str) -> list[JSON]:
        if section == "roles":
            return self.access.roles(itwin_id)
        if section == "users":
            return self.access.user_members(itwin_id)
        if section == "group_rows":
            return self.access.group_members(itwin_id)
        if section == "owners":
            return self.access.owners(itwin_id)
        if section == "groups":
            return self.access.groups(itwin_id)
        return self.access.invitations(itwin_id)

    # ------------------------------------------------------------------ finding iTwins

    def find(self, numbers: Sequence[str]) -> dict[str, JSON]:
        """number -> iTwin (full representation) of the numbers that exist live."""
        wanted = set(numbers)
        if not wanted:
            return {}
        if len(wanted) <= self.lookup_threshold:
            found: dict[str, JSON] = {}
            for wanted_number in sorted(wanted):
                match = self._find_one(wanted_number)
                if match is not None:
                    found[wanted_number] = match
            return found
        candidates: dict[str, list[JSON]] = {}
        listed = 0
        for page in self.itwins.list_pages(query_scope=self._scope()):
            listed += len(page)
            for itwin in page:
                self._seen(itwin)
                number = itwin.get("number")
                if isinstance(number, str) and number in wanted:
                    candidates.setdefault(number, []).append(itwin)
            if wanted <= candidates.keys():
                break  # every number found: later pages cannot matter
        found = {n: _pick(n, c) for n, c in candidates.items()}
        if listed >= MAX_RETURN:
            # The list stops at X-Max-Return items: what it did not show may still exist.
            for number in sorted(wanted - found.keys()):
                match = self._find_one(number)
                if match is not None:
                    found[number] = match
        return found

    def _find_one(self, number: str) -> JSON | None:
        matches: list[JSON] = []
        for page in self.itwins.list_pages(number=number, query_scope=self._scope()):
            for itwin in page:
                self._seen(itwin)
                if itwin.get("number") == number:
                    matches.append(itwin)
        return _pick(number, matches) if matches else None

    def _scope(self) -> str | None:
        if self.query_scope != "auto":
            return self.query_scope
        return "all" if self.detect_org_admin and self._org_admin else None

    def _seen(self, itwin: Mapping[str, Any]) -> None:
        itwin_id, number = itwin.get("id"), itwin.get("number")
        if isinstance(itwin_id, str) and isinstance(number, str):
            with self._lock:
                self._numbers[itwin_id] = number

    def _parent_numbers(self, itwins: Sequence[JSON]) -> dict[str, str]:
        ids = {p for p in map(_declared_parent, itwins) if p is not None}
        unknown = sorted(i for i in ids if i not in self._numbers)

        def fetch(itwin_id: str) -> None:
            with contextlib.suppress(Forbidden, NotFound):  # a parent we may not see: keep its id
                self._seen(self.itwins.get(itwin_id))

        bounded_map(fetch, unknown, self.concurrency)
        return {i: self._numbers.get(i, f"id:{i}") for i in ids}

    # ------------------------------------------------------------------ execute

    def execute(self, operations: Sequence[Operation]) -> None:
        self.writer.execute(operations)

    def job_batches(self, operations: Sequence[Operation]) -> dict[str, int]:
        """Operation id -> job number in its project, for what ``apply`` should send together
        (``itwins_jobs``); empty when jobs are off."""
        return self.writer.job_batches(operations)

    @property
    def notices(self) -> tuple[str, ...]:
        """What the run should tell the user once (e.g. jobs fell back to single requests)."""
        return tuple(self.writer.notices)


def _declared_parent(itwin: Mapping[str, Any]) -> str | None:
    """The parent id a manifest's ``parent`` stands for: an iTwin created without a parent
    reads back with its Account iTwin as ``parentId`` (contract C10); that implicit parent is
    not a declared one, so export never writes it and plans never propose to change it."""
    parent = itwin.get("parentId")
    if not isinstance(parent, str) or not parent or parent == itwin.get("iTwinAccountId"):
        return None
    return parent


def _pick(number: str, itwins: list[JSON]) -> JSON:
    """The one iTwin a project number names: numbers are unique per subClass (contract §7.4),
    so prefer class Endeavor; more than one left cannot be told apart and is an error."""
    if len(itwins) > 1:
        itwins = [i for i in itwins if i.get("class") == wire.DEFAULT_CLASS] or itwins
    if len(itwins) > 1:
        ids = ", ".join(str(i.get("id")) for i in itwins)
        raise ItwinAccessError(
            f"project number {number!r} matches {len(itwins)} live iTwins ({ids}); "
            "give them distinct numbers"
        )
    return itwins[0]
