"""`batch` over real HTTP: collections, halt, `$result[...]` references, sub-command errors."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from b24_conformance.portal.batch import php_collection, substitute

from .conftest import TIME_KEYS, Api

MODE = "catalog.document.mode.status"


def test_independent_commands_fill_the_five_collections(seed_api: Api) -> None:
    doc_id = seed_api.new_document()
    response = seed_api.call(
        "batch",
        {
            "halt": 0,
            "cmd": {
                "mode": MODE,
                "list": f"catalog.document.list?filter[id]={doc_id}&select[]=id&select[]=status",
            },
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"result", "time"}
    result = body["result"]
    assert list(result) == ["result", "result_error", "result_total", "result_next", "result_time"]
    assert result["result"]["mode"] == "Y"
    assert [int(d["id"]) for d in result["result"]["list"]["documents"]] == [doc_id]
    assert result["result_error"] == []
    assert result["result_total"] == {"list": 1}
    assert result["result_next"] == []
    assert set(result["result_time"]) == {"mode", "list"}
    assert tuple(result["result_time"]["mode"]) == TIME_KEYS
    assert tuple(body["time"]) == TIME_KEYS


def test_list_cmd_gives_list_collections(seed_api: Api) -> None:
    result = seed_api.ok("batch", {"cmd": [MODE, MODE]})
    assert result["result"] == ["Y", "Y"]
    assert isinstance(result["result_time"], list) and len(result["result_time"]) == 2


def test_errors_go_to_result_error_and_the_rest_still_runs(seed_api: Api) -> None:
    doc_id = seed_api.new_document()
    result = seed_api.ok(
        "batch",
        {
            "cmd": {
                "bad": f"catalog.document.cancel?id={doc_id}",
                "unknown": "no.such.method",
                "good": f"catalog.document.conduct?id={doc_id}",
            }
        },
    )
    _, not_conducted = seed_api.expected("cancel.not-conducted")
    _, not_found = seed_api.expected("system.method-not-found")
    assert result["result_error"] == {"bad": not_conducted, "unknown": not_found}
    assert result["result"] == {"good": True}
    assert seed_api.status(doc_id) == "Y"


@pytest.mark.parametrize("halt", [1, "1", True, "true", "Y"])
def test_halt_stops_at_the_first_error(seed_api: Api, halt: object) -> None:
    doc_id = seed_api.new_document()
    result = seed_api.ok(
        "batch",
        {
            "halt": halt,
            "cmd": {
                "first": MODE,
                "bad": f"catalog.document.cancel?id={doc_id}",
                "never": f"catalog.document.conduct?id={doc_id}",
            },
        },
    )
    assert result["result"] == {"first": "Y"}
    assert list(result["result_error"]) == ["bad"]
    assert "never" not in result["result_time"]
    assert seed_api.status(doc_id) == "N"


@pytest.mark.parametrize("halt", [0, "0", False, "false", "", "N"])
def test_halt_off(seed_api: Api, halt: object) -> None:
    result = seed_api.ok("batch", {"halt": halt, "cmd": {"bad": "no.such", "after": MODE}})
    assert result["result"] == {"after": "Y"}


def test_result_references_chain_commands(seed_api: Api) -> None:
    fx = seed_api.portal.fixtures
    add = urlencode({"fields[docType]": "A", "fields[currency]": "USD", "fields[responsibleId]": 1})
    item = (
        "catalog.document.element.add?"
        + urlencode(
            {
                "fields[elementId]": fx["product_id"],
                "fields[storeTo]": fx["main_store_id"],
                "fields[amount]": 3,
            }
        )
        + "&fields[docId]=$result[add][document][id]"
    )
    result = seed_api.ok(
        "batch",
        {
            "halt": 1,
            "cmd": {
                "add": f"catalog.document.add?{add}",
                "supplier": "catalog.documentcontractor.add?fields[documentId]=$result[add][document][id]"
                            f"&fields[entityTypeId]=3&fields[entityId]={fx['supplier_contact_id']}",
                "item": item,
                "conduct": "catalog.document.conduct?id=$result[add][document][id]",
                "list": "catalog.document.list?filter[id]=$result[add][document][id]&select[]=id&select[]=status",
                "again": "catalog.document.list?filter[id]=$result[list][documents][0][id]&select[]=status",
            },
        },
    )
    assert result["result_error"] == [], result
    doc_id = int(result["result"]["add"]["document"]["id"])
    assert int(result["result"]["item"]["documentElement"]["docId"]) == doc_id
    assert int(result["result"]["supplier"]["documentContractor"]["documentId"]) == doc_id
    assert result["result"]["conduct"] is True
    assert result["result"]["again"]["documents"] == [{"status": "Y"}]


def test_form_encoded_batch_is_decoded_twice(seed_api: Api) -> None:
    doc_id = seed_api.new_document()
    inner = "catalog.document.add?" + urlencode(
        {
            "fields[docType]": "A",
            "fields[currency]": "USD",
            "fields[responsibleId]": "1",
            "fields[title]": "John&Martin",
        }
    )
    response = seed_api.client.post(seed_api.url("batch"), data={"cmd[a]": inner, "cmd[b]": f"{MODE}.json"})
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["result"]["a"]["document"]["title"] == "John&Martin"
    assert result["result"]["b"] == "Y"
    assert doc_id


def test_batch_method_name_is_case_insensitive_and_counts_once(seed_api: Api) -> None:
    assert seed_api.ok("BATCH.json", {"cmd": {"x": MODE.upper()}})["result"] == {"x": "Y"}


def test_missing_or_odd_cmd_is_an_empty_batch(seed_api: Api) -> None:
    empty = {"result": [], "result_error": [], "result_total": [], "result_next": [], "result_time": []}
    assert seed_api.ok("batch") == empty
    assert seed_api.ok("batch", {"cmd": "nonsense"}) == empty
    odd = seed_api.ok("batch", {"cmd": {"n": 5, "d": {"method": MODE}}})
    _, not_found = seed_api.expected("system.method-not-found")
    assert odd["result_error"] == {"n": not_found, "d": not_found}


def test_subcommand_auth_is_ignored(seed_api: Api) -> None:
    result = seed_api.ok("batch", {"cmd": {"x": f"{MODE}?auth=garbage"}})
    assert result["result"] == {"x": "Y"}


def test_substitute_rules() -> None:
    results = {"a": {"document": {"id": 7, "ok": True, "list": [1, 2]}}, "l": [{"id": 3}]}
    assert substitute("$result[a][document][id]", results) == "7"
    assert substitute("$result[a][document][ok]", results) == "1"
    assert substitute("$result[a][document][list]", results) == [1, 2]
    assert substitute("$result[l][0][id]", results) == "3"
    assert substitute("x-$result[a][document][id]-y", results) == "x-7-y"
    assert substitute("$result[missing][id]", results) == "$result[missing][id]"
    assert substitute("$result[l][9][id]", results) == "$result[l][9][id]"
    assert substitute({"k": ["$result[l][0][id]"]}, results) == {"k": ["3"]}


def test_php_collection() -> None:
    assert php_collection({}) == []
    assert php_collection({"0": "a", "1": "b"}) == ["a", "b"]
    assert php_collection({"1": "b"}) == {"1": "b"}
    assert php_collection({"x": 1}) == {"x": 1}
