"""Plan: the ordered list of operations that makes live state match the manifests.

Pure: no I/O. A plan is data first; text, Markdown and JSON renderers and the saved-plan file
are all derived from ``Plan.to_dict()``.

``build_plan`` = ``diff`` (what changes) + merging live duplicates (``reconciler.repair``) +
the removals role deletions cause (``reconciler.cascade``) + §5 order + batching of member
adds to the API's 50-role-assignment limit + fingerprints of every desired project read live
+ guards + preflight.
Operation kinds, order and payloads live in ``reconciler.plan.operations`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from reconciler.binding import PlanTarget, content_digest
from reconciler.cascade import implied_removals
from reconciler.diff import diff
from reconciler.errors import PlanError
from reconciler.facts import Facts, project_facts
from reconciler.invitations import Expiry, apply_expiry, find_expired
from reconciler.model import LiveContext, Manage, Project, State
from reconciler.plan import payloads
from reconciler.plan.fingerprint import absent_fingerprint, fingerprint, state_fingerprint
from reconciler.plan.guards import (
    GuardViolation,
    check_allow,
    evaluate,
    rights_violations,
)
from reconciler.plan.kinds import SPECS, Action
from reconciler.plan.operations import (
    ADDS,
    CHANGES,
    KIND_ORDER,
    PHASE,
    REMOVES,
    Operation,
    OpKind,
    action,
)
from reconciler.plan.preflight import (
    ERROR,
    WARNING,
    PlanProblem,
    check_manifest_facts,
    check_rights,
)
from reconciler.plan.settings import GuardSettings, Policies
from reconciler.policies import check_policy_allow, evaluate_policies
from reconciler.repair import repair_duplicates

__all__ = [
    "ADDS",
    "CHANGES",
    "FORMAT_VERSION",
    "KIND_ORDER",
    "MAX_ROLE_ASSIGNMENTS",
    "PHASE",
    "REMOVES",
    "GuardSettings",
    "GuardViolation",
    "OpKind",
    "Operation",
    "Plan",
    "PlanProblem",
    "absent_fingerprint",
    "action",
    "batch_adds",
    "build_plan",
    "fingerprint",
    "state_fingerprint",
]

# 2: the plan records its target, the facts it was computed from, and a digest (issue 13).
FORMAT_VERSION = 2
# itwin-api.md §4: at most 50 role assignments (sum of roleIds) per add-members request.
MAX_ROLE_ASSIGNMENTS = 50
# Adds that give roles go in bulk requests (add_member, add_group_member).
_BATCHED = frozenset(k for k, s in SPECS.items() if s.action is Action.ADD and s.gives_roles)


@dataclass(frozen=True)
class Plan:
    """An ordered, guarded plan. ``blocked`` lists the guard violations not lifted."""

    operations: tuple[Operation, ...] = ()
    fingerprints: Mapping[str, str] = field(default_factory=dict)  # project number -> sha256
    guards: tuple[GuardViolation, ...] = ()  # every violation; ``allowed`` ones were lifted
    problems: tuple[PlanProblem, ...] = ()  # preflight findings (errors and warnings)
    allow: tuple[str, ...] = ()  # the guards lifted when the plan was built
    identity: str | None = None  # the applying identity the plan was computed for
    target: PlanTarget | None = None  # what it was made against (filled in by the CLI)
    # The facts it was computed from (reconciler.facts), per planned project: live (None when
    # the project does not exist) and desired. ``apply --plan`` recomputes from them.
    live: Mapping[str, Facts | None] = field(default_factory=dict)
    desired: Mapping[str, Facts] = field(default_factory=dict)
    # number -> the sections read live (those its manifest manages), so that applying the saved
    # plan re-reads the same and its fingerprints compare like with like. None: everything.
    sections: Mapping[str, tuple[str, ...]] | None = None
    format_version: int = FORMAT_VERSION

    @property
    def blocked(self) -> tuple[GuardViolation, ...]:
        return tuple(v for v in self.guards if not v.allowed)

    @property
    def errors(self) -> tuple[PlanProblem, ...]:
        return tuple(p for p in self.problems if p.severity == ERROR)

    @property
    def is_empty(self) -> bool:
        return not self.operations

    def summary(self) -> dict[str, int]:
        """Counts of operations to add, change and remove (Terraform's closing line)."""
        counts = {"add": 0, "change": 0, "remove": 0}
        for op in self.operations:
            counts[action(op.kind)] += 1
        return counts

    def projects(self) -> tuple[str, ...]:
        """Numbers of the projects with operations, in plan order."""
        return tuple(dict.fromkeys(op.project for op in self.operations))

    def operations_for(self, number: str) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.project == number)

    def by_project(self) -> dict[str, tuple[Operation, ...]]:
        """Operations grouped per project, in plan order (one pass, for large plans)."""
        groups: dict[str, list[Operation]] = {}
        for op in self.operations:
            groups.setdefault(op.project, []).append(op)
        return {number: tuple(ops) for number, ops in groups.items()}

    def to_dict(self) -> dict[str, Any]:
        """The saved-plan / JSON form (documented in ``reconciler.render.json``)."""
        document: dict[str, Any] = {
            "format_version": self.format_version,
            "target": self.target.to_dict() if self.target is not None else None,
            "identity": self.identity,
            "allow": list(self.allow),
            "summary": self.summary(),
            "blocked": bool(self.blocked),
            "fingerprints": dict(sorted(self.fingerprints.items())),
            **(
                {"sections": {k: list(v) for k, v in sorted(self.sections.items())}}
                if self.sections is not None
                else {}
            ),
            "operations": [op.to_dict() for op in self.operations],
            "guards": [v.to_dict() for v in self.guards],
            "problems": [p.to_dict() for p in self.problems],
            "facts": {
                "live": dict(sorted(self.live.items())),
                "desired": dict(sorted(self.desired.items())),
            },
        }
        document["digest"] = content_digest(_signed(document))
        return document

    @classmethod
    def from_dict(cls, data: Any) -> Plan:
        """Inverse of ``to_dict``; PlanError for another format_version or a malformed plan."""
        if not isinstance(data, Mapping):
            raise PlanError("saved plan is not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise PlanError(
                f"saved plan has format_version {version!r}; this itwin-access reads "
                f"format_version {FORMAT_VERSION}: run plan again"
            )
        try:
            fingerprints = {str(k): str(v) for k, v in data["fingerprints"].items()}
            facts = data.get("facts") or {}
            target = data.get("target")
            plan = cls(
                operations=tuple(Operation.from_dict(op) for op in data["operations"]),
                fingerprints=fingerprints,
                guards=tuple(GuardViolation.from_dict(v) for v in data.get("guards", ())),
                problems=tuple(PlanProblem.from_dict(p) for p in data.get("problems", ())),
                allow=tuple(str(a) for a in data.get("allow", ())),
                identity=data.get("identity"),
                target=PlanTarget.from_dict(target) if target is not None else None,
                live={str(k): v for k, v in facts.get("live", {}).items()},
                desired={str(k): v for k, v in facts.get("desired", {}).items()},
                sections=_sections(data.get("sections")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PlanError(f"saved plan is malformed: {exc!s}") from exc
        if "summary" in data and data["summary"] != plan.summary():
            raise PlanError("saved plan is malformed: its summary does not match its operations")
        if data.get("digest") != content_digest(_signed(data)):
            # Issue 12: an operation edited in the file (say, to invite someone as Admin with
            # the counts kept) must never run. The digest covers target, allowances,
            # operations and facts; recomputing before apply covers the rest.
            raise PlanError(
                "saved plan was edited after it was made (its digest does not match its "
                "target, allowances, operations and facts); run plan again and review it"
            )
        return plan


def build_plan(
    desired: State,
    actual: State,
    context: LiveContext,
    settings: GuardSettings,
    allow: Collection[str] = (),
    members_per_batch: int | None = None,
    policies: Policies | None = None,
    expiry: Expiry | None = None,
) -> Plan:
    """The plan that makes ``actual`` match ``desired``; never raises for a guard.

    PlanError only for an ``allow`` naming an unknown guard or one that cannot be lifted.
    ``members_per_batch`` caps the members of one add request for a backend whose API takes
    fewer (the Projects API takes one member per request); None: only the role-assignment cap.
    ``policies`` (config ``policies``) are checked like guards, on the state the plan leads to.
    ``expiry``: invitations the ledger saw that have expired (``reconciler.invitations``).
    """
    allowed = check_allow(allow)
    check_policy_allow(allowed, policies or Policies())
    live = {p.number: p for p in actual.projects}
    changes = mark_invitations(diff(desired, actual, context.identity), context)
    expired_problems: list[PlanProblem] = []
    if expiry is not None:
        found = find_expired(desired, actual, expiry.expired)
        changes, expired_problems = apply_expiry(changes, found, expiry.reinvite)
    changes.extend(repair_duplicates(changes, actual))
    changes.extend(implied_removals(changes, actual))
    operations, batch_problems = batch_adds(changes, members_per_batch)
    guards, guard_problems = evaluate(operations, actual, context, settings, allowed)
    rights = check_rights(operations, context)
    guards.extend(rights_violations(rights, allowed))
    if policies is not None:
        guards.extend(
            evaluate_policies(
                policies, desired.numbers(), operations, actual, desired, allowed, context.identity
            )
        )
    problems = [
        *_kept_owners(desired, actual, context.identity),
        *check_manifest_facts(desired, context),
        *rights,
        *batch_problems,
        *guard_problems,
        *expired_problems,
    ]
    # Fingerprints and facts serve only a plan document (a saved plan, JSON output) and its
    # recheck: computed when first read, so a plan printed as text or applied at once does
    # not pay for them (issue 17: a few seconds for 1,000 projects of 50 members).
    return Plan(
        operations=tuple(operations),
        fingerprints=Lazy(
            lambda: {p.number: _fingerprint(live.get(p.number), p.number) for p in desired.projects}
        ),
        guards=tuple(guards),
        problems=tuple(_ordered(problems)),
        allow=allowed,
        identity=context.identity,
        sections=desired.sections(),
        live=Lazy(
            lambda: {
                p.number: project_facts(live[p.number]) if p.number in live else None
                for p in desired.projects
            }
        ),
        desired=Lazy(lambda: {p.number: project_facts(p) for p in desired.projects}),
    )


V = TypeVar("V")


class Lazy(Mapping[str, V]):
    """A read-only mapping computed by ``make`` on first use, then kept (two first uses at
    once in two threads both compute it, to the same value)."""

    def __init__(self, make: Callable[[], Mapping[str, V]]) -> None:
        self._make = make
        self._value: Mapping[str, V] | None = None

    @property
    def computed(self) -> bool:
        return self._value is not None

    def _data(self) -> Mapping[str, V]:
        value = self._value
        if value is None:
            value = self._value = self._make()
        return value

    def __getitem__(self, key: str) -> V:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"Lazy({dict(self._data())!r})" if self.computed else "Lazy(<not computed>)"


# What the digest covers: what the plan would do, to what, on whose behalf and with which
# guards lifted. Summary, guards and problems are derived (apply recomputes them).
_SIGNED = ("format_version", "target", "identity", "allow", "sections", "operations", "facts")


def _signed(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in _SIGNED}


def mark_invitations(operations: Iterable[Operation], context: LiveContext) -> list[Operation]:
    """Member and owner adds that the API will turn into invitations, marked ``invitation``
    in ``after`` so that plans say "invite" (the person is a member once they accept).

    Every add of a service application is one (contract C4), and so is each person its group
    create or update lists anew (marked ``invitesMembers``). A user's add of someone outside
    its organization is one too, but a plan cannot tell who is outside (email domains are no
    proof), so those adds keep saying "add".
    """
    if not context.service_app:
        return list(operations)
    marked = []
    for op in operations:
        if op.kind in (OpKind.ADD_MEMBER, OpKind.ADD_OWNER):
            op = op.carrying(payloads.marked(op, replace(payloads.sending(op), invitation=True)))
        elif op.kind in (OpKind.CREATE_GROUP, OpKind.UPDATE_GROUP) and payloads.listed_anew(op):
            group = payloads.GroupDef if op.kind is OpKind.CREATE_GROUP else payloads.GroupUpdate
            op = op.carrying(replace(group.of(op), invites_members=True))
        marked.append(op)
    return marked


def _sections(data: Any) -> dict[str, tuple[str, ...]] | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise TypeError("sections is not an object")
    return {str(k): tuple(str(s) for s in v) for k, v in data.items()}


def batch_adds(
    operations: Iterable[Operation], members_per_batch: int | None = None
) -> tuple[list[Operation], list[PlanProblem]]:
    """Sort, and number the member adds of each project and kind into API requests.

    Greedy over the sorted keys: a batch closes when the next member's roles would take it past
    MAX_ROLE_ASSIGNMENTS (or it already holds ``members_per_batch`` members). A member with more
    roles than that cannot be added at all (error).
    """
    result: list[Operation] = []
    problems: list[PlanProblem] = []
    current: tuple[str, OpKind] | None = None
    batch, used, members = -1, 0, 0
    for op in sorted(operations, key=Operation.sort_key):
        if op.kind not in _BATCHED:
            result.append(op)
            continue
        roles = len(payloads.given_roles(op))
        if roles > MAX_ROLE_ASSIGNMENTS:
            problems.append(
                PlanProblem(
                    "too-many-roles",
                    f"project {op.project}: {op.key} is given {roles} roles; the API accepts at "
                    f"most {MAX_ROLE_ASSIGNMENTS} role assignments per request",
                    ERROR,
                    op.project,
                    op.source,
                    (op.id,),
                    f"error: {roles} roles exceed {MAX_ROLE_ASSIGNMENTS} per request",
                )
            )
        if current != (op.project, op.kind):
            current, batch, used, members = (op.project, op.kind), 0, 0, 0
        elif used + roles > MAX_ROLE_ASSIGNMENTS or (
            members_per_batch is not None and members >= members_per_batch
        ):
            batch, used, members = batch + 1, 0, 0
        used += roles
        members += 1
        result.append(replace(op, batch=batch))
    return result, problems


KEPT = "kept"  # problem code: something the manifests drop that self-protection keeps


def _kept_owners(desired: State, actual: State, identity: str | None) -> list[PlanProblem]:
    """A warning per project whose manifest drops the applying identity's own ownership, which
    ``diff`` never removes: the plan must not claim live state matches the manifests."""
    if identity is None:
        return []
    found = []
    for want in desired.projects:
        live = actual.project(want.number)
        if live is None or want.managed("owners") is not Manage.AUTHORITATIVE:
            continue
        declared = {o.key for o in want.owners}
        if identity not in declared and any(o.key == identity for o in live.owners):
            found.append(
                PlanProblem(
                    KEPT,
                    f"project {want.number}: owner {identity} is kept although the manifest does "
                    "not list it: the applying identity never removes its own ownership "
                    "(self-protection); list it in `owners`, or remove it as another owner",
                    WARNING,
                    want.number,
                )
            )
    return found


def _fingerprint(project: Project | None, number: str) -> str:
    return fingerprint(project) if project is not None else absent_fingerprint(number)


def _ordered(problems: Sequence[PlanProblem]) -> list[PlanProblem]:
    return sorted(
        problems,
        key=lambda p: (p.severity != ERROR, p.project or "", p.code, p.source or "", p.message),
    )
