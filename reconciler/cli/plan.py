"""``plan`` and ``drift``: read live, diff against the manifests, print the plan (design.md §6).

Exit codes: plan 0 no changes, 2 changes with ``--detailed-exitcode``, 3 blocked by a guard (the
plan still prints), 1 error; drift 0 none, 2 drift, 1 error. The plan (text, Markdown or JSON)
goes to stdout; diagnostics and progress to stderr.

The machinery here (config -> manifests -> session -> live read -> plan) is shared with
``apply``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import click

from reconciler.cli.common import (
    EXIT_BLOCKED,
    EXIT_CHANGES,
    EXIT_OK,
    Output,
    changed_since_option,
    config_option,
    connection,
    exclude_option,
    format_option,
    keep_for_the_run,
    load_setup,
    no_color_option,
    paths_argument,
    progress_option,
    project_option,
    read_live,
    shard_option,
    use_color_stdout,
)
from reconciler.cli.ledger import read_ledger, record_read, server_now
from reconciler.cli.selection import Change, Shard, changes, select
from reconciler.cli.session import Session, open_session_beside
from reconciler.cli.target import describe_target
from reconciler.cli.verbose import request_logger, verbose_options
from reconciler.config import Config
from reconciler.errors import ItwinAccessError, ManifestError, Severity
from reconciler.export.drift import split_drift
from reconciler.impact import Impact, compute_impact
from reconciler.invitations import Expiry, Sent, find_expired, keep_expired
from reconciler.manifest import check_permissions, load_manifests
from reconciler.model import LiveContext, State
from reconciler.plan.build import GuardSettings, Plan, build_plan
from reconciler.render import render_json, render_markdown, render_text
from reconciler.render.markdown import MAX_CHARS


def load_desired(
    paths: Sequence[Path], config: Config, projects: Sequence[str], output: Output
) -> State:
    """The desired State of the manifests (only ``projects`` when named).

    Every problem is listed on stderr, one per line; errors raise ``ManifestError`` after
    that (the CLI's one-line summary follows).
    """
    result = load_manifests(list(paths), backend=config.backend)
    for problem in result.problems:
        output.err(str(problem))
    try:
        state = result.raise_for_errors()
    except ManifestError as exc:
        raise _summary(exc) from None
    keep_for_the_run()
    if not projects:
        return state
    declared = set(state.numbers())
    unknown = sorted(set(projects) - declared)
    if unknown:
        raise ItwinAccessError(
            "--project " + ", ".join(unknown) + ": not declared in the manifests; "
            "check the number or the PATHs"
        )
    wanted = set(projects)
    return State(tuple(p for p in state.projects if p.number in wanted))


def check_live_permissions(desired: State, context: LiveContext, output: Output) -> None:
    """Role permissions unknown to the live permission list are manifest errors."""
    if context.known_permissions is None:
        return
    problems = check_permissions(desired, context.known_permissions)
    for problem in problems:
        output.err(str(problem))
    if any(p.severity is Severity.ERROR for p in problems):
        raise _summary(ManifestError(problems))


def _summary(exc: ManifestError) -> ManifestError:
    """The closing line after the problems were listed one per line: a count and what to do,
    not the first problem a second time."""
    errors = sum(1 for p in exc.problems if p.severity is Severity.ERROR)
    summary = ManifestError(exc.problems)
    summary.args = (
        f"{errors} error{'s' if errors != 1 else ''} in the manifests (listed above); "
        "fix them and run again (`itwin-access validate PATH...` checks offline)",
    )
    return summary


def guard_settings(config: Config) -> GuardSettings:
    """The guard thresholds of a run: the config's (``GuardSettings.from_config``); no flag or
    environment variable sets them."""
    return config.guards


@dataclass(frozen=True)
class Choose:
    """The project-selecting options of a run (``reconciler.cli.selection``)."""

    changed_since: str | None = None
    exclude: tuple[str, ...] = ()
    shard: str | None = None

    def files(self, paths: Sequence[Path]) -> tuple[Sequence[Path], Change | None]:
        """The manifest paths to load: with --changed-since, only what the change needs."""
        if self.changed_since is None:
            return paths, None
        change = changes(paths, self.changed_since)
        return (change.files if change.files is not None else paths), change

    def apply(self, desired: State, change: Change | None = None) -> tuple[State, str | None]:
        if change is None and not self.exclude and self.shard is None:
            return desired, None
        shard = Shard.parse(self.shard) if self.shard is not None else None
        chosen = select(desired, change=change, exclude=self.exclude, shard=shard)
        return chosen.desired, chosen.note


@dataclass
class Planned:
    desired: State
    actual: State
    context: LiveContext
    plan: Plan
    expired: tuple[Sent, ...] = ()  # declared people whose invitation expired (issue 15)


def compute_plan(
    session: Session,
    desired: State,
    *,
    allow: Sequence[str] = (),
    progress: bool | None = None,
    output: Output,
) -> Planned:
    actual, context = read_live(
        session, desired.numbers(), progress, desired.sections(), desired.deleting()
    )
    check_live_permissions(desired, context, output)
    # Issue 15: invitations the ledger saw that expired since, by the server's time.
    ledger, now = read_ledger(session.config, output.err), server_now(session)
    expiry = Expiry(ledger.expired(now), session.config.invitations.reinvite_expired)
    # A backend whose API adds fewer members per request says so (issue 7: Projects API, 1).
    per_batch = session.target.members_per_request
    plan = build_plan(
        desired,
        actual,
        context,
        guard_settings(session.config),
        allow,
        members_per_batch=per_batch,
        policies=session.config.policies,
        expiry=expiry,
    )
    record_read(session, ledger, actual, desired.sections(), now, output.err)
    expired = find_expired(desired, actual, expiry.expired)
    return Planned(desired, actual, context, plan, expired)


def render(
    plan: Plan,
    fmt: str,
    *,
    drift: bool,
    color: bool,
    saved_to: Path | None = None,
    extras: frozenset[str] | None = None,
    max_chars: int = MAX_CHARS,
    impact: Impact | None = None,
    scope: str | None = None,
    expired: frozenset[str] = frozenset(),
) -> str:
    """``extras``: for drift, the ids of the operations that remove unmanaged extras, and
    ``expired`` those re-inviting people whose invitation expired;
    ``max_chars``: where a Markdown comment is cut (``show`` never cuts); ``impact``: who
    gains or loses what (plan only); ``scope``: which projects were planned and why (the
    Markdown header says it)."""
    if fmt == "json":
        return render_json(plan, extras=extras, impact=impact, expired=expired)
    if fmt == "markdown":
        if saved_to is None:
            return render_markdown(
                plan, drift=drift, extras=extras, max_chars=max_chars, impact=impact, scope=scope,
                expired=expired,
            )  # fmt: skip
        # A comment cut to size points at the saved plan this very run wrote.
        hint = (
            f"The full plan is in the saved plan file `{saved_to.name}`: "
            f"`itwin-access show {saved_to.name}` prints it (`--format markdown` too)."
        )
        return render_markdown(
            plan, drift=drift, full_plan_hint=hint, extras=extras, max_chars=max_chars,
            impact=impact, scope=scope, expired=expired,
        )  # fmt: skip
    return render_text(
        plan, drift=drift, color=color, extras=extras, impact=impact, expired=expired
    )


def write_saved_plan(plan: Plan, path: Path, output: Output) -> None:
    text = output.scrub(render_json(plan))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        # 0600 from the start: a plan names every member of every project it covers.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.replace(path)  # never a half-written plan beside a good one
    except OSError as exc:
        raise ItwinAccessError(f"cannot write the plan to {path}: {exc.strerror}") from exc
    output.err(f"Saved the plan to {path}; apply it with: itwin-access apply --plan {path}")


def report_blocked(plan: Plan, output: Output) -> None:
    for violation in plan.blocked:
        output.err(f"Blocked by guard {violation}")


@click.command("plan")
@paths_argument
@config_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the saved plan (JSON) for `apply --plan`.",
)
@format_option
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none).")
@project_option
@click.option("--allow", multiple=True, metavar="GUARD", help="Lift a guard (repeatable).")
@no_color_option
@progress_option
@verbose_options
@changed_since_option
@exclude_option
@shard_option
def plan_command(
    paths: tuple[Path, ...],
    config_path: Path | None,
    out_path: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    projects: tuple[str, ...],
    allow: tuple[str, ...],
    no_color: bool,
    progress: bool | None,
    changed_since: str | None = None,
    exclude: tuple[str, ...] = (),
    shard: str | None = None,
) -> int:
    """Read live state, diff it against the manifests, print the plan.

    \b
    Exit codes: 0 success (with --detailed-exitcode: no changes),
    2 changes (with --detailed-exitcode), 3 blocked by a guard, 1 error.
    """
    return _plan_or_drift(
        paths, config_path, out_path, fmt, projects, allow, no_color, progress,
        drift=False, detailed=detailed_exitcode,
        choose=Choose(changed_since, exclude, shard),
    )  # fmt: skip


@click.command("drift", short_help="Report what was changed outside the manifests.")
@paths_argument
@config_option
@format_option
@project_option
@no_color_option
@progress_option
@verbose_options
@click.option(
    "--write",
    "write_dir",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write manifest edits adopting the live state under DIR (the manifest directory "
    "itself to edit in place), ready for a pull request.",
)
@exclude_option
@shard_option
def drift_command(
    paths: tuple[Path, ...],
    config_path: Path | None,
    fmt: str,
    projects: tuple[str, ...],
    no_color: bool,
    progress: bool | None,
    write_dir: Path | None,
    exclude: tuple[str, ...] = (),
    shard: str | None = None,
) -> int:
    """Report what was changed outside the manifests, and unmanaged extras.

    \b
    Exit codes: 0 no drift, 2 drift, 1 error.
    """
    return _plan_or_drift(
        paths, config_path, None, fmt, projects, (), no_color, progress,
        drift=True, detailed=True, write_dir=write_dir,
        choose=Choose(None, exclude, shard),
    )  # fmt: skip


def _plan_or_drift(
    paths: tuple[Path, ...],
    config_path: Path | None,
    out_path: Path | None,
    fmt: str,
    projects: tuple[str, ...],
    allow: tuple[str, ...],
    no_color: bool,
    progress: bool | None,
    *,
    drift: bool,
    detailed: bool,
    write_dir: Path | None = None,
    choose: Choose | None = None,
) -> int:
    output = Output()
    config = load_setup(config_path, paths)
    choose = choose or Choose()
    if choose.shard is not None:
        Shard.parse(choose.shard)  # a bad --shard fails before anything is read
    load, change = choose.files(paths)
    chooser = choose

    def load_chosen() -> tuple[State, str | None]:
        return chooser.apply(load_desired(load, config, projects, output), change)

    # The session opens and warms up while the manifests load (issue 17).
    session, (desired, note) = open_session_beside(
        config, connection(), request_logger(output.err), load_chosen
    )
    if note is not None and fmt != "markdown":
        output.err(note)
    with session:
        output.secrets = session.secrets()
        planned = compute_plan(session, desired, allow=allow, progress=progress, output=output)
        # What it was made against: the header of every format, and a saved plan's binding.
        document = out_path is not None or fmt == "json"
        target = describe_target(
            session,
            paths,
            planned.context.identity,
            organization=out_path is not None,
            manifests=document,
        )
    plan = replace(planned.plan, target=target)
    color = use_color_stdout(no_color)
    extras = None
    expired: frozenset[str] = frozenset()
    if drift:
        # Issue 7: "changed outside the manifests" vs "unmanaged extras", in every format; issue
        # 15: invitations expired unaccepted apart, not drift.
        split = split_drift(planned.desired, plan.operations)
        extras = frozenset(op.id for op in split.extras)
        expired = frozenset(op.id for op in split.expired)
    impact = None
    if not drift:
        # Issue 16: who gains or loses which access, first in every format.
        impact = compute_impact(plan.operations, planned.actual, config.policies.domains)
    text = render(
        plan, fmt, drift=drift, color=color, saved_to=out_path, extras=extras, impact=impact,
        scope=note, expired=expired,
    )  # fmt: skip
    output.out(text, nl=False)
    if out_path is not None:
        write_saved_plan(plan, out_path, output)
    if drift:
        # `--write DIR`: manifest edits adopting live state (reconciler/cli/export.py).
        # Imported here: only drift --write needs the round-trip YAML writer (ruamel).
        from reconciler.cli.export import write_adoption

        if write_dir is not None:
            # Never adopted as removals: people whose invitation expired stay declared.
            write_adoption(
                output,
                paths,
                planned.desired,
                keep_expired(planned.actual, planned.desired, planned.expired),
                [op for op in plan.operations if op.id not in expired],
                write_dir,
                planned.context.identity,
            )
        # An expired invitation alone is not drift: it must not page anyone (exit 0).
        drifted = any(op.id not in expired for op in plan.operations)
        return EXIT_CHANGES if drifted else EXIT_OK
    if plan.blocked:
        report_blocked(plan, output)
        return EXIT_BLOCKED
    if detailed and not plan.is_empty:
        return EXIT_CHANGES
    return EXIT_OK
