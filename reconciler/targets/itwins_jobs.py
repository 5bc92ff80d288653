"""Member changes of one project as Access Control jobs (contract §4, C8; issue 17 item 2).

A job carries up to ``JOB_ACTIONS`` entries in each of three action groups: ``assignRoles``
(``{email, roleIds}``: adds roles, and adds or invites someone who is no member),
``unassignRoles`` (``{email, roleIds}``; removing the last role removes the member) and
``removeMembers`` (``{email}``). So a project's member adds, role changes and removals (one
POST of 50 role assignments per add batch, one PATCH per re-roled member, one DELETE per
removed member) become one write per 100 of each.

- ``job_batches`` numbers the operations a job can carry, per project, closing a job when one
  of its action groups would pass 100; ``apply`` sends each numbered group in one
  ``Target.execute`` call.
- A job that is not finished when created (``Active``) is polled until it is.
  ``PartialCompleted`` or ``Failed``: ``GET .../actions`` says which actions failed; their
  operations fail (``PartialFailure``), the others are done, and the next run converges on
  what is left. Removing someone who is already no member (``TeamMemberNotFound``) is done,
  as a 404 on a DELETE is, which also makes a resent job (after a dropped answer) safe. A
  job refused as a whole (422: a bad email or an unknown role id) is redone one operation at
  a time, so each failure is its own.
- An identity that may not create jobs (403: C8 [I] needs ``administration_invite_member``,
  plus ``administration_remove_member`` to unassign or remove) falls back to per-member
  requests for the rest of the run, said once in ``notices``.
- What a job cannot express keeps its own endpoint: members without an email (deleted from
  IMS), roles a name cannot be resolved for, pending invitations (re-invite, cancel), owners,
  groups and group members.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from reconciler.api import AccessControlApi
from reconciler.api.access import JOB_ACTIONS
from reconciler.api.envelope import error_fields
from reconciler.errors import (
    ApiError,
    Forbidden,
    ItwinAccessError,
    NotLive,
    PartialFailure,
    Unprocessable,
)
from reconciler.plan.build import MAX_ROLE_ASSIGNMENTS, Operation, OpKind
from reconciler.plan.payloads import MemberPayload, given_roles, held_roles

JSON = dict[str, Any]
JOB_KINDS = frozenset({OpKind.ADD_MEMBER, OpKind.UPDATE_MEMBER, OpKind.REMOVE_MEMBER})
GROUPS = ("assignRoles", "unassignRoles", "removeMembers")
DONE = frozenset({"Completed", "PartialCompleted", "Failed"})
# Polling an unfinished job: first wait, growth, cap, and how long before giving up.
POLL_FIRST, POLL_CAP, POLL_DEADLINE = 0.25, 5.0, 600.0
FALLBACK_NOTICE = (
    "the applying identity may not create Access Control jobs (403); member changes are sent "
    "one request each instead (grant administration_invite_member and "
    "administration_remove_member, or make it an owner, for bulk jobs)"
)


def _email(op: Operation) -> str | None:
    member = MemberPayload.of(op)
    email = member.new.email if member.new is not None else None
    if op.kind is not OpKind.ADD_MEMBER:
        email = member.old.email if member.old is not None else None
    return email.lower() if email else None


def _pending(op: Operation) -> bool:
    old = MemberPayload.of(op).old
    return old is not None and old.pending


def groups_of(op: Operation) -> tuple[str, ...]:
    """The action groups an operation takes an entry in (empty: a job cannot carry it)."""
    if op.kind not in JOB_KINDS or _email(op) is None:
        return ()
    if op.kind is OpKind.ADD_MEMBER:
        return ("assignRoles",)
    if op.kind is OpKind.REMOVE_MEMBER:
        return () if _pending(op) else ("removeMembers",)
    if _pending(op):
        return ()
    held, given = set(held_roles(op)), set(given_roles(op))
    added, dropped = given - held, held - given
    return (("assignRoles",) if added else ()) + (("unassignRoles",) if dropped else ())


def job_batches(operations: Sequence[Operation]) -> dict[str, int]:
    """Operation id -> job number within its project, for the operations a job can carry.

    Greedy in plan order: a job closes when one of its action groups would pass
    ``JOB_ACTIONS`` entries.
    """
    out: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    number: dict[str, int] = {}
    for op in sorted(operations, key=Operation.sort_key):
        groups = groups_of(op)
        if not groups:
            continue
        used = counts.setdefault(op.project, dict.fromkeys(GROUPS, 0))
        if any(used[g] + 1 > JOB_ACTIONS for g in groups):
            number[op.project] = number.get(op.project, 0) + 1
            used = counts[op.project] = dict.fromkeys(GROUPS, 0)
        for g in groups:
            used[g] += 1
        out[op.id] = number.get(op.project, 0)
    return out


class JobWrites:
    """Mixed into ``itwins_write.Writer``: runs a job batch, or falls back per operation."""

    access: AccessControlApi
    jobs_enabled: bool
    notices: list[str]
    _job_ops: set[str]
    _lock: threading.Lock

    def project_id(self, op: Operation) -> str:
        raise NotImplementedError

    def role_ids(self, itwin_id: str, names: Sequence[str]) -> list[str]:
        raise NotImplementedError

    def run_one(self, op: Operation) -> None:
        raise NotImplementedError

    def _add_members(self, ops: Sequence[Operation]) -> None:
        raise NotImplementedError

    def _cancel_shadowed(self, itwin_id: str, email: str) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ batches

    def job_batches(self, operations: Sequence[Operation]) -> dict[str, int]:
        """``apply`` asks this once per run: the job numbers (none when jobs are off)."""
        if not self.jobs_enabled:
            return {}
        batches = job_batches(operations)
        self._job_ops.update(batches)
        return batches

    def is_job(self, ops: Sequence[Operation]) -> bool:
        return bool(ops) and ops[0].id in self._job_ops

    def run_job(self, ops: Sequence[Operation]) -> None:
        """Carry ``ops`` (one project) in one job; raise ``PartialFailure`` for what failed."""
        itwin_id = self.project_id(ops[0])
        if not self.jobs_enabled:
            self._one_by_one(ops)
            return
        actions, carried, alone = self._actions(itwin_id, ops)
        failures: dict[str, ItwinAccessError] = {}
        if carried:
            try:
                failures.update(self._submit(itwin_id, actions, carried))
            except (Forbidden, Unprocessable) as exc:
                if isinstance(exc, Forbidden):
                    with self._lock:  # jobs of several projects may be refused at once
                        if self.jobs_enabled:
                            self.jobs_enabled = False
                            self.notices.append(FALLBACK_NOTICE)
                    alone = [*carried, *alone]
                else:  # Unprocessable: refused whole, so redo one by one, each its own failure
                    alone = [*carried, *alone]
            else:
                for op in carried:
                    if op.id not in failures and op.kind is not OpKind.ADD_MEMBER:
                        self._cancel_shadowed(itwin_id, op.key)
        try:
            self._one_by_one(alone)
        except PartialFailure as exc:
            failures.update(exc.failures)
        if failures:
            raise PartialFailure(failures)

    # ------------------------------------------------------------------ internals

    def _actions(
        self, itwin_id: str, ops: Sequence[Operation]
    ) -> tuple[dict[str, list[JSON]], list[Operation], list[Operation]]:
        """The job's action groups, the operations it carries, and those it cannot (a role
        name with no id in the project: e.g. an Account role on a member)."""
        actions: dict[str, list[JSON]] = {g: [] for g in GROUPS}
        carried: list[Operation] = []
        alone: list[Operation] = []
        for op in ops:
            groups = groups_of(op)
            if not groups:
                alone.append(op)
                continue
            email = str(_email(op))
            if op.kind is OpKind.REMOVE_MEMBER:
                actions["removeMembers"].append({"email": email})
                carried.append(op)
                continue
            held, given = set(held_roles(op)), set(given_roles(op))
            added, dropped = sorted(given - held), sorted(held - given)
            try:
                add_ids = self.role_ids(itwin_id, added) if added else []
                drop_ids = self.role_ids(itwin_id, dropped) if dropped else []
            except (ApiError, NotLive):
                alone.append(op)
                continue
            if add_ids:
                actions["assignRoles"].append({"email": email, "roleIds": add_ids})
            if drop_ids:
                actions["unassignRoles"].append({"email": email, "roleIds": drop_ids})
            carried.append(op)
        return actions, carried, alone

    def _submit(
        self, itwin_id: str, actions: Mapping[str, list[JSON]], carried: Sequence[Operation]
    ) -> dict[str, ApiError]:
        job = self.access.create_job(itwin_id, actions)
        job_id = str(job.get("id") or "")
        status = str(job.get("status") or "")
        waited, delay = 0.0, POLL_FIRST
        while status not in DONE:
            if not job_id or waited >= POLL_DEADLINE:
                raise ApiError(
                    "GET", f"/accesscontrol/itwins/{itwin_id}/jobs/{job_id}", None, "JobNotDone",
                    f"job {job_id or '(no id)'} still {status or 'unknown'} after {waited:.0f} s",
                )  # fmt: skip
            self.access.client.retry.sleep(delay)
            waited += delay
            delay = min(delay * 2, POLL_CAP)
            job = self.access.get_job(itwin_id, job_id)
            status = str(job.get("status") or "")
        if status == "Completed":
            return {}
        return self._failed_actions(itwin_id, job_id, status, carried)

    def _failed_actions(
        self, itwin_id: str, job_id: str, status: str, carried: Sequence[Operation]
    ) -> dict[str, ApiError]:
        """Map the failed actions of a ``PartialCompleted`` / ``Failed`` job to operations.

        By email: an operation fails when any of its entries failed. Actions that cannot be
        read back fail every operation (a later run converges on what did happen)."""
        path = f"/accesscontrol/itwins/{itwin_id}/jobs/{job_id}"
        try:
            actions = self.access.job_actions(itwin_id, job_id)
        except ApiError:
            actions = {}
        failed: dict[str, ApiError] = {}
        for group in GROUPS:
            entries = actions.get(group)
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict) or entry.get("status") != "Failed":
                    continue
                code, message, _ = error_fields(entry.get("error"))
                if group == "removeMembers" and code == "TeamMemberNotFound":
                    continue  # already gone: what was wanted (as a 404 on DELETE is)
                email = str(entry.get("email") or "").lower()
                failed[email] = ApiError(
                    "POST", path, None, code or f"Job{status}",
                    message or f"{group} failed in job {job_id}", email,
                )  # fmt: skip
        out: dict[str, ApiError] = {}
        for op in carried:
            email = _email(op) or ""
            if email in failed:
                out[op.id] = failed[email]
            elif not actions:
                out[op.id] = ApiError("POST", path, None, f"Job{status}", f"job {job_id}")
        return out

    def _one_by_one(self, ops: Sequence[Operation]) -> None:
        """Per-member requests: adds batched (50 role assignments each), the rest alone."""
        failures: dict[str, ItwinAccessError] = {}

        def attempt(targets: Sequence[Operation], run: Callable[[], None]) -> None:
            try:
                run()
            except ItwinAccessError as exc:
                failures.update({op.id: exc for op in targets})

        adds = [op for op in ops if op.kind is OpKind.ADD_MEMBER]
        batch: list[Operation] = []
        used = 0
        for op in adds:
            roles = len(set(given_roles(op)))
            if batch and used + roles > MAX_ROLE_ASSIGNMENTS:
                attempt(batch, partial(self._add_members, batch))
                batch, used = [], 0
            batch.append(op)
            used += roles
        if batch:
            attempt(batch, partial(self._add_members, batch))
        for op in ops:
            if op.kind is not OpKind.ADD_MEMBER:
                attempt([op], partial(self.run_one, op))
        if failures:
            raise PartialFailure(failures)
