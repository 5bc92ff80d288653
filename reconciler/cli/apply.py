"""``apply``: execute a plan, made now from manifests or saved by ``plan --out`` (design.md §6).

Exit codes: 0 done (or nothing to do), 3 blocked by a guard, 4 partly applied (the report on
stderr lists applied, failed with the API's code and message, and skipped; also when
``--verify`` finds a difference left), 1 error (including a stale saved plan or a refused
confirmation).

Safety, in order: with ``--lock`` (or ``lock`` in the config) the lock is held from before
the read to the end, so concurrent runs never interleave; the plan is printed; guards are
(re-)checked against live state read now; a saved plan is refused, naming the projects, when
a fingerprint moved; nothing is written without a "yes" on a terminal or ``--auto-approve``; a
journal line is flushed per outcome.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path

import click

from reconciler.api import WAIT_CAP
from reconciler.apply import ApplyReport, Outcome, Status, apply_plan
from reconciler.cli.plan import (
    _CONFIG,
    _EXCLUDE,
    _NO_COLOR,
    _PROJECT,
    _SHARD,
    EXIT_BLOCKED,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PARTIAL,
    Choose,
    Output,
    compute_plan,
    connection,
    guard_settings,
    load_desired,
    load_setup,
    read_live,
    report_blocked,
    use_color_stdout,
)
from reconciler.cli.runlock import run_lock
from reconciler.cli.session import Session, open_session
from reconciler.cli.terminal import Journal, Progress, confirm, stream_is_tty
from reconciler.errors import ItwinAccessError, PlanError, StalePlanError
from reconciler.guards import check_allow, evaluate, rights_violations
from reconciler.impact import compute_impact
from reconciler.model import State
from reconciler.plan import OpKind, Plan, build_plan, state_fingerprint
from reconciler.policies import check_policy_allow, evaluate_policies
from reconciler.preflight import check_rights
from reconciler.render import load_json, render_text


class Interrupted(ItwinAccessError):
    """Ctrl-C during an apply: exit 130, as for any interrupted command."""

    exit_code = 130


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
@_CONFIG
@_PROJECT
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
    help="Hold this lock file while reading, planning and writing (default: `lock` in the "
    "config); runs sharing it never interleave.",
)
@_NO_COLOR
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: reading, on a terminal; applying, always).",
)
@_EXCLUDE
@_SHARD
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
    saved = _read_saved(plan_path) if plan_path is not None else None
    config = load_setup(config_path, paths)
    desired = load_desired(paths, config, projects, output) if paths else None
    if desired is not None:
        desired, note = Choose(None, exclude, shard).apply(desired)
        if note is not None:
            output.err(note)
    lock = lock_path or config.lock
    held = (
        run_lock(lock, config.lock_timeout, on_wait=output.err)
        if lock is not None
        else contextlib.nullcontext()
    )
    with held, open_session(config, connection()) as session:
        output.secrets = session.secrets()
        if saved is not None:
            plan, actual = _check_saved(session, saved, allowed, progress, output)
            # Live state was just re-read and matches the plan's fingerprints.
            impact = compute_impact(plan.operations, actual, session.config.policies.domains)
        else:
            assert desired is not None
            planned = compute_plan(
                session, desired, allow=allowed, progress=progress, output=output
            )
            plan = planned.plan
            impact = compute_impact(
                plan.operations, planned.actual, session.config.policies.domains
            )
        output.out(render_text(plan, color=use_color_stdout(no_color), impact=impact), nl=False)
        if plan.blocked:
            report_blocked(plan, output)
            if saved is not None:
                # The reviewed plan lifted it, but apply checks guards again with its own flags.
                for guard in sorted({v.guard for v in plan.blocked} & set(saved.allow)):
                    output.err(
                        f"The saved plan was made with --allow {guard}; apply checks the "
                        f"guards again: add --allow {guard} to apply it."
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
        code = _report(report, output)
        if verify and desired is not None:
            code = max(code, _verify(session, desired, report, output))
        return code


def _read_saved(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ItwinAccessError(f"cannot read the saved plan {path}: {exc.strerror}") from exc
    try:
        return load_json(text)
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from None  # which file, when CI passes several


def _check_saved(
    session: Session, saved: Plan, allowed: tuple[str, ...], progress: bool | None, out: Output
) -> tuple[Plan, State]:
    """Re-read the saved plan's projects: StalePlanError naming any that moved; then the guards
    again, on live state as it is now and with this run's ``--allow``."""
    numbers = sorted(saved.fingerprints)
    deleting = [op.project for op in saved.operations if op.kind is OpKind.DELETE_PROJECT]
    actual, context = read_live(session, numbers, progress, saved.sections, deleting)
    stale = [n for n in numbers if state_fingerprint(actual, n) != saved.fingerprints[n]]
    if stale:
        raise StalePlanError(stale)
    if saved.identity and context.identity and saved.identity != context.identity:
        out.err(
            f"Warning: the plan was made as {saved.identity}; applying as {context.identity} "
            "(guards are checked again for this identity)."
        )
    guards, problems = evaluate(
        saved.operations, actual, context, guard_settings(session.config), allowed
    )
    # The applying identity's rights are checked again too: it may not be the planner's.
    rights = check_rights(saved.operations, context)
    guards.extend(rights_violations(rights, allowed))
    # Policies too: the config's, as they are now, on the state the saved plan leads to.
    policies = session.config.policies
    check_policy_allow(allowed, policies)
    guards.extend(
        evaluate_policies(
            policies, numbers, saved.operations, actual, allow=allowed, identity=context.identity
        )
    )
    kept = tuple(p for p in saved.problems if p.code not in ("unverified", "permission-denied"))
    checked = dataclasses.replace(
        saved, guards=tuple(guards), allow=allowed, problems=(*kept, *problems, *rights)
    )
    return checked, actual


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

    try:
        return apply_plan(
            plan.operations,
            session.target,
            concurrency=session.config.concurrency,
            on_outcome=on_outcome,
            on_progress=bar,
        )
    except KeyboardInterrupt:
        # Requests in flight have finished (apply_plan waits for them); say what that means.
        record = f"; the journal {journal_path} lists them" if journal_path is not None else ""
        raise Interrupted(
            f"interrupted: {applied} of {len(plan.operations)} operation(s) applied before the "
            f"stop{record}. Run plan to see what is left; apply again finishes the job"
        ) from None
    finally:
        bar.close()
        if journal is not None:
            journal.close()
        # Said once per run, whatever the number of projects it concerns (issue 17: jobs).
        for notice in getattr(session.target, "notices", ()):
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
    again = build_plan(scope, actual, context, guard_settings(session.config))
    if again.is_empty:
        output.err(f"Verified: {len(touched)} project(s) match the manifests.")
        return EXIT_OK
    output.err("Verify failed: live state still differs from the manifests:")
    output.err(render_text(again).rstrip("\n"))
    return EXIT_PARTIAL
