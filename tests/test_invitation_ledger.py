"""The invitation ledger's pure rules (reconciler.invitations): what a live read records, what
it forgets, what counts as expired, and how a plan marks or leaves out expired invitations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.invitations import (
    EXPIRED_CODE,
    GROUP,
    Ledger,
    Sent,
    apply_expiry,
    expired_members,
    find_expired,
    keep_expired,
    only_expired,
)
from reconciler.model import Group, GroupInvitation, Manage, Owner, Project, State, UserMember
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import EXPIRED, EXPIRED_MEMBERS

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
AUTH = {"members": Manage.AUTHORITATIVE, "owners": Manage.AUTHORITATIVE}


def _sent(email: str, expires: datetime, kind: str = "member", group: str = "") -> Sent:
    invited = (expires - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Sent("P", kind, email, invited, expires.strftime("%Y-%m-%dT%H:%M:%SZ"), group)


def _in_group(email: str, expires: datetime) -> Sent:
    return _sent(email, expires, GROUP, "Team")


def _pending(email: str, expires: str) -> UserMember:
    return UserMember(
        email,
        frozenset({"Viewer"}),
        pending=True,
        id="i",
        invited_on="2026-12-01T10:00:00.0000000Z",
        expires_on=expires,
    )


def test_a_read_records_pending_invitations_and_drops_accepted_ones() -> None:
    ledger = Ledger({e.key: e for e in [_sent("bob@x.com", NOW + timedelta(days=1))]})
    live = Project(
        "P",
        members=(
            UserMember("bob@x.com", frozenset({"Viewer"}), id="u1"),  # accepted since
            _pending("ann@x.com", "2026-12-08T10:00:00.0000000Z"),
        ),
        owners=(
            Owner(
                "cy@x.com", pending=True, id="o", invited_on="2026-12-01", expires_on="2026-12-08"
            ),
        ),
    )
    after = ledger.observe(State((live,)), {"P": ("members", "owners")}, NOW)
    assert set(after.entries) == {("P", "member", "ann@x.com", ""), ("P", "owner", "cy@x.com", "")}
    assert after.entries[("P", "member", "ann@x.com", "")].expires == "2026-12-08T10:00:00.0000000Z"


def test_a_read_leaves_unread_sections_and_forgets_entries_expired_90_days_ago() -> None:
    old = _sent("old@x.com", NOW - timedelta(days=91))
    recent = _sent("gone@x.com", NOW - timedelta(days=89))
    owner = _sent("bob@x.com", NOW + timedelta(days=1), kind="owner")
    ledger = Ledger({e.key: e for e in (old, recent, owner)})
    live = Project("P", owners=(Owner("bob@x.com", id="u"),))  # accepted, but owners not read
    after = ledger.observe(State((live,)), {"P": ("members",)}, NOW)
    assert set(after.entries) == {recent.key, owner.key}


def test_expired_means_expiry_at_or_before_now() -> None:
    due, later = _sent("a@x.com", NOW), _sent("b@x.com", NOW + timedelta(seconds=1))
    assert set(Ledger({due.key: due, later.key: later}).expired(NOW)) == {due.key}


def test_only_declared_people_missing_live_count_as_expired() -> None:
    entries = [_sent(e, NOW - timedelta(days=1)) for e in ("a@x.com", "b@x.com", "c@x.com")]
    expired = {e.key: e for e in entries}
    want = Project(
        "P",
        manage=AUTH,
        members=(UserMember("a@x.com", frozenset({"Viewer"})), UserMember("b@x.com")),
    )
    live = Project("P", id="p", members=(UserMember("b@x.com", id="u"),))  # b is live
    assert find_expired(State((want,)), State((live,)), expired) == (entries[0],)


def test_the_plan_marks_or_leaves_out_the_adds_of_expired_invitations() -> None:
    entry = _sent("a@x.com", NOW - timedelta(days=1))
    add = Operation(OpKind.ADD_MEMBER, "P", "a@x.com", after={"email": "a@x.com", "roles": []})
    other = Operation(OpKind.ADD_MEMBER, "P", "z@x.com", after={"email": "z@x.com", "roles": []})
    marked, problems = apply_expiry([add, other], [entry], reinvite=True)
    assert marked[0].after == {"email": "a@x.com", "roles": [], EXPIRED: entry.invited_on[:10]}
    assert marked[1] == other
    assert problems == []
    kept, problems = apply_expiry([add, other], [entry], reinvite=False)
    assert kept == [other]
    [problem] = problems
    assert problem.code == EXPIRED_CODE
    assert "a@x.com in P" in problem.message


def test_adoption_state_keeps_the_expired_people_as_declared() -> None:
    entry = _sent("a@x.com", NOW - timedelta(days=1))
    declared = UserMember("a@x.com", frozenset({"Viewer"}))
    want = Project("P", manage=AUTH, members=(declared,))
    live = Project("P", id="p")
    [kept] = keep_expired(State((live,)), State((want,)), [entry]).projects
    assert kept.members == (declared,)
    assert kept.id == "p"


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"format_version": 2, "invitations": []},
        {"format_version": 1},
        {"format_version": 1, "invitations": [{"project": "P"}]},
        {"format_version": 1, "invitations": [dict(_sent("a@x.com", NOW).to_dict(), kind="x")]},
        {"format_version": 1, "invitations": [dict(_sent("a@x.com", NOW).to_dict(), expires="x")]},
        {"format_version": 1, "invitations": [dict(_sent("a@x.com", NOW).to_dict(), kind=GROUP)]},
    ],
)
def test_a_malformed_ledger_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match=r"."):  # each with its own words (see invitations.py)
        Ledger.from_dict(data)


def test_a_ledger_round_trips() -> None:
    entry, group = _sent("a@x.com", NOW), _in_group("a@x.com", NOW)
    ledger = Ledger({entry.key: entry, group.key: group})
    assert Ledger.from_dict(ledger.to_dict()) == ledger
    rows = ledger.to_dict()["invitations"]
    assert {e["kind"]: e.get("group") for e in rows} == {"member": None, GROUP: "Team"}


# ---------------------------------------------------------------- group-member invitations

GROUPS = {"groups": Manage.AUTHORITATIVE}


def _update(members: list[str], had: list[str], **other: object) -> Operation:
    return Operation(
        OpKind.UPDATE_GROUP,
        "P",
        "Team",
        before={"id": "g", "members": had, **{k: f"old {v}" for k, v in other.items()}},
        after={"members": members, **other},
    )


def test_a_read_records_pending_group_invitations_and_drops_accepted_ones() -> None:
    ledger = Ledger({e.key: e for e in [_in_group("bob@x.com", NOW + timedelta(days=1))]})
    invitation = GroupInvitation("ann@x.com", "2026-12-01T10:00:00Z", "2026-12-08T10:00:00Z")
    team = Group("Team", members=frozenset({"bob@x.com", "ann@x.com"}), invitations=(invitation,))
    live = State((Project("P", groups=(team,)),))
    after = ledger.observe(live, {"P": ("groups",)}, NOW)
    assert set(after.entries) == {("P", GROUP, "ann@x.com", "Team")}
    assert after.entries[("P", GROUP, "ann@x.com", "Team")].expires == invitation.expires_on
    assert ledger.observe(live, {"P": ("members",)}, NOW) == ledger  # groups not read


def test_an_apply_records_the_group_members_a_service_application_lists_anew() -> None:
    ops = [
        _update(["a@x.com", "b@x.com"], ["b@x.com"]),
        Operation(OpKind.CREATE_GROUP, "P", "New", after={"name": "New", "members": ["c@x.com"]}),
    ]
    sent = Ledger().sent(ops, NOW, service_app=True)
    assert set(sent.entries) == {("P", GROUP, "a@x.com", "Team"), ("P", GROUP, "c@x.com", "New")}
    assert sent.entries[("P", GROUP, "a@x.com", "Team")].expires == "2026-12-10T12:00:00Z"
    # A user's group update invites only people outside its organization: the next read says.
    assert Ledger().sent(ops, NOW) == Ledger()


def test_only_declared_group_members_missing_from_a_live_group_count_as_expired() -> None:
    entries = [_in_group(e, NOW - timedelta(days=1)) for e in ("a@x.com", "b@x.com", "c@x.com")]
    expired = {e.key: e for e in entries}
    want = Project(
        "P", manage=GROUPS, groups=(Group("Team", members=frozenset({"a@x.com", "b@x.com"})),)
    )
    live = Project("P", id="p", groups=(Group("Team", members=frozenset({"b@x.com"}), id="g"),))
    assert find_expired(State((want,)), State((live,)), expired) == (entries[0],)
    assert find_expired(State((want,)), State((live.evolve(groups=()),)), expired) == ()
    unmanaged = want.evolve(manage={})
    assert find_expired(State((unmanaged,)), State((live,)), expired) == ()


def test_the_plan_marks_a_group_update_re_listing_an_expired_member() -> None:
    entry = _in_group("a@x.com", NOW - timedelta(days=1))
    update = _update(["a@x.com", "b@x.com"], ["b@x.com"])
    [marked], problems = apply_expiry([update], [entry], reinvite=True)
    assert marked.after == {
        "members": ["a@x.com", "b@x.com"],
        EXPIRED_MEMBERS: {"a@x.com": entry.sent_date},
    }
    assert problems == []
    assert expired_members(marked) == {"a@x.com": entry.sent_date}
    assert only_expired(marked)
    # Anything else in the update makes it a change: a removal, another field.
    for other in (
        _update(["a@x.com"], ["b@x.com"]),
        _update(["a@x.com", "b@x.com"], ["b@x.com"], description="new"),
    ):
        [marked], _ = apply_expiry([other], [entry], reinvite=True)
        assert expired_members(marked) == {"a@x.com": entry.sent_date}
        assert not only_expired(marked)
    assert not only_expired(update)


def test_without_reinviting_a_group_update_leaves_the_expired_member_out() -> None:
    entry = _in_group("a@x.com", NOW - timedelta(days=1))
    kept, problems = apply_expiry([_update(["a@x.com", "b@x.com"], ["b@x.com"])], [entry], False)
    assert kept == []  # nothing else to the update
    [problem] = problems
    assert problem.code == EXPIRED_CODE
    assert "a@x.com as member of group 'Team' in P" in problem.message
    [update], _ = apply_expiry(
        [_update(["a@x.com", "c@x.com"], ["b@x.com"], description="new")], [entry], False
    )
    assert update.after == {"members": ["c@x.com"], "description": "new"}
    assert update.before == {"id": "g", "members": ["b@x.com"], "description": "old new"}
    [update], _ = apply_expiry(
        [_update(["a@x.com", "b@x.com"], ["b@x.com"], description="new")], [entry], False
    )
    assert update.after == {"description": "new"}
    assert update.before == {"id": "g", "description": "old new"}


def test_adoption_state_keeps_expired_group_members() -> None:
    entry = _in_group("a@x.com", NOW - timedelta(days=1))
    want = Project(
        "P", manage=GROUPS, groups=(Group("Team", members=frozenset({"a@x.com", "b@x.com"})),)
    )
    live = Project("P", id="p", groups=(Group("Team", members=frozenset({"b@x.com"}), id="g"),))
    [kept] = keep_expired(State((live,)), State((want,)), [entry]).projects
    [team] = kept.groups
    assert team.members == {"a@x.com", "b@x.com"}
    assert team.id == "g"


def test_a_group_renamed_by_the_plan_keeps_its_expired_members() -> None:
    # The ledger and the live group still say "Team"; the manifest renames it to "Crew".
    entry = _in_group("a@x.com", NOW - timedelta(days=1))
    want = Project(
        "P",
        manage=GROUPS,
        groups=(Group("Crew", members=frozenset({"a@x.com", "b@x.com"}), renamed_from="Team"),),
    )
    live = Project("P", id="p", groups=(Group("Team", members=frozenset({"b@x.com"}), id="g"),))
    [found] = find_expired(State((want,)), State((live,)), {entry.key: entry})
    assert (found.email, found.group, found.sent_date) == ("a@x.com", "Crew", entry.sent_date)
    # ... so the plan's update of the renamed group re-invites a@x.com as an expired invitation
    update = Operation(
        OpKind.UPDATE_GROUP, "P", "Crew",
        before={"id": "g", "members": ["b@x.com"]}, after={"members": ["a@x.com", "b@x.com"]},
    )  # fmt: skip
    [marked], _ = apply_expiry([update], [found], reinvite=True)
    assert expired_members(marked) == {"a@x.com": entry.sent_date}


def test_an_applied_group_rename_moves_its_ledger_entries_to_the_new_name() -> None:
    team = _in_group("a@x.com", NOW + timedelta(days=2))
    other = _sent("b@x.com", NOW + timedelta(days=2), GROUP, "Other")
    rename = Operation(
        OpKind.RENAME_GROUP, "P", "Crew", before={"id": "g", "name": "Team"}, after={"name": "Crew"}
    )
    after = Ledger({e.key: e for e in (team, other)}).sent([rename], NOW)
    assert set(after.entries) == {("P", GROUP, "a@x.com", "Crew"), other.key}
    assert after.entries[("P", GROUP, "a@x.com", "Crew")].expires == team.expires
