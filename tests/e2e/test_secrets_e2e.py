"""A token or client secret never appears in any output, plan file or journal."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def _everything(paths: list[Path], outputs: list[str]) -> str:
    return "\n".join(outputs + [p.read_text() for p in paths if p.exists()])


def test_no_secret_in_any_output(cli_with_env, served, quickstart: Path, tmp_path: Path) -> None:
    grant = httpx.post(
        served.base_url + "/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "itwin-access-demo",
            "client_secret": "demo-secret",
            "scope": "itwin-platform",
        },
        timeout=30,
    ).json()
    token = grant["access_token"]
    plan_file, journal = tmp_path / "plan.json", tmp_path / "journal.jsonl"
    outputs: list[str] = []
    as_token = {"ITWIN_ACCESS_API": served.base_url, "ITWIN_ACCESS_TOKEN": token}
    as_app = {
        "ITWIN_ACCESS_API": served.base_url,
        "ITWIN_CLIENT_ID": "itwin-access-demo",
        "ITWIN_CLIENT_SECRET": "demo-secret",
    }
    for env in (as_token, as_app):
        for args in (
            ("plan", quickstart, "--out", plan_file, "--format", "json"),
            ("plan", quickstart, "--format", "markdown"),
            ("apply", quickstart, "--auto-approve", "--journal", journal, "--verify"),
            ("drift", quickstart),
            ("apply", "--plan", plan_file, "--config", quickstart / "itwin-access.yaml"),
        ):
            done = cli_with_env(env, *args)
            outputs += [done.stdout, done.stderr]
    # A failing call too: an unknown base path makes the client report an API error.
    bad = cli_with_env({**as_token, "ITWIN_ACCESS_API": served.base_url + "/nope"}, "plan",
                       quickstart)  # fmt: skip
    assert bad.code == 1
    outputs += [bad.stdout, bad.stderr]
    text = _everything([plan_file, journal], outputs)
    assert "Apply complete" in text  # the runs did run
    for secret in (token, token.split(".")[2], "demo-secret"):
        assert secret not in text
