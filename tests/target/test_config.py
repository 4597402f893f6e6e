"""Target configs: credentials from env, clear errors for bad files and wrong webhook URLs."""

from pathlib import Path

import pytest

from b24_conformance.errors import TargetConfigInvalid
from b24_conformance.target.config import load_target_config, parse_webhook_url, single_webhook_target

SECRET = "s3cr3tc0de42xyz"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_webhook_url_is_parsed_into_user_and_code():
    cred = parse_webhook_url(f"https://acme.bitrix24.com/rest/7/{SECRET}")
    assert cred.user_id == 7
    assert cred.secret == SECRET
    assert cred.webhook_url == f"https://acme.bitrix24.com/rest/7/{SECRET}/"
    assert SECRET not in repr(cred)


@pytest.mark.parametrize("url", [
    "https://acme.bitrix24.com/rest/" + SECRET,             # no user id (b24pysdk PR #3)
    "https://acme.bitrix24.com/rest/abc/" + SECRET + "/",   # user id not a number
    "acme.bitrix24.com/rest/1/" + SECRET,                    # no scheme
    "https://acme.bitrix24.com/" + SECRET,                   # no /rest/
    "ftp://acme.bitrix24.com/rest/1/" + SECRET,
])
def test_wrong_webhook_url_is_a_clear_error_without_the_secret(url):
    with pytest.raises(TargetConfigInvalid) as info:
        parse_webhook_url(url)
    text = str(info.value)
    assert "webhook URL" in text and "hint:" in text
    assert SECRET not in text


def test_config_reads_secrets_from_the_environment(tmp_path):
    path = write(tmp_path, """
kind: live
name: acme
credentials:
  admin: {webhook_env: B24_WEBHOOK}
  admin-oauth: {oauth_endpoint: "https://acme.bitrix24.com/rest", token_env: B24_TOKEN}
  no-cancel-right: {webhook_env: B24_UNSET}
fixtures: {restricted_store_id: 9}
rate: {threshold: 250, drain_per_s: 5}
""")
    env = {"B24_WEBHOOK": f"https://acme.bitrix24.com/rest/1/{SECRET}/", "B24_TOKEN": "tok-" + SECRET}
    config = load_target_config(path, env)
    assert config.credential("admin").secret == SECRET
    assert config.credential("admin-oauth").oauth_endpoint == "https://acme.bitrix24.com/rest/"
    assert config.credential("no-cancel-right") is None  # variable unset: role unavailable, not an error
    assert config.fixtures == {"restricted_store_id": 9}
    assert config.rate.threshold == 250
    assert config.secrets() == {SECRET, "tok-" + SECRET}
    assert SECRET not in config.describe()


def test_derived_roles_never_reuse_the_real_code():
    config = single_webhook_target(f"https://acme.bitrix24.com/rest/1/{SECRET}/")
    bogus = config.credential("bogus-webhook")
    assert bogus.kind == "webhook" and bogus.user_id == 1 and bogus.secret != SECRET
    anonymous = config.credential("anonymous")
    assert anonymous.kind == "anonymous" and anonymous.oauth_endpoint == "https://acme.bitrix24.com/rest/"


@pytest.mark.parametrize("text, message", [
    ("kind: live\n", "credentials"),
    ("credentials: {admin: {webhook: 'not a url'}}\n", "not a Bitrix24 webhook URL"),
    ("credentials: {admin: {webhook_env: NOPE}}\n", "admin` credential is not set"),
    ("credentials: {admin: {oauth_endpoint: 'https://a/rest/'}, no-store-right: 3}\n", "credentials.no-store-right must be a mapping"),
    ("credentials: {admin: {oauth_endpoint: 'https://a/rest/'}, no-cancel-rigth: {webhook_env: X}}\n",
     "no clause uses the role 'no-cancel-rigth'\n  hint: did you mean 'no-cancel-right'?"),
    ("credentials: {admin: {webhook: 'https://a/rest/1/abcdefgh/'}}\nrate: {drain_per_s: 0}\n", "must both be above 0"),
    ("credentials: {admin: {webhook: 'https://a/rest/1/abcdefgh/'}}\nrate: {threshold: -1}\n", "must both be above 0"),
    ("credentials: {admin: {webhook: 'https://a/rest/1/abcdefgh/'}}\ntimeout: 0\n", "timeout must be above 0"),
    ("credentials: {admin: {webhook: 'https://a/rest/1/abcdefgh/'}}\nrate: 5\n", "must be numbers"),
    ("credentials: {admin: {webhook: 'https://a/rest/1/abcdefgh/', password: 1}}\n", "unknown key"),
    ("colour: blue\ncredentials: {}\n", "unknown key"),
    ("credentials: {admin: {webhook: 'https://a/rest/1/abcdefgh/'}}\nrate: {threshold: many}\n", "must be numbers"),
    ("credentials: [\n", "not valid YAML"),
    ("- a list\n", "mapping"),
])
def test_bad_config_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(TargetConfigInvalid) as info:
        load_target_config(write(tmp_path, text), {})
    assert message in str(info.value)


def test_a_config_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: portál\ncredentials: {}\n".encode("latin-1"))
    with pytest.raises(TargetConfigInvalid, match="not UTF-8 text"):
        load_target_config(path, {})


def test_a_webhook_url_with_a_method_on_its_end_says_to_remove_it():
    with pytest.raises(TargetConfigInvalid) as info:
        parse_webhook_url(f"https://acme.example:8443/rest/1/{SECRET}/catalog.document.cancel")
    text = str(info.value)
    assert "ends with a method name (catalog.document.cancel)" in text and "remove 'catalog.document.cancel'" in text
    assert "acme.example:8443" in text and SECRET not in text


def test_a_malformed_webhook_url_keeps_its_port_and_hides_its_code():
    with pytest.raises(TargetConfigInvalid) as info:
        parse_webhook_url(f"https://acme.example:8443/rest/{SECRET}/")
    assert "acme.example:8443" in str(info.value) and SECRET not in str(info.value)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(TargetConfigInvalid, match="cannot read target config"):
        load_target_config(tmp_path / "nope.yaml", {})


def test_the_shipped_example_config_loads(monkeypatch):
    from b24_conformance import paths
    env = {"B24_WEBHOOK": f"https://acme.bitrix24.com/rest/1/{SECRET}/"}
    config = load_target_config(paths.targets_dir() / "example-live.yaml", env)
    assert config.kind == "live" and config.credential("admin").secret == SECRET


def test_the_example_config_names_every_rights_role_and_store_fixture():
    import yaml

    from b24_conformance import paths
    from b24_conformance.contract.clause import load_clauses
    from b24_conformance.target.config import FIXTURE_STORES

    raw = yaml.safe_load((paths.targets_dir() / "example-live.yaml").read_text(encoding="utf-8"))
    rights_roles = {c.when.role for c in load_clauses() if c.covers and c.when.role != "admin"}
    assert rights_roles >= {"cancel-receipts-only", "no-catalog-access", "no-inventory-access", "no-store-right"}
    assert rights_roles <= set(raw["credentials"])
    assert set(FIXTURE_STORES.values()) <= set(raw["fixtures"])
