"""diff: field-level operations between desired and live states, per design.md §4 and §5."""

from __future__ import annotations

from typing import Any

from reconciler.diff import diff
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    ProjectState,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.operations import Operation, OpKind

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
ADD = dict.fromkeys(SECTIONS, Manage.ADDITIVE)


def src(line: int) -> Source:
    return Source("m.yaml", line, 3)


def want(number: str = "P1", manage: Any = None, **kw: Any) -> Project:
    return Project(number, manage=AUTH if manage is None else manage, source=src(1), **kw)


def live(number: str = "P1", **kw: Any) -> Project:
    return Project(number, manage=AUTH, id=f"id-{number}", **kw)


def role(name: str, *perms: str, desc: str | None = None, rid: str | None = None) -> Role:
    return Role(name, desc, frozenset(perms), id=rid, source=src(5))


def user(
    email: str | None, *roles: str, pending: bool = False, mid: str | None = None
) -> UserMember:
    return UserMember(email, frozenset(roles), pending=pending, id=mid, source=src(9))


def run(desired: Project, actual: Project | None, identity: str | None = None) -> list[Operation]:
    return diff(State((desired,)), State((actual,) if actual else ()), identity)


def kinds(ops: list[Operation]) -> list[tuple[OpKind, str]]:
    return [(op.kind, op.key) for op in ops]


def test_identical_states_need_nothing_even_with_ids_and_sources_differing() -> None:
    body: dict[str, Any] = {
        "attributes": {"displayName": "Bridge"},
        "roles": (role("Viewer", "imodels_read", desc="Read"),),
        "groups": (Group("Team", "T", frozenset({"a@x.com"})),),
        "members": (user("a@x.com", "Viewer"),),
        "group_members": (GroupMember("Team", frozenset({"Viewer"})),),
        "owners": (Owner("o@x.com"),),
    }
    actual = live(**body).evolve(
        roles=(role("Viewer", "imodels_read", desc="Read", rid="r1"),),
        members=(user("a@x.com", "Viewer", mid="m1"),),
    )
    assert run(want(**body), actual) == []


def test_missing_project_is_created_with_everything_declared_and_no_project_id() -> None:
    desired = want(
        attributes={"displayName": "New"},
        roles=(role("Viewer", "b", "a", desc="Read"),),
        groups=(Group("Team", "T", frozenset({"a@x.com"})),),
        members=(user("a@x.com", "Viewer"),),
        group_members=(GroupMember("Team", frozenset({"Viewer"})),),
        owners=(Owner("o@x.com"),),
    )
    ops = run(desired, None, identity="app@x.com")
    assert kinds(ops) == [
        (OpKind.CREATE_PROJECT, ""),
        (OpKind.CREATE_ROLE, "Viewer"),
        (OpKind.CREATE_GROUP, "Team"),
        (OpKind.ADD_OWNER, "o@x.com"),
        (OpKind.ADD_MEMBER, "a@x.com"),
        (OpKind.ADD_GROUP_MEMBER, "Team"),
    ]
    assert ops[0].after == {"number": "P1", "displayName": "New"}
    assert ops[0].source == "m.yaml:1:3"
    assert ops[1].after == {
        "displayName": "Viewer",
        "description": "Read",
        "permissions": ["a", "b"],
    }
    assert all(op.project_id is None for op in ops)
    # the creator becomes owner: an authoritative owners list does not remove it


def test_only_declared_attributes_are_compared_with_field_level_before_and_after() -> None:
    desired = want(attributes={"displayName": "New", "status": "Active"}, manage={})
    actual = live(attributes={"displayName": "Old", "status": "Active", "type": "Anything"})
    (op,) = run(desired, actual)
    assert op.kind is OpKind.UPDATE_PROJECT
    assert op.before == {"id": "id-P1", "displayName": "Old"}
    assert op.after == {"displayName": "New"}
    assert op.project_id == "id-P1"
    assert op.source == "m.yaml:1:3"


def test_state_absent_deletes_only_the_project_and_absent_live_needs_nothing() -> None:
    desired = want(state=ProjectState.ABSENT, members=(user("a@x.com", "V"),))
    actual = live(attributes={"displayName": "Gone"}, members=(user("b@x.com", "V"),))
    (op,) = run(desired, actual)
    assert op.kind is OpKind.DELETE_PROJECT
    assert op.before == {"id": "id-P1", "displayName": "Gone"}
    assert run(desired, None) == []


def test_live_projects_absent_from_the_manifests_are_never_touched() -> None:
    actual = State((live("P1"), live("OTHER", members=(user("z@x.com", "V"),))))
    assert diff(State((want("P1"),)), actual) == []


def test_unmanaged_sections_are_left_alone() -> None:
    actual = live(roles=(role("Old"),), members=(user("z@x.com", "Old"),), owners=(Owner("q"),))
    assert run(want(manage={}), actual) == []


def test_roles_create_update_delete_and_unmanaged_description() -> None:
    desired = want(
        roles=(
            role("New", "p1"),
            role("Perms", "p1", "p2"),
            role("Desc", desc="new text"),
            role("Undescribed", "p1"),  # description None: not compared
        )
    )
    actual = live(
        roles=(
            role("Perms", "p1", "p3", rid="r-perms"),
            role("Desc", desc="old text", rid="r-desc"),
            role("Undescribed", "p1", desc="anything", rid="r-u"),
            role("Stale", "x", rid="r-stale"),
        )
    )
    ops = {op.key: op for op in run(desired, actual)}
    assert ops["New"].kind is OpKind.CREATE_ROLE
    assert ops["New"].after == {"displayName": "New", "description": None, "permissions": ["p1"]}
    assert ops["Perms"].kind is OpKind.UPDATE_ROLE
    assert ops["Perms"].before == {"id": "r-perms", "permissions": ["p1", "p3"]}
    assert ops["Perms"].after == {"permissions": ["p1", "p2"]}
    assert ops["Desc"].before == {"id": "r-desc", "description": "old text"}
    assert ops["Desc"].after == {"description": "new text"}
    assert "Undescribed" not in ops
    assert ops["Stale"].kind is OpKind.DELETE_ROLE
    assert ops["Stale"].source is None
    assert ops["Stale"].before == {
        "id": "r-stale",
        "displayName": "Stale",
        "description": None,
        "permissions": ["x"],
    }


def test_additive_sections_create_and_update_but_never_remove() -> None:
    desired = want(
        manage=ADD,
        roles=(role("Keep", "new"),),
        groups=(Group("G", None, frozenset({"a@x.com"})),),
        members=(user("a@x.com", "Keep"),),
        group_members=(GroupMember("G", frozenset({"Keep"})),),
        owners=(Owner("o@x.com"),),
    )
    actual = live(
        roles=(role("Keep", "old", rid="r1"), role("Other", rid="r2")),
        groups=(Group("G", "d", frozenset({"b@x.com"}), id="g1"), Group("H", id="g2")),
        members=(user("a@x.com", "Other", mid="m1"), user("z@x.com", "Other", mid="m2")),
        group_members=(GroupMember("G", frozenset({"Other"}), id="g1"), GroupMember("H", id="g2")),
        owners=(Owner("q@x.com", id="o1"),),
    )
    assert kinds(run(desired, actual)) == [
        (OpKind.UPDATE_ROLE, "Keep"),
        (OpKind.UPDATE_GROUP, "G"),
        (OpKind.ADD_OWNER, "o@x.com"),
        (OpKind.UPDATE_MEMBER, "a@x.com"),
        (OpKind.UPDATE_GROUP_MEMBER, "G"),
    ]


def test_groups_compare_description_members_and_ims_groups() -> None:
    desired = want(
        groups=(
            Group("A", "desc", frozenset({"a@x.com", "c@x.com"}), frozenset({"ims1"})),
            Group("B", None, frozenset(), frozenset()),
            Group("New", None, frozenset({"n@x.com"})),
        )
    )
    actual = live(
        groups=(
            Group("A", "old", frozenset({"a@x.com", "b@x.com"}), frozenset({"ims1"}), id="ga"),
            Group("B", "whatever", id="gb"),
            Group("Gone", "d", frozenset({"g@x.com"}), id="gg"),
        )
    )
    ops = {op.key: op for op in run(desired, actual)}
    assert ops["A"].kind is OpKind.UPDATE_GROUP
    assert ops["A"].before == {
        "id": "ga",
        "description": "old",
        "members": ["a@x.com", "b@x.com"],
    }
    assert ops["A"].after == {"description": "desc", "members": ["a@x.com", "c@x.com"]}
    assert "B" not in ops
    assert ops["New"].after == {
        "name": "New",
        "description": None,
        "members": ["n@x.com"],
        "imsGroups": [],
    }
    assert ops["Gone"].kind is OpKind.DELETE_GROUP
    assert ops["Gone"].before is not None
    assert ops["Gone"].before["id"] == "gg"


def test_members_add_update_remove_with_live_ids_in_before() -> None:
    desired = want(members=(user("new@x.com", "V"), user("chg@x.com", "V", "E")))
    actual = live(
        members=(user("chg@x.com", "V", mid="m-chg"), user("old@x.com", "V", mid="m-old"))
    )
    ops = {op.key: op for op in run(desired, actual)}
    assert ops["new@x.com"].kind is OpKind.ADD_MEMBER
    assert ops["new@x.com"].after == {"email": "new@x.com", "roles": ["V"]}
    assert ops["chg@x.com"].kind is OpKind.UPDATE_MEMBER
    assert ops["chg@x.com"].before == {
        "id": "m-chg",
        "email": "chg@x.com",
        "roles": ["V"],
        "pending": False,
    }
    assert ops["chg@x.com"].after == {"email": "chg@x.com", "roles": ["E", "V"]}
    assert ops["old@x.com"].kind is OpKind.REMOVE_MEMBER
    assert ops["old@x.com"].source is None


def test_pending_invitations_are_never_reinvited_but_reinvited_or_cancelled_on_change() -> None:
    desired = want(members=(user("same@x.com", "V"), user("chg@x.com", "E")))
    actual = live(
        members=(
            user("same@x.com", "V", pending=True, mid="i1"),
            user("chg@x.com", "V", pending=True, mid="i2"),
            user("stale@x.com", "V", pending=True, mid="i3"),
        )
    )
    ops = {op.key: op for op in run(desired, actual)}
    assert "same@x.com" not in ops
    assert ops["chg@x.com"].kind is OpKind.REINVITE_MEMBER
    assert ops["chg@x.com"].before == {
        "id": "i2",
        "email": "chg@x.com",
        "roles": ["V"],
        "pending": True,
    }
    assert ops["stale@x.com"].kind is OpKind.CANCEL_INVITATION
    assert run(want(manage=ADD), actual) == []


def test_missing_users_are_removed_by_id_in_authoritative_sections() -> None:
    actual = live(members=(user(None, "V", mid="ghost"),), owners=(Owner(None, id="o-ghost"),))
    ops = run(want(), actual)
    assert kinds(ops) == [(OpKind.REMOVE_MEMBER, "id:ghost"), (OpKind.REMOVE_OWNER, "id:o-ghost")]
    assert ops[0].before == {"id": "ghost", "email": None, "roles": ["V"], "pending": False}


def test_a_member_declared_with_no_roles_is_removed_with_its_source() -> None:
    desired = want(members=(user("a@x.com"), user("p@x.com"), user("nobody@x.com")))
    desired = desired.evolve(group_members=(GroupMember("G", frozenset(), source=src(7)),))
    actual = live(
        members=(user("a@x.com", "V", mid="m1"), user("p@x.com", "V", pending=True, mid="i1")),
        group_members=(GroupMember("G", frozenset({"V"}), id="g1"),),
    )
    ops = run(desired.evolve(manage={"members": Manage.ADDITIVE}), actual)
    assert kinds(ops) == [
        (OpKind.REMOVE_MEMBER, "a@x.com"),
        (OpKind.REMOVE_GROUP_MEMBER, "G"),
        (OpKind.CANCEL_INVITATION, "p@x.com"),
    ]
    assert [op.source for op in ops] == ["m.yaml:9:3", "m.yaml:7:3", "m.yaml:9:3"]


def test_user_keys_are_case_insensitive() -> None:
    desired = want(members=(UserMember("bob@x.com", frozenset({"V"})),))
    actual = live(members=(UserMember("Bob@X.com", frozenset({"V"}), id="m1"),))
    assert run(desired, actual) == []


def test_group_members_add_update_remove() -> None:
    desired = want(
        group_members=(GroupMember("New", frozenset({"V"})), GroupMember("Chg", frozenset({"E"})))
    )
    actual = live(
        group_members=(
            GroupMember("Chg", frozenset({"V"}), id="g-chg"),
            GroupMember("Old", frozenset({"V"}), id="g-old"),
        )
    )
    ops = {op.key: op for op in run(desired, actual)}
    assert ops["New"].kind is OpKind.ADD_GROUP_MEMBER
    assert ops["New"].after == {"group": "New", "roles": ["V"]}
    assert ops["Chg"].kind is OpKind.UPDATE_GROUP_MEMBER
    assert ops["Chg"].before == {"id": "g-chg", "group": "Chg", "roles": ["V"]}
    assert ops["Old"].kind is OpKind.REMOVE_GROUP_MEMBER


def test_owners_added_and_removed_but_own_ownership_and_pending_owners_kept() -> None:
    desired = want(owners=(Owner("new@x.com"), Owner("inv@x.com")))
    actual = live(
        owners=(
            Owner("app@x.com", id="o-app"),
            Owner("inv@x.com", pending=True, id="o-inv"),
            Owner("old@x.com", id="o-old"),
        )
    )
    ops = run(desired, actual, identity="app@x.com")
    assert kinds(ops) == [(OpKind.ADD_OWNER, "new@x.com"), (OpKind.REMOVE_OWNER, "old@x.com")]
    assert ops[1].before == {"id": "o-old", "email": "old@x.com", "pending": False}
    # without knowing the identity, an undeclared owner is an undeclared owner
    assert (OpKind.REMOVE_OWNER, "app@x.com") in kinds(run(desired, actual))


def test_operations_are_sorted_by_project_then_phase() -> None:
    desired = State((want("B", members=(user("a@x.com", "V"),)), want("A", roles=(role("R"),))))
    actual = State((live("A", members=(user("z@x.com", "V"),)), live("B")))
    ops = diff(desired, actual)
    assert [(op.project, op.kind) for op in ops] == [
        ("A", OpKind.CREATE_ROLE),
        ("A", OpKind.REMOVE_MEMBER),
        ("B", OpKind.ADD_MEMBER),
    ]
