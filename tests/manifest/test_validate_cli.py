"""`itwin-access validate` and `itwin-access schema` through the real CLI entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from reconciler.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_quickstart_is_valid_with_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLES / "quickstart"))
    assert (code, err) == (0, "")
    assert out == "valid: 3 projects, 10 roles, 2 groups, 8 members, 4 owners in 3 files\n"


def test_enterprise_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(EXAMPLES / "enterprise"))
    assert (code, err) == (0, "")
    assert out == "valid: 51 projects, 204 roles, 50 groups, 157 members, 51 owners in 52 files\n"


def test_quickstart_uses_the_demo_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler.config import load_config

    config = load_config(None, {}, EXAMPLES / "quickstart")
    assert config.embedded
    text = "".join(p.read_text() for p in (EXAMPLES / "quickstart").glob("*.yaml"))
    assert "@fabrikam.com" in text  # an external user, to show invitations
    assert set(re.findall(r"[a-z]+@contoso\.com", text)) <= {
        f"{n}@contoso.com" for n in ("alice", "bob", "carol", "dana", "eli", "frank")
    }


# examples/ci holds CI configuration (workflows, .gitlab-ci.yml), not manifests; hidden files
# (an emulator seed) are not read as manifests either.
MANIFEST_EXAMPLES = sorted(
    p
    for p in EXAMPLES.rglob("*.y*ml")
    if EXAMPLES / "ci" not in p.parents
    and not any(part.startswith(".") for part in p.relative_to(EXAMPLES).parts)
)


@pytest.mark.parametrize("path", MANIFEST_EXAMPLES, ids=lambda p: p.name)
def test_every_example_carries_the_schema_modeline(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    target = (path.parent / match.group(1)).resolve()
    name = "config.schema.json" if path.name == "itwin-access.yaml" else "manifest.schema.json"
    assert target == ROOT / "schemas" / name


def test_warnings_are_shown_but_do_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "p.yaml"
    manifest.write_text(
        "projects:\n  - number: A\n    roles:\n      - displayName: R\n"
        "        permissions: [imodels_raed]\n"
    )
    code, out, err = run(capsys, "validate", str(manifest))
    assert code == 0
    assert err == (
        f"{manifest}:5:23: projects[0].roles[0].permissions[0]: warning: unknown permission "
        "'imodels_raed'; did you mean 'imodels_read'? (not in the shipped list; plan checks "
        "the live list)\n"
    )
    assert (
        out == "valid: 1 projects, 1 roles, 0 groups, 0 members, 0 owners in 1 files, 1 warning\n"
    )


def test_json_format_for_machines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "p.yaml"
    manifest.write_text("projects:\n  - number: A\n    owners: [nobody]\n")
    code, out, err = run(capsys, "validate", "--format", "json", str(manifest))
    assert (code, err) == (1, "")
    document = json.loads(out)
    assert document["valid"] is False
    assert document["backend"] == "itwins"
    assert document["problems"] == [
        {
            "file": str(manifest),
            "line": 3,
            "column": 14,
            "path": "projects[0].owners[0]",
            "severity": "error",
            "message": "malformed owner email 'nobody' (expected name@domain.tld)",
        }
    ]


def test_backend_comes_from_the_config_beside_the_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "itwin-access.yaml").write_text("backend: projects\n")
    (tmp_path / "p.yaml").write_text("projects:\n  - number: A\n    owners: [a@b.co]\n")
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert "backend 'projects' (the legacy Projects API) has no owners" in err
    code, _, _ = run(capsys, "validate", "--backend", "itwins", str(tmp_path))
    assert code == 0


def test_a_broken_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "itwin-access.yaml").write_text("backend: legacy\n")
    (tmp_path / "p.yaml").write_text("projects:\n  - number: A\n")
    code, out, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert err == (
        f"Error: {tmp_path / 'itwin-access.yaml'}:1:10: backend: 'legacy' is not one of: "
        "itwins, projects\n"
    )
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("args", "name"),
    [((), "manifest.schema.json"), (("--config",), "config.schema.json")],
)
def test_schema_prints_the_shipped_schema(
    args: tuple[str, ...], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "schema", *args)
    assert code == 0
    assert out == (ROOT / "schemas" / name).read_text()
    jsonschema.Draft202012Validator.check_schema(json.loads(out))


def _properties(node: object, where: str = "") -> list[tuple[str, dict[str, object]]]:
    found: list[tuple[str, dict[str, object]]] = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.append((f"{where}.{name}", sub))
        for key, sub in node.items():
            found += _properties(sub, f"{where}.{key}" if key != "properties" else where)
    elif isinstance(node, list):
        for sub in node:
            found += _properties(sub, where)
    return found


@pytest.mark.parametrize("name", ["manifest.schema.json", "config.schema.json"])
def test_every_schema_property_has_a_description(name: str) -> None:
    schema = json.loads((ROOT / "schemas" / name).read_text())
    missing = [where for where, sub in _properties(schema) if "description" not in sub]
    assert missing == []
