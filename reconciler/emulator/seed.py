"""Seed files: the directory (organizations, users, service apps), static tokens and any
pre-existing iTwins (issue 3's keys, kept exactly so seeds stay portable).

``itwins`` entries use the API's own shapes plus their access in nested lists::

    itwins:
      - {class: Endeavor, subClass: Project, number: P-1, displayName: Bridge,
         organization: Contoso,            # optional; default: the creator's, else the first
         createdBy: alice@contoso.com,     # optional
         roles: [{displayName: Viewer, description: Read, permissions: [imodels_read]}],
         owners: [alice@contoso.com],
         members: [{email: bob@contoso.com, roles: [Viewer]}],      # role names or ids
         groups: [{name: Team, description: T, members: [bob@contoso.com], imsGroups: []}],
         groupMembers: [{group: Team, roles: [Viewer]}],
         invitations: [{email: x@example.com, roles: [Viewer]}]}

``projects`` entries are handed to the Projects API module's seed hook.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from reconciler.emulator import records
from reconciler.emulator.identity import user_id_for

SEED_KEYS = ("organizations", "tokens", "itwins", "projects", "defaultRoles")
ROLE_TYPES = ("Custom", "Default")
ProjectsHook = Callable[[sqlite3.Connection, list[dict[str, Any]], float], None]


class SeedError(ValueError):
    """A seed file that cannot be loaded; the message names the file and what is wrong."""


def demo_seed() -> dict[str, Any]:
    text = resources.files("reconciler.emulator").joinpath("demo_seed.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def read_seed(source: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """A seed from a YAML file, an already parsed mapping, or the demo seed for None."""
    if source is None:
        return demo_seed()
    if isinstance(source, dict):
        data: Any = source
        where = "seed"
    else:
        where = str(source)
        try:
            data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SeedError(f"{where}: cannot read the seed file ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise SeedError(f"{where}{line}: not valid YAML") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SeedError(f"{where}: a seed must be a mapping with keys {', '.join(SEED_KEYS)}")
    unknown = sorted(set(data) - set(SEED_KEYS))
    if unknown:
        raise SeedError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(SEED_KEYS)}"
        )
    return data


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SeedError(f"{where} must be a list")
    return value


def _need(item: Any, key: str, where: str) -> str:
    if not isinstance(item, dict) or not isinstance(item.get(key), str) or not item[key].strip():
        raise SeedError(f"{where}: '{key}' is required")
    return str(item[key]).strip()


def apply_seed(
    db: sqlite3.Connection,
    seed: dict[str, Any],
    now: float,
    projects_hook: ProjectsHook | None = None,
) -> None:
    """Load a seed into the database (inside the caller's transaction)."""
    first_org: str | None = None
    for i, org in enumerate(_list(seed.get("organizations"), "organizations")):
        where = f"organizations[{i}]"
        name = _need(org, "name", where)
        first_org = first_org or name
        if db.execute("SELECT 1 FROM orgs WHERE name=?", (name,)).fetchone() is None:
            account = {"class": "Account", "subClass": "Account", "number": name,
                       "displayName": name}  # fmt: skip
            account_id = records.insert_itwin(db, account, org=name, created_by=None, now=now)
            db.execute("INSERT INTO orgs(name, account_id) VALUES (?,?)", (name, account_id))
        for j, user in enumerate(_list(org.get("users"), f"{where}.users")):
            email = _need(user, "email", f"{where}.users[{j}]")
            _upsert_user(db, email, user.get("givenName"), user.get("surname"), name,
                         bool(user.get("orgAdmin", False)), None, None)  # fmt: skip
        for j, app in enumerate(_list(org.get("serviceApps"), f"{where}.serviceApps")):
            w = f"{where}.serviceApps[{j}]"
            client_id = _need(app, "clientId", w)
            secret = _need(app, "clientSecret", w)
            email = _need(app, "email", w)
            _upsert_user(db, email, client_id, None, name, bool(app.get("orgAdmin", False)),
                         client_id, secret)  # fmt: skip
    tokens = seed.get("tokens") or {}
    if not isinstance(tokens, dict):
        raise SeedError("tokens must be a mapping of token -> email")
    for token, email in tokens.items():
        if not isinstance(email, str):
            raise SeedError(f"tokens.{token} must be an email")
        if records.find_user(db, email) is None:
            # An email in no organization: an external user who can still sign in.
            _upsert_user(db, email, None, None, None, False, None, None)
        db.execute(
            "INSERT OR REPLACE INTO static_tokens(token, email) VALUES (?,?)", (str(token), email)
        )
    default_roles = []
    for i, role in enumerate(_list(seed.get("defaultRoles"), "defaultRoles")):
        w = f"defaultRoles[{i}]"
        default_roles.append({
            "displayName": _need(role, "displayName", w),
            "description": str(role.get("description") or ""),
            "permissions": _list(role.get("permissions"), f"{w}.permissions"),
        })  # fmt: skip
    if "defaultRoles" in seed:
        # Platform-provided roles given to every iTwin created through the API (contract C6).
        db.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES('default_roles', ?)",
            (json.dumps(default_roles),),
        )
    for i, item in enumerate(_list(seed.get("itwins"), "itwins")):
        _seed_itwin(db, item, f"itwins[{i}]", first_org, now)
    projects = _list(seed.get("projects"), "projects")
    if projects and projects_hook is not None:
        projects_hook(db, projects, now)


def _upsert_user(
    db: sqlite3.Connection,
    email: str,
    given: Any,
    surname: Any,
    org: str | None,
    admin: bool,
    client_id: str | None,
    secret: str | None,
) -> None:
    db.execute(
        "INSERT INTO users(id, email, given_name, surname, org, org_admin, client_id, "
        "client_secret) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(email) DO UPDATE SET "
        "given_name=excluded.given_name, surname=excluded.surname, org=excluded.org, "
        "org_admin=excluded.org_admin, client_id=excluded.client_id, "
        "client_secret=excluded.client_secret",
        (user_id_for(email), email, given, surname, org, int(admin), client_id, secret),
    )


def _user_id(db: sqlite3.Connection, email: Any, where: str) -> str:
    if not isinstance(email, str):
        raise SeedError(f"{where}: an email is required")
    row = records.find_user(db, email)
    if row is None:
        raise SeedError(f"{where}: {email} is in no organization of the seed")
    return str(row["id"])


def _seed_itwin(
    db: sqlite3.Connection, item: Any, where: str, first_org: str | None, now: float
) -> None:
    if not isinstance(item, dict):
        raise SeedError(f"{where} must be a mapping")
    for key in ("class", "subClass", "displayName"):
        _need(item, key, where)
    creator = item.get("createdBy")
    creator_row = records.find_user(db, creator) if isinstance(creator, str) else None
    org = item.get("organization") or (creator_row["org"] if creator_row else None) or first_org
    itwin_id = records.insert_itwin(
        db, item, org=org, created_by=creator_row["id"] if creator_row else None, now=now,
        itwin_id=item.get("id"),
    )  # fmt: skip
    names: dict[str, str] = {}
    for j, role in enumerate(_list(item.get("roles"), f"{where}.roles")):
        w = f"{where}.roles[{j}]"
        name = _need(role, "displayName", w)
        role_type = role.get("type", "Custom")
        if role_type not in ROLE_TYPES:
            raise SeedError(f"{w}.type: '{role_type}' is not one of {', '.join(ROLE_TYPES)}")
        role_id = records.insert_role(
            db, itwin_id, name, str(role.get("description") or ""),
            _list(role.get("permissions"), f"{w}.permissions"), role_id=role.get("id"),
            role_type=role_type,
        )  # fmt: skip
        names[name.lower()] = role_id
        names[role_id.lower()] = role_id

    def role_ids(entry: dict[str, Any], w: str) -> list[str]:
        wanted = _list(entry.get("roleIds"), w) + _list(entry.get("roles"), w)
        out = []
        for ref in wanted:
            key = str(ref.get("displayName") or ref.get("id") if isinstance(ref, dict) else ref)
            if key.lower() not in names:
                raise SeedError(f"{w}: unknown role '{key}'")
            out.append(names[key.lower()])
        return out

    for j, email in enumerate(_list(item.get("owners"), f"{where}.owners")):
        records.add_owner(db, itwin_id, _user_id(db, email, f"{where}.owners[{j}]"))
    for j, member in enumerate(_list(item.get("members"), f"{where}.members")):
        w = f"{where}.members[{j}]"
        records.add_member(db, itwin_id, _user_id(db, _need(member, "email", w), w),
                           role_ids(member, w))  # fmt: skip
    groups: dict[str, str] = {}
    for j, group in enumerate(_list(item.get("groups"), f"{where}.groups")):
        w = f"{where}.groups[{j}]"
        group_id = group.get("id") or records.new_id()
        name = _need(group, "name", w)
        db.execute(
            "INSERT INTO groups(id, itwin_id, name, description, ims_groups) VALUES (?,?,?,?,?)",
            (group_id, itwin_id, name, str(group.get("description") or ""),
             json.dumps(_list(group.get("imsGroups"), w))),
        )  # fmt: skip
        for k, email in enumerate(_list(group.get("members"), f"{w}.members")):
            db.execute(
                "INSERT OR IGNORE INTO group_users(group_id, user_id) VALUES (?,?)",
                (group_id, _user_id(db, email, f"{w}.members[{k}]")),
            )
        groups[name.lower()] = group_id
        groups[group_id.lower()] = group_id
    for j, gm in enumerate(_list(item.get("groupMembers"), f"{where}.groupMembers")):
        w = f"{where}.groupMembers[{j}]"
        ref = str(gm.get("group") or gm.get("groupId") or "") if isinstance(gm, dict) else ""
        if ref.lower() not in groups:
            raise SeedError(f"{w}: unknown group '{ref}'")
        db.execute(
            "INSERT INTO group_members(itwin_id, group_id, role_ids) VALUES (?,?,?)",
            (itwin_id, groups[ref.lower()], json.dumps(role_ids(gm, w))),
        )
    for j, inv in enumerate(_list(item.get("invitations"), f"{where}.invitations")):
        w = f"{where}.invitations[{j}]"
        records.upsert_invitation(
            db, itwin_id=itwin_id, kind="member", email=_need(inv, "email", w),
            role_ids=role_ids(inv, w), inviter_id=creator_row["id"] if creator_row else None,
            inviter_email=creator, now=now,
        )  # fmt: skip
