"""`-v` logs each HTTP request on stderr, secrets scrubbed; `--log-format json` for machines
(issue 13 item 6)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from starlette.testclient import TestClient


class Refuse503Once(httpx.BaseTransport):
    """The emulator, except that the first listing of iTwins answers 503 (a retry)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.refused = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.refused and request.method == "GET" and request.url.path == "/itwins/":
            self.refused = True
            return httpx.Response(503, json={"error": {"code": "ServiceUnavailable"}})
        return self.inner.handle_request(request)


def test_verbose_logs_every_request_with_status_time_and_request_id(run, workdir: Path) -> None:
    quiet = run("plan", workdir)
    loud = run("-v", "plan", workdir)
    assert quiet.stderr == ""
    assert loud.stdout == quiet.stdout  # the plan is untouched; the log is on stderr
    lines = loud.stderr.splitlines()
    assert lines
    pattern = re.compile(r"^(GET|POST|PATCH|DELETE) /\S* -> \d{3} in \d+ ms \[request id \S+\]")
    assert all(pattern.match(line) for line in lines), lines
    assert any(line.startswith("GET /itwins/ -> 200 in ") for line in lines)
    assert "demo-secret" not in loud.stderr
    assert "Bearer" not in loud.stderr
    # The same flag after the command.
    assert run("plan", workdir, "-v").stderr.count(" -> ") == len(lines)


def test_log_format_json_is_one_object_per_request(run, workdir: Path) -> None:
    result = run("--log-format", "json", "-v", "apply", workdir, "--auto-approve")
    assert result.code == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert records
    assert {r["event"] for r in records} == {"request"}
    assert {"POST", "GET"} <= {r["method"] for r in records}
    assert all(isinstance(r["ms"], float) and r["request_id"] for r in records)
    assert all(set(r) == {"event", "method", "path", "status", "ms", "request_id", "attempt",
                          "waited_s", "retry_of", "error"} for r in records)  # fmt: skip


def test_a_retry_is_logged_with_its_cause_and_wait(
    run_on, emulator: TestClient, workdir: Path
) -> None:
    flaky = httpx.Client(transport=Refuse503Once(emulator._transport), base_url=emulator.base_url)
    result = run_on(flaky, "-v", "plan", workdir)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    first = lines.index(next(line for line in lines if line.startswith("GET /itwins/ -> 503")))
    retried = lines[first + 1]
    assert retried.startswith("GET /itwins/ -> 200 in "), retried
    assert re.search(r"\(retry 1 after 503, waited \d+\.\d\d s\)$", retried), retried
