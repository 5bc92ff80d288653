"""Invitations as state: who the manifests declare whose invitation expired unaccepted, and
what a plan does about it (issue 15).

An invitation expires 7 days after it was sent and then vanishes from the API (contract C7):
read live, the person is simply not there, as if someone had removed them by hand. Only a
record of the invitations seen tells the two apart: the ``Ledger``, per project the pending
invitations seen (project number, email, kind, the group of a group-member invitation, when
sent, when it expires; never a token), which the CLI keeps in a file beside the config
(``reconciler.cli.ledger``) and updates after every live read and after an apply that sent
invitations.

A declared member or owner who is neither live nor pending, and whose ledger entry has expired
by the server's time, is an expired invitation: the plan marks its add ``expiredInvitation``
(shown "re-invite x (invitation of D expired)"), or with ``invitations.reinviteExpired: false``
drops it and says why once; ``drift`` lists it in its own category, and ``drift --write`` keeps
the person in the manifests (``keep_expired``). A declared group member likewise: the group's
update (which re-lists them, and so re-invites them) is marked ``expiredMembers`` (email ->
sending date), or leaves them out when re-inviting is off.

Pure: no I/O; "now" is given (the server's time, ``reconciler.cli.ledger.server_now``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.model import Owner, State, UserMember
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import (
    Change,
    GroupUpdate,
    Rename,
    listed_anew,
    marked,
    sending,
)
from reconciler.plan.preflight import WARNING, PlanProblem

LEDGER_FORMAT_VERSION = 1
INVITATION_DAYS = 7  # contract C7: an invitation expires 7 days after it was sent
FORGET_AFTER = timedelta(days=90)  # an entry expired longer ago than this is dropped
EXPIRED_CODE = "expired-invitation"  # the problem saying why expired ones are not re-sent
GROUP = "group"  # the ledger's kind of a group-member invitation

# Operation kind -> the ledger's kind of invitation.
_KINDS: Mapping[OpKind, str] = {OpKind.ADD_MEMBER: "member", OpKind.ADD_OWNER: "owner"}

# (project number, "member" | "owner" | "group", lower-cased email, group name or "")
Key = tuple[str, str, str, str]


def parse_time(text: str) -> datetime:
    """An ISO 8601 time as the API writes it (a bare date is midnight UTC); ValueError."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, order=True)
class Sent:
    """One invitation seen pending (or sent by an apply)."""

    project: str
    kind: str  # "member", "owner" or "group"
    email: str  # lower-cased
    invited_on: str  # ISO 8601
    expires: str  # ISO 8601
    group: str = ""  # the group's name, for kind "group"

    @property
    def key(self) -> Key:
        return (self.project, self.kind, self.email, self.group)

    @property
    def sent_date(self) -> str:
        return self.invited_on[:10]

    def to_dict(self) -> dict[str, str]:
        data = {
            "project": self.project,
            "kind": self.kind,
            "email": self.email,
            "invitedOn": self.invited_on,
            "expires": self.expires,
        }
        if self.kind == GROUP:
            data["group"] = self.group
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Sent:
        """ValueError when ``data`` is not an entry the ledger writes."""
        if not isinstance(data, Mapping):
            raise ValueError("an invitation entry is not an object")
        values = [data.get(k) for k in ("project", "kind", "email", "invitedOn", "expires")]
        group = data.get("group") if values[1] == GROUP else ""
        if (
            not all(isinstance(v, str) and v for v in values)
            or values[1] not in ("member", "owner", GROUP)
            or not isinstance(group, str)
            or (values[1] == GROUP and not group)
        ):
            raise ValueError(f"malformed invitation entry {dict(data)!r}")
        parse_time(values[3])  # type: ignore[arg-type]
        parse_time(values[4])  # type: ignore[arg-type]
        project, kind, email, invited_on, expires = (str(v) for v in values)
        return cls(project, kind, email.lower(), invited_on, expires, group)


@dataclass(frozen=True)
class Ledger:
    """The invitations seen pending, one per (project, kind, email): the latest seen."""

    entries: Mapping[Key, Sent] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": LEDGER_FORMAT_VERSION,
            "invitations": [e.to_dict() for e in sorted(self.entries.values())],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Ledger:
        """ValueError when ``data`` is not a ledger of this format."""
        if not isinstance(data, Mapping) or data.get("format_version") != LEDGER_FORMAT_VERSION:
            raise ValueError(f"not an invitation ledger of format_version {LEDGER_FORMAT_VERSION}")
        items = data.get("invitations")
        if not isinstance(items, list):
            raise ValueError("no `invitations` list")
        entries = [Sent.from_dict(item) for item in items]
        return cls({e.key: e for e in entries})

    def expired(self, now: datetime) -> dict[Key, Sent]:
        """The entries whose invitation has expired by ``now``."""
        return {k: e for k, e in self.entries.items() if parse_time(e.expires) <= now}

    def observe(
        self, actual: State, sections: Mapping[str, Sequence[str]] | None, now: datetime
    ) -> Ledger:
        """The ledger after a live read of ``actual``: pending invitations recorded (or
        refreshed), people who became members, owners or group members dropped, in the
        sections read (``sections``: number -> sections read; None: all); entries expired more
        than ``FORGET_AFTER`` ago forgotten."""
        entries = dict(self.entries)
        for live in actual.projects:
            read = sections.get(live.number, ()) if sections is not None else _ALL_READ
            for kind, items in (("member", live.members), ("owner", live.owners)):
                if f"{kind}s" not in read:
                    continue
                for item in items:
                    key = (live.number, kind, item.key, "")
                    seen = _seen(live.number, kind, item)
                    if seen is not None:
                        entries[key] = seen
                    elif not item.pending:
                        entries.pop(key, None)  # accepted: a member now, nothing to expire
            if "groups" not in read:
                continue
            for group in live.groups:
                pending = {i.email: i for i in group.invitations}
                for email in group.members:
                    key = (live.number, GROUP, email, group.name)
                    invitation = pending.get(email)
                    if invitation is None:
                        entries.pop(key, None)  # in the group now
                    elif invitation.invited_on and invitation.expires_on:
                        entries[key] = Sent(
                            live.number,
                            GROUP,
                            email,
                            invitation.invited_on,
                            invitation.expires_on,
                            group.name,
                        )
        return Ledger(_recent(entries, now))

    def sent(
        self, operations: Iterable[Operation], now: datetime, service_app: bool = False
    ) -> Ledger:
        """The ledger after an apply sent the invitations of ``operations`` at ``now`` (the
        next live read replaces these with the API's own dates). ``service_app``: the applying
        identity is one, so everyone its group updates list anew was invited (contract C4); a
        user's group update invites only people outside its organization, which the plan
        cannot tell, so those are recorded by the next read. A group renamed takes its
        entries along (the next plan knows the group by its new name only)."""
        sent_on, expires = _iso(now), _iso(now + timedelta(days=INVITATION_DAYS))
        entries = dict(self.entries)
        for op in operations:
            kind = _KINDS.get(op.kind)
            if op.kind is OpKind.RENAME_GROUP:  # its invitations keep their dates, new name
                rename, old = Rename.of(op), (op.project, GROUP)
                for key, entry in list(entries.items()):
                    if (entry.project, entry.kind) == old and entry.group == rename.old:
                        del entries[key]
                        moved = replace(entry, group=rename.new)
                        entries[moved.key] = moved
            elif kind is not None and sending(op).invitation:
                entry = Sent(op.project, kind, op.key, sent_on, expires)
                entries[entry.key] = entry
            elif service_app and op.kind in (OpKind.CREATE_GROUP, OpKind.UPDATE_GROUP):
                for email in listed_anew(op):
                    entry = Sent(op.project, GROUP, email, sent_on, expires, op.key)
                    entries[entry.key] = entry
        return Ledger(_recent(entries, now))


_ALL_READ = ("members", "owners", "groups")


def _seen(number: str, kind: str, item: UserMember | Owner) -> Sent | None:
    if not item.pending or item.email is None or not item.invited_on or not item.expires_on:
        return None
    return Sent(number, kind, item.email, item.invited_on, item.expires_on)


def _recent(entries: Mapping[Key, Sent], now: datetime) -> dict[Key, Sent]:
    return {k: e for k, e in entries.items() if parse_time(e.expires) > now - FORGET_AFTER}


@dataclass(frozen=True)
class Expiry:
    """What a plan knows of expired invitations: the ledger's expired entries (by the server's
    time) and the config's ``invitations.reinviteExpired``."""

    expired: Mapping[Key, Sent] = field(default_factory=dict)
    reinvite: bool = True


def find_expired(desired: State, actual: State, expired: Mapping[Key, Sent]) -> tuple[Sent, ...]:
    """The declared members, owners and group members neither live nor pending whose
    invitation expired."""
    if not expired:
        return ()  # the usual case: no pass over every declared person (issue 17)
    found: list[Sent] = []
    for want in desired.projects:
        live = actual.project(want.number)
        if live is None:
            continue
        for kind, declared, have in (
            ("member", want.members, live.members),
            ("owner", want.owners, live.owners),
        ):
            if want.managed(f"{kind}s") is None:
                continue
            present = {item.key for item in have}
            for item in declared:
                entry = expired.get((want.number, kind, item.key, ""))
                if entry is not None and item.key not in present:
                    found.append(entry)
        if want.managed("groups") is None:
            continue
        for group in want.groups:
            # A group renamed by this plan (renamedFrom) is live, and in the ledger, by its old
            # name; what is found is said under the new one, the name the plan's update uses.
            was = group.name
            live_group = live.group(was)
            if live_group is None and group.renamed_from is not None:
                was = group.renamed_from
                live_group = live.group(was)
            if live_group is None:  # created by the plan: nobody was invited to it
                continue
            for email in sorted(group.members - live_group.members):
                entry = expired.get((want.number, GROUP, email, was))
                if entry is not None:
                    found.append(replace(entry, group=group.name))
    return tuple(sorted(found))


def apply_expiry(
    operations: Iterable[Operation], found: Iterable[Sent], reinvite: bool
) -> tuple[list[Operation], list[PlanProblem]]:
    """Mark the adds of ``found`` people as re-invitations of an expired invitation (a group
    update re-listing them: ``EXPIRED_MEMBERS``), or, when ``reinvite`` is false, leave them out
    (of the group update: the update goes when nothing else is left of it) and say why once."""
    by_key = {e.key: e for e in found}
    kept: list[Operation] = []
    dropped: list[Sent] = []
    for op in operations:
        kind = _KINDS.get(op.kind)
        entry = by_key.get((op.project, kind, op.key, "")) if kind is not None else None
        if op.kind is OpKind.UPDATE_GROUP:
            late = [
                e
                for email in listed_anew(op)
                if (e := by_key.get((op.project, GROUP, email, op.key))) is not None
            ]
            if not late:
                kept.append(op)
            elif reinvite:
                marks = {e.email: e.sent_date for e in late}
                kept.append(op.carrying(replace(GroupUpdate.of(op), expired_members=marks)))
            else:
                dropped.extend(late)
                kept.extend(_without(op, {e.email for e in late}))
        elif entry is None:
            kept.append(op)
        elif reinvite:
            resent = replace(sending(op), expired=entry.sent_date)
            kept.append(op.carrying(marked(op, resent)))
        else:
            dropped.append(entry)
    if not dropped:
        return kept, []
    listed = ", ".join(
        f"{e.email}{_as(e)} in {e.project} (invited on {e.sent_date})" for e in dropped
    )
    problem = PlanProblem(
        EXPIRED_CODE,
        f"invitation expired, not sent again (`invitations.reinviteExpired` is false in the "
        f"config): {listed}; set it to true to re-invite, or drop them from the manifests",
        WARNING,
    )
    return kept, [problem]


def _as(entry: Sent) -> str:
    if entry.kind == GROUP:
        return f" as member of group {entry.group!r}"
    return " as owner" if entry.kind == "owner" else ""


def _without(op: Operation, emails: set[str]) -> list[Operation]:
    """The group update ``op`` without re-listing ``emails``; none when nothing is left."""
    update = GroupUpdate.of(op)
    if update.members is not None:
        had, listed = update.members.old, update.members.new
        kept = tuple(e for e in listed if e not in emails)
        members = None if sorted(kept) == sorted(had) else Change(had, kept)
        update = replace(update, members=members)
    if not update.listed_anew:
        update = replace(update, invites_members=False)  # nobody left to invite
    return [] if update.empty else [op.carrying(update)]


def expired_members(op: Operation) -> dict[str, str]:
    """Email -> sending date of the expired invitations an operation sends again: the person
    an add re-invites, or those a group update re-lists."""
    if op.kind is OpKind.UPDATE_GROUP:
        return dict(GroupUpdate.of(op).expired_members)
    sent = sending(op).expired
    return {op.key: sent} if sent else {}


def only_expired(op: Operation) -> bool:
    """Whether all ``op`` does is send expired invitations again (drift: not a change made
    outside the manifests): an add so marked, or a group update re-listing only them."""
    if op.kind is not OpKind.UPDATE_GROUP:
        return bool(sending(op).expired)
    update = GroupUpdate.of(op)
    late = update.expired_members
    if not late or update.members is None or update.description or update.ims_groups:
        return False
    return set(update.members.new) == set(update.members.old) | set(late)


def keep_expired(actual: State, desired: State, found: Iterable[Sent]) -> State:
    """``actual`` with the ``found`` people put back as the manifests declare them (members,
    owners, group members), so that adopting live state (``drift --write``) never drops someone
    whose invitation expired."""
    by_project: dict[str, list[Sent]] = {}
    for entry in found:
        by_project.setdefault(entry.project, []).append(entry)
    projects = []
    for live in actual.projects:
        want = desired.project(live.number)
        entries = by_project.get(live.number)
        if want is None or not entries:
            projects.append(live)
            continue
        emails = {(e.kind, e.email) for e in entries}
        members = [m for m in want.members if ("member", m.key) in emails]
        owners = [o for o in want.owners if ("owner", o.key) in emails]
        invited: dict[str, set[str]] = {}
        for e in entries:
            if e.kind == GROUP:
                invited.setdefault(e.group, set()).add(e.email)
        groups = tuple(
            replace(g, members=g.members | invited[g.name]) if g.name in invited else g
            for g in live.groups
        )
        projects.append(
            live.evolve(
                members=(*live.members, *members), owners=(*live.owners, *owners), groups=groups
            )
        )
    return State(tuple(projects))
