"""Convergence, as a property, through the real code path against a fresh emulator.

Generated manifests (a few projects; roles with permissions from the catalogue; groups with
members; owners; users of the organization and outsiders, so invitations happen; group members;
every section authoritative, additive or not managed at all) are applied with the CLI in-process
(config -> manifest loader -> ItwinsTarget.read -> build_plan -> apply_plan, over Starlette's
TestClient), as both identities that matter: the demo service application (every add is an
invitation) and alice@contoso.com (an organization administrator: real members).

Properties:

1. from nothing, apply then plan is empty, and live state says what the manifests say;
2. from any applied state, applying other manifests (directly or through a saved plan, after
   changes made by hand in between) converges again, and nothing outside the managed projects
   and sections changed (projects left out of the manifests or made by hand, sections not
   managed, undeclared objects of additive sections); invitees accepting their invitations
   afterwards leaves the plan empty;
3. a plan blocked by a guard writes nothing (the emulator's admin counters and its database),
   and applies once the guard is lifted.

Live state is observed straight from the emulator's SQLite database, not through the reconciler's
own read, so a read that hides a difference cannot make a property pass.

Each example gets a fresh emulator; 12 derandomized examples per property and identity keep the
file near 35 s on 2 cores. To hunt longer, raise ``max_examples`` and drop ``derandomize``
locally (the commits that fixed what it found say so: `git log --grep 'convergence property'`).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from reconciler.cli import cli
from reconciler.cli.commands import register
from reconciler.cli.session import Connection
from reconciler.emulator import create_app
from reconciler.errors import ItwinAccessError
from reconciler.manifest import KNOWN_PERMISSIONS
from reconciler.model import SECTIONS

register(cli)

NUMBERS = ("PX-1", "PX-2", "PX-3")
UNMANAGED = "UN-1"  # made by hand, never in a manifest
ROLE_NAMES = ("Viewer", "Editor", "Lead", "Hand")  # "Hand": also made by hand
GROUP_NAMES = ("Alpha", "Beta", "Hand")
DESCRIPTIONS = ("first", "second")
DISPLAY_NAMES = ("Bridge", "Depot")
ATTRIBUTES: dict[str, st.SearchStrategy[Any]] = {
    "status": st.sampled_from(["Active", "Inactive", "Trial"]),
    "subClass": st.sampled_from(["Project", "Program", "WorkPackage"]),
    "type": st.sampled_from(["Construction Project", "Überführung", ""]),
    "geographicLocation": st.sampled_from(["Exton, PA", "Zürich"]),
    "ianaTimeZone": st.sampled_from(["America/New_York", "Europe/London", "UTC"]),
    "dataCenterLocation": st.sampled_from(["East US", "West Europe"]),
    "latitude": st.floats(-90, 90, allow_nan=False),
    "longitude": st.floats(-180, 180, allow_nan=False),
}
PERMISSIONS = sorted(KNOWN_PERMISSIONS)
CONTOSO = tuple(f"{n}@contoso.com" for n in ("alice", "bob", "carol", "dana", "eli", "frank"))
# Outsiders: xena@ exists in another organization, the others nowhere (both are invited).
OUTSIDERS = ("xena@fabrikam.com", "x@fabrikam.com", "y@fabrikam.com")
USERS = CONTOSO + OUTSIDERS
# A group's members must be known to the directory (contract: unknown email -> 404).
GROUP_USERS = (*CONTOSO[1:], "xena@fabrikam.com")
OWNERS = ("alice@contoso.com", "bob@contoso.com", "carol@contoso.com", "o@fabrikam.com")
HAND = ("role", "member", "owner", "group")
TOKENS = ("alice-token", "bob-token", "xena-token")  # static tokens of the demo seed
LIFT = ("--allow", "role-deletions", "--allow", "member-removals", "--allow", "project-deletions")


@dataclass(frozen=True)
class Identity:
    name: str
    email: str
    env: Mapping[str, str]
    config: str


DEMO_APP = Identity(
    "demo-app",
    "itwin-access-demo@apps.contoso.com",
    {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"},
    "",
)
ALICE = Identity(
    "alice",
    "alice@contoso.com",
    {"ITWIN_ACCESS_TOKEN": "alice-token"},
    "identity: alice@contoso.com\n",
)
IDENTITIES = pytest.mark.parametrize("identity", [DEMO_APP, ALICE], ids=lambda i: i.name)

PROPERTY = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# ---------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class Live:
    """What exists live in one project, as far as a generator must know: the role and group
    names a member may refer to when the manifest does not declare them."""

    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()


_MODE = st.sampled_from([None, "authoritative", "additive"])


def spelt(email: str) -> st.SearchStrategy[str]:
    """An email as written, or capitalised: emails are compared case-insensitively."""
    return st.sampled_from([email, email.capitalize()])


@st.composite
def project_doc(draw: st.DrawFn, number: str, live: Live) -> dict[str, Any]:
    doc: dict[str, Any] = {"number": number}
    if draw(st.booleans()):
        doc["displayName"] = draw(st.sampled_from(DISPLAY_NAMES))
    for name, values in ATTRIBUTES.items():
        if draw(st.integers(0, 3)) == 0:
            doc[name] = draw(values)
    modes = {section: draw(_MODE) for section in SECTIONS}
    manage: dict[str, str] = {}
    lists: dict[str, list[Any]] = {}

    if modes["roles"]:
        names = draw(st.lists(st.sampled_from(ROLE_NAMES), unique=True, max_size=3))
        roles = []
        for name in names:
            role: dict[str, Any] = {"displayName": name}
            if draw(st.booleans()):
                role["description"] = draw(st.sampled_from(DESCRIPTIONS))
            role["permissions"] = draw(
                st.lists(st.sampled_from(PERMISSIONS), unique=True, max_size=3)
            )
            roles.append(role)
        lists["roles"] = roles
    if modes["groups"]:
        groups = []
        for name in draw(st.lists(st.sampled_from(GROUP_NAMES), unique=True, max_size=2)):
            group: dict[str, Any] = {"name": name}
            if draw(st.booleans()):
                group["description"] = draw(st.sampled_from(DESCRIPTIONS))
            emails = draw(st.lists(st.sampled_from(GROUP_USERS), unique=True, max_size=3))
            group["members"] = [draw(spelt(e)) for e in emails]
            groups.append(group)
        lists["groups"] = groups
    if modes["members"]:
        # A member may hold a role the manifest declares, or, where roles are not managed
        # authoritatively, one that exists live; likewise for groups.
        roles_ok = {r["displayName"] for r in lists.get("roles", [])}
        if modes["roles"] != "authoritative":
            roles_ok |= live.roles
        groups_ok = {g["name"] for g in lists.get("groups", [])}
        if modes["groups"] != "authoritative":
            groups_ok |= live.groups
        members: list[dict[str, Any]] = []
        if roles_ok:
            some_roles = st.lists(
                st.sampled_from(sorted(roles_ok)), unique=True, min_size=1, max_size=2
            )
            for email in draw(st.lists(st.sampled_from(USERS), unique=True, max_size=5)):
                members.append({"email": draw(spelt(email)), "roles": draw(some_roles)})
            if groups_ok:
                for name in draw(st.lists(st.sampled_from(sorted(groups_ok)), unique=True)):
                    members.append({"group": name, "roles": draw(some_roles)})
        lists["members"] = members
    if modes["owners"]:
        owners = draw(st.lists(st.sampled_from(OWNERS), unique=True, max_size=2))
        lists["owners"] = [draw(spelt(e)) for e in owners]

    for section in SECTIONS:
        mode = modes[section]
        if mode is None:
            continue
        # authoritative is the default: say it or not; an empty list may be left out when
        # `manage` names the section.
        named = mode == "additive" or draw(st.booleans())
        if named:
            manage[section] = mode
        if lists[section] or not named or draw(st.booleans()):
            doc[section] = lists[section]
    if manage:
        doc["manage"] = manage
    return doc


@st.composite
def manifest(draw: st.DrawFn, live: Mapping[str, Live]) -> list[dict[str, Any]]:
    """Some of NUMBERS (at least one), each a generated project."""
    numbers = draw(st.lists(st.sampled_from(NUMBERS), unique=True, min_size=1, max_size=3))
    docs = []
    for number in sorted(numbers):
        if draw(st.integers(0, 9)) == 0:  # now and then a project goes
            docs.append({"number": number, "state": "absent"})
        else:
            docs.append(draw(project_doc(number, live.get(number, Live()))))
    return docs


# ---------------------------------------------------------------------------- the harness


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


class Harness:
    """One fresh emulator (its own SQLite file), a manifest directory and the CLI."""

    def __init__(self, root: Path, client: TestClient, identity: Identity) -> None:
        self.root = root
        self.db = root / "emulator.db"
        self.client = client
        self.identity = identity
        self.manifests = root / "manifests"
        self.manifests.mkdir()
        (self.manifests / "itwin-access.yaml").write_text(
            "api: http://testserver\nbackend: itwins\n" + identity.config
        )

    # -- the CLI, in-process (as tests/cli do)

    def cli(self, *args: str) -> Run:
        result = CliRunner().invoke(
            cli,
            list(args),
            obj=Connection(http=self.client, env=dict(self.identity.env)),
            standalone_mode=False,
            catch_exceptions=True,
        )
        exc = result.exception
        if exc is None:
            value = result.return_value
            return Run(int(value) if isinstance(value, int) else 0, result.stdout, result.stderr)
        if isinstance(exc, ItwinAccessError):
            return Run(exc.exit_code, result.stdout, result.stderr + f"Error: {exc}\n")
        if isinstance(exc, click.ClickException):
            return Run(exc.exit_code, result.stdout, result.stderr + exc.format_message())
        raise exc

    def write(self, projects: Sequence[Mapping[str, Any]]) -> None:
        """The projects over two files (a directory of manifests is one desired state)."""
        for old in self.manifests.glob("p*.yaml"):
            old.unlink()
        for i, name in enumerate(("p1.yaml", "p2.yaml")):
            part = list(projects)[i::2]
            if part:
                text = yaml.safe_dump({"projects": part}, sort_keys=False)
                (self.manifests / name).write_text(text)

    def apply(self, *allow: str, saved: Path | None = None) -> Run:
        what = ["--plan", str(saved), "--config", str(self.manifests / "itwin-access.yaml")]
        return self.cli(
            "apply", *(what if saved else [str(self.manifests)]), "--auto-approve",
            "--no-progress", *allow,
        )  # fmt: skip

    def save_plan(self) -> Path:
        out = self.root / "plan.json"
        made = self.cli("plan", str(self.manifests), "--out", str(out))
        assert made.code in (0, 3), made.stdout + made.stderr
        return out

    def plan(self) -> Run:
        return self.cli(
            "plan", str(self.manifests), "--detailed-exitcode", "--format", "json", *LIFT
        )

    # -- observation

    def writes(self) -> int:
        """API requests that could change state (not GET, not the token endpoint)."""
        routes = self.client.get("/__emulator/counters").json()["routes"]
        return sum(
            r["count"]
            for name, r in routes.items()
            if not name.startswith("GET ") and name != "POST /connect/token"
        )

    def observe(self) -> dict[str, dict[str, Any]]:
        """Every project of the organization, by number, read from the emulator's database."""
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            return {
                row["number"]: _project(db, row)
                for row in db.execute("SELECT * FROM itwins WHERE class='Endeavor'")
            }

    def live(self) -> dict[str, Live]:
        return {
            number: Live(frozenset(p["roles"]), frozenset(p["groups"]))
            for number, p in self.observe().items()
        }

    # -- people accepting what they were invited to (pending and accepted are the same)

    def accept_invitations(self, tokens: Sequence[str]) -> int:
        """Every pending invitation (member, owner, group) of the users holding ``tokens`` is
        accepted by them; the number accepted."""
        emails = {f"{t.removesuffix('-token')}@contoso.com": t for t in tokens}
        emails["xena@fabrikam.com"] = "xena-token"
        wanted = {e: t for e, t in emails.items() if t in tokens}
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "SELECT id, itwin_id, lower(email) FROM invitations WHERE status='Pending'"
            ).fetchall()
        accepted = 0
        for invitation_id, itwin_id, email in rows:
            if email not in wanted:
                continue
            answer = self.client.post(
                f"/accesscontrol/itwins/{itwin_id}/members/invitations/{invitation_id}/accept",
                headers={"Authorization": f"Bearer {wanted[email]}",
                         "Accept": "application/vnd.bentley.itwin-platform.v2+json"},
            )  # fmt: skip
            assert answer.status_code == 204, answer.text
            accepted += 1
        return accepted

    # -- changes by hand (as alice) between applies: drift in managed and unmanaged sections

    def by_hand(self, number: str, what: str) -> None:
        v2 = {"Authorization": "Bearer alice-token",
              "Accept": "application/vnd.bentley.itwin-platform.v2+json"}  # fmt: skip
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT id FROM itwins WHERE number=?", (number,)).fetchone()
            if row is None:
                return
            roles = [r[0] for r in db.execute("SELECT id FROM roles WHERE itwin_id=?", row)]
            names = {r[0] for r in db.execute("SELECT display_name FROM roles WHERE itwin_id=?",
                                              row)}  # fmt: skip
            names |= {r[0] for r in db.execute("SELECT name FROM groups WHERE itwin_id=?", row)}
        base = f"/accesscontrol/itwins/{row[0]}"
        answers = []
        if what in ("role", "group") and "Hand" in names:
            return  # the API takes a second role of a name; the reconciler then refuses (tested)
        if what == "role":
            made = self.client.post(f"{base}/roles", json={"displayName": "Hand",
                                    "description": "by hand"}, headers=v2)  # fmt: skip
            answers.append(made)
        elif what == "member" and roles:
            body = {"members": [{"email": "dana@contoso.com", "roleIds": roles[:1]}]}
            answers.append(self.client.post(f"{base}/members/users", json=body, headers=v2))
        elif what == "owner":
            body = {"email": "frank@contoso.com"}
            answers.append(self.client.post(f"{base}/members/owners", json=body, headers=v2))
        elif what == "group":
            made = self.client.post(f"{base}/groups", json={"name": "Hand",
                                    "description": "by hand"}, headers=v2)  # fmt: skip
            answers.append(made)
        # 409: there already; 403: only owners add owners (alice is not one where the demo
        # app made the project).
        assert all(a.status_code in (200, 201, 403, 409) for a in answers), answers

    # -- a project made by hand (as alice), outside every manifest

    def hand_made_project(self) -> None:
        headers = {"Authorization": "Bearer alice-token"}
        v1 = {**headers, "Accept": "application/vnd.bentley.itwin-platform.v1+json"}
        v2 = {**headers, "Accept": "application/vnd.bentley.itwin-platform.v2+json"}
        body = {"class": "Endeavor", "subClass": "Project", "number": UNMANAGED,
                "displayName": "By hand"}  # fmt: skip
        made = self.client.post("/itwins", json=body, headers=v1)
        assert made.status_code == 201, made.text
        base = f"/accesscontrol/itwins/{made.json()['iTwin']['id']}"
        role = self.client.post(
            f"{base}/roles",
            json={"displayName": "Viewer", "description": "d"},
            headers=v2,
        )
        assert role.status_code == 201, role.text
        role_id = role.json()["role"]["id"]
        patched = self.client.patch(
            f"{base}/roles/{role_id}", json={"permissions": ["itwins_read"]}, headers=v2
        )
        assert patched.status_code == 200, patched.text
        for email in ("bob@contoso.com", "x@fabrikam.com"):
            added = self.client.post(
                f"{base}/members/users",
                json={"members": [{"email": email, "roleIds": [role_id]}]},
                headers=v2,
            )
            assert added.status_code == 201, added.text


def _project(db: sqlite3.Connection, itwin: sqlite3.Row) -> dict[str, Any]:
    """One project's facts in manifest terms: roles by name, users by email (pending or not),
    groups by name, owners by email."""
    iid = itwin["id"]
    role_names = {
        r["id"]: r["display_name"]
        for r in db.execute("SELECT id, display_name FROM roles WHERE itwin_id=?", (iid,))
    }

    def names(role_ids: str) -> list[str]:
        return sorted(role_names[r] for r in json.loads(role_ids) if r in role_names)

    roles = {
        r["display_name"]: {"description": r["description"],
                            "permissions": sorted(json.loads(r["permissions"]))}
        for r in db.execute("SELECT * FROM roles WHERE itwin_id=?", (iid,))
    }  # fmt: skip
    users = {
        r["email"].lower(): {"roles": names(r["role_ids"]), "pending": False}
        for r in db.execute(
            "SELECT u.email, m.role_ids FROM members m JOIN users u ON u.id = m.user_id "
            "WHERE m.itwin_id=?",
            (iid,),
        )
    }
    owners = {
        r["email"].lower(): False
        for r in db.execute(
            "SELECT u.email FROM owners o JOIN users u ON u.id = o.user_id WHERE o.itwin_id=?",
            (iid,),
        )
    }
    groups: dict[str, dict[str, Any]] = {}
    group_names: dict[str, str] = {}
    for g in db.execute("SELECT * FROM groups WHERE itwin_id=?", (iid,)):
        group_names[g["id"]] = g["name"]
        emails = {
            r["email"].lower()
            for r in db.execute(
                "SELECT u.email FROM group_users gu JOIN users u ON u.id = gu.user_id "
                "WHERE gu.group_id=?",
                (g["id"],),
            )
        }
        groups[g["name"]] = {"description": g["description"], "members": emails}
    for inv in db.execute(
        "SELECT * FROM invitations WHERE itwin_id=? AND status='Pending'", (iid,)
    ):
        email = inv["email"].lower()
        if inv["kind"] == "member":
            users.setdefault(email, {"roles": names(inv["role_ids"]), "pending": True})
        elif inv["kind"] == "owner":
            owners.setdefault(email, True)
        elif inv["kind"] == "group" and inv["group_id"] in group_names:
            groups[group_names[inv["group_id"]]]["members"].add(email)
    for g in groups.values():
        g["members"] = sorted(g["members"])
    group_members = {
        group_names.get(r["group_id"], r["group_id"]): names(r["role_ids"])
        for r in db.execute("SELECT * FROM group_members WHERE itwin_id=?", (iid,))
    }
    return {
        "attributes": {name: itwin[column] for name, column in COLUMNS.items()},
        "roles": roles,
        "groups": groups,
        "users": users,
        "group_members": group_members,
        "owners": owners,
    }


# Manifest attribute -> the emulator's column.
COLUMNS = {
    "displayName": "display_name", "status": "status", "subClass": "sub_class", "type": "type",
    "geographicLocation": "geographic_location", "ianaTimeZone": "iana_time_zone",
    "dataCenterLocation": "data_center_location", "latitude": "latitude",
    "longitude": "longitude",
}  # fmt: skip


@contextmanager
def harness(tmp_path: Path, identity: Identity) -> Iterator[Harness]:
    """A fresh emulator per hypothesis example (tmp_path is shared by all of them)."""
    root = tmp_path / f"ex{next(_EXAMPLES)}"
    root.mkdir()
    app = create_app(root / "emulator.db", admin=True)
    with TestClient(app) as client:
        h = Harness(root, client, identity)
        h.hand_made_project()
        yield h


_EXAMPLES = itertools.count()


# ---------------------------------------------------------------------------- checks


def converge(h: Harness, projects: Sequence[Mapping[str, Any]], saved: bool = False) -> None:
    """Apply ``projects`` (directly, or through a saved plan; lifting the liftable guards only
    after checking that the blocked attempt wrote nothing), then the plan must be empty and
    live state must say what the manifests say; what they do not manage must be as it was."""
    h.write(projects)
    before = h.observe()
    writes = h.writes()
    plan_file = h.save_plan() if saved else None
    applied = h.apply(saved=plan_file)
    event(f"first apply exit {applied.code}")
    if applied.code == 3:
        assert h.writes() == writes, "a blocked apply wrote to the API"
        assert h.observe() == before, "a blocked apply changed live state"
        applied = h.apply(*LIFT, saved=plan_file)
    assert applied.code == 0, applied.stdout + applied.stderr
    planned = h.plan()
    assert planned.code == 0, _plan_summary(planned)
    after = h.observe()
    for doc in map(lowered, projects):
        if doc.get("state") == "absent":
            assert doc["number"] not in after, doc
            continue
        assert_declared(doc, after[doc["number"]], h.identity.email)
        assert_kept(doc, before.get(doc["number"]), after[doc["number"]])
    declared = {doc["number"] for doc in projects}
    for number, facts in before.items():
        if number not in declared:
            assert after[number] == facts, f"project {number} is in no manifest, yet changed"


def lowered(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with every email lower-cased, as live state keeps them."""
    out = dict(doc)
    if "groups" in doc:
        out["groups"] = [{**g, "members": [e.lower() for e in g["members"]]} for g in doc["groups"]]
    if "members" in doc:
        out["members"] = [
            {**m, "email": m["email"].lower()} if "email" in m else m for m in doc["members"]
        ]
    if "owners" in doc:
        out["owners"] = [e.lower() for e in doc["owners"]]
    return out


def _plan_summary(run: Run) -> str:
    try:
        plan = json.loads(run.stdout)
    except ValueError:
        return run.stdout + run.stderr
    ops = [(o["id"], o.get("before"), o.get("after")) for o in plan["operations"]]
    return f"plan not empty after apply (exit {run.code}): {ops} {run.stderr}"


def assert_declared(doc: Mapping[str, Any], live: Mapping[str, Any], me: str) -> None:
    """Live state says what the manifest says, section by section."""
    number = doc["number"]
    manage = doc.get("manage", {})

    def mode(section: str) -> str | None:
        if section in doc or section in manage:
            return str(manage.get(section, "authoritative"))
        return None

    for name in COLUMNS:
        if name in doc:
            assert live["attributes"][name] == doc[name], (number, name, live["attributes"])
    if mode("roles"):
        for role in doc.get("roles", []):
            got = live["roles"].get(role["displayName"])
            assert got is not None, (number, role)
            assert got["permissions"] == sorted(role["permissions"]), (number, role, got)
            if "description" in role:
                assert got["description"] == role["description"], (number, role, got)
        if mode("roles") == "authoritative":
            assert set(live["roles"]) == {r["displayName"] for r in doc.get("roles", [])}
    if mode("groups"):
        for group in doc.get("groups", []):
            got = live["groups"].get(group["name"])
            assert got is not None, (number, group)
            assert got["members"] == sorted(group["members"]), (number, group, got)
            if "description" in group:
                assert got["description"] == group["description"], (number, group, got)
        if mode("groups") == "authoritative":
            assert set(live["groups"]) == {g["name"] for g in doc.get("groups", [])}
    if mode("members"):
        users = {m["email"]: sorted(m["roles"]) for m in doc.get("members", []) if "email" in m}
        groups = {m["group"]: sorted(m["roles"]) for m in doc.get("members", []) if "group" in m}
        for email, roles in users.items():
            assert live["users"].get(email, {}).get("roles") == roles, (number, email, live)
        for name, roles in groups.items():
            assert live["group_members"].get(name) == roles, (number, name, live)
        if mode("members") == "authoritative":
            assert set(live["users"]) == set(users), (number, live["users"])
            assert set(live["group_members"]) == set(groups), (number, live["group_members"])
    if mode("owners"):
        declared = set(doc.get("owners", []))
        assert declared <= set(live["owners"]), (number, declared, live["owners"])
        if mode("owners") == "authoritative":
            assert set(live["owners"]) <= declared | {me}, (number, declared, live["owners"])


def assert_kept(
    doc: Mapping[str, Any], before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> None:
    """What the manifest does not manage is as it was: sections left out entirely, and the
    undeclared objects of additive sections. Deleting a role or a group (an authoritative
    section said so) takes it off whoever held it, in any section."""
    if before is None:
        return
    manage = doc.get("manage", {})
    deleted_roles = set(before["roles"]) - set(after["roles"])
    deleted_groups = set(before["groups"]) - set(after["groups"])

    def without_deleted(roles: list[str]) -> list[str]:
        return [r for r in roles if r not in deleted_roles]

    def kept(table: str, declared: set[str], section: str = "") -> set[str]:
        """The keys of ``table`` (of manifest ``section``) the manifest must leave alone."""
        section = section or table
        if section in doc or section in manage:
            if manage.get(section, "authoritative") == "authoritative":
                return set()
            return set(before[table]) - declared
        return set(before[table])

    for name in kept("roles", {r["displayName"] for r in doc.get("roles", [])}):
        assert after["roles"].get(name) == before["roles"][name], (doc["number"], name)
    for name in kept("groups", {g["name"] for g in doc.get("groups", [])}):
        assert after["groups"].get(name) == before["groups"][name], (doc["number"], name)
    members = doc.get("members", [])
    for email in kept("users", {m["email"] for m in members if "email" in m}, "members"):
        was = before["users"][email]
        roles = without_deleted(was["roles"])
        want = {**was, "roles": roles} if roles else None  # no role left: no member
        assert after["users"].get(email) == want, (doc["number"], email, after["users"])
    for name in kept("group_members", {m["group"] for m in members if "group" in m}, "members"):
        if name in deleted_groups:
            continue
        roles = without_deleted(before["group_members"][name])
        got = after["group_members"].get(name)
        assert got == (roles or None), (doc["number"], name, got)
    if "owners" not in doc and "owners" not in manage:
        assert after["owners"] == before["owners"], doc["number"]
    elif manage.get("owners") == "additive":
        assert set(before["owners"]) <= set(after["owners"]), doc["number"]


# ---------------------------------------------------------------------------- properties


@IDENTITIES
@PROPERTY
@given(data=st.data())
def test_from_nothing_apply_then_plan_is_empty(
    tmp_path: Path, identity: Identity, data: st.DataObject
) -> None:
    with harness(tmp_path, identity) as h:
        converge(h, data.draw(manifest(h.live()), label="manifest"))


@IDENTITIES
@PROPERTY
@given(data=st.data())
def test_from_any_applied_state_new_manifests_converge(
    tmp_path: Path, identity: Identity, data: st.DataObject
) -> None:
    with harness(tmp_path, identity) as h:
        for step in ("first", "second", "third"):
            saved = data.draw(st.booleans(), label=f"{step} through a saved plan")
            for number, what in data.draw(st.lists(st.tuples(st.sampled_from(NUMBERS),
                                          st.sampled_from(HAND))), label="by hand"):  # fmt: skip
                h.by_hand(number, what)
            converge(h, data.draw(manifest(h.live()), label=step), saved)
            # Invitees accepting changes nothing the manifests say: still no changes.
            tokens = data.draw(st.lists(st.sampled_from(TOKENS), unique=True), label="accept")
            accepted = h.accept_invitations(tokens)
            event("invitations accepted" if accepted else "none accepted")
            if accepted:
                planned = h.plan()
                assert planned.code == 0, _plan_summary(planned)


@IDENTITIES
@PROPERTY
@given(data=st.data())
def test_a_blocked_plan_writes_nothing(
    tmp_path: Path, identity: Identity, data: st.DataObject
) -> None:
    """Each liftable guard, beside other (unguarded) changes: nothing at all is written until
    the guard is lifted, and then the plan converges."""
    guard = data.draw(st.sampled_from(GUARDS), label="guard")
    with harness(tmp_path, identity) as h:
        # PX-1 has two roles and eight members (the removal threshold's minimum), each a Viewer.
        doc = data.draw(project_doc("PX-1", Live()), label="PX-1")
        doc.pop("manage", None)
        doc["roles"] = [{"displayName": "Viewer", "permissions": ["itwins_read"]},
                        {"displayName": "Editor", "permissions": ["imodels_write"]}]  # fmt: skip
        doc["members"] = [{"email": e, "roles": ["Viewer"]} for e in USERS[1:]]
        assert len(doc["members"]) == 8
        converge(h, [doc, data.draw(project_doc("PX-2", Live()), label="PX-2 first")])

        if guard == "role-deletions":
            changed = {**doc, "roles": doc["roles"][:1]}
        elif guard == "member-removals":
            changed = {**doc, "members": doc["members"][3:]}  # 3 of 8: 37.5 % > 25 %
        else:
            changed = {"number": "PX-1", "state": "absent"}
        other = data.draw(project_doc("PX-2", h.live()["PX-2"]), label="PX-2 then")
        h.write([changed, other])
        before, writes = h.observe(), h.writes()
        blocked = h.apply()
        assert blocked.code == 3, blocked.stdout + blocked.stderr
        assert f"Blocked by guard {guard}" in blocked.stderr, blocked.stderr
        assert h.writes() == writes, "a blocked apply wrote to the API"
        assert h.observe() == before, "a blocked apply changed live state"
        assert h.cli("plan", str(h.manifests)).code == 3
        converge(h, [changed, other])


GUARDS = ("role-deletions", "member-removals", "project-deletions")
