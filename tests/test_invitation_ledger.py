"""The invitation ledger's pure rules (reconciler.invitations): what a live read records, what
it forgets, what counts as expired, and how a plan marks or leaves out expired invitations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.invitations import (
    EXPIRED,
    EXPIRED_CODE,
    Ledger,
    Sent,
    apply_expiry,
    find_expired,
    keep_expired,
)
from reconciler.model import Manage, Owner, Project, State, UserMember
from reconciler.plan.operations import Operation, OpKind

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
AUTH = {"members": Manage.AUTHORITATIVE, "owners": Manage.AUTHORITATIVE}


def _sent(email: str, expires: datetime, kind: str = "member") -> Sent:
    invited = (expires - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Sent("P", kind, email, invited, expires.strftime("%Y-%m-%dT%H:%M:%SZ"))


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
    add = Operation(OpKind.ADD_MEMBER, "P", "a@x.com", after={"email": "a@x.com"})
    other = Operation(OpKind.ADD_MEMBER, "P", "z@x.com", after={"email": "z@x.com"})
    marked, problems = apply_expiry([add, other], [entry], reinvite=True)
    assert marked[0].after == {"email": "a@x.com", EXPIRED: entry.invited_on[:10]}
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
    ],
)
def test_a_malformed_ledger_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match=r"."):  # each with its own words (see invitations.py)
        Ledger.from_dict(data)


def test_a_ledger_round_trips() -> None:
    entry = _sent("a@x.com", NOW)
    ledger = Ledger({entry.key: entry})
    assert Ledger.from_dict(ledger.to_dict()) == ledger
