"""Secret scrubbing: webhook codes in paths, auth in queries and bodies, literal secrets anywhere."""

import json

import pytest

from b24_conformance.redact import PLACEHOLDER, Redactor, find_leaks, redact_body, redact_url

CODE = "k9x2m4p7q1w8e5r3"


@pytest.mark.parametrize("url, expected", [
    (f"https://p.example/rest/1/{CODE}/catalog.document.cancel",
     "https://p.example/rest/1/REDACTED/catalog.document.cancel"),
    (f"https://p.example/rest/12/{CODE}/catalog.document.cancel.json?x=1",
     "https://p.example/rest/12/REDACTED/catalog.document.cancel.json?x=1"),
    (f"https://p.example/rest/catalog.document.cancel?auth={CODE}&id=5",
     "https://p.example/rest/catalog.document.cancel?auth=REDACTED&id=5"),
    (f"https://user:{CODE}@p.example/rest/x", "https://REDACTED@p.example/rest/x"),
    ("https://p.example/rest/catalog.document.cancel?id=5", "https://p.example/rest/catalog.document.cancel?id=5"),
])
def test_urls(url, expected):
    assert redact_url(url) == expected
    assert redact_url(expected) == expected  # idempotent


def test_json_body_auth_and_nested_tokens():
    body = json.dumps({"id": 5, "auth": CODE, "nested": {"access_token": CODE, "keep": "me"}})
    out = json.loads(redact_body(body, "application/json; charset=utf-8"))
    assert out == {"id": 5, "auth": PLACEHOLDER, "nested": {"access_token": PLACEHOLDER, "keep": "me"}}


def test_form_body_and_batch_strings():
    assert redact_body(f"id=5&auth={CODE}", "application/x-www-form-urlencoded") == "id=5&auth=REDACTED"
    batch = json.dumps({"cmd": {"a": f"https://p/rest/1/{CODE}/x"}})
    assert CODE not in redact_body(batch, "application/json")


def test_untouched_bodies_keep_their_exact_bytes():
    body = '{"id":  5}'
    assert redact_body(body, "application/json") == body


def test_redactor_replaces_known_secrets_anywhere_and_ignores_short_ones():
    r = Redactor()
    r.add(CODE, "ab", None)
    assert r.text(f"error: token {CODE} is bad, ab") == "error: token REDACTED is bad, ab"
    assert r.leaks(f"x{CODE}x") and not r.leaks("clean")
    assert find_leaks(f"..{CODE}..", [CODE]) == ["k9…(16 chars)"]
