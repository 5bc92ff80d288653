"""A person's pending invitations on one iTwin count as one member with every role, as the
platform merges them on acceptance (contract C7), and the ones after the first are cancelled
with it. A unit test of the wire mapping: the emulator renews an invitation instead of adding
a second one (docs/emulator.md), so it cannot produce two pending invitations of one person."""

from __future__ import annotations

from reconciler.model import GroupInvitation
from reconciler.targets.itwins_wire import shadowed_invitations, to_group, to_members, to_owners

NAMES = {"r1": "Viewer", "r2": "Contributor"}


def _invitation(inv_id: str, role: str | None, created: str, expires: str) -> dict[str, object]:
    return {
        "id": inv_id,
        "email": "Someone@Fabrikam.com",
        "status": "Pending",
        "createdDate": f"{created}T10:00:00.0000000Z",
        "expirationDate": f"{expires}T10:00:00.0000000Z",
        "roles": [{"id": role, "displayName": NAMES[role]}] if role else [],
    }


def test_two_pending_member_invitations_read_as_one_member_with_both_roles() -> None:
    invitations = [
        _invitation("i1", "r1", "2026-11-20", "2026-11-27"),
        _invitation("i2", "r2", "2026-11-25", "2026-12-02"),
    ]
    [member] = to_members([], invitations, NAMES)
    assert member.email == "someone@fabrikam.com"
    assert member.roles == {"Viewer", "Contributor"}
    assert member.pending
    assert member.id == "i1"
    assert (member.invited_on, member.expires_on) == (
        "2026-11-20T10:00:00.0000000Z",
        "2026-12-02T10:00:00.0000000Z",
    )
    # Removing or re-inviting the member cancels i1 by its id, and i2 with it.
    assert shadowed_invitations([], invitations) == {"someone@fabrikam.com": ["i2"]}


def test_a_members_invitation_is_shadowed_and_adds_its_roles() -> None:
    users = [{"id": "u1", "email": "someone@fabrikam.com", "roles": [{"id": "r1"}]}]
    invitations = [_invitation("i2", "r2", "2026-11-25", "2026-12-02")]
    [member] = to_members(users, invitations, NAMES)
    assert (member.pending, member.id, member.roles) == (False, "u1", {"Viewer", "Contributor"})
    assert shadowed_invitations(users, invitations) == {"someone@fabrikam.com": ["i2"]}


def test_a_pending_owner_invitation_carries_its_dates() -> None:
    [owner] = to_owners([], [_invitation("o1", None, "2026-11-20", "2026-11-27")])
    assert (owner.pending, owner.id) == (True, "o1")
    assert (owner.invited_on, owner.expires_on) == (
        "2026-11-20T10:00:00.0000000Z",
        "2026-11-27T10:00:00.0000000Z",
    )


def test_a_groups_pending_invitations_count_as_members_with_their_dates() -> None:
    group = {
        "id": "g1",
        "name": "Reviewers",
        "members": [{"userId": "u1", "email": "Bob@Contoso.com"}],
        "imsGroups": [],
    }
    invitations = [
        _invitation("i1", None, "2026-11-20", "2026-11-27"),
        _invitation("i2", None, "2026-11-25", "2026-12-02"),
        {**_invitation("i3", None, "2026-11-25", "2026-12-02"), "email": "bob@contoso.com"},
    ]
    read = to_group(group, invitations)
    assert read.members == {"bob@contoso.com", "someone@fabrikam.com"}
    # Bob is a member already: his invitation is not a pending one of ours.
    [pending] = read.invitations
    assert pending == GroupInvitation(
        "someone@fabrikam.com", "2026-11-20T10:00:00.0000000Z", "2026-12-02T10:00:00.0000000Z"
    )
