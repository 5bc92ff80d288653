"""reconciler.config: itwin-access.yaml + environment -> Config, secrets only from the env."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.config import Config, load_config
from reconciler.errors import ConfigError
from reconciler.manifest.schema import load_schema
from reconciler.plan.guards import CONFIG_KEYS, GuardSettings

FULL = """\
# yaml-language-server: $schema=../schemas/config.schema.json
api: https://api.example.test/
backend: projects
identity: Deployer@Contoso.com
auth:
  tokenVariable: MY_TOKEN
  clientIdVariable: MY_ID
  clientSecretVariable: MY_SECRET
  tokenUrl: https://ims.example.test/connect/token
  scope: itwin-platform offline_access
guards:
  memberRemovalPercent: 10
  memberRemovalMinMembers: 4
  maxMemberRemovals: 20
concurrency: 4
rateLimit: 600
emulator:
  db: state/emu.db
  seed: seed.yaml
"""


def write(tmp_path: Path, text: str, name: str = "itwin-access.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(None, {}, tmp_path)
    assert config == Config()
    assert config.api is None  # never assumed: commands that talk to an API say what to set
    assert config.backend == "itwins"
    assert (config.concurrency, config.rate_limit) == (8, "auto")
    assert config.guards.member_removal_percent == 25
    assert config.guards.member_removal_min_members == 8
    assert config.guards.max_member_removals == 50
    assert config.emulator.db == Path(".itwin-access/emulator.db")
    assert (
        config.token_url_for("https://api.bentley.com") == "https://ims.bentley.com/connect/token"
    )
    assert config.token_url_for("http://127.0.0.1:5000/") == "http://127.0.0.1:5000/connect/token"
    # Bentley's dev-/qa- hosts sign in at the matching IMS host (config and API layer once
    # derived this separately, and the config sent dev- credentials to {base}/connect/token).
    assert (
        config.token_url_for("https://dev-api.bentley.com")
        == "https://dev-ims.bentley.com/connect/token"
    )
    assert (
        config.token_url_for("https://qa-api.bentley.com/")
        == "https://qa-ims.bentley.com/connect/token"
    )
    # The scope's default is the API layer's one constant, not a copy in the config.
    from reconciler.api.auth import DEFAULT_SCOPE

    assert config.auth.scope is None
    assert config.scope == DEFAULT_SCOPE == "itwin-platform"


def test_every_field_is_read(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    env = {"MY_TOKEN": "tok", "MY_ID": "cid", "MY_SECRET": "s3cret"}
    config = load_config(None, env, tmp_path)
    assert config.path == tmp_path / "itwin-access.yaml"
    assert config.api == "https://api.example.test"
    assert config.backend == "projects"
    assert config.identity == "deployer@contoso.com"
    assert (config.token, config.client_id, config.client_secret) == ("tok", "cid", "s3cret")
    assert config.auth.token_url == "https://ims.example.test/connect/token"
    assert config.scope == "itwin-platform offline_access"
    assert config.guards.member_removal_percent == 10
    assert config.guards.member_removal_min_members == 4
    assert config.guards.max_member_removals == 20
    assert (config.concurrency, config.rate_limit) == (4, 600)
    # Relative emulator paths are relative to the config file.
    assert config.emulator.db == tmp_path / "state/emu.db"
    assert config.emulator.seed == tmp_path / "seed.yaml"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    write(tmp_path, "api: emulator\n")
    env = {
        "ITWIN_ACCESS_API": "http://127.0.0.1:8080",
        "ITWIN_ACCESS_TOKEN": "t",
        "ITWIN_CLIENT_ID": "i",
        "ITWIN_CLIENT_SECRET": "s",
        "ITWIN_TOKEN_URL": "http://127.0.0.1:8080/connect/token",
        "ITWIN_SCOPE": "custom",
    }
    config = load_config(None, env, tmp_path)
    assert config.api == "http://127.0.0.1:8080"
    assert not config.embedded
    assert (config.token, config.client_id, config.client_secret) == ("t", "i", "s")
    assert config.token_url_for(config.api) == "http://127.0.0.1:8080/connect/token"
    assert config.scope == "custom"


def test_secrets_never_show_in_repr(tmp_path: Path) -> None:
    env = {"ITWIN_ACCESS_TOKEN": "tok-123", "ITWIN_CLIENT_SECRET": "s3cret-456"}
    config = load_config(None, env, tmp_path)
    assert config.token == "tok-123"
    assert "tok-123" not in repr(config)
    assert "s3cret-456" not in repr(config)
    assert "s3cret-456" not in str(config)


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        ("token: abc\n", "1:1", "token"),
        ("auth:\n  clientSecret: abc\n", "2:3", "auth.clientSecret"),
        ("auth:\n  password: hunter2\n", "2:3", "auth.password"),
    ],
)
def test_secret_looking_keys_are_refused(tmp_path: Path, text: str, where: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {}, None)
    message = str(caught.value)
    assert message.startswith(f"{path}:{where}: {key}: the config file must not hold secrets")
    assert "ITWIN_CLIENT_SECRET" in message
    assert "abc" not in message
    assert "hunter2" not in message


def test_a_token_looking_value_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "identity: eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl\n")
    with pytest.raises(ConfigError, match=r":1:11: identity: this looks like a token"):
        load_config(path, {}, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("backnd: itwins\n", "1:1: backnd: unknown key 'backnd'; did you mean 'backend'?"),
        ("api: ftp://x\n", "1:6: api: `api` must be `emulator` or a base URL"),
        ("concurrency: 0\n", "1:14: concurrency: 0 must be at least 1"),
        (
            "guards: {maxMemberRemovals: many}\n",
            "1:29: guards.maxMemberRemovals: expected an integer",
        ),
        ("auth: {tokenVariable: 'not a name'}\n", "1:23: auth.tokenVariable: must be the NAME"),
        ("- api\n", "1:1: the configuration must be a mapping"),
        ("api: [unclosed\n", "2:1: invalid YAML"),
    ],
)
def test_invalid_config_is_one_located_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(None, {}, tmp_path)
    assert str(caught.value).startswith(f"{path}:{expected}")


def test_explicit_missing_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", {}, None)


def test_bad_api_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ITWIN_ACCESS_API"):
        load_config(None, {"ITWIN_ACCESS_API": "localhost:80"}, tmp_path)


def test_yml_extension_and_file_as_search_dir(tmp_path: Path) -> None:
    write(tmp_path, "backend: projects\n", name="itwin-access.yml")
    manifest = write(tmp_path, "projects: []\n", name="p.yaml")
    assert load_config(None, {}, manifest).backend == "projects"


def test_no_api_is_assumed_and_require_api_says_what_to_set(tmp_path: Path) -> None:
    config = load_config(None, {}, tmp_path)
    with pytest.raises(ConfigError, match="ITWIN_ACCESS_API") as raised:
        config.require_api()
    assert "no config found" in str(raised.value)
    named = load_config(None, {"ITWIN_ACCESS_API": "https://api.bentley.com"}, tmp_path)
    assert named.require_api() == "https://api.bentley.com"


def test_the_nearest_config_walking_up_to_the_repository_root_wins(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "manifests" / "team"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    write(repo, "api: https://root.example.test\n")
    assert load_config(None, {}, deep).api == "https://root.example.test"
    write(repo / "manifests", "api: https://nearer.example.test\n")
    assert load_config(None, {}, deep).api == "https://nearer.example.test"


def test_the_walk_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path, "api: https://outside.example.test\n")  # above the repository: ignored
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert load_config(None, {}, repo).api is None


def test_outside_a_repository_only_the_manifest_directory_is_looked_at(tmp_path: Path) -> None:
    write(tmp_path, "api: https://parent.example.test\n")
    below = tmp_path / "manifests"
    below.mkdir()
    assert load_config(None, {}, below).api is None
    assert load_config(None, {}, tmp_path).api == "https://parent.example.test"


def test_itwin_access_config_comes_before_the_walk_and_after_config(tmp_path: Path) -> None:
    write(tmp_path, "api: https://beside.example.test\n")
    env_file = write(tmp_path, "api: https://env.example.test\n", name="env.yaml")
    flag_file = write(tmp_path, "api: https://flag.example.test\n", name="flag.yaml")
    env = {"ITWIN_ACCESS_CONFIG": str(env_file)}
    assert load_config(None, env, tmp_path).api == "https://env.example.test"
    assert load_config(flag_file, env, tmp_path).api == "https://flag.example.test"
    with pytest.raises(ConfigError, match="ITWIN_ACCESS_CONFIG"):
        load_config(None, {"ITWIN_ACCESS_CONFIG": str(tmp_path / "nope.yaml")}, tmp_path)


@pytest.mark.parametrize("value", ["community", "standard", 1200])
def test_rate_limit_is_a_tier_or_a_number(tmp_path: Path, value: object) -> None:
    write(tmp_path, f"rateLimit: {value}\n")
    assert load_config(None, {}, tmp_path).rate_limit == value


def test_an_unknown_rate_limit_tier_names_the_choices(tmp_path: Path) -> None:
    write(tmp_path, "rateLimit: premium-plus\n")
    with pytest.raises(ConfigError) as info:
        load_config(None, {}, tmp_path)
    assert "`rateLimit` must be `community`, `standard` or a number" in str(info.value)
    assert ":1:" in str(info.value)


POLICIES = """\
policies:
  domains: [Contoso.com, '@contoso.co.uk']
  rules:
    - name: admins-internal
      rule: allowed-domains
      permissions: [administration_*]
      domains: [contoso.com]
    - name: two-owners
      rule: min-owners
      count: 2
      domains: [contoso.com]
      liftable: true
"""


def test_policies_are_read_with_the_location_of_each_rule(tmp_path: Path) -> None:
    path = write(tmp_path, POLICIES)
    policies = load_config(path, {}, None).policies
    assert policies.domains == ("contoso.com", "contoso.co.uk")
    first, second = policies.rules
    assert (first.name, first.rule, first.permissions, first.domains, first.liftable) == (
        "admins-internal",
        "allowed-domains",
        ("administration_*",),
        ("contoso.com",),
        False,
    )
    assert first.source == f"{path}:4:7"
    assert (second.rule, second.count, second.liftable) == ("min-owners", 2, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "policies: {rules: [{name: x, rule: min-owners}]}\n",
            "policies.rules[0]: missing required key 'count'",
        ),
        ("policies: {rules: [{name: x, rule: nope, count: 1}]}\n", "policies.rules[0].rule"),
        ("policies: {domains: [not a domain]}\n", "must be an email domain"),
        (
            "policies: {rules: [{name: a, rule: min-owners, count: 1},"
            " {name: a, rule: min-owners, count: 2}]}\n",
            "the name 'a' is used twice",
        ),
    ],
)
def test_a_bad_policy_is_one_located_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(None, {}, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}:1:")
    assert expected in message
    assert "\n" not in message


def test_the_config_schema_example_of_policies_loads(tmp_path: Path) -> None:
    [example] = load_schema("config.schema.json")["properties"]["policies"]["examples"]
    path = write(tmp_path, yaml.safe_dump({"policies": example}))
    policies = load_config(path, {}, None).policies
    assert [r.rule for r in policies.rules] == [
        "allowed-domains",
        "min-owners",
        "forbidden-for-invitations",
        "max-members-per-role",
    ]


def test_guard_defaults_have_one_source_the_schema_repeats(tmp_path: Path) -> None:
    """GuardSettings holds the defaults; the config reads its keys through CONFIG_KEYS, and the
    schema's ``default`` values (which editors show) are the same numbers."""
    properties = load_schema("config.schema.json")["properties"]["guards"]["properties"]
    assert set(properties) == set(CONFIG_KEYS)
    defaults = GuardSettings()
    for key, name in CONFIG_KEYS.items():
        assert properties[key]["default"] == getattr(defaults, name), key
    write(tmp_path, "guards: {maxMemberRemovals: 5}\n")
    partial = load_config(None, {}, tmp_path).guards
    assert partial == GuardSettings(max_member_removals=5)
    assert isinstance(partial.member_removal_percent, float)


def test_invitations_default_to_reinviting_with_a_ledger_beside_the_config(
    tmp_path: Path,
) -> None:
    assert load_config(None, {}, tmp_path).invitations.ledger is None  # no file: no ledger
    (tmp_path / "itwin-access.yaml").write_text("api: emulator\n")
    config = load_config(None, {}, tmp_path)
    assert config.invitations.reinvite_expired is True
    assert config.invitations.ledger == tmp_path / ".itwin-access" / "invitations.json"
    (tmp_path / "itwin-access.yaml").write_text(
        "invitations: {reinviteExpired: false, ledger: state/sent.json}\n"
    )
    config = load_config(None, {}, tmp_path)
    assert config.invitations.reinvite_expired is False
    assert config.invitations.ledger == tmp_path / "state" / "sent.json"
    (tmp_path / "itwin-access.yaml").write_text("invitations: {reinviteExpired: maybe}\n")
    with pytest.raises(ConfigError, match="reinviteExpired"):
        load_config(None, {}, tmp_path)
