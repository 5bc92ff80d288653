"""SQLite persistence: one database file per emulator instance, surviving restarts.

One connection is shared by all requests and guarded by one re-entrant lock: handlers are short
synchronous functions, so serialising them costs little and guarantees that concurrent requests
never lose updates or meet "database is locked". ``busy_timeout`` covers a second process opening
the same file. WAL keeps readers of other processes from blocking the writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs(name TEXT PRIMARY KEY, account_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users(
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL COLLATE NOCASE UNIQUE,
    given_name TEXT, surname TEXT, org TEXT,
    org_admin INTEGER NOT NULL DEFAULT 0,
    client_id TEXT UNIQUE, client_secret TEXT);
CREATE TABLE IF NOT EXISTS static_tokens(token TEXT PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS itwins(
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org TEXT, class TEXT NOT NULL, sub_class TEXT NOT NULL, type TEXT,
    number TEXT NOT NULL, display_name TEXT NOT NULL,
    geographic_location TEXT, latitude REAL, longitude REAL, iana_time_zone TEXT,
    data_center_location TEXT, status TEXT NOT NULL, parent_id TEXT, account_id TEXT,
    image_name TEXT, image TEXT,
    created TEXT, created_by TEXT, modified TEXT, modified_by TEXT);
CREATE INDEX IF NOT EXISTS itwins_org_number ON itwins(org, number COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS roles(
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, itwin_id TEXT NOT NULL,
    display_name TEXT NOT NULL, description TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]', type TEXT NOT NULL DEFAULT 'Custom');
CREATE INDEX IF NOT EXISTS roles_itwin ON roles(itwin_id, seq);
CREATE TABLE IF NOT EXISTS members(
    seq INTEGER PRIMARY KEY, itwin_id TEXT NOT NULL, user_id TEXT NOT NULL,
    role_ids TEXT NOT NULL, UNIQUE(itwin_id, user_id));
CREATE INDEX IF NOT EXISTS members_page ON members(itwin_id, seq);
CREATE INDEX IF NOT EXISTS members_user ON members(user_id);
CREATE TABLE IF NOT EXISTS owners(
    seq INTEGER PRIMARY KEY, itwin_id TEXT NOT NULL, user_id TEXT NOT NULL,
    UNIQUE(itwin_id, user_id));
CREATE INDEX IF NOT EXISTS owners_user ON owners(user_id);
CREATE TABLE IF NOT EXISTS groups(
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, itwin_id TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT NOT NULL, ims_groups TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS groups_itwin ON groups(itwin_id, seq);
CREATE TABLE IF NOT EXISTS group_users(
    seq INTEGER PRIMARY KEY, group_id TEXT NOT NULL, user_id TEXT NOT NULL,
    UNIQUE(group_id, user_id));
CREATE INDEX IF NOT EXISTS group_users_user ON group_users(user_id);
CREATE TABLE IF NOT EXISTS group_members(
    seq INTEGER PRIMARY KEY, itwin_id TEXT NOT NULL, group_id TEXT NOT NULL,
    role_ids TEXT NOT NULL, UNIQUE(itwin_id, group_id));
CREATE INDEX IF NOT EXISTS group_members_group ON group_members(group_id);
CREATE TABLE IF NOT EXISTS invitations(
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, itwin_id TEXT NOT NULL,
    kind TEXT NOT NULL, group_id TEXT, email TEXT NOT NULL COLLATE NOCASE,
    role_ids TEXT NOT NULL DEFAULT '[]', inviter_id TEXT, inviter_email TEXT,
    created REAL NOT NULL, expires REAL NOT NULL, status TEXT NOT NULL DEFAULT 'Pending');
CREATE INDEX IF NOT EXISTS invitations_itwin ON invitations(itwin_id, seq);
CREATE INDEX IF NOT EXISTS invitations_email ON invitations(email);
CREATE TABLE IF NOT EXISTS favorites(
    seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL, itwin_id TEXT NOT NULL,
    UNIQUE(user_id, itwin_id));
CREATE TABLE IF NOT EXISTS recents(
    user_id TEXT NOT NULL, itwin_id TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY(user_id, itwin_id));
CREATE TABLE IF NOT EXISTS jobs(
    id TEXT PRIMARY KEY, itwin_id TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL,
    actions TEXT NOT NULL, errors TEXT NOT NULL);
"""

# The layout of the tables above and of the API packages' (``add_schema``). Bump it with any
# change a database written before would lack: such a file is then refused at startup with one
# clear line instead of failing later inside a request. There are no migrations: an emulator
# database is disposable state, seeded again in a moment.
SCHEMA_VERSION = 1
# Marks a file as an emulator database (``PRAGMA application_id``, "iTwA"), so another
# program's SQLite file is told apart from an emulator database written before versions existed.
APPLICATION_ID = 0x69547741

# Tables wiped by a reset (everything but the schema itself).
CORE_TABLES = (
    "meta", "orgs", "users", "static_tokens", "itwins", "roles", "members", "owners", "groups",
    "group_users", "group_members", "invitations", "favorites", "recents", "jobs",
)  # fmt: skip


class UnusableDatabase(Exception):
    """The file is not an emulator database of :data:`SCHEMA_VERSION` (the message is one line
    that names the file)."""


def _is_new(conn: sqlite3.Connection, path: str) -> bool:
    """True for an empty database; raises :class:`UnusableDatabase` for one of another schema
    version, another program's, or a file that is not SQLite. Reads only: a refused file is
    left as it was."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise UnusableDatabase(f"{path}: cannot be read as an SQLite database ({exc})") from None
    if app_id == 0 and version == 0 and not tables:
        return True
    if app_id != APPLICATION_ID:
        if version == 0 and {"meta", "itwins", "members"} <= tables:
            raise UnusableDatabase(
                f"{path}: an emulator database from before schema versions, older than this"
                f" emulator's version {SCHEMA_VERSION}"
            )
        raise UnusableDatabase(f"{path}: an SQLite database that is not the emulator's")
    if version != SCHEMA_VERSION:
        age = "older" if version < SCHEMA_VERSION else "newer"
        raise UnusableDatabase(
            f"{path}: an emulator database of schema version {version}, {age} than this"
            f" emulator's version {SCHEMA_VERSION}"
        )
    return False


class Store:
    """The database of one emulator instance."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly in ``write``.
        try:
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise UnusableDatabase(f"{self.path}: cannot open the database ({exc})") from None
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA busy_timeout=30000")
        try:
            # Before anything writes (WAL mode included), so a refused file stays untouched.
            new = _is_new(self.conn, self.path)
        except BaseException:
            self.conn.close()
            raise
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        # A large page cache and memory-mapped reads keep list pages off the file system.
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.execute("PRAGMA mmap_size=268435456")
        self.lock = threading.RLock()
        self._extra_tables: list[str] = []
        # A new file gets its tables and its marks in one transaction, so a second process
        # opening it meanwhile sees either an empty file or a complete emulator database.
        stamp = f"PRAGMA application_id={APPLICATION_ID}; PRAGMA user_version={SCHEMA_VERSION};"
        with self.lock:
            if new:
                self.conn.executescript(f"BEGIN IMMEDIATE; {SCHEMA} {stamp} COMMIT;")
            else:
                self.conn.executescript(SCHEMA)

    def add_schema(self, script: str, tables: tuple[str, ...]) -> None:
        """Create the tables of an API module (e.g. Projects) and include them in resets."""
        with self.lock:
            self.conn.executescript(script)
        self._extra_tables.extend(tables)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed on success and rolled back on any exception."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def wipe(self, db: sqlite3.Connection) -> None:
        """Delete every row of every table (the schema stays), in the caller's transaction."""
        for table in (*CORE_TABLES, *self._extra_tables):
            db.execute(f"DELETE FROM {table}")

    def get_meta(self, key: str) -> str | None:
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def close(self) -> None:
        with self.lock:
            self.conn.close()
