"""The database's schema version: stamped on a new file, checked on every open, and a file the
emulator cannot use is refused when it opens (one line naming the file), never inside a request."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from emu_helpers import h
from starlette.testclient import TestClient

from reconciler.emulator import create_app
from reconciler.emulator.store import (
    APPLICATION_ID,
    SCHEMA,
    SCHEMA_VERSION,
    Store,
    UnusableDatabase,
)


def _pragmas(path: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(path)) as db:
        return (
            db.execute("PRAGMA application_id").fetchone()[0],
            db.execute("PRAGMA user_version").fetchone()[0],
        )


def _emulator_db(tmp_path: Path) -> Path:
    path = tmp_path / "emu.db"
    create_app(path).state.emu.store.close()
    return path


def _refused(path: Path) -> str:
    before = path.read_bytes()
    with pytest.raises(UnusableDatabase) as raised:
        create_app(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert path.read_bytes() == before  # a refused file is left as it was
    return message


def test_a_new_database_is_stamped_and_reopens_with_its_state(tmp_path: Path) -> None:
    path = _emulator_db(tmp_path)
    assert _pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)
    with TestClient(create_app(path)) as client:
        body = {"class": "Endeavor", "subClass": "Project", "displayName": "Kept", "number": "K-1"}
        assert client.post("/itwins", json=body, headers=h("alice-token")).status_code == 201
    with TestClient(create_app(path)) as client:
        listed = client.get("/itwins?number=K-1", headers=h("alice-token")).json()["iTwins"]
        assert [i["displayName"] for i in listed] == ["Kept"]


@pytest.mark.parametrize(
    ("version", "age"), [(SCHEMA_VERSION + 1, "newer"), (SCHEMA_VERSION - 1, "older")]
)
def test_an_emulator_database_of_another_version_is_refused(
    tmp_path: Path, version: int, age: str
) -> None:
    path = _emulator_db(tmp_path)
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version={version}")
    message = _refused(path)
    assert f"schema version {version}, {age} than this emulator's version {SCHEMA_VERSION}" in (
        message
    )


def test_an_emulator_database_from_before_versions_is_refused_as_older(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SCHEMA)  # the tables, without application_id and user_version
    assert "from before schema versions, older than" in _refused(path)


def test_another_programs_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with closing(sqlite3.connect(path)) as db:
        db.executescript("CREATE TABLE notes(body TEXT); PRAGMA user_version=7;")
    assert _refused(path) == f"{path}: an SQLite database that is not the emulator's"


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("organizations: []\n" * 20)
    assert "cannot be read as an SQLite database (file is not a database)" in _refused(path)


def test_an_empty_file_is_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    Store(path).close()
    assert _pragmas(path) == (APPLICATION_ID, SCHEMA_VERSION)
