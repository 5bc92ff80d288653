"""``apply``: execute a plan, made now from manifests or saved by ``plan --out`` (design.md §6).

Exit codes: 0 done (or nothing to do), 3 blocked by a guard, 4 partly applied (the report on
stderr lists applied, failed with the API's code and message, and skipped; also when
``--verify`` finds a difference left), 1 error (including a stale saved plan or a refused
confirmation).

Safety, in order: a saved plan is refused as edited when its digest does not match, and refused
before any request when the config or environment names another API, backend or identity than
the one it was made against (``reconciler.cli.target``); with ``--lock`` (or ``lock`` in the
config) the lock is held from before the projects' live state is read (the identity and the
permission catalogue are read earlier, while the manifests load) to the end, so concurrent runs
never interleave; a saved plan's projects are read again and its operations recomputed from the
facts it stores: identical operations proceed, different ones are refused, listing what moved
fact by fact; guards are checked again on live state read now (for a saved plan, with the
allowances it recorded); the plan is printed; nothing is written without a "yes" on a terminal
or ``--auto-approve``; a journal line is flushed per outcome.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import click

from reconciler.api import WAIT_CAP
from reconciler.apply import ApplyReport, Outcome, Status, apply_plan
from reconciler.cli.common import (
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    Output,
    config_option,
    connection,
    exclude_option,
    load_setup,
    no_color_option,
    project_option,
    read_live,
    shard_option,
    use_color_stdout,
)
from reconciler.cli.ledger import read_ledger, record_read, record_sent, server_now
from reconciler.cli.plan import (
    Choose,
    compute_plan,
    guard_settings,
    load_desired,
    report_blocked,
)
from reconciler.cli.runlock import run_lock
from reconciler.cli.session import Session, open_session_beside
from reconciler.cli.target import bind_saved, describe_target
from reconciler.cli.terminal import (
    EXIT_TERMINATED,
    Journal,
    Progress,
    Terminated,
    confirm,
    sigterm_sets,
    stream_is_tty,
)
from reconciler.cli.verbose import request_logger, verbose_options
from reconciler.errors import ItwinAccessError, PlanError, StalePlanError
from reconciler.impact import compute_impact
from reconciler.invitations import Expiry
from reconciler.model import State
from reconciler.plan.build import Plan, build_plan
from reconciler.plan.guards import check_allow
from reconciler.plan.replan import check_identity, deleting, recheck
from reconciler.render import load_json, render_text


class Interrupted(ItwinAccessError):
    """Ctrl-C during an apply: exit 130, as for any interrupted command."""

    exit_code = 130


class TerminatedApply(Interrupted):
    """SIGTERM during an apply (a cancelled CI job): the same clean stop, exit 143."""

    exit_code = EXIT_TERMINATED


# A partly-failed run lists every failure and skip, and this many applied operations (the
# journal has them all).
APPLIED_LISTED = 20


@click.command("apply")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Execute exactly this saved plan (from `plan --out`), if live state has not moved.",
)
@config_option
@project_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (CI).")
@click.option("--allow", multiple=True, metavar="GUARD", help="Lift a guard (repeatable).")
@click.option(
    "--journal",
    "journal_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append one JSON line per operation outcome to FILE.",
)
@click.option(
    "--verify", is_flag=True, help="Re-read the touched projects afterwards; fail if they differ."
)
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Hold this lock file while reading the projects' live state, planning and writing "
    "(default: `lock` in the config); runs sharing it never interleave.",
)
@no_color_option
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: reading, on a terminal; applying, always).",
)
@exclude_option
@shard_option
@verbose_options
def apply_command(
    paths: tuple[Path, ...],
    plan_path: Path | None,
    config_path: Path | None,
    projects: tuple[str, ...],
    auto_approve: bool,
    allow: tuple[str, ...],
    journal_path: Path | None,
    verify: bool,
    lock_path: Path | None,
    no_color: bool,
    progress: bool | None,
    exclude: tuple[str, ...] = (),
    shard: str | None = None,
) -> int:
    """Make live state match the manifests (or a saved plan).

    \b
    Exit codes: 0 done (or nothing to do), 3 blocked by a guard,
    4 partly applied (run apply again to finish), 1 error or not confirmed.
    """
    output = Output()
    allowed = check_allow(allow)  # an unknown guard name fails before anything is read
    if plan_path is None and not paths:
        raise click.UsageError("give the manifest PATHs, or --plan FILE")
    if plan_path is not None and (projects or exclude or shard):
        raise click.UsageError(
            "--project, --exclude and --shard cannot narrow a saved plan; plan again with them"
        )
    if plan_path is not None and verify and not paths:
        raise click.UsageError("--verify with --plan needs the manifest PATHs to compare with")
    saved = read_saved(plan_path) if plan_path is not None else None
    config = load_setup(config_path, paths)
    if saved is not None:
        # An allowance named now must already be in the plan: reviewers approved those only.
        extra = sorted(set(allowed) - set(saved.allow))
        if extra:
            raise PlanError(
                f"--allow {', '.join(extra)} was not recorded in the saved plan; allowances "
                f"travel with the plan so reviewers see them: plan again with --allow {extra[0]}"
            )
        # Bound to its target before any request: refused, naming both, if the config or
        # environment names another; applied where it was made if they name none.
        config = bind_saved(saved.target, config, connection())

    def load_chosen() -> tuple[State | None, str | None]:
        if not paths:
            return None, None
        return Choose(None, exclude, shard).apply(load_desired(paths, config, projects, output))

    # The session opens and warms up (reads only: identity, permission catalogue) while the
    # manifests load (issue 17); the lock is held from before live state is read, as ever.
    session, (desired, note) = open_session_beside(
        config, connection(), request_logger(output.err), load_chosen
    )
    if note is not None:
        output.err(note)
    lock = lock_path or config.lock
    held = (
        run_lock(lock, config.lock_timeout, on_wait=output.err)
        if lock is not None
        else contextlib.nullcontext()
    )
    with session, held:
        output.secrets = session.secrets()
        if saved is not None:
            plan, actual = _check_saved(session, saved, progress, output)
            # Live state was just re-read, and the plan recomputed on it is this one.
            impact = compute_impact(plan.operations, actual, session.config.policies.domains)
        else:
            assert desired is not None
            planned = compute_plan(
                session, desired, allow=allowed, progress=progress, output=output
            )
            # Only shown (its header line), never written: no digest of the manifests.
            target = describe_target(session, paths, planned.context.identity, manifests=False)
            plan = dataclasses.replace(planned.plan, target=target)
            impact = compute_impact(
                plan.operations, planned.actual, session.config.policies.domains
            )
        output.out(render_text(plan, color=use_color_stdout(no_color), impact=impact), nl=False)
        if plan.blocked:
            report_blocked(plan, output)
            if saved is not None:
                # Allowances travel with the plan: what blocks now was not recorded in it.
                guards = sorted({v.guard for v in plan.blocked if v.liftable})
                if guards:
                    output.err(
                        "The saved plan did not record --allow "
                        + ", --allow ".join(guards)
                        + "; plan again with it so reviewers approve it, then apply that plan."
                    )
            return EXIT_BLOCKED
        if plan.errors:
            # Rights problems block above (guard permission-denied); what is left (e.g. a member
            # with more roles than one request may carry) fails only its own operations.
            output.err(
                f"Warning: the plan has {len(plan.errors)} problem(s) listed under Problems; "
                "the operations they name are expected to fail."
            )
        if plan.is_empty:
            output.err("Nothing to apply.")
            return EXIT_OK
        if not auto_approve and not _approved(output):
            return EXIT_ERROR
        report = _execute(session, plan, journal_path, progress, output)
        record_sent(session, [o.operation for o in report.applied], output.err)  # issue 15
        code = _report(report, output)
        if verify and desired is not None:
            code = max(code, _verify(session, desired, report, output))
        return code


def read_saved(path: Path) -> Plan:
    """The saved plan at ``path``; PlanError (naming the file) when unreadable or edited."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ItwinAccessError(f"cannot read the saved plan {path}: {exc.strerror}") from exc
    try:
        return load_json(text)
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from None  # which file, when CI passes several


def _check_saved(
    session: Session, saved: Plan, progress: bool | None, out: Output
) -> tuple[Plan, State]:
    """Re-read the saved plan's projects (the sections it read) and recheck it on them
    (``reconciler.plan.replan``): identical operations proceed (the guards, rights and policies
    as they are now, with the allowances the plan recorded); different ones raise
    StalePlanError after listing what moved, fact by fact. Nothing is written to the platform
    here (the invitation ledger learns from the read)."""
    numbers = sorted(saved.desired)
    actual, context = read_live(session, numbers, progress, saved.sections, deleting(saved))
    check_identity(saved, context)  # before the ledger records anything of this read
    check = recheck(
        saved,
        actual,
        context,
        guard_settings(session.config),
        session.target.members_per_request,
        session.config.policies,  # the config's, as they are now
        _expiry(session, actual, saved.sections, out),
    )
    if check.stale:
        out.err("Live state moved since the plan was made, and the plan it gives now differs:")
        for lines in check.moved.values():
            for line in lines:
                out.err(f"  {line}")
        for line in check.changes:
            out.err(f"  {line}")
        raise StalePlanError(list(check.projects))
    if not check.moved:
        out.err("Live state is as it was when the plan was made: applying the saved plan.")
    else:
        count = sum(len(lines) for lines in check.moved.values())
        out.err(
            f"Live state moved since the plan was made ({count} fact(s) in "
            f"{', '.join(sorted(check.moved))}), but the recomputed operations are identical: "
            "applying the saved plan."
        )
    return check.plan, actual


def _expiry(
    session: Session,
    actual: State,
    sections: Mapping[str, Sequence[str]] | None,
    out: Output,
) -> Expiry:
    """The expired invitations of the ledger, and the ledger updated from this read."""
    ledger, now = read_ledger(session.config, out.err), server_now(session)
    record_read(session, ledger, actual, sections, now, out.err)
    return Expiry(ledger.expired(now), session.config.invitations.reinvite_expired)


def _approved(output: Output) -> bool:
    if not stream_is_tty(sys.stdin):
        output.err(
            "Refusing to apply: no terminal to confirm on. Review the plan above and run again "
            "with --auto-approve (e.g. in CI)."
        )
        return False
    if confirm("Apply these changes?"):
        return True
    output.err("Apply cancelled; nothing was changed.")
    return False


def _execute(
    session: Session,
    plan: Plan,
    journal_path: Path | None,
    progress: bool | None,
    output: Output,
) -> ApplyReport:
    # Apply progress is always shown (a line per 10 % off a terminal) unless --no-progress.
    bar = Progress("Applying operations", enabled=True if progress is None else progress)
    journal = Journal(journal_path) if journal_path is not None else None
    applied = 0

    def on_outcome(outcome: Outcome) -> None:
        nonlocal applied
        applied += outcome.status is Status.APPLIED
        if journal is not None:
            journal.write(outcome.to_dict())

    stop = threading.Event()
    try:
        with sigterm_sets(stop):
            report = apply_plan(
                plan.operations,
                session.target,
                concurrency=session.config.concurrency,
                on_outcome=on_outcome,
                on_progress=bar,
                stop=stop,
            )
        if stop.is_set() and report.interrupted:
            raise Terminated
        return report
    except KeyboardInterrupt as exc:
        # Requests in flight have finished and are recorded (apply_plan waits for them); say
        # what that means.
        record = f"; the journal {journal_path} lists them" if journal_path is not None else ""
        stop_error = Interrupted
        what = "interrupted"
        if isinstance(exc, Terminated):
            stop_error, what = TerminatedApply, "terminated (SIGTERM)"
        raise stop_error(
            f"{what}: {applied} of {len(plan.operations)} operation(s) applied before the "
            f"stop{record}. Run plan to see what is left; apply again finishes the job"
        ) from None
    finally:
        bar.close()
        if journal is not None:
            journal.close()
        # Said once per run, whatever the number of projects it concerns (issue 17: jobs).
        for notice in session.target.notices:
            output.err(f"Note: {notice}")


def _report(report: ApplyReport, output: Output) -> int:
    if report.complete:
        output.err(f"Apply complete: {len(report.applied)} operation(s) applied.")
        return EXIT_OK
    output.err(
        f"Apply partly failed: {len(report.applied)} applied, {len(report.failed)} failed, "
        f"{len(report.skipped)} skipped. Fix the cause and run apply again to finish."
    )
    for o in report.failed:
        status = f"{o.http_status} " if o.http_status is not None else ""
        detail = ": ".join(x for x in (o.code, o.message) if x)
        output.err(f"  failed  {o.operation.id}: {status}{detail}")
    for o in report.skipped:
        output.err(f"  skipped {o.operation.id}: depends on {o.cause}, which failed")
    applied = report.applied
    for o in applied[:APPLIED_LISTED]:
        output.err(f"  applied {o.operation.id}")
    if len(applied) > APPLIED_LISTED:
        output.err(f"  ... and {len(applied) - APPLIED_LISTED} more applied (see --journal)")
    capped = next((o for o in report.failed if o.code == WAIT_CAP), None)
    if capped is not None:
        # One line, last, for the reason the run ended (the failures above all say it).
        output.err(f"Stopped: {capped.message}")
    return EXIT_PARTIAL if any(o.status is not Status.APPLIED for o in report.outcomes) else 0


def _verify(session: Session, desired: State, report: ApplyReport, output: Output) -> int:
    touched = set(report.projects())
    scope = State(tuple(p for p in desired.projects if p.number in touched))
    actual, context = read_live(session, scope.numbers(), None, scope.sections(), scope.deleting())
    expiry = _expiry(session, actual, scope.sections(), output)
    again = build_plan(scope, actual, context, guard_settings(session.config), expiry=expiry)
    if again.is_empty:
        output.err(f"Verified: {len(touched)} project(s) match the manifests.")
        return EXIT_OK
    output.err("Verify failed: live state still differs from the manifests:")
    output.err(render_text(again).rstrip("\n"))
    return EXIT_PARTIAL
