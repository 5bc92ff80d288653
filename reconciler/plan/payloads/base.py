"""What every payload family shares: the base class, the carrier protocol, the marks' wire
names, and the checked reading of one side of an operation (``_Side``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from reconciler.model import Scalar
from reconciler.plan.kinds import OpKind

Wire = dict[str, Any]  # one side (``before`` or ``after``) of an operation, JSON-able

# Marks the plan puts in an ``after`` (wire names).
INVITATION = "invitation"  # an add the API turns into an invitation (contract C4)
EXPIRED = "expiredInvitation"  # an add's: the sending date of the expired invitation it resends
EXPIRED_MEMBERS = "expiredMembers"  # a group update's: email -> sending date of those it re-lists
INVITES_MEMBERS = "invitesMembers"  # a group change inviting each person it lists anew (C4)

_K = OpKind
_T = TypeVar("_T")


class PayloadError(ValueError):
    """An operation's ``before``/``after`` does not have the shape its kind's payload needs."""


class Carrier(Protocol):
    """What carries a payload (``Operation``; a protocol, so this module does not import it)."""

    @property
    def kind(self) -> OpKind: ...

    @property
    def before(self) -> Mapping[str, Any] | None: ...

    @property
    def after(self) -> Mapping[str, Any] | None: ...

    @property
    def key(self) -> str: ...

    @property
    def payload(self) -> Payload:
        """Its typed payload, read once (``read``)."""
        ...


class Payload:
    """Base of the payload families: ``of`` reads one from an operation, ``wire`` writes it."""

    KINDS: ClassVar[frozenset[OpKind]] = frozenset()

    @classmethod
    def of(cls, op: Carrier) -> Self:
        """The payload of ``op`` (PayloadError when its kind has another family, or its
        ``before``/``after`` is malformed)."""
        payload = op.payload if op.kind in cls.KINDS else None
        if not isinstance(payload, cls):
            raise PayloadError(f"{op.kind.value} has no {cls.__name__} payload")
        return payload

    @classmethod
    def _parse(cls, op: Carrier) -> Self:
        return cls._read(op.kind, _Side(op.before, "before"), _Side(op.after, "after"))

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        raise NotImplementedError

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        """``(before, after)`` of a ``kind`` operation carrying this payload."""
        raise NotImplementedError


@dataclass(frozen=True)
class Change(Generic[_T]):
    """One field an update changes: its live value and the desired one."""

    old: _T
    new: _T


# ---------------------------------------------------------------------------- reading


_NO = object()  # no default: the field is required


class _Side:
    """One side (``before``/``after``) of an operation, read field by field with its type
    checked; errors name the side and the field."""

    __slots__ = ("data", "name")

    def __init__(self, data: Mapping[str, Any] | None, name: str) -> None:
        self.data: Mapping[str, Any] = data if data is not None else {}
        self.name = name

    def fields(self) -> list[str]:
        return list(self.data)

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _NO:
            raise PayloadError(f"{self.name} has no {key!r}")
        return default

    def _bad(self, key: str, want: str, value: Any) -> PayloadError:
        return PayloadError(f"{self.name}.{key}: expected {want}, got {type(value).__name__}")

    def text(self, key: str, default: Any = _NO) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._bad(key, "a string", value)
        return value

    def opt_text(self, key: str, default: Any = _NO) -> str | None:
        value = self._get(key, default)
        if value is not None and not isinstance(value, str):
            raise self._bad(key, "a string or null", value)
        return value

    def texts(self, key: str, default: Any = _NO) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self._bad(key, "a list of strings", value)
        return tuple(value)

    def boolean(self, key: str) -> bool:
        value = self._get(key, False)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false", value)
        return value

    def flag(self, key: str) -> bool:
        """A mark: absent or true (false is what absent means)."""
        return self.boolean(key)

    def scalar(self, key: str, default: Any = _NO) -> Scalar:
        value = self._get(key, default)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise self._bad(key, "a string, number, boolean or null", value)
        result: Scalar = value
        return result

    def dates(self, key: str) -> dict[str, str]:
        value = self._get(key, {})
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self._bad(key, "an object of strings", value)
        return dict(value)


def _text_change(before: _Side, after: _Side, key: str) -> Change[str | None]:
    return Change(before.opt_text(key, None), after.opt_text(key))


def _pair(change: Change[Any]) -> tuple[Any, Any]:
    """A change's two sides on the wire (tuples as lists)."""
    old, new = change.old, change.new
    return (list(old) if isinstance(old, tuple) else old), (
        list(new) if isinstance(new, tuple) else new
    )


def _as_text(value: Scalar) -> str | None:
    return value if isinstance(value, str) else None
