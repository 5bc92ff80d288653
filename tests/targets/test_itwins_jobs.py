"""Member changes through Access Control jobs (issue 17 item 2), against the emulator over HTTP:
one write per project, split at 100 per action group, partial failures mapped back to the
operations they carried, and the fallback when jobs are refused."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.apply import apply_plan
from reconciler.diff import diff
from reconciler.model import GroupMember, Manage, Project, State, UserMember
from reconciler.plan.build import Operation, OpKind, batch_adds
from reconciler.targets.itwins import ItwinsTarget
from reconciler.targets.itwins_jobs import FALLBACK_NOTICE, job_batches

MEMBERS = {"members": Manage.AUTHORITATIVE}


def plan_ops(target: ItwinsTarget, desired: State) -> list[Operation]:
    live, context = target.read(desired.numbers())
    ops, problems = batch_adds(diff(desired, live, context.identity))
    assert not problems
    return ops


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


# bridge has bob (Viewer), carol (Viewer, Editor), an invitation of xena (Viewer)
WANTED = State(
    (
        Project(
            "P-1",
            manage=MEMBERS,
            members=(
                UserMember("carol@contoso.com", roles("Editor")),  # re-roled: loses Viewer
                UserMember("dana@contoso.com", roles("Viewer")),  # added
                UserMember("eli@contoso.com", roles("Viewer", "Editor")),  # added
                UserMember("xena@fabrikam.com", roles("Viewer")),  # kept (pending)
            ),  # bob removed
            group_members=(GroupMember("Team", roles("Editor")),),  # kept
        ),
    )
)


def writes(target: ItwinsTarget) -> dict[str, int]:
    return {m: n for m, n in target.client.stats.by_method.items() if m != "GET"}


def test_a_projects_member_changes_are_one_job(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    ops = plan_ops(target, WANTED)
    assert {op.kind for op in ops} == {
        OpKind.ADD_MEMBER,
        OpKind.UPDATE_MEMBER,
        OpKind.REMOVE_MEMBER,
    }
    report = apply_plan(ops, target)
    assert report.complete
    assert writes(target) == {"POST": 1}  # 2 adds, 1 re-role, 1 removal: one job
    assert plan_ops(target, WANTED) == []  # converged


def test_jobs_split_at_100_entries_per_action_group() -> None:
    adds = [
        Operation(
            OpKind.ADD_MEMBER,
            "P",
            f"u{i:03d}@x.com",
            None,
            {"email": f"u{i:03d}@x.com", "roles": ["V"]},
        )
        for i in range(150)
    ]
    removals = [
        Operation(
            OpKind.REMOVE_MEMBER,
            "P",
            f"r{i:03d}@x.com",
            {"id": f"m{i}", "email": f"r{i:03d}@x.com", "roles": ["V"], "pending": False},
            None,
        )
        for i in range(30)
    ]
    missing_user = Operation(
        OpKind.REMOVE_MEMBER, "P", "id:m9", {"id": "m9", "email": None, "roles": ["V"]}, None
    )
    other = Operation(OpKind.ADD_MEMBER, "Q", "a@x.com", None, {"email": "a@x.com", "roles": ["V"]})
    numbers = job_batches([*adds, *removals, missing_user, other])
    per_job: dict[tuple[str, int], list[str]] = {}
    for op in [*adds, *removals, other]:
        per_job.setdefault((op.project, numbers[op.id]), []).append(op.kind.value)
    assert sorted((k, len(v)) for k, v in per_job.items()) == [
        (("P", 0), 100),  # 100 assignRoles: full
        (("P", 1), 80),  # 50 assignRoles + 30 removeMembers
        (("Q", 0), 1),
    ]
    assert missing_user.id not in numbers  # no email: removed by id, its own request


def remove_by_hand(http: Any, project: Project, email: str) -> None:
    member = next(m for m in project.members if m.email == email)
    r = http.delete(
        f"/accesscontrol/itwins/{project.id}/members/users/{member.id}",
        headers={"Authorization": "Bearer alice-token"},
    )
    assert r.status_code == 204


def test_a_partly_failed_job_fails_only_what_failed(emulator, make_target, bridge) -> None:
    http = emulator(bridge)
    target = make_target(http)
    ops = plan_ops(target, WANTED)
    # carol leaves by hand after the plan: the job cannot unassign her Viewer role
    live, _ = target.read(["P-1"])
    remove_by_hand(http, live.projects[0], "carol@contoso.com")
    report = apply_plan(ops, target)
    (failed,) = report.failed
    assert failed.operation.kind is OpKind.UPDATE_MEMBER
    assert failed.operation.key == "carol@contoso.com"
    assert failed.code == "TeamMemberNotFound"
    assert {o.operation.key for o in report.applied} == {
        "bob@contoso.com",
        "dana@contoso.com",
        "eli@contoso.com",
    }
    # the next run converges: carol is added back with the roles the manifest wants
    again = plan_ops(target, WANTED)
    assert [(op.kind, op.key) for op in again] == [(OpKind.ADD_MEMBER, "carol@contoso.com")]
    assert apply_plan(again, target).complete
    assert plan_ops(target, WANTED) == []


def test_removing_someone_already_gone_is_done(emulator, make_target, bridge) -> None:
    """As a 404 on a DELETE: bob left by hand after the plan, which is what it wanted."""
    http = emulator(bridge)
    target = make_target(http)
    ops = plan_ops(target, WANTED)
    live, _ = target.read(["P-1"])
    remove_by_hand(http, live.projects[0], "bob@contoso.com")
    assert apply_plan(ops, target).complete
    assert plan_ops(target, WANTED) == []


class RefuseJobs(httpx.BaseTransport):
    """The emulator, except that creating a job is refused (403) as for an identity the real
    service does not let create jobs (C8 leaves the permission undocumented)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/jobs"):
            self.refused += 1
            body: dict[str, Any] = {
                "error": {
                    "code": "InsufficientPermissions",
                    "message": "The user has insufficient permissions for the requested operation.",
                }
            }
            return httpx.Response(403, json=body)
        return self.inner.handle_request(request)


def test_refused_jobs_fall_back_to_single_requests_and_say_so_once(emulator, itwin) -> None:
    http = emulator(
        *(
            itwin(f"P-{i}", members=[{"email": "bob@contoso.com", "roles": ["Viewer"]}],
                  roles=[{"displayName": "Viewer", "description": "Read", "permissions": []},
                         {"displayName": "Editor", "description": "Write", "permissions": []}])
            for i in range(3)
        )
    )  # fmt: skip
    transport = RefuseJobs(http._transport)
    client = httpx.Client(transport=transport, base_url=str(http.base_url))
    target = ItwinsTarget.connect(
        client, token="alice-token", identity="alice@contoso.com", rate_limit=None
    )
    desired = State(
        tuple(
            Project(
                f"P-{i}",
                manage=MEMBERS,
                members=(
                    UserMember("bob@contoso.com", roles("Editor")),
                    UserMember("carol@contoso.com", roles("Viewer")),
                ),
            )
            for i in range(3)
        )
    )
    report = apply_plan(plan_ops(target, desired), target, concurrency=1)
    assert report.complete
    assert transport.refused == 1  # asked once; every later project goes straight to singles
    assert target.notices == (FALLBACK_NOTICE,)
    assert plan_ops(target, desired) == []


def test_jobs_refused_in_parallel_are_said_once(emulator, itwin) -> None:
    viewer = {"displayName": "Viewer", "description": "Read", "permissions": []}
    http = emulator(*(itwin(f"P-{i}", roles=[viewer]) for i in range(4)))
    transport = RefuseJobs(http._transport)
    client = httpx.Client(transport=transport, base_url=str(http.base_url))
    target = ItwinsTarget.connect(
        client, token="alice-token", identity="alice@contoso.com", rate_limit=None
    )
    desired = State(
        tuple(
            Project(f"P-{i}", manage=MEMBERS,
                    members=(UserMember("bob@contoso.com", roles("Viewer")),))
            for i in range(4)
        )
    )  # fmt: skip
    report = apply_plan(plan_ops(target, desired), target, concurrency=4)
    assert report.complete
    assert 1 <= transport.refused <= 4
    assert target.notices == (FALLBACK_NOTICE,)


def test_an_unfinished_job_is_polled_until_done() -> None:
    """The emulator finishes jobs at once; the platform may answer ``Active`` (contract §4):
    a mock transport stands for that, the one path the emulator cannot produce."""
    polls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/jobs"):
            return httpx.Response(201, json={"id": "j1", "itwinId": "i1", "status": "Active"})
        if request.method == "GET" and request.url.path.endswith("/jobs/j1"):
            polls.append(request.headers.get("Prefer", ""))
            status = "Active" if len(polls) < 3 else "Completed"
            return httpx.Response(200, json={"id": "j1", "itwinId": "i1", "status": status})
        return httpx.Response(404, json={"error": {"code": "ResourceNotFound"}})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://mock")
    target = ItwinsTarget.connect(client, token="t", identity="a@x.com", rate_limit=None)
    sleeps: list[float] = []
    target.client.retry.sleep = sleeps.append
    remove = Operation(
        OpKind.REMOVE_MEMBER, "P", "b@x.com",
        {"id": "m1", "email": "b@x.com", "roles": ["V"], "pending": False}, None,
        project_id="i1",
    )  # fmt: skip
    report = apply_plan([remove], target)
    assert report.complete
    assert polls == ["return=representation"] * 3
    assert sleeps == [0.25, 0.5, 1.0]  # backing off between polls
