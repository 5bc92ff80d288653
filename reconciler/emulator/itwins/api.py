"""iTwins API v1 (contract §3, §9): list, get, create, update, delete, favorites, recents,
primary account and an iTwin's account.

Visibility: an iTwin the caller may not see answers 404 ``iTwinNotFound`` (lower-case i), as
an unknown one does; a visible iTwin the caller may not change answers 403.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.clock import iso
from reconciler.emulator.errors import (
    MSG_ITWIN_NOT_FOUND,
    MSG_OUT_OF_RANGE,
    ApiError,
    detail,
    forbidden,
    invalid,
    json_response,
    missing,
    no_content,
)
from reconciler.emulator.identity import Caller
from reconciler.emulator.policy import (
    can_see,
    get_itwin,
    permissions_of,
    require_owner_or_org_admin,
)
from reconciler.emulator.shapes import itwin_json
from reconciler.emulator.web import Api, Req, op

CODE = "InvalidiTwinsRequest"
SUBCLASSES = {
    "Thing": ("Asset", "Portfolio"),
    "Endeavor": ("Project", "Program", "WorkPackage"),
    "Account": ("Account",),
}
ALL_SUBCLASSES = {s.lower(): s for subs in SUBCLASSES.values() for s in subs}
STATUSES = {"active": "Active", "inactive": "Inactive", "trial": "Trial"}
DATA_CENTERS = (
    "East US", "North Europe", "West Europe", "Southeast Asia", "Australia East", "UK South",
    "Canada Central", "Central India", "Japan East",
)  # fmt: skip
STRING_FIELDS = ("type", "number", "displayName", "geographicLocation", "ianaTimeZone",
                 "dataCenterLocation", "parentId")  # fmt: skip
UPDATABLE = ("class", "subClass", "status", "latitude", "longitude", *STRING_FIELDS)
READ_ONLY = ("id", "iTwinAccountId", "createdDateTime", "createdBy", "lastModifiedDateTime",
             "lastModifiedBy", "image", "imageName")  # fmt: skip
COLUMNS = {
    "class": "class", "subClass": "sub_class", "type": "type", "number": "number",
    "displayName": "display_name", "geographicLocation": "geographic_location",
    "latitude": "latitude", "longitude": "longitude", "ianaTimeZone": "iana_time_zone",
    "dataCenterLocation": "data_center_location", "status": "status", "parentId": "parent_id",
}  # fmt: skip
MEMBER_OF = (
    "i.id IN (SELECT itwin_id FROM members WHERE user_id=:uid "
    "UNION SELECT itwin_id FROM owners WHERE user_id=:uid "
    "UNION SELECT gm.itwin_id FROM group_members gm JOIN group_users gu "
    "ON gu.group_id = gm.group_id WHERE gu.user_id=:uid)"
)


def _not_found() -> ApiError:
    return ApiError(404, "iTwinNotFound", MSG_ITWIN_NOT_FOUND)


def _visible_itwin(req: Req, itwin_id: str) -> sqlite3.Row:
    itwin = get_itwin(req.db, itwin_id)
    if itwin is None or not can_see(req.db, req.caller, itwin):
        raise _not_found()
    return itwin


def _bad(detail_code: str, message: str, target: str) -> ApiError:
    return invalid(CODE, detail_code, message, target)


# -- list, favorites, recents -------------------------------------------------------------
def _filters(req: Req, where: list[str], args: dict[str, Any]) -> None:
    """The query parameters the official clients send (contract §3.2)."""
    for odata in ("$filter", "$select", "$orderby"):
        # Not emulated: refusing is safer than answering an unfiltered/unordered list.
        if req.q(odata) is not None:
            raise _bad("InvalidValue", f"{odata} is not supported by the emulator.", odata)
    sub = req.q("subClass")
    subs: list[str] = []
    if sub:
        for part in sub.split(","):
            canonical = ALL_SUBCLASSES.get(part.strip().lower())
            if canonical is None:
                raise _bad("InvalidValue", "SubClass value is incorrect.", "subClass")
            subs.append(canonical)
        marks = ",".join(f":sub{k}" for k in range(len(subs)))
        where.append(f"i.sub_class IN ({marks})")
        args.update({f"sub{k}": s for k, s in enumerate(subs)})
    if "Account" not in subs:
        where.append("i.class != 'Account'")
    status = req.q("status")
    include_inactive = (req.q("includeInactive") or "").lower() == "true"
    if status:
        if req.q("includeInactive") is not None:
            raise _bad("InvalidValue", "status cannot be combined with includeInactive.", "status")
        if status.lower() not in STATUSES:
            raise _bad("InvalidValue", "Status value is incorrect.", "status")
        where.append("i.status = :status")
        args["status"] = STATUSES[status.lower()]
    elif not include_inactive:
        where.append("i.status != 'Inactive'")
    search = req.q("$search")
    if search and (req.q("number") or req.q("displayName")):
        raise _bad("InvalidValue", "$search cannot be combined with number or displayName.",
                   "$search")  # fmt: skip
    if search:
        where.append("(instr(lower(i.display_name), :search) OR instr(lower(i.number), :search))")
        args["search"] = search.lower()
    for param, column in (("type", "type"), ("number", "number"), ("displayName", "display_name"),
                          ("parentId", "parent_id"), ("iTwinAccountId", "account_id")):  # fmt: skip
        value = req.q(param)
        if value:
            where.append(f"i.{column} = :{param}")
            args[param] = value


def _max_return(req: Req) -> int:
    raw = req.header("x-max-return")
    if raw is None:
        return 1000
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 10000:
        raise _bad("InvalidValue", MSG_OUT_OF_RANGE, "X-Max-Return")
    return value


def _page(req: Req, sql_from: str, where: list[str], args: dict[str, Any], order: str) -> Response:
    skip, top = req.paging(CODE, default_top=100, max_top=1000)
    cap = _max_return(req)
    limit = max(0, min(top, cap - skip))
    args.update({"limit": limit + 1, "skip": skip})
    sql = f"SELECT i.* FROM {sql_from} WHERE {' AND '.join(where) or '1'} ORDER BY {order} "
    rows = req.db.execute(sql + "LIMIT :limit OFFSET :skip", args).fetchall() if limit else []
    more = len(rows) > limit and skip + limit < cap
    full = req.representation
    items = [itwin_json(r, full) for r in rows[:limit]]
    # The cap in force is echoed whether it was asked for or is the default (contract §2.5).
    headers = {"X-Max-Return": str(cap)}
    return json_response({"iTwins": items, "_links": req.links(skip, top, more)}, headers=headers)


def list_itwins(req: Req) -> Response:
    caller = req.caller
    where: list[str] = []
    args: dict[str, Any] = {"uid": caller.id}
    _filters(req, where, args)
    scope = (req.header("x-itwin-query-scope") or "memberOfItwin").lower()
    if scope in ("all", "organizationadmin") and caller.org_admin and caller.org:
        where.append("i.org = :org")
        args["org"] = caller.org
    else:
        where.append(MEMBER_OF)
    return _page(req, "itwins i", where, args, "i.seq")


def list_favorites(req: Req) -> Response:
    where = ["f.user_id = :uid"]
    args: dict[str, Any] = {"uid": req.caller.id}
    _filters(req, where, args)
    return _page(req, "favorites f JOIN itwins i ON i.id = f.itwin_id", where, args, "f.seq")


def list_recents(req: Req) -> Response:
    where = ["r.user_id = :uid"]
    args: dict[str, Any] = {"uid": req.caller.id}
    _filters(req, where, args)
    return _page(req, "recents r JOIN itwins i ON i.id = r.itwin_id", where, args, "r.ts DESC")


def add_favorite(req: Req) -> Response:
    itwin = _visible_itwin(req, req.params["itwin_id"])
    req.db.execute(
        "INSERT OR IGNORE INTO favorites(user_id, itwin_id) VALUES (?,?)",
        (req.caller.id, itwin["id"]),
    )
    return no_content()


def remove_favorite(req: Req) -> Response:
    itwin = _visible_itwin(req, req.params["itwin_id"])
    req.db.execute(
        "DELETE FROM favorites WHERE user_id=? AND itwin_id=?", (req.caller.id, itwin["id"])
    )
    return no_content()


RECENTS_MAX = 25


def add_recent(req: Req) -> Response:
    itwin = _visible_itwin(req, req.params["itwin_id"])
    uid = req.caller.id
    top = req.db.execute("SELECT COALESCE(MAX(ts), 0) FROM recents WHERE user_id=?", (uid,))
    ts = int(top.fetchone()[0]) + 1
    req.db.execute(
        "INSERT OR REPLACE INTO recents(user_id, itwin_id, ts) VALUES (?,?,?)",
        (uid, itwin["id"], ts),
    )
    # Keep the 25 most recent; older ones drop out.
    req.db.execute(
        "DELETE FROM recents WHERE user_id=?1 AND itwin_id NOT IN (SELECT itwin_id FROM recents "
        "WHERE user_id=?1 ORDER BY ts DESC LIMIT ?2)",
        (uid, RECENTS_MAX),
    )
    return no_content()


# -- get, accounts ------------------------------------------------------------------------
def get_itwin_op(req: Req) -> Response:
    itwin = _visible_itwin(req, req.params["itwin_id"])
    return json_response({"iTwin": itwin_json(itwin, req.representation)})


def _account_json(row: sqlite3.Row, full: bool) -> dict[str, Any]:
    """An Account iTwin: the documented minimal shape (no ``iTwinAccountId``), or the full
    representation with ``Prefer: return=representation`` as other iTwin reads (C9)."""
    out = itwin_json(row, full)
    if not full:
        out.pop("iTwinAccountId", None)
    return out


def my_primary_account(req: Req) -> Response:
    org = req.caller.org
    account_id = records.account_id_of(req.db, org)
    row = get_itwin(req.db, account_id) if account_id else None
    if row is None:
        raise _not_found()
    return json_response({"iTwin": _account_json(row, req.representation)})


def itwin_account(req: Req) -> Response:
    itwin = _visible_itwin(req, req.params["itwin_id"])
    row = get_itwin(req.db, itwin["account_id"]) if itwin["account_id"] else None
    if row is None:
        raise _not_found()
    return json_response({"iTwin": _account_json(row, req.representation)})


# -- create, update, delete ---------------------------------------------------------------
def _validate_fields(body: dict[str, Any]) -> None:
    for name in STRING_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise _bad("InvalidValue", f"{name} must be a string.", name)
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
            raise _bad("InvalidValue", MSG_OUT_OF_RANGE, name)
    if body.get("status") is not None:
        status = body["status"]
        if not isinstance(status, str) or status.lower() not in STATUSES:
            raise _bad("InvalidValue", "Status value is incorrect.", "status")
        body["status"] = STATUSES[status.lower()]
    dc = body.get("dataCenterLocation")
    if dc is not None and dc not in DATA_CENTERS:
        raise _bad("InvalidValue", "DataCenterLocation value is incorrect.", "dataCenterLocation")


def _validate_class(cls: Any, sub: Any) -> None:
    if cls == "Account":
        message = "Cannot add iTwin Account."
        raise ApiError(422, CODE, message, details=[detail("InvalidValue", message, "class")])
    if not isinstance(cls, str) or cls not in SUBCLASSES:  # a list or object is not a class
        raise _bad("InvalidValue", "Class value is incorrect.", "class")
    if sub not in SUBCLASSES[cls]:
        raise _bad("InvalidValue", "SubClass value is incorrect.", "subClass")


def _number_taken(
    req: Req, org: str | None, sub_class: str, number: str, except_id: str | None
) -> bool:
    """Numbers are unique per organization and subClass (contract §7.4), in any case."""
    row = req.db.execute(
        "SELECT id FROM itwins WHERE org IS ? AND sub_class = ? AND number = ? COLLATE NOCASE "
        "AND id IS NOT ?",
        (org, sub_class, number, except_id),
    ).fetchone()
    return row is not None


def _exists() -> ApiError:
    return ApiError(
        409,
        "iTwinExists",
        "An iTwin with the same number already exists.",
        details=[detail("InvalidValue", "Number must be unique.", "number")],
    )


def _may_create(req: Req, caller: Caller, parent: sqlite3.Row | None) -> bool:
    if parent is not None:
        return "itwins_create" in permissions_of(req.db, caller, parent)
    if caller.org is None:
        return True  # [I] users of no organization create their own iTwins
    account_id = records.account_id_of(req.db, caller.org)
    account = get_itwin(req.db, account_id) if account_id else None
    return account is not None and "itwins_create" in permissions_of(req.db, caller, account)


def create_itwin(req: Req) -> Response:
    caller = req.caller
    body = req.json_object()
    for name in ("class", "subClass", "displayName"):
        if body.get(name) in (None, ""):
            raise missing(CODE, name)
    _validate_class(body["class"], body["subClass"])
    _validate_fields(body)
    parent = None
    if body.get("parentId"):
        parent = get_itwin(req.db, body["parentId"])
        if parent is None or not can_see(req.db, caller, parent):
            raise _bad("InvalidValue", "Parent iTwin is not available.", "parentId")
    if not _may_create(req, caller, parent):
        raise forbidden()
    org = parent["org"] if parent is not None else caller.org
    number = body.get("number")
    if number and _number_taken(req, org, body["subClass"], number, None):
        raise _exists()
    fields = {k: body.get(k) for k in UPDATABLE}
    fields["iTwinAccountId"] = parent["account_id"] if parent is not None else None
    itwin_id = records.insert_itwin(req.db, fields, org=org, created_by=caller.id, now=req.now)
    records.add_owner(req.db, itwin_id, caller.id)  # the creator becomes owner
    records.add_default_roles(req.db, itwin_id)
    row = get_itwin(req.db, itwin_id)
    assert row is not None
    return json_response({"iTwin": itwin_json(row, True)}, 201)


def update_itwin(req: Req) -> Response:
    caller = req.caller
    itwin = _visible_itwin(req, req.params["itwin_id"])
    body = req.json_object()
    for name in READ_ONLY:
        if name in body:
            raise _bad("InvalidValue", "Property is read-only.", name)
    if "itwins_modify" not in permissions_of(req.db, caller, itwin):
        raise forbidden()
    changes = {k: body[k] for k in UPDATABLE if k in body}
    for name in ("class", "subClass", "displayName", "status", "number"):
        if name in changes and changes[name] in (None, ""):
            raise _bad("InvalidValue", f"{name} cannot be empty.", name)
    _validate_fields(changes)
    cls = changes.get("class", itwin["class"])
    sub = changes.get("subClass", itwin["sub_class"])
    if "class" in changes or "subClass" in changes:
        _validate_class(cls, sub)
    if ("number" in changes or "subClass" in changes) and _number_taken(
        req, itwin["org"], sub, changes.get("number", itwin["number"]), itwin["id"]
    ):
        raise _exists()
    if changes.get("parentId") == itwin["id"]:
        raise _bad("InvalidValue", "An iTwin cannot be its own parent.", "parentId")
    if changes:
        sets = ", ".join(f"{COLUMNS[k]} = :{k}" for k in changes)
        args = {**changes, "id": itwin["id"], "modified": iso(req.now), "by": caller.id}
        req.db.execute(
            f"UPDATE itwins SET {sets}, modified = :modified, modified_by = :by WHERE id = :id",
            args,
        )
    row = get_itwin(req.db, itwin["id"])
    assert row is not None
    return json_response({"iTwin": itwin_json(row, True)})


def delete_itwin(req: Req) -> Response:
    itwin = _visible_itwin(req, req.params["itwin_id"])
    if itwin["class"] == "Account":
        raise forbidden()
    require_owner_or_org_admin(req.db, req.caller, itwin)  # contract C2
    records.delete_itwin(req.db, itwin["id"])
    return no_content()


def _it(method: str, path: str, handler: Any) -> BaseRoute:
    return op(method, "/itwins" + path, handler, api=Api.ITWINS, versions=(1,))


ROUTES: list[BaseRoute] = [
    _it("GET", "", list_itwins),
    _it("POST", "", create_itwin),
    _it("GET", "/favorites", list_favorites),
    _it("POST", "/favorites/{itwin_id}", add_favorite),
    _it("DELETE", "/favorites/{itwin_id}", remove_favorite),
    _it("GET", "/recents", list_recents),
    _it("POST", "/recents/{itwin_id}", add_recent),
    _it("GET", "/myprimaryaccount", my_primary_account),
    _it("GET", "/{itwin_id}", get_itwin_op),
    _it("PATCH", "/{itwin_id}", update_itwin),
    _it("DELETE", "/{itwin_id}", delete_itwin),
    _it("GET", "/{itwin_id}/account", itwin_account),
]
