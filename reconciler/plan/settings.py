"""What the config sets for the planner, as values: the member-removal thresholds the guards
apply (``GuardSettings``) and the policy rules ``reconciler.policies`` evaluates (``Policies``).

Apart from the guards and policies that use them so that reading a config (``validate``, the
pre-commit hook) does not import the planner: 30 ms of ``validate``'s start (issue 17).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POLICY = "policy:"  # prefix of the violations of the config's policies (reconciler.policies)


@dataclass(frozen=True)
class GuardSettings:
    """The member-removal thresholds, and the one place of their defaults: the config's
    ``guards`` section sets them (``CONFIG_KEYS``), the config schema's ``default`` values and
    README repeat them (tests/test_config.py checks the schema)."""

    member_removal_percent: float = 25.0
    member_removal_min_members: int = 8
    max_member_removals: int = 50

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> GuardSettings:
        """From a config file's (schema-checked) ``guards`` mapping; a key left out keeps its
        default."""
        defaults = cls()
        values = {
            name: type(getattr(defaults, name))(data[key])
            for key, name in CONFIG_KEYS.items()
            if key in data
        }
        return cls(**values)


# Config ``guards`` key -> GuardSettings field.
CONFIG_KEYS: Mapping[str, str] = {
    "memberRemovalPercent": "member_removal_percent",
    "memberRemovalMinMembers": "member_removal_min_members",
    "maxMemberRemovals": "max_member_removals",
}


POLICY_PREFIX = POLICY
# The rules a policy may name (``rule:``); reconciler.policies evaluates each.
ALLOWED_DOMAINS = "allowed-domains"
MIN_OWNERS = "min-owners"
FORBIDDEN_FOR_INVITATIONS = "forbidden-for-invitations"
MAX_MEMBERS_PER_ROLE = "max-members-per-role"
RULES = (ALLOWED_DOMAINS, MIN_OWNERS, FORBIDDEN_FOR_INVITATIONS, MAX_MEMBERS_PER_ROLE)


@dataclass(frozen=True)
class PolicyRule:
    name: str
    rule: str  # one of RULES
    permissions: tuple[str, ...] = ()  # shell patterns
    domains: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # shell patterns; empty: every role
    count: int = 0
    liftable: bool = False
    source: str | None = None  # where the rule is written in the config ("file:line:col")

    @property
    def guard(self) -> str:
        return POLICY_PREFIX + self.name


@dataclass(frozen=True)
class Policies:
    """Config ``policies``: the organization's email domains and the rules."""

    domains: tuple[str, ...] = ()
    rules: tuple[PolicyRule, ...] = ()
