"""Calling conventions over real HTTP: URL forms, suffixes, encodings, PHP brackets, OAuth, envelopes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from .conftest import TIME_KEYS, Api

ISO = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\Z")


def assert_time_block(body: dict[str, Any]) -> dict[str, Any]:
    block = body["time"]
    assert tuple(block) == TIME_KEYS
    for key in ("start", "finish", "duration", "processing", "operating"):
        assert isinstance(block[key], (int, float)) and not isinstance(block[key], bool)
    assert isinstance(block["operating_reset_at"], int)
    assert block["finish"] >= block["start"]
    assert block["duration"] == pytest.approx(block["finish"] - block["start"])
    for key in ("date_start", "date_finish"):
        assert ISO.match(block[key]), block[key]
    assert datetime.fromisoformat(block["date_start"]).timestamp() == int(block["start"])
    return block


def test_success_envelope_and_time_block(api: Api) -> None:
    response = api.call("catalog.document.mode.status")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"result", "time"}
    assert body["result"] == "Y"
    block = assert_time_block(body)
    assert block["operating_reset_at"] >= int(block["start"])


@pytest.mark.parametrize(
    "method",
    [
        "catalog.document.mode.status",
        "catalog.document.mode.status.json",
        "CATALOG.Document.Mode.Status",
        "catalog.document.mode.status.JSON",
        "catalog.document.mode.status/",
    ],
)
def test_suffix_case_and_trailing_slash(seed_api: Api, method: str) -> None:
    response = seed_api.call(method)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "Y"


def test_xml_suffix_is_refused_with_a_bitrix_error(seed_api: Api) -> None:
    response = seed_api.call("catalog.document.mode.status.xml")
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_REQUEST"


def _list_filter(api: Api, doc_id: int, how: str) -> httpx.Response:
    url = api.url("catalog.document.list")
    form = {"filter[id]": str(doc_id), "select[]": ["id", "status"]}
    if how == "json":
        return api.client.post(url, json={"filter": {"id": doc_id}, "select": ["id", "status"]})
    if how == "form":
        return api.client.post(url, data=form)
    if how == "multipart":
        files = [
            ("filter[id]", (None, str(doc_id))),
            ("select[]", (None, "id")),
            ("select[]", (None, "status")),
        ]
        return api.client.post(url, files=files)
    if how == "get":
        return api.client.get(url, params=form)
    if how == "indexed":
        return api.client.get(
            url, params={"filter[id]": str(doc_id), "select[0]": "id", "select[1]": "status"}
        )
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["json", "form", "multipart", "get", "indexed"])
def test_every_encoding_reaches_the_method(seed_api: Api, how: str) -> None:
    doc_id = seed_api.new_document()
    response = _list_filter(seed_api, doc_id, how)
    assert response.status_code == 200, response.text
    body = response.json()
    docs = body["result"]["documents"]
    assert [int(d["id"]) for d in docs] == [doc_id]
    assert body["total"] == 1
    assert "next" not in body
    assert list(body) == ["result", "total", "time"]
    assert_time_block(body)


def test_list_puts_next_and_total_beside_result(seed_api: Api) -> None:
    add = "catalog.document.add?fields[docType]=S&fields[currency]=USD&fields[responsibleId]=1"
    assert seed_api.ok("batch", {"cmd": [add] * 50})["result_error"] == []
    seed_api.new_document()
    response = seed_api.call("catalog.document.list", {"select": ["id"], "start": 0})
    body = response.json()
    assert list(body) == ["result", "next", "total", "time"]
    assert body["next"] == 50
    assert body["total"] > 50
    assert len(body["result"]["documents"]) == 50


@pytest.mark.parametrize("how", ["brackets", "indexed", "json"])
def test_php_brackets_make_arrays(seed_api: Api, how: str) -> None:
    ids = [seed_api.new_document(conduct=True) for _ in range(2)]
    url = seed_api.url("catalog.document.cancelList")
    if how == "brackets":
        response = seed_api.client.post(url, data={"documentIds[]": [str(i) for i in ids]})
    elif how == "indexed":
        response = seed_api.client.post(url, data={f"documentIds[{n}]": str(i) for n, i in enumerate(ids)})
    else:
        response = seed_api.client.post(url, json={"documentIds": ids})
    assert response.status_code == 200, response.text
    assert response.json()["result"] is True
    assert [seed_api.status(i) for i in ids] == ["C", "C"]


def test_nested_brackets_in_a_form_body(seed_api: Api) -> None:
    fx = seed_api.portal.fixtures
    response = seed_api.client.post(
        seed_api.url("catalog.document.add"),
        data={
            "fields[docType]": "A",
            "fields[currency]": "EUR",
            "fields[responsibleId]": "1",
            "fields[title]": "form & brackets",
        },
    )
    assert response.status_code == 200, response.text
    doc = response.json()["result"]["document"]
    assert (doc["docType"], doc["currency"], doc["title"]) == ("A", "EUR", "form & brackets")
    item = seed_api.client.get(
        seed_api.url("catalog.document.element.add"),
        params={
            "fields[docId]": doc["id"],
            "fields[elementId]": fx["product_id"],
            "fields[storeTo]": fx["main_store_id"],
            "fields[amount]": "2",
        },
    )
    assert item.status_code == 200, item.text


def test_query_string_params_sit_beneath_body_params(seed_api: Api) -> None:
    doc_id = seed_api.new_document()
    url = seed_api.url("catalog.document.conduct") + "?id=999999999"
    response = seed_api.client.post(url, json={"id": doc_id})
    assert response.status_code == 200, response.text
    assert seed_api.status(doc_id) == "Y"


@pytest.mark.parametrize("where", ["query", "json", "form", "multipart"])
def test_oauth_token_in_query_or_body(seed_api: Api, where: str) -> None:
    token = seed_api.portal.credential("admin-oauth").secret
    url = seed_api.portal.oauth_url() + "catalog.document.mode.status"
    client = seed_api.client
    if where == "query":
        response = client.get(url, params={"auth": token})
    elif where == "json":
        response = client.post(url, json={"auth": token})
    elif where == "form":
        response = client.post(url, data={"auth": token})
    else:
        response = client.post(url, files={"auth": (None, token)})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "Y"
    assert_time_block(response.json())


def test_oauth_conduct_and_cancel_with_json_body(seed_api: Api) -> None:
    token = seed_api.portal.credential("admin-oauth").secret
    doc_id = seed_api.new_document()
    base = seed_api.portal.oauth_url()
    for method, status in (("catalog.document.conduct", "Y"), ("catalog.document.cancel.json", "C")):
        response = seed_api.client.post(base + method, json={"id": doc_id, "auth": token})
        assert (response.status_code, response.json()["result"]) == (200, True), response.text
        assert seed_api.status(doc_id) == status


def test_auth_is_not_passed_to_the_method_as_a_param(seed_api: Api) -> None:
    token = seed_api.portal.credential("admin-oauth").secret
    url = seed_api.portal.oauth_url() + "catalog.document.add"
    body = {"auth": token, "fields": {"docType": "A", "currency": "USD", "responsibleId": 1}}
    response = seed_api.client.post(url, json=body)
    assert response.status_code == 200, response.text
    assert token not in response.text


def test_health_needs_no_auth(seed_api: Api) -> None:
    for path in ("/", "/health"):
        response = seed_api.client.get(seed_api.portal.base_url + path)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


def test_paths_outside_rest_are_json_404(seed_api: Api) -> None:
    response = seed_api.client.get(seed_api.portal.base_url + "/nope")
    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


def test_deterministic_mode_is_byte_reproducible(start_portal: Any) -> None:
    portal = start_portal(deterministic=True)
    settings = portal.settings
    with httpx.Client() as client:
        url = portal.webhook_url("admin") + "catalog.document.mode.status"
        first, second = client.post(url, json={}), client.post(url, json={})
    assert first.content == second.content
    block = first.json()["time"]
    assert block["start"] == block["finish"] == settings.fixed_clock
    assert (block["duration"], block["processing"], block["operating"]) == (0, 0, 0)
    assert block["operating_reset_at"] == int(settings.fixed_clock) + 600
    assert block["date_start"] == "2025-11-06T06:37:54+00:00"


def test_deterministic_codes_are_stable_across_runs(start_portal: Any) -> None:
    first = {c.label: c.secret for c in start_portal(deterministic=True).credentials}
    second = {c.label: c.secret for c in start_portal(deterministic=True).credentials}
    assert first == second


def test_wire_mutants_are_switched_on_by_settings(start_portal: Any) -> None:
    cmd = {f"c{i}": "catalog.document.mode.status" for i in range(51)}
    portal = start_portal(mutants=("batch-length-unlimited",))
    with httpx.Client() as client:
        response = client.post(portal.webhook_url("admin") + "batch", json={"cmd": cmd})
    assert response.status_code == 200, response.text  # without the mutant: 400 ERROR_BATCH_LENGTH_EXCEEDED
