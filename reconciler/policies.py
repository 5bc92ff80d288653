"""Policies as code: rules a platform team sets in the config, checked on every plan (issue 16).

Pure, like the guards, and evaluated next to them before anything is written: a violation is a
``GuardViolation`` named ``policy:<rule name>`` that blocks the plan (exit 3). It names the rule,
the project, the person (or role) and the manifest location that caused it ("not in
manifests" for what only live state holds). It can be lifted with ``--allow policy:<name>``
only when the rule says ``liftable: true``.

A policy holds for the state the plan leads to: each project of the plan is replayed
(``effective.after_project``) and checked as a whole, so a violation already live blocks too, until
the manifests fix it or the rule is lifted. Pending invitations count, as everywhere.

Rules (``rule:``):

- ``allowed-domains``: whoever holds a permission matching ``permissions`` (shell patterns such
  as ``administration_*``; owners hold every permission) has an email in ``domains``;
- ``min-owners``: every project has at least ``count`` owners with an email in ``domains``
  (any domain when none is given);
- ``forbidden-for-invitations``: no pending invitation (a live one, or an add for someone
  outside the organization's ``domains``, whom the API invites) grants a permission matching
  ``permissions``; an owner invitation grants every permission;
- ``max-members-per-role``: a role matching ``roles`` (default every role) is held by at most
  ``count`` members (users, invitations and groups, a group counting as one member).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from fnmatch import fnmatchcase

from reconciler.effective import after_project, in_domains, outside
from reconciler.errors import PlanError
from reconciler.model import Project, State
from reconciler.plan.guards import GuardViolation
from reconciler.plan.operations import Operation
from reconciler.plan.settings import (
    ALLOWED_DOMAINS,
    FORBIDDEN_FOR_INVITATIONS,
    MAX_MEMBERS_PER_ROLE,
    MIN_OWNERS,
    POLICY_PREFIX,
    RULES,
    Policies,
    PolicyRule,
)

# Re-exported: the rules' names and values are read here beside their evaluation.
__all__ = [
    "ALLOWED_DOMAINS",
    "FORBIDDEN_FOR_INVITATIONS",
    "MAX_MEMBERS_PER_ROLE",
    "MIN_OWNERS",
    "POLICY_PREFIX",
    "RULES",
    "Policies",
    "PolicyRule",
    "check_policy_allow",
    "evaluate_policies",
]
NOT_IN_MANIFESTS = "not in manifests"
EVERY_PERMISSION = "every permission (owner)"


def check_policy_allow(allow: Collection[str], policies: Policies) -> None:
    """PlanError for ``--allow policy:NAME`` naming no rule, or a rule that is not liftable."""
    rules = {r.guard: r for r in policies.rules}
    for name in sorted(a for a in allow if a.startswith(POLICY_PREFIX)):
        rule = rules.get(name)
        if rule is None:
            known = ", ".join(sorted(rules)) or "none configured"
            raise PlanError(f"unknown policy {name!r} in --allow; policies: {known}")
        if not rule.liftable:
            raise PlanError(
                f"{name} cannot be allowed: the rule does not say `liftable: true`"
                + (f" ({rule.source})" if rule.source else "")
            )


def evaluate_policies(
    policies: Policies,
    numbers: Iterable[str],
    operations: Sequence[Operation],
    actual: State,
    desired: State | None = None,
    allow: Collection[str] = (),
    identity: str | None = None,
) -> list[GuardViolation]:
    """Every violation of every rule in the projects ``numbers`` once ``operations`` are applied.

    ``desired`` gives manifest locations; without it (a saved plan) the operations' own.
    ``identity``, the applying identity, is exempt from ``allowed-domains``: the API makes
    whoever creates a project its owner, and the plan keeps its ownership (design.md §4).
    """
    if not policies.rules:
        return []
    is_external = outside(policies.domains)
    by_project: dict[str, list[Operation]] = {}
    for op in operations:
        by_project.setdefault(op.project, []).append(op)
    live = {p.number: p for p in actual.projects}
    wanted = {p.number: p for p in desired.projects} if desired is not None else {}
    found: list[GuardViolation] = []
    for number in dict.fromkeys(numbers):
        ops = by_project.get(number, [])
        after = after_project(live.get(number), number, ops, is_external)
        if after is None:
            continue
        where = _Locator(wanted.get(number), ops)
        for rule in policies.rules:
            for message, subject in _check(rule, after, identity):
                location = where.of(subject)
                found.append(
                    GuardViolation(
                        rule.guard,
                        f"project {number}: {message} ({location})",
                        number,
                        {"rule": rule.rule, "subject": subject, "location": location},
                        allowed=rule.liftable and rule.guard in allow,
                        lift=rule.liftable,
                    )
                )
    return found


def _check(rule: PolicyRule, after: Project, identity: str | None) -> list[tuple[str, str]]:
    """(message, subject) per violation; the subject is an email, "role:NAME" or ""."""
    role_perms = {r.display_name: r.permissions for r in after.roles}
    if rule.rule == ALLOWED_DOMAINS:
        return _allowed_domains(rule, after, role_perms, identity)
    if rule.rule == MIN_OWNERS:
        owners = [o.email for o in after.owners if o.email and _in(o.email, rule.domains)]
        if len(owners) >= rule.count:
            return []
        of = f" from {_domains(rule.domains)}" if rule.domains else ""
        return [(f"{len(owners)} owner(s){of}, at least {rule.count} required", "")]
    if rule.rule == FORBIDDEN_FOR_INVITATIONS:
        found = []
        for o in after.owners:
            if o.pending and o.email and rule.permissions:
                found.append((f"{o.email} is invited as an owner ({EVERY_PERMISSION})", o.email))
        for m in after.members:
            if not (m.pending and m.email):
                continue
            granted = {p for role in m.roles for p in role_perms.get(role, ())}
            matched = sorted(p for p in granted if _matches(p, rule.permissions))
            if matched:
                found.append((f"{m.email} is invited with {', '.join(matched)}", m.email))
        return found
    # MAX_MEMBERS_PER_ROLE
    found = []
    for role in after.roles:
        if rule.roles and not _matches(role.display_name, rule.roles):
            continue
        holders = [m.key for m in after.members if role.display_name in m.roles]
        holders += [
            f"group {g.group!r}" for g in after.group_members if role.display_name in g.roles
        ]
        if len(holders) > rule.count:
            found.append(
                (
                    f"role {role.display_name!r} is held by {len(holders)} members "
                    f"(at most {rule.count}): {', '.join(sorted(holders)[:10])}"
                    + (" ..." if len(holders) > 10 else ""),
                    f"role:{role.display_name}",
                )
            )
    return found


def _allowed_domains(
    rule: PolicyRule, after: Project, role_perms: dict[str, frozenset[str]], identity: str | None
) -> list[tuple[str, str]]:
    held: dict[str, set[str]] = {}
    for m in after.members:
        if m.email:
            held.setdefault(m.email, set()).update(
                p for role in m.roles for p in role_perms.get(role, ())
            )
    groups = {g.name: g for g in after.groups}
    for gm in after.group_members:
        perms = {p for role in gm.roles for p in role_perms.get(role, ())}
        for email in groups[gm.group].members if gm.group in groups else ():
            held.setdefault(email, set()).update(perms)
    owners = {o.email for o in after.owners if o.email}
    found = []
    for email in sorted(set(held) | owners):
        if email == identity or _in(email, rule.domains):
            continue
        matched = sorted(p for p in held.get(email, ()) if _matches(p, rule.permissions))
        if email in owners:
            matched = [EVERY_PERMISSION]
        if matched:
            found.append(
                (
                    f"{email} would hold {', '.join(matched)}, allowed only for "
                    f"{_domains(rule.domains)}",
                    email,
                )
            )
    return found


class _Locator:
    """The manifest location behind a subject of a project, else the operations', else none."""

    def __init__(self, desired: Project | None, ops: Sequence[Operation]) -> None:
        self.desired = desired
        self.ops = {op.key: op.source for op in ops if op.source}

    def of(self, subject: str) -> str:
        d = self.desired
        if d is not None:
            if subject.startswith("role:"):
                role = d.role(subject[5:])
                if role is not None and role.source is not None:
                    return str(role.source)
            sources = [m.source for m in d.members if m.key == subject]
            sources += [o.source for o in d.owners if o.key == subject]
            for source in sources:
                if source is not None:
                    return str(source)
            for group in d.groups:
                if subject in group.members and group.source is not None:
                    return str(group.source)
            if not subject and d.source is not None:
                return str(d.source)
        key = subject[5:] if subject.startswith("role:") else subject
        return self.ops.get(key) or NOT_IN_MANIFESTS


def _matches(name: str, patterns: Collection[str]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def _in(email: str, domains: Collection[str]) -> bool:
    if not domains:
        return True
    return in_domains(email, {d.lower().lstrip("@") for d in domains})


def _domains(domains: Collection[str]) -> str:
    return ", ".join("@" + d.lstrip("@") for d in domains)
