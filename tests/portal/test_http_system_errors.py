"""Every system error over real HTTP, with status, code and text rendered from the portal's profile."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from .conftest import Api

METHOD = "catalog.document.mode.status"


def test_unknown_webhook_code(api: Api) -> None:
    admin = api.portal.credential("admin")
    url = f"{api.portal.base_url}/rest/{admin.user_id}/not-a-real-code/{METHOD}"
    api.assert_error(api.client.post(url, json={}), "system.wrong-auth")


def test_webhook_user_id_must_match_the_code(api: Api) -> None:
    admin = api.portal.credential("admin")
    for user in (str(admin.user_id + 1), "abc", "0"):
        url = f"{api.portal.base_url}/rest/{user}/{admin.secret}/{METHOD}"
        api.assert_error(api.client.post(url, json={}), "system.wrong-auth")


def test_oauth_token_in_a_webhook_path_is_wrong_auth(api: Api) -> None:
    token = api.portal.credential("admin-oauth")
    url = f"{api.portal.base_url}/rest/{token.user_id}/{token.secret}/{METHOD}"
    api.assert_error(api.client.post(url, json={}), "system.wrong-auth")


def test_unknown_oauth_token(api: Api) -> None:
    url = api.portal.oauth_url() + METHOD
    api.assert_error(api.client.post(url, json={"auth": "nope"}), "system.wrong-auth")
    api.assert_error(api.client.get(url, params={"auth": "nope"}), "system.wrong-auth")
    api.assert_error(api.client.post(url, json={"auth": {"token": "x"}}), "system.wrong-auth")


def test_webhook_code_used_as_oauth_token_is_wrong_auth(api: Api) -> None:
    code = api.portal.credential("admin").secret
    api.assert_error(
        api.client.post(api.portal.oauth_url() + METHOD, json={"auth": code}), "system.wrong-auth"
    )


def test_no_auth_at_all(api: Api) -> None:
    url = api.portal.oauth_url() + METHOD
    api.assert_error(api.client.post(url, json={}), "system.no-auth")
    api.assert_error(api.client.get(url), "system.no-auth")
    api.assert_error(api.client.post(url, json={"auth": ""}), "system.no-auth")


def test_expired_token(api: Api) -> None:
    token = api.portal.credential("expired-oauth").secret
    api.assert_error(
        api.client.post(api.portal.oauth_url() + METHOD, json={"auth": token}), "system.expired-token"
    )


def test_deactivated_user(api: Api) -> None:
    api.assert_error(api.call(METHOD, label="inactive-user"), "system.invalid-credentials")


def test_insufficient_scope(api: Api) -> None:
    api.assert_error(api.call(METHOD, label="no-catalog-scope"), "system.insufficient-scope")
    api.assert_error(
        api.call("catalog.document.cancel", {"id": 1}, label="no-catalog-scope"), "system.insufficient-scope"
    )


def test_batch_needs_no_scope_but_its_commands_do(api: Api) -> None:
    response = api.call("batch", {"cmd": {"a": METHOD}}, label="no-catalog-scope")
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    _, expected = api.expected("system.insufficient-scope")
    assert result["result_error"] == {"a": expected}
    assert result["result"] == []


def test_unknown_method(api: Api) -> None:
    api.assert_error(api.call("catalog.document.nope"), "system.method-not-found")
    api.assert_error(api.call("catalog.document.get"), "system.method-not-found")


def test_auth_is_checked_before_the_method_name(api: Api) -> None:
    url = api.portal.oauth_url() + "no.such.method"
    api.assert_error(api.client.post(url, json={}), "system.no-auth")
    api.assert_error(api.client.post(url, json={"auth": "nope"}), "system.wrong-auth")


def test_paths_that_name_no_method(api: Api) -> None:
    admin = api.portal.credential("admin")
    for tail in ("", f"{admin.user_id}/{admin.secret}", f"1/2/3/{METHOD}"):
        api.assert_error(
            api.client.post(f"{api.portal.base_url}/rest/{tail}", json={}), "system.method-not-found"
        )


def test_batch_length(api: Api) -> None:
    cmd = {f"c{i}": METHOD for i in range(51)}
    api.assert_error(api.call("batch", {"cmd": cmd}), "system.batch-length")
    fifty = api.call("batch", {"cmd": {f"c{i}": METHOD for i in range(50)}})
    assert fifty.status_code == 200
    assert len(fifty.json()["result"]["result"]) == 50


def test_nested_batch_is_not_allowed(api: Api) -> None:
    response = api.call("batch", {"cmd": {"inner": "batch?cmd[x]=" + METHOD, "after": METHOD}})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    _, expected = api.expected("system.batch-method-not-allowed")
    assert result["result_error"] == {"inner": expected}
    assert result["result"] == {"after": "Y"}


def test_operation_time_limit(api: Api) -> None:
    doc_id = api.new_document(conduct=True)
    refused = api.call("catalog.document.cancel", {"id": doc_id}, label="operating-exhausted")
    api.assert_error(refused, "system.operation-time-limit")
    assert api.status(doc_id) == "Y"
    # Only that method, only that credential:
    assert api.ok(METHOD, label="operating-exhausted") == "Y"
    assert api.ok("catalog.document.cancel", {"id": doc_id}) is True


def test_operation_time_limit_inside_batch(api: Api) -> None:
    doc_id = api.new_document(conduct=True)
    response = api.call(
        "batch", {"cmd": {"c": f"catalog.document.cancel?id={doc_id}"}}, label="operating-exhausted"
    )
    _, expected = api.expected("system.operation-time-limit")
    assert response.json()["result"]["result_error"] == {"c": expected}


def test_query_limit(start_portal: Any) -> None:
    from b24_conformance.contract.profile import load_profile

    portal = start_portal(profile="docs-ru", rate_threshold=3, rate_drain_per_s=0.001)
    http, code, text = load_profile("docs-ru").render("system.query-limit")
    url = portal.webhook_url("burst") + METHOD
    with httpx.Client() as client:
        statuses = [client.post(url, json={}).status_code for _ in range(4)]
        refused = client.post(url, json={})
        other = client.post(portal.webhook_url("admin") + METHOD, json={})
    assert statuses == [200, 200, 200, 200]  # the 4th lifts the level to 4 > 3 ...
    assert (refused.status_code, refused.json()) == (http, {"error": code, "error_description": text})
    assert other.status_code == http  # ... and the bucket is per portal and client IP, not per credential


def test_https_required_for_webhooks_on_the_plain_listener(tls_portal: Any) -> None:
    from b24_conformance.contract.profile import load_profile

    http, code, text = load_profile(tls_portal.settings.profile).render("system.https-required")
    plain = tls_portal.webhook_url("admin", tls=False) + METHOD
    with httpx.Client(verify=ssl.create_default_context(cafile=tls_portal.ca_path)) as client:
        refused = client.post(plain, json={})
        secure = client.post(tls_portal.webhook_url("admin") + METHOD, json={})
        token = tls_portal.credential("admin-oauth").secret
        oauth_plain = client.post(tls_portal.oauth_url(tls=False) + METHOD, json={"auth": token})
        oauth_tls = client.post(tls_portal.oauth_url() + METHOD, json={"auth": token})
        spoofed = client.post(plain, json={}, headers={"X-Forwarded-Proto": "https"})
    assert (refused.status_code, refused.json()) == (http, {"error": code, "error_description": text})
    assert tls_portal.webhook_url("admin").startswith("https://")
    assert secure.status_code == 200, secure.text
    assert oauth_plain.status_code == 200, oauth_plain.text
    assert oauth_tls.status_code == 200, oauth_tls.text
    assert spoofed.status_code == http
