"""Hostile request bodies get the contract's 422 (or 413 for a huge one), never a 500
(issue 12 item 10)."""

from __future__ import annotations

import pytest
from emu_helpers import error_code, h
from starlette.testclient import TestClient


def _post(client: TestClient, content: bytes) -> tuple[int, str]:
    headers = {**h("alice-token", 1), "Content-Type": "application/json"}
    response = client.post("/itwins/", content=content, headers=headers)
    assert response.status_code != 500, response.text
    return response.status_code, error_code(response)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nested 100,000 deep
        b'{"class": "Endeavor", "subClass": "Project", "displayName": "a\\ud800"}',
        b'{"class": "Endeavor", "subClass": "Project", "displayName": "A", "latitude": NaN}',
        b'{"class": "Endeavor", "subClass": "Project", "displayName": "A", "latitude": 1e999}',
        b'{"class": "Endeavor", "subClass": "Project", "displayName": "A", "longitude": -Infinity}',
        b'{"class": "Endeavor", "subClass": "Project", "displayName": "A", "\\udfff": 1}',
    ],
    ids=["deep", "lone-surrogate", "nan", "overflow", "-infinity", "surrogate-key"],
)
def test_a_hostile_json_body_is_a_422(client: TestClient, body: bytes) -> None:
    status, code = _post(client, body)
    assert status == 422
    assert code == "InvalidiTwinsRequest"


def test_a_50_mb_body_is_a_413_and_nothing_is_created(client: TestClient) -> None:
    big = (
        b'{"class": "Endeavor", "subClass": "Project", "displayName": "'
        + b"x" * (50 * 1024 * 1024)
        + b'"}'
    )
    status, code = _post(client, big)
    assert status == 413
    assert code == "RequestTooLarge"
    listed = client.get("/itwins", headers=h("alice-token", 1)).json()["iTwins"]
    assert all(len(i["displayName"]) < 1000 for i in listed)
