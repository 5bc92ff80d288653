"""Fingerprints of live projects: one sha256 per planned project in a saved plan.

Pure. A fingerprint is the sha256 of a canonical JSON of every live fact of one project,
ids and pending flags included (unlike model equality, which ignores ids). It tells at a glance
whether a project moved; whether a saved plan may still be applied is decided by meaning
instead: ``apply --plan`` recomputes the operations from the facts the plan stores
(``reconciler.facts``) and proceeds when they are identical.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.model import Project, State


def fingerprint(project: Project) -> str:
    """sha256 (hex) of the canonical JSON of the project's live facts."""
    return _digest(_facts(project))


def absent_fingerprint(number: str) -> str:
    """The fingerprint of a project that does not exist live."""
    return _digest({"number": number, "absent": True})


def state_fingerprint(state: State, number: str) -> str:
    """The fingerprint of project ``number`` in a live state, absent or not."""
    project = state.project(number)
    return fingerprint(project) if project is not None else absent_fingerprint(number)


def _digest(facts: Any) -> str:
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _facts(p: Project) -> dict[str, Any]:
    facts = _all_facts(p)
    # A live project read in part (issue 17: only the sections its manifest manages) carries
    # only those in ``manage``; the others were not read, so they are not facts of it. (An
    # empty ``manage``, as in a state built by hand, means every section.)
    for section, keys in _SECTION_FACTS.items():
        if p.manage and section not in p.manage:
            for key in keys:
                facts.pop(key)
    if p.duplicates:  # only when present, so fingerprints of other projects stay as they were
        facts["duplicates"] = sorted(
            [d.kind, d.name, d.id, d.keep, sorted(d.holders), sorted(d.roles)] for d in p.duplicates
        )
    return facts


_SECTION_FACTS = {
    "roles": ("roles",),
    "groups": ("groups",),
    "members": ("members", "groupMembers"),
    "owners": ("owners",),
}


def _all_facts(p: Project) -> dict[str, Any]:
    return {
        "number": p.number,
        "id": p.id,
        "state": p.state.value,
        "attributes": dict(p.attributes),
        "roles": [
            {
                "id": r.id,
                "displayName": r.display_name,
                "description": r.description,
                "permissions": sorted(r.permissions),
            }
            for r in p.roles
        ],
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "description": g.description,
                "members": sorted(g.members),
                "imsGroups": sorted(g.ims_groups),
            }
            for g in p.groups
        ],
        "members": [
            {"id": m.id, "email": m.email, "roles": sorted(m.roles), "pending": m.pending}
            for m in p.members
        ],
        "groupMembers": [
            {"id": m.id, "group": m.group, "roles": sorted(m.roles)} for m in p.group_members
        ],
        "owners": [{"id": o.id, "email": o.email, "pending": o.pending} for o in p.owners],
    }
