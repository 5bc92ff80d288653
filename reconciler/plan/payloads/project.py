"""Payloads of project creation, update and deletion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

from reconciler.model import Scalar
from reconciler.plan.kinds import OpKind
from reconciler.plan.payloads.base import (
    _K,
    Change,
    Payload,
    Wire,
    _as_text,
    _Side,
)

# ---------------------------------------------------------------------------- project


@dataclass(frozen=True)
class NewProject(Payload):
    """create_project: the number and the declared attributes (manifest names)."""

    KINDS = frozenset({_K.CREATE_PROJECT})
    number: str
    attributes: Mapping[str, Scalar] = field(default_factory=dict)

    @property
    def parent(self) -> str | None:
        """The declared parent's project number, if any."""
        return _as_text(self.attributes.get("parent"))

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        attrs = {k: after.scalar(k) for k in after.fields() if k != "number"}
        return cls(after.text("number"), attrs)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        return None, {"number": self.number, **self.attributes}


@dataclass(frozen=True)
class ProjectUpdate(Payload):
    """update_project: the live id and each changed attribute."""

    KINDS = frozenset({_K.UPDATE_PROJECT})
    id: str | None
    changes: Mapping[str, Change[Scalar]]

    @property
    def desired(self) -> dict[str, Scalar]:
        """The changed attributes' desired values (manifest names)."""
        return {k: c.new for k, c in self.changes.items()}

    @property
    def parent(self) -> str | None:
        """The new parent's project number, when the update moves the project."""
        change = self.changes.get("parent")
        return _as_text(change.new) if change is not None else None

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        changes = {k: Change(before.scalar(k, None), after.scalar(k)) for k in after.fields()}
        return cls(before.opt_text("id", None), changes)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        old = {k: c.old for k, c in self.changes.items()}
        return {"id": self.id, **old}, {k: c.new for k, c in self.changes.items()}


@dataclass(frozen=True)
class ProjectDeletion(Payload):
    """delete_project: the live id and display name."""

    KINDS = frozenset({_K.DELETE_PROJECT})
    id: str | None
    display_name: str | None

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        return cls(before.opt_text("id", None), before.opt_text("displayName"))

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        return {"id": self.id, "displayName": self.display_name}, None
