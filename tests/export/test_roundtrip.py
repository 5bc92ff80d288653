"""Minimal YAML edits (reconciler/export/roundtrip.py): what ``merge`` does not change keeps
its bytes, including long flow lists wrapped over lines (which ruamel.yaml alone reflows)."""

from __future__ import annotations

from pathlib import Path

from reconciler.export.roundtrip import Document, merge
from reconciler.export.yamlout import Flow

ROOT = Path(__file__).resolve().parents[2]

TEXT = """\
# A comment that must stay.
roleSets:
  program:
    - displayName: Engineer   # trailing comment
      permissions: [itwins_read, imodels_read, imodels_webview, imodels_write, storage_read,
                    storage_write, issues_read]
    - displayName: Viewer
      description: 'Reads'
      permissions: [itwins_read, storage_read]
"""


def test_every_shipped_manifest_renders_back_byte_for_byte_when_unedited() -> None:
    files = sorted((ROOT / "examples").glob("[!c]*/**/*.yaml"))
    assert len(files) > 50
    for path in files:
        text = path.read_text()
        assert Document(text).render() == text, path


def test_an_edit_keeps_the_wrapped_flow_list_it_did_not_touch() -> None:
    document = Document(TEXT)
    roles = document.data["roleSets"]["program"]
    viewer = {"displayName": "Viewer", "description": "Reads", "permissions": Flow(["itwins_read"])}
    engineer = dict(roles[0])
    assert merge(roles, [engineer, viewer]) is roles
    assert document.render() == TEXT.replace(
        "permissions: [itwins_read, storage_read]", "permissions: [itwins_read]"
    )


def test_emails_match_case_insensitively_and_new_items_take_the_list_style() -> None:
    document = Document("owners: [Alice@Contoso.com]  # who\nmembers:\n  - email: b@x.com\n")
    data = document.data
    merge(data["owners"], ["alice@contoso.com", "carol@contoso.com"])
    merge(data["members"], [{"email": "B@x.com"}, {"email": "d@x.com", "roles": Flow(["R"])}])
    assert document.render() == (
        # A comment on a line that changed stays, one space from the value (ruamel's spacing).
        "owners: [Alice@Contoso.com, carol@contoso.com] # who\n"
        "members:\n"
        "  - email: b@x.com\n"
        "  - email: d@x.com\n"
        "    roles: [R]\n"
    )
