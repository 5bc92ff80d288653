"""Plan: the ordered list of operations that makes live state match the manifests.

Pure: no I/O. A plan is data first; text, Markdown and JSON renderers and the saved-plan file
are all derived from ``Plan.to_dict()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OpKind(StrEnum):
    CREATE_PROJECT = "create_project"
    UPDATE_PROJECT = "update_project"
    CREATE_ROLE = "create_role"
    UPDATE_ROLE = "update_role"
    CREATE_GROUP = "create_group"
    UPDATE_GROUP = "update_group"
    ADD_OWNER = "add_owner"
    ADD_MEMBER = "add_member"
    ADD_GROUP_MEMBER = "add_group_member"
    UPDATE_MEMBER = "update_member"
    UPDATE_GROUP_MEMBER = "update_group_member"
    REINVITE_MEMBER = "reinvite_member"
    REMOVE_MEMBER = "remove_member"
    REMOVE_GROUP_MEMBER = "remove_group_member"
    CANCEL_INVITATION = "cancel_invitation"
    DELETE_GROUP = "delete_group"
    DELETE_ROLE = "delete_role"
    REMOVE_OWNER = "remove_owner"
    DELETE_PROJECT = "delete_project"


# design.md §5: the order of operations within a project.
PHASE: Mapping[OpKind, int] = {
    OpKind.CREATE_PROJECT: 1,
    OpKind.UPDATE_PROJECT: 1,
    OpKind.CREATE_ROLE: 2,
    OpKind.UPDATE_ROLE: 2,
    OpKind.CREATE_GROUP: 3,
    OpKind.UPDATE_GROUP: 3,
    OpKind.ADD_OWNER: 4,
    OpKind.ADD_MEMBER: 5,
    OpKind.ADD_GROUP_MEMBER: 5,
    OpKind.UPDATE_MEMBER: 5,
    OpKind.UPDATE_GROUP_MEMBER: 5,
    OpKind.REINVITE_MEMBER: 5,
    OpKind.REMOVE_MEMBER: 6,
    OpKind.REMOVE_GROUP_MEMBER: 6,
    OpKind.CANCEL_INVITATION: 6,
    OpKind.DELETE_GROUP: 7,
    OpKind.DELETE_ROLE: 7,
    OpKind.REMOVE_OWNER: 8,
    OpKind.DELETE_PROJECT: 9,
}

KIND_ORDER: Mapping[OpKind, int] = {kind: i for i, kind in enumerate(OpKind)}


@dataclass(frozen=True)
class Operation:
    """One change to one object of one project.

    ``before``/``after`` are JSON-able dicts in manifest terms (role names, lower-cased emails);
    ``before`` carries the live ``id`` of the object when one exists, so a saved plan can be
    executed without guessing. ``source`` is "file:line:col" of the declaration that caused the
    operation, or None for a removal of something "not in manifests".
    """

    kind: OpKind
    project: str  # project number
    key: str  # object key inside the project ("" for project-level operations)
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    source: str | None = None
    project_id: str | None = None  # live iTwin/project id; None when created by this plan
    batch: int | None = None  # add operations: index of the API request that carries it

    @property
    def id(self) -> str:
        return f"{self.project}/{self.kind.value}/{self.key}"

    @property
    def phase(self) -> int:
        return PHASE[self.kind]

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.project, self.phase, KIND_ORDER[self.kind], self.key)
