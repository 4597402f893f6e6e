"""Hostile input over real HTTP: never a 500, always a Bitrix-style JSON error, and state survives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from b24_conformance.contract.profile import load_profile
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

from .conftest import RELAXED, Api

CANCEL = "catalog.document.cancel"


@pytest.fixture(scope="module")
def hostile() -> Iterator[Api]:
    """A portal of its own, so the state check at the end sees only what these tests did."""
    with EmbeddedPortal(PortalSettings(**RELAXED)) as portal, httpx.Client(timeout=10) as client:
        yield Api(portal, client, load_profile("seed"))


def assert_bitrix_error(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    assert response.status_code >= 400, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    return body


def raw_post(api: Api, url: str, content: bytes, content_type: str | None) -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return api.client.post(url, content=content, headers=headers)


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b'{"id": }',
        b"[1, 2]",
        b'"id"',
        b"null",
        b"NaN",
        b'{"id": NaN}',
        b'{"id": 1e999}',
        b'{"id": 1}garbage',
        b"\xff\xfe{}",
        b'{"id": "\xff"}',
        b"[" * 100_000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
    ],
)
def test_malformed_json_is_400_invalid_request(hostile: Api, content: bytes) -> None:
    body = assert_bitrix_error(raw_post(hostile, hostile.url(CANCEL), content, "application/json"), 400)
    assert body["error"] == "INVALID_REQUEST"


def test_huge_body_is_400(hostile: Api) -> None:
    big = b'{"id": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert_bitrix_error(raw_post(hostile, hostile.url(CANCEL), big, "application/json"), 400)


def test_huge_chunked_body_is_400(hostile: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    response = hostile.client.post(
        hostile.url(CANCEL), content=chunks(), headers={"content-type": "application/json"}
    )
    assert_bitrix_error(response, 400)


def test_deep_brackets_in_query_form_and_multipart(hostile: Api) -> None:
    name = "a" + "[x]" * 1000
    assert_bitrix_error(hostile.client.get(hostile.url(CANCEL), params={name: "1"}), 400)
    assert_bitrix_error(hostile.client.post(hostile.url(CANCEL), data={name: "1"}), 400)
    assert_bitrix_error(hostile.client.post(hostile.url(CANCEL), files={name: (None, "1")}), 400)
    assert_bitrix_error(hostile.client.post(hostile.url(CANCEL), data={"id" + "[]" * 1000: "1"}), 400)


def test_many_parameters_do_not_hurt(hostile: Api) -> None:
    body = "&".join(f"documentIds[]={i}" for i in range(30_000)).encode()
    response = raw_post(
        hostile, hostile.url("catalog.document.cancelList"), body, "application/x-www-form-urlencoded"
    )
    assert_bitrix_error(response, 400)


@pytest.mark.parametrize(
    "doc_id", [0, -1, -(2**63), 2**63, 10**30, "99999999999999999999999", "-0", " 1", "1e3"]
)
def test_odd_ids_are_documented_errors(hostile: Api, doc_id: Any) -> None:
    assert_bitrix_error(hostile.call(CANCEL, {"id": doc_id}))
    assert_bitrix_error(hostile.call("catalog.document.conduct", {"id": doc_id}))
    assert_bitrix_error(hostile.client.get(hostile.url(CANCEL), params={"id": str(doc_id)}))


@pytest.mark.parametrize(
    "value", [None, True, False, 1.5, "", "abc", [], [1], {}, {"id": 1}, "\u0000", "😀" * 100]
)
def test_wrong_types(hostile: Api, value: Any) -> None:
    assert_bitrix_error(hostile.call(CANCEL, {"id": value}))
    response = hostile.call("catalog.document.cancelList", {"documentIds": value})
    assert response.status_code < 500, response.text
    response = hostile.call("catalog.document.add", {"fields": value})
    assert_bitrix_error(response)
    response = hostile.call(
        "catalog.document.list", {"filter": value, "select": value, "order": value, "start": value}
    )
    assert response.status_code < 500, response.text


def test_unknown_fields_are_ignored(hostile: Api) -> None:
    doc_id = hostile.new_document()
    response = hostile.call("catalog.document.conduct", {"id": doc_id, "bogus": {"deep": [1, 2]}, "ID": "x"})
    assert response.status_code == 200, response.text
    assert hostile.ok(CANCEL, {"id": doc_id, "unexpected": True}) is True


def test_invalid_utf8_everywhere(hostile: Api) -> None:
    url = hostile.url(CANCEL)
    assert_bitrix_error(raw_post(hostile, url, b"id=%ff%fe&x=\xff", "application/x-www-form-urlencoded"))
    assert_bitrix_error(hostile.client.get(url + "?id=%ff%fe%00"))
    multipart = b'--b\r\nContent-Disposition: form-data; name="id\xff"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    assert_bitrix_error(raw_post(hostile, url, multipart, "multipart/form-data; boundary=b"))
    lone_surrogate = b'{"auth": "\\udcff", "id": "\\ud800"}'
    wrong_auth = raw_post(hostile, hostile.portal.oauth_url() + CANCEL, lone_surrogate, "application/json")
    assert_bitrix_error(wrong_auth, 401)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "garbage",
        "application/json; charset=latin-1",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=zz",
        "application/x-www-form-urlencoded; charset=utf-16",
    ],
)
def test_odd_content_types(hostile: Api, content_type: str | None) -> None:
    response = raw_post(hostile, hostile.url(CANCEL), b"\x00\x01 not what it says \xff", content_type)
    assert_bitrix_error(response)


def test_body_of_an_unknown_type_is_ignored(hostile: Api) -> None:
    doc_id = hostile.new_document(conduct=True)
    url = hostile.url(CANCEL) + f"?id={doc_id}"
    response = raw_post(hostile, url, b'{"id": 0}', "text/plain")
    assert response.status_code == 200, response.text
    assert hostile.status(doc_id) == "C"


@pytest.mark.parametrize(
    "tail",
    [
        "a" * 5000,
        "..%2F..%2Fetc%2Fpasswd",
        "1/%00/catalog.document.cancel",
        "%ff%fe",
        "1/x/" + "y" * 3000,
        "catalog.document.cancel.xml",
        "batch.json.json",
        "1/code/batch/extra",
    ],
)
def test_odd_paths(hostile: Api, tail: str) -> None:
    assert_bitrix_error(hostile.client.post(f"{hostile.portal.base_url}/rest/{tail}", json={}))


def test_other_http_methods_get_json_405(hostile: Api) -> None:
    for verb in ("PUT", "DELETE", "PATCH"):
        body = assert_bitrix_error(hostile.client.request(verb, hostile.url(CANCEL)), 405)
        assert body["error"] == "METHOD_NOT_ALLOWED"


def test_hostile_batches(hostile: Api) -> None:
    cases: list[Any] = [
        {"cmd": {"a": "catalog.document.cancel?id[x][y]=1"}},
        {"cmd": {"a": "?"}},
        {"cmd": {"a": ""}},
        {"cmd": {"a": "catalog.document.cancel?" + "x" + "[a]" * 100 + "=1"}},
        {"cmd": {"a": "$result[a][b]"}},
        {"cmd": {"a": "catalog.document.cancel?id=$result[a]"}},
        {"cmd": {"": "catalog.document.mode.status"}},
        {"cmd": [None, 1, [], {}]},
        {"cmd": {"a": "catalog.document.mode.status"}, "halt": {"x": 1}},
    ]
    for params in cases:
        response = hostile.call("batch", params)
        assert response.status_code == 200, (params, response.text)
        assert set(response.json()["result"]) == {
            "result",
            "result_error",
            "result_total",
            "result_next",
            "result_time",
        }


def test_garbage_over_the_socket_does_not_kill_the_server(hostile: Api) -> None:
    parts = urlsplit(hostile.portal.base_url)
    for payload in (
        b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
        b"GET /rest/x HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
        b"POST /rest/batch HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ):
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(payload)
            try:
                sock.recv(4096)
            except OSError:
                pass
    assert hostile.ok("catalog.document.mode.status") == "Y"


def test_state_survives_all_of_the_above(hostile: Api) -> None:
    """Run last in this module: a normal conduct/cancel cycle still works and balances add up."""
    fx = hostile.portal.fixtures
    before = _balance(hostile, fx["product_id"], fx["main_store_id"])
    doc_id = hostile.new_document(amount=7, conduct=True)
    assert _balance(hostile, fx["product_id"], fx["main_store_id"]) == before + 7
    assert hostile.ok(CANCEL, {"id": doc_id}) is True
    assert hostile.status(doc_id) == "C"
    assert _balance(hostile, fx["product_id"], fx["main_store_id"]) == before
    assert hostile.client.get(hostile.portal.base_url + "/health").json()["status"] == "ok"


def _balance(api: Api, product_id: int, store_id: int) -> float:
    rows = api.ok("catalog.storeproduct.list", {"filter": {"productId": product_id, "storeId": store_id}})
    items = rows["storeProducts"] if isinstance(rows, dict) else rows
    return float(items[0]["amount"]) if items else 0.0


def test_a_handler_bug_is_a_logged_500_without_secrets(
    start_portal: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from b24_conformance.portal.methods import MethodSpec

    def broken(ctx: Any, params: Any) -> Any:
        raise ZeroDivisionError("boom")

    portal = start_portal()
    runtime = portal.app.state.runtime
    runtime.methods = {**runtime.methods, "test.broken": MethodSpec("test.broken", broken)}
    secret = portal.credential("admin").secret
    with caplog.at_level("ERROR", logger="b24_conformance.portal"), httpx.Client() as client:
        response = client.post(portal.webhook_url("admin") + "Test.Broken", json={"id": 1})
        batch = client.post(portal.webhook_url("admin") + "batch", json={"cmd": {"x": "test.broken"}})
    assert (response.status_code, response.json()) == (
        500,
        {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"},
    )
    assert batch.status_code == 200
    assert batch.json()["result"]["result_error"]["x"]["error"] == "INTERNAL_SERVER_ERROR"
    assert "ZeroDivisionError" in caplog.text and "test.broken" in caplog.text
    assert secret not in caplog.text
