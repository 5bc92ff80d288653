"""JSON plan: exactly ``Plan.to_dict()``, the same document as the saved plan file (``--out``).

Versioned by ``format_version`` (currently 2; ``Plan.from_dict`` refuses any other) and
described by ``schemas/plan.schema.json`` (``itwin-access schema --plan``). Keys are sorted and
the text ends with a newline. Nothing secret is in it: the core never sees a token.

Document (format_version 2)::

    {
      "format_version": 2,
      "target": {                               # what it was made against (reconciler.binding)
        "api": "<base URL>" | "emulator:<database path>", "backend": "itwins" | "projects",
        "identity": {"email": ... | null, "kind": "service-app" | "token" | null},
        "organization": ... | null, "config": {"file": ... | null, "sha256": ... | null},
        "manifests_sha256": ... | null, "tool_version": "0.1.0", "created": "<UTC ISO 8601>"
      } | null,
      "identity": "app@example.com" | null,     # the applying identity the plan was made for
      "allow": ["role-deletions", ...],         # guards lifted when the plan was made
      "summary": {"add": N, "change": N, "remove": N},
      "blocked": true | false,                  # some guard violation is not lifted
      "fingerprints": {"<project number>": "<sha256 of its live state>", ...},
      "sections": {"<project number>": ["roles", "members", ...], ...},
                                                # the sections read live, those the manifest
                                                # manages (absent: every section was read)
      "operations": [                           # in apply order (design.md §5)
        {"id": "<number>/<kind>/<key>", "kind": "add_member", "project": "<number>",
         "key": "<object key>", "before": {...} | null, "after": {...} | null,
         "source": "file:line:col" | null, "project_id": "<live id>" | null,
         "batch": 0 | null,
         "cause": "<id of the role deletion that removes this member anyway>" | null}, ...
      ],
      "guards": [{"guard", "message", "project", "numbers", "allowed", "liftable"}, ...],
      "problems": [{"code", "message", "severity", "project", "source", "operations",
                    "brief"}, ...],
      "facts": {                                # what it was computed from (reconciler.facts)
        "live": {"<number>": {...} | null, ...},
        "desired": {"<number>": {...}, ...}
      },
      "digest": "<sha256>"                      # over format_version, target, identity, allow,
    }                                           # operations and facts: an edit is refused

The ``before``/``after`` payload of each kind is tabled in ``reconciler.plan.operations``.

``drift --format json`` prints the same document plus one key, ``drift`` (so it still loads as a
plan; ``Plan.from_dict`` ignores it), versioned on its own::

      "drift": {
        "format_version": 2,
        "summary": {"changed": N, "extras": N, "expired": N},
        "changed": ["<operation id>", ...],   # managed objects changed outside the manifests
        "extras": ["<operation id>", ...],    # live objects in authoritative sections that no
                                              # manifest lists (the operation removes them)
        "expired": ["<operation id>", ...]    # declared people whose invitation expired
      }                                       # unaccepted (the operation re-invites them)

Every operation id is in exactly one of the three lists, in plan order (2: ``expired`` added).

``plan --format json`` (not the saved plan file) adds ``impact``: who gains or loses which
permissions (``reconciler.impact``), versioned on its own; identical changes of one person in
several projects are one entry::

      "impact": {
        "format_version": 1,
        "summary": {"gain": N, "lose": N, "groups": N},   # people gaining, losing; groups
        "domains": ["contoso.com", ...],                  # the organization's (config policies)
        "createdProjects": [...], "deletedProjects": [...],
        "people": [{"name": "<email>", "projects": [...], "gained": [...], "lost": [...],
                    "pending": [...],           # of gained: granted once an invitation is accepted
                    "owner": "gained" | "lost" | null, "ownerPending": bool,
                    "external": bool}, ...],              # outside the domains
        "groups": [{"name", "projects", "gained", "lost", "pending", "owner": null,
                    "members": [...]}, ...],
        "flags": [{"flag": "external-admin" | "new-owner" | "removed-owner",
                   "name", "project", "permissions": [...]}, ...]
      }
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from reconciler.errors import PlanError
from reconciler.impact import Impact
from reconciler.plan.build import FORMAT_VERSION, Plan

DRIFT_FORMAT_VERSION = 2


def render_json(
    plan: Plan,
    *,
    extras: Collection[str] | None = None,
    impact: Impact | None = None,
    expired: Collection[str] = (),
) -> str:
    """The plan document; with ``extras`` (drift), plus the ``drift`` split of its operations
    (``expired``: the re-invitations of expired invitations); with ``impact``, plus the
    ``impact`` key."""
    document: dict[str, Any] = plan.to_dict()
    if impact is not None:
        document["impact"] = impact.to_dict()
    if extras is not None:
        ids = [op.id for op in plan.operations]
        changed = [i for i in ids if i not in extras and i not in expired]
        extra = [i for i in ids if i in extras]
        late = [i for i in ids if i in expired]
        document["drift"] = {
            "format_version": DRIFT_FORMAT_VERSION,
            "summary": {"changed": len(changed), "extras": len(extra), "expired": len(late)},
            "changed": changed,
            "extras": extra,
            "expired": late,
        }
    # ASCII only: names read live may hold bidi controls or separators that a terminal or a
    # CI log would act on; escaped, the data is the same and nothing unsafe is printed.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def load_json(text: str) -> Plan:
    """Read a saved plan; PlanError when it is not JSON or not a plan of this format_version."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"saved plan is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if isinstance(data, dict) and data.get("format_version") == FORMAT_VERSION:
        # Said here in words: Plan.from_dict would only name the key (a bare KeyError).
        missing = [key for key in ("operations", "fingerprints") if key not in data]
        if missing:
            raise PlanError(
                f"saved plan is malformed: no {' or '.join(repr(k) for k in missing)} key; "
                "use a file written by `itwin-access plan --out FILE`"
            )
    return Plan.from_dict(data)
