"""plan: order (§5), batching, fingerprints, preflight, the saved-plan format, convergence."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reconciler.errors import PlanError
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    LiveContext,
    Manage,
    Owner,
    Project,
    ProjectState,
    Rights,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.build import (
    MAX_ROLE_ASSIGNMENTS,
    PHASE,
    GuardSettings,
    Operation,
    OpKind,
    Plan,
    absent_fingerprint,
    build_plan,
    fingerprint,
)
from reconciler.plan.preflight import check_rights

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
ME = "app@x.com"
OWNER_CTX = LiveContext(identity=ME, org_admin=True)


def want(number: str = "P1", **kw: Any) -> Project:
    kw.setdefault("manage", AUTH)
    return Project(number, source=Source("m.yaml", 1, 1), **kw)


def live(number: str = "P1", **kw: Any) -> Project:
    return Project(number, manage=AUTH, id=f"id-{number}", **kw)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def plan_of(desired: Project | State, actual: Project | State | None, **kw: Any) -> Plan:
    d = desired if isinstance(desired, State) else State((desired,))
    a = actual if isinstance(actual, State) else State((actual,) if actual else ())
    context = kw.pop("context", OWNER_CTX)
    return build_plan(d, a, context, kw.pop("settings", GuardSettings()), **kw)


def every_kind_plan() -> Plan:
    changed = want(
        "A",
        attributes={"displayName": "New"},
        roles=(Role("NewRole"), Role("Chg", "d", roles("p")), Role("Now", renamed_from="Was")),
        groups=(Group("NewG"), Group("ChgG", "new"), Group("NowG", renamed_from="WasG")),
        members=(
            UserMember("add@x.com", roles("Chg")),
            UserMember("upd@x.com", roles("Chg")),
            UserMember("inv@x.com", roles("Chg")),
        ),
        group_members=(GroupMember("NewG", roles("Chg")), GroupMember("ChgG", roles("Chg"))),
        owners=(Owner("own@x.com"),),
    )
    current = live(
        "A",
        attributes={"displayName": "Old"},
        roles=(
            Role("Chg", "d", roles("q"), id="r1"),
            Role("OldRole", id="r2"),
            Role("Was", id="r3"),
        ),
        groups=(Group("ChgG", "old", id="g1"), Group("OldG", id="g2"), Group("WasG", id="g3")),
        members=(
            UserMember("upd@x.com", roles("OldRole"), id="m1"),
            UserMember("inv@x.com", roles("OldRole"), pending=True, id="i1"),
            UserMember("gone@x.com", roles("OldRole"), id="m2"),
            UserMember("stale@x.com", roles("OldRole"), pending=True, id="i2"),
        ),
        group_members=(
            GroupMember("ChgG", roles("OldRole"), id="g1"),
            GroupMember("OldG", roles("OldRole"), id="g2"),
        ),
        owners=(Owner(ME, id="o0"), Owner("exowner@x.com", id="o1")),
    )
    desired = State(
        (changed, want("B", attributes={"displayName": "B"}), want("C", state=ProjectState.ABSENT))
    )
    actual = State((current, live("C")))
    return build_plan(desired, actual, OWNER_CTX, GuardSettings())


def test_every_operation_kind_is_produced_in_section_5_order() -> None:
    plan = every_kind_plan()
    assert {op.kind for op in plan.operations} == set(OpKind)
    assert plan.projects() == ("A", "B", "C")
    phases = [op.phase for op in plan.operations_for("A")]
    assert phases == sorted(phases)
    assert [op.kind for op in plan.operations_for("A")][-1] is OpKind.REMOVE_OWNER
    assert [op.kind for op in plan.operations] == [
        op.kind for op in sorted(plan.operations, key=Operation.sort_key)
    ]
    assert plan.operations_for("C")[0].kind is OpKind.DELETE_PROJECT
    # stable ids
    assert "A/add_member/add@x.com" in {op.id for op in plan.operations}
    assert len({op.id for op in plan.operations}) == len(plan.operations)
    assert PHASE[OpKind.DELETE_PROJECT] == 9


def test_plan_is_deterministic() -> None:
    assert every_kind_plan().to_dict() == every_kind_plan().to_dict()


def test_member_adds_are_batched_to_50_role_assignments_per_kind() -> None:
    members = tuple(UserMember(f"u{i:02d}@x.com", roles("A", "B")) for i in range(30))
    groups = tuple(GroupMember(f"g{i:02d}", roles("A")) for i in range(3))
    plan = plan_of(want(members=members, group_members=groups), live())
    adds = [op for op in plan.operations if op.kind is OpKind.ADD_MEMBER]
    assert [op.batch for op in adds] == [0] * 25 + [1] * 5
    assert all(op.batch == 0 for op in plan.operations if op.kind is OpKind.ADD_GROUP_MEMBER)
    per_batch: dict[int | None, int] = {}
    for op in adds:
        per_batch[op.batch] = per_batch.get(op.batch, 0) + len((op.after or {})["roles"])
    assert max(per_batch.values()) <= MAX_ROLE_ASSIGNMENTS
    assert all(
        op.batch is None
        for op in plan.operations
        if op.kind is not OpKind.ADD_MEMBER and op.kind is not OpKind.ADD_GROUP_MEMBER
    )


def test_a_member_with_more_than_50_roles_is_a_plan_error() -> None:
    many = frozenset(f"R{i}" for i in range(51))
    plan = plan_of(
        want(members=(UserMember("a@x.com", roles("X")), UserMember("b@x.com", many))), live()
    )
    (problem,) = [p for p in plan.problems if p.code == "too-many-roles"]
    assert problem.operations == ("P1/add_member/b@x.com",)
    assert "51 roles" in problem.message
    assert [op.batch for op in plan.operations] == [0, 1]
    assert problem in plan.errors


def test_fingerprints_cover_every_desired_project_and_change_with_any_live_fact() -> None:
    a = live("A", members=(UserMember("u@x.com", roles("V"), id="m1"),))
    plan = plan_of(State((want("A"), want("MISSING"))), State((a, live("UNRELATED"))))
    assert set(plan.fingerprints) == {"A", "MISSING"}
    assert plan.fingerprints["A"] == fingerprint(a)
    assert plan.fingerprints["MISSING"] == absent_fingerprint("MISSING")
    same = live("A", members=(UserMember("u@x.com", roles("V"), id="m1"),))
    assert fingerprint(same) == fingerprint(a)
    # a member re-created under another id is equal as a model, yet moved
    moved = live("A", members=(UserMember("u@x.com", roles("V"), id="m2"),))
    assert moved == a
    assert fingerprint(moved) != fingerprint(a)
    pending = live("A", members=(UserMember("u@x.com", roles("V"), pending=True, id="m1"),))
    assert fingerprint(pending) != fingerprint(a)
    assert len(fingerprint(a)) == 64


def test_facts_and_fingerprints_are_computed_only_when_a_plan_document_needs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 17: a plan printed as text or applied at once never reads its facts or
    fingerprints (a saved plan's); they are computed on first use, once, and equal to what
    computing them at once gives."""
    import reconciler.plan.build as build

    made: list[str] = []
    real_facts, real_fingerprint = build.project_facts, build.fingerprint

    def counting_facts(project: Project) -> Any:
        made.append("facts " + project.number)
        return real_facts(project)

    def counting_fingerprint(project: Project) -> str:
        made.append("fingerprint " + project.number)
        return real_fingerprint(project)

    monkeypatch.setattr(build, "project_facts", counting_facts)
    monkeypatch.setattr(build, "fingerprint", counting_fingerprint)
    a = live("A", members=(UserMember("u@x.com", roles("V"), id="m1"),))
    plan = plan_of(State((want("A"), want("B"))), State((a,)))
    assert plan.operations  # B is created, A's member removed: a plan with work to do
    assert made == []
    document = plan.to_dict()
    assert sorted(made) == ["facts A", "facts A", "facts B", "fingerprint A"]
    assert document["fingerprints"]["A"] == real_fingerprint(a)
    assert document["facts"]["live"]["B"] is None
    plan.to_dict()
    assert len(made) == 4  # kept, not computed again


def test_empty_plan_when_states_match() -> None:
    body: dict[str, Any] = {"members": (UserMember("u@x.com", roles("V")),)}
    plan = plan_of(want(**body), live(**body))
    assert plan.is_empty
    assert plan.summary() == {"add": 0, "change": 0, "remove": 0}
    assert plan.blocked == ()
    assert plan.fingerprints


def test_summary_counts_add_change_remove() -> None:
    assert every_kind_plan().summary() == {"add": 6, "change": 8, "remove": 7}


# ------------------------------------------------------------------ saved-plan format


def test_to_dict_from_dict_round_trips_through_json_exactly() -> None:
    plan = every_kind_plan()
    text = json.dumps(plan.to_dict())
    again = Plan.from_dict(json.loads(text))
    assert again == plan
    assert again.to_dict() == plan.to_dict()
    assert plan.to_dict()["format_version"] == 2


@pytest.mark.parametrize("version", [0, 1, 3, "2", None])
def test_other_format_versions_are_refused(version: Any) -> None:
    data = every_kind_plan().to_dict()
    data["format_version"] = version
    with pytest.raises(PlanError, match="format_version"):
        Plan.from_dict(data)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("operations"),
        lambda d: d["operations"][0].update(kind="explode"),
        lambda d: d["operations"][0].update(id="forged"),
        lambda d: d["operations"][0].update(batch="x"),
        lambda d: d["operations"][0].update(before=[1]),
        lambda d: d["operations"][0].update(project=3),
        lambda d: d.update(fingerprints=[]),
        lambda d: d.update(summary={"add": 0, "change": 0, "remove": 0}),
    ],
)
def test_malformed_saved_plans_are_refused(mutate: Any) -> None:
    data = every_kind_plan().to_dict()
    mutate(data)
    with pytest.raises(PlanError, match="malformed"):
        Plan.from_dict(data)


@pytest.mark.parametrize(
    "edit",
    [
        # issue 12 item 6: an operation re-pointed at someone else, the counts kept
        lambda d: d["operations"][0]["after"].update(email="attacker@evil.example"),
        lambda d: d["allow"].append("project-deletions"),
        lambda d: d.update(identity="someone@else.example"),
        lambda d: d["facts"]["desired"].clear(),
    ],
)
def test_an_edited_saved_plan_is_refused_as_edited(edit: Any) -> None:
    data = json.loads(json.dumps(every_kind_plan().to_dict()))
    edit(data)
    with pytest.raises(PlanError, match="edited after it was made"):
        Plan.from_dict(data)


def test_a_saved_plan_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PlanError, match="not a JSON object"):
        Plan.from_dict([])


def test_allow_names_are_validated() -> None:
    with pytest.raises(PlanError, match="unknown guard 'roles'"):
        plan_of(want(), live(), allow=["roles"])
    with pytest.raises(PlanError, match="last-owner cannot be allowed"):
        plan_of(want(), live(), allow=["last-owner"])
    plan = plan_of(want(), live(), allow=["role-deletions", "role-deletions"])
    assert plan.allow == ("role-deletions",)


# ------------------------------------------------------------------ preflight


def denied(plan: Plan) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for p in plan.problems:
        if p.code == "permission-denied":
            for op_id in p.operations:
                found.setdefault(op_id, set()).add(p.message.split(" need ")[1].split(",")[0])
    return found


def test_operations_in_a_project_created_by_the_plan_are_never_denied() -> None:
    new = want("NEW", roles=(Role("R"),), members=(UserMember("a@x.com", roles("R")),))
    plan = plan_of(new, None, context=LiveContext(ME))
    assert len(plan.operations) == 3
    assert denied(plan) == {}
    assert [p.code for p in plan.problems] == ["unverified"]  # the creation itself
    unchanged = plan_of(live("OLD"), live("OLD"), context=LiveContext(ME, rights={"OLD": Rights()}))
    assert unchanged.is_empty
    changed = plan_of(
        want("OLD", roles=(Role("R"),)),
        live("OLD"),
        context=LiveContext(ME, rights={"OLD": Rights()}),
    )
    assert denied(changed) == {"OLD/create_role/R": {"permission administration_manage_roles"}}


def test_preflight_marks_operations_the_identity_cannot_perform() -> None:
    plan = every_kind_plan()
    rights = Rights(owner=False, permissions=frozenset({"administration_invite_member"}))
    context = LiveContext(identity=ME, rights={"A": rights, "C": rights})
    problems = check_rights(plan.operations, context)
    marked = {op_id for p in problems if p.code == "permission-denied" for op_id in p.operations}
    by_kind = {op.kind: op.id in marked for op in plan.operations if op.project != "B"}
    assert by_kind[OpKind.ADD_MEMBER] is False
    assert by_kind[OpKind.UPDATE_MEMBER] is False
    assert by_kind[OpKind.CREATE_ROLE] is True
    assert by_kind[OpKind.REMOVE_MEMBER] is True
    assert by_kind[OpKind.ADD_OWNER] is True
    assert by_kind[OpKind.UPDATE_PROJECT] is True
    assert by_kind[OpKind.DELETE_PROJECT] is True
    assert by_kind[OpKind.CREATE_GROUP] is True
    assert by_kind[OpKind.RENAME_ROLE] is True
    assert by_kind[OpKind.RENAME_GROUP] is True
    assert by_kind[OpKind.REINVITE_MEMBER] is True  # needs remove too, to cancel
    assert not any(op_id.startswith("B/") for op_id in marked)  # created by this plan
    brief = next(p.brief for p in problems if "administration_manage_roles" in p.message)
    assert brief == "denied: needs permission administration_manage_roles"


def test_owners_and_org_admins_may_do_everything() -> None:
    """Owners may delete the project (C2); org admins may add/remove owners (C1)."""
    ops = every_kind_plan().operations
    as_owner = check_rights(
        ops, LiveContext(ME, rights={"A": Rights(owner=True), "C": Rights(True)})
    )
    assert not [p for p in as_owner if p.code == "permission-denied"]
    assert {i for p in as_owner if p.code == "unverified" for i in p.operations} == {
        "B/create_project/"
    }
    as_admin = check_rights(ops, LiveContext(ME, org_admin=True))
    assert as_admin == []


def test_owner_operations_need_an_owner_or_org_admin_not_a_role() -> None:
    """A member holding every permission through roles may not touch owners or delete."""
    ops = every_kind_plan().operations
    every = frozenset({"administration_invite_member", "administration_remove_member",
                       "administration_manage_roles", "administration_manage_groups",
                       "itwins_modify", "itwins_delete"})  # fmt: skip
    problems = check_rights(ops, LiveContext(ME, rights={"A": Rights(False, every),
                                                         "C": Rights(False, every)}))  # fmt: skip
    denied = {i for p in problems if p.code == "permission-denied" for i in p.operations}
    assert denied == {
        "A/add_owner/own@x.com",
        "A/remove_owner/exowner@x.com",
        "C/delete_project/",
    }
    assert all("to be an owner or an organization administrator" in p.message
               for p in problems if p.code == "permission-denied")  # fmt: skip


def test_unknown_identity_refuses_operations_on_owners() -> None:
    """Without an applying identity, owner operations are refused rather than guessed at."""
    ops = every_kind_plan().operations
    problems = check_rights(ops, LiveContext(None, org_admin=True))
    denied = [p for p in problems if p.code == "permission-denied"]
    assert {i for p in denied for i in p.operations} == {
        "A/add_owner/own@x.com",
        "A/remove_owner/exowner@x.com",
    }
    assert "could not be determined" in denied[0].message


def test_group_member_list_changes_need_invite_and_remove_permissions() -> None:
    desired = want(groups=(Group("G", None, frozenset({"new@x.com"})),))
    actual = live(groups=(Group("G", None, frozenset({"old@x.com"}), id="g1"),))
    rights = Rights(permissions=frozenset({"administration_manage_groups"}))
    plan = plan_of(desired, actual, context=LiveContext(ME, rights={"P1": rights}))
    needs = {p.message.split(" need ")[1].split(",")[0] for p in plan.errors}
    assert needs == {
        "permission administration_invite_member",
        "permission administration_remove_member",
    }


def test_project_creation_checks_org_admin_or_itwins_create_on_the_parent() -> None:
    new = want("NEW", attributes={"displayName": "N", "parent": "PARENT"})
    ok = plan_of(new, None, context=LiveContext(ME, org_admin=True))
    assert ok.problems == ()
    allowed = LiveContext(ME, rights={"PARENT": Rights(permissions=frozenset({"itwins_create"}))})
    assert plan_of(new, None, context=allowed).problems == ()
    refused = plan_of(new, None, context=LiveContext(ME, rights={"PARENT": Rights()}))
    assert [p.code for p in refused.errors] == ["permission-denied"]
    assert refused.errors[0].source == "m.yaml:1:1"
    unknown = plan_of(want("NEW"), None, context=LiveContext(ME))
    assert [(p.code, p.severity) for p in unknown.problems] == [("unverified", "warning")]


def test_unread_rights_are_reported_as_unverified() -> None:
    plan = plan_of(
        want(members=(UserMember("a@x.com", roles("V")),)), live(), context=LiveContext(ME)
    )
    assert [(p.code, p.project) for p in plan.problems] == [("unverified", "P1")]


def test_unknown_permissions_and_unknown_group_members_are_reported_with_locations() -> None:
    desired = want(
        roles=(
            Role("R", None, roles("imodels_read", "imodels_raed"), source=Source("r.yaml", 4, 7)),
        ),
        groups=(
            Group("G", None, frozenset({"ghost@x.com", "ok@x.com"}), source=Source("g.yaml", 9, 2)),
        ),
    )
    context = LiveContext(
        ME,
        org_admin=True,
        known_permissions=frozenset({"imodels_read"}),
        unknown_users=frozenset({"ghost@x.com"}),
    )
    plan = plan_of(desired, live(), context=context)
    found = {(p.code, p.source) for p in plan.errors}
    assert found == {("unknown-permission", "r.yaml:4:7"), ("unknown-user", "g.yaml:9:2")}
    assert any("'imodels_raed'" in p.message for p in plan.errors)
    # not read live: no claim either way
    assert plan_of(desired, live(), context=OWNER_CTX).errors == ()


# ------------------------------------------------------------------ convergence property


def simulate(actual: State, plan: Plan) -> State:
    """What a faithful target would leave live after executing the plan (names as ids)."""
    projects = {p.number: p for p in actual.projects}
    for op in plan.operations:
        p = projects.get(op.project, Project(op.project))
        after: dict[str, Any] = dict(op.after or {})
        k = op.kind
        if k is OpKind.DELETE_PROJECT:
            projects.pop(op.project)
            continue
        if k is OpKind.CREATE_PROJECT:
            after.pop("number")
            p = Project(op.project, after, manage=AUTH, id="new", owners=(Owner(ME),))
        elif k is OpKind.UPDATE_PROJECT:
            p = p.evolve(attributes={**p.attributes, **after})
        elif k in (OpKind.CREATE_ROLE, OpKind.UPDATE_ROLE, OpKind.DELETE_ROLE):
            old = p.role(op.key) or Role(op.key)
            rest = tuple(r for r in p.roles if r.key != op.key)
            if k is not OpKind.DELETE_ROLE:
                desc = after.get("description", old.description)
                perms = frozenset(after.get("permissions", old.permissions))
                rest += (Role(op.key, desc, perms),)
            p = p.evolve(roles=rest)
        elif k in (OpKind.CREATE_GROUP, OpKind.UPDATE_GROUP, OpKind.DELETE_GROUP):
            oldg = p.group(op.key) or Group(op.key)
            rest_g = tuple(g for g in p.groups if g.key != op.key)
            if k is not OpKind.DELETE_GROUP:
                rest_g += (
                    Group(
                        op.key,
                        after.get("description", oldg.description),
                        frozenset(after.get("members", oldg.members)),
                        frozenset(after.get("imsGroups", oldg.ims_groups)),
                    ),
                )
            p = p.evolve(groups=rest_g)
        elif k in (OpKind.ADD_OWNER, OpKind.REMOVE_OWNER):
            owners = tuple(o for o in p.owners if o.key != op.key)
            if k is OpKind.ADD_OWNER:
                owners += (Owner(after["email"]),)
            p = p.evolve(owners=owners)
        elif k in (OpKind.ADD_GROUP_MEMBER, OpKind.UPDATE_GROUP_MEMBER, OpKind.REMOVE_GROUP_MEMBER):
            gms = tuple(m for m in p.group_members if m.key != op.key)
            if after:
                gms += (GroupMember(op.key, frozenset(after["roles"])),)
            p = p.evolve(group_members=gms)
        else:
            ums = tuple(m for m in p.members if m.key != op.key)
            if after:
                ums += (UserMember(after["email"], frozenset(after["roles"])),)
            p = p.evolve(members=ums)
        projects[op.project] = p
    return State(tuple(projects.values()))


EMAILS = st.sampled_from(["a@x.com", "b@x.com", "c@x.com", ME])
NAMES = st.sampled_from(["R1", "R2", "R3"])


@st.composite
def projects(draw: st.DrawFn, number: str, desired: bool) -> Project:
    def pick(items: Any) -> Any:
        return draw(st.lists(items, max_size=3, unique_by=lambda x: x.key))

    manage = (
        draw(st.dictionaries(st.sampled_from(SECTIONS), st.sampled_from(list(Manage))))
        if desired
        else AUTH
    )
    return Project(
        number,
        attributes={"displayName": draw(st.sampled_from(["X", "Y"]))},
        manage=manage,
        roles=tuple(
            pick(
                st.builds(
                    Role,
                    NAMES,
                    st.sampled_from([None, "d"]),
                    st.frozensets(st.sampled_from(["p", "q"])),
                )
            )
        ),
        groups=tuple(
            pick(
                st.builds(Group, st.sampled_from(["G1", "G2"]), st.just("d"), st.frozensets(EMAILS))
            )
        ),
        members=tuple(
            pick(
                st.builds(
                    UserMember,
                    EMAILS,
                    st.frozensets(NAMES, min_size=int(desired)),
                    pending=st.booleans(),
                )
            )
        ),
        group_members=tuple(
            pick(
                st.builds(
                    GroupMember, st.sampled_from(["G1", "G2"]), st.frozensets(NAMES, min_size=1)
                )
            )
        ),
        owners=tuple(pick(st.builds(Owner, EMAILS))),
        id=None if desired else f"id-{number}",
    )


def _holds_an_undeclared_role(p: Project) -> bool:
    """A member holding a role its authoritative roles section leaves out: the loader refuses
    such a manifest (build.check_roles), and the role's deletion would remove the member."""
    if p.managed("roles") is not Manage.AUTHORITATIVE:
        return False
    declared = {r.key for r in p.roles}
    return any(not m.roles <= declared for m in (*p.members, *p.group_members))


@settings(max_examples=150, deadline=None)
@given(
    desired=st.tuples(projects("P1", True), projects("P2", True)),
    actual=st.lists(projects("P1", False), max_size=1),
)
def test_applying_a_plan_converges_and_round_trips(
    desired: tuple[Project, Project], actual: list[Project]
) -> None:
    assume(not any(_holds_an_undeclared_role(p) for p in desired))
    want_state, live_state = State(desired), State(tuple(actual))
    plan = build_plan(want_state, live_state, OWNER_CTX, GuardSettings())
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    after = simulate(live_state, plan)
    again = build_plan(want_state, after, OWNER_CTX, GuardSettings())
    assert again.is_empty, [op.id for op in again.operations]
    assert plan == build_plan(want_state, live_state, OWNER_CTX, GuardSettings())


def test_replace_keeps_operation_stable() -> None:
    op = Operation(OpKind.ADD_MEMBER, "P", "a@x.com", None, {"email": "a@x.com", "roles": ["V"]})
    assert replace(op, batch=3).id == op.id


def test_a_plan_records_the_sections_it_read_and_fingerprints_only_those() -> None:
    """Issue 17: a project read in part (only its managed sections) is fingerprinted over
    those, and the saved plan says which, so ``apply --plan`` re-reads the same."""
    desired = Project("A", manage={"members": Manage.AUTHORITATIVE})
    part = Project("A", manage={"members": Manage.AUTHORITATIVE}, id="id-A")
    plan = plan_of(desired, part)
    assert plan.sections == {"A": ("members",)}
    again = Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again.sections == {"A": ("members",)}
    # an owner added by hand does not move a project whose owners are not managed
    with_owner = replace(part, owners=(Owner("x@y.com", id="o1"),))
    assert fingerprint(with_owner) == fingerprint(part)
    whole = replace(part, manage=AUTH)
    assert fingerprint(replace(whole, owners=(Owner("x@y.com", id="o1"),))) != fingerprint(whole)
    # which sections were read is covered by the digest (issue 13): dropping it is an edit
    old = plan.to_dict()
    del old["sections"]
    with pytest.raises(PlanError, match="edited after it was made"):
        Plan.from_dict(old)
