"""redact(): the one scrubber of secrets and URL credentials, used by the API client, the
token endpoint and the CLI's writers."""

from __future__ import annotations

from reconciler.redact import redact


def test_every_secret_and_every_url_credential_becomes_a_mask() -> None:
    text = "token abc123 and secret xyz at https://user:pw@host/path, ftp://u@h too"
    assert redact(text, ("abc123", "xyz", "", None)) == (
        "token *** and secret *** at https://***@host/path, ftp://***@h too"
    )


def test_nothing_to_hide_and_no_text() -> None:
    assert redact("plain https://host/x") == "plain https://host/x"
    assert redact(None, ("abc",)) is None
