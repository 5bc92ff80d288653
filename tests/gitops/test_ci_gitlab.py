"""The GitLab side of the CI kit (examples/ci/scripts/gitlab.py), run as the pipeline runs it
against a stand-in for the few GitLab API endpoints it calls (GitLab is not emulated): one
merge-request note, updated in place; the reviewed plan fetched from the merged merge request's
last successful pipeline for its head commit, and nothing when there is none."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "ci" / "scripts" / "gitlab.py"
PLAN = b'{"format_version": 1, "operations": []}'


class FakeGitLab:
    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []
        self.pipelines = [
            {"id": 7, "sha": "head2", "status": "success"},
            {"id": 6, "sha": "head1", "status": "success"},
        ]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        self.calls.append((method, path))
        base = "/api/v4/projects/42"
        route = path.removeprefix(base).split("?")[0]
        if route == "/merge_requests/5/notes" and method == "GET":
            return 200, json.dumps(self.notes).encode()
        if route == "/merge_requests/5/notes" and method == "POST":
            self.notes.append({"id": len(self.notes) + 100, "body": body["body"]})
            return 201, b"{}"
        if route.startswith("/merge_requests/5/notes/") and method == "PUT":
            note_id = int(route.rsplit("/", 1)[1])
            next(n for n in self.notes if n["id"] == note_id)["body"] = body["body"]
            return 200, b"{}"
        if route == "/repository/commits/merge1/merge_requests":
            return 200, json.dumps([{"iid": 5, "state": "merged", "sha": "head2"}]).encode()
        if route == "/repository/commits/lonely/merge_requests":
            return 200, b"[]"
        if route == "/merge_requests/5/pipelines":
            return 200, json.dumps(self.pipelines).encode()
        if route == "/pipelines/7/jobs":
            return 200, json.dumps([{"id": 70, "name": "itwin-access-plan"}]).encode()
        if route == "/jobs/70/artifacts/itwin-access-out/plan.json":
            return 200, PLAN
        return 404, b'{"message": "404 Not found"}'


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, str]]:
    fake = FakeGitLab()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            assert self.headers["PRIVATE-TOKEN"] == "glpat-test"
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, data = fake.answer(self.command, self.path, body)
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    server.shutdown()
    server.server_close()


def _run(url: str, cwd: Path, *args: str, sha: str = "merge1") -> subprocess.CompletedProcess[str]:
    env = {
        "CI_API_V4_URL": url,
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "5",
        "CI_COMMIT_SHA": sha,
        "ITWIN_ACCESS_GITLAB_TOKEN": "glpat-test",
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_note_is_posted_once_then_updated_in_place(
    gitlab: tuple[FakeGitLab, str], tmp_path: Path
) -> None:
    fake, url = gitlab
    fake.notes.append({"id": 1, "body": "LGTM"})
    body = tmp_path / "comment.md"
    body.write_text("<!-- itwin-access-plan -->\nfirst\n")
    assert _run(url, tmp_path, "note", str(body)).stdout == "posted a note\n"
    body.write_text("<!-- itwin-access-plan -->\nsecond\n")
    assert _run(url, tmp_path, "note", str(body)).stdout == "updated note 101\n"
    assert [n["body"] for n in fake.notes] == ["LGTM", "<!-- itwin-access-plan -->\nsecond\n"]


def test_fetch_plan_takes_the_plan_of_the_merged_head_commit(
    gitlab: tuple[FakeGitLab, str], tmp_path: Path
) -> None:
    fake, url = gitlab
    result = _run(url, tmp_path, "fetch-plan", "reviewed")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "reviewed" / "plan.json").read_bytes() == PLAN
    assert ("GET", "/api/v4/projects/42/pipelines/7/jobs?scope[]=success") in fake.calls


def test_fetch_plan_refuses_without_a_reviewed_plan(
    gitlab: tuple[FakeGitLab, str], tmp_path: Path
) -> None:
    fake, url = gitlab
    lonely = _run(url, tmp_path, "fetch-plan", "reviewed", sha="lonely")
    assert lonely.returncode == 1
    assert lonely.stderr.strip() == "no merged merge request for lonely: nothing reviewed"
    fake.pipelines = [{"id": 6, "sha": "head1", "status": "success"}]  # none for head2
    stale = _run(url, tmp_path, "fetch-plan", "reviewed")
    assert stale.returncode == 1
    assert stale.stderr.strip() == "merge request !5: no successful plan for head2"
    assert not (tmp_path / "reviewed").exists()
