"""Every built-in adapter against the embedded reference portal over TLS: what each caller gets.

Each table row is what the caller of that client actually receives for the scenario: a bare
result, an Envelope, a ClientError (its class name, code, description, HTTP status as far as the
client exposes them), Unsupported (the client refuses before sending), or the exception the client
crashes with. The deviations these tables pin down are the matrix's raw material.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from b24_conformance.clients.base import CAPABILITIES, ClientError, Envelope, Unsupported
from b24_conformance.target.reference import reference_settings

from .conftest import Portal, adapter_params, running, started

NOT_CONDUCTED = "Error canceling document execution: Document is not yet executed"
NO_RIGHTS = "Insufficient permissions to save the document"
NO_ID = "Could not find value for parameter {id}"
NOT_INT = "Invalid value {abc} to match with parameter {id}. Should be value of type int."
CANCEL = "catalog.document.cancel"


def outcome(thunk: Callable[[], Any]) -> tuple[Any, ...]:
    """What the caller got, as a comparable tuple."""
    try:
        got = thunk()
    except ClientError as exc:
        return ("error", exc.type_name, exc.code, exc.description, exc.status)
    except Unsupported as exc:
        return ("unsupported", str(exc))
    if isinstance(got, Envelope):
        return ("envelope", got.body.get("result") if isinstance(got.body, dict) else got.body)
    return ("bare", got)


def err(type_name: str, code: str | None, description: str | None, status: int | None) -> tuple[Any, ...]:
    return ("error", type_name, code, description, status)


def lost(status: int) -> tuple[Any, ...]:
    """fast-bitrix24's default session: aiohttp raises on the status before the body is read."""
    return err("ClientResponseError", None, None, status)


def bad_request(code: str, text: str) -> dict[str, tuple[Any, ...]]:
    """A code/text refusal sent with HTTP 400, as each client shows it."""
    return {
        "reference": err("ErrorBody", code, text, 400),
        "b24pysdk.typed": err("BitrixAPIBadRequest", code, text, 400),
        "b24pysdk.call_method": err("BitrixAPIBadRequest", code, text, 400),
        "fast-bitrix24.raw": lost(400),
        "fast-bitrix24.call": err("ErrorInServerResponseException", code, text, None),
    }


def check(name: str, got: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    if expected[0] == "unsupported":
        assert got[0] == "unsupported" and expected[1] in got[1], (name, got)
    else:
        assert got == expected, (name, got)


# -- success and the plain refusals ---------------------------------------------------------------

SUCCESS = {"reference": ("envelope", True), "b24pysdk.typed": ("bare", True),
           "b24pysdk.call_method": ("envelope", True), "fast-bitrix24.raw": ("envelope", True),
           "fast-bitrix24.call": ("bare", True)}


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_cancel_succeeds_then_a_second_cancel_is_refused(adapter, portal: Portal) -> None:
    [doc] = portal.conducted()
    check(adapter.name, outcome(lambda: adapter.call("admin", CANCEL, {"id": doc})), SUCCESS[adapter.name])
    assert portal.status(doc) == "C"
    again = outcome(lambda: adapter.call("admin", CANCEL, {"id": doc}))
    check(adapter.name, again, bad_request("0", NOT_CONDUCTED)[adapter.name])
    assert portal.status(doc) == "C"


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_a_document_that_does_not_exist_gets_the_permissions_error(adapter, portal: Portal) -> None:
    got = outcome(lambda: adapter.call("admin", CANCEL, {"id": 99_999_999}))
    check(adapter.name, got, bad_request("0", NO_RIGHTS)[adapter.name])


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_a_role_without_the_cancel_right_is_refused(adapter, portal: Portal) -> None:
    [doc] = portal.conducted()
    got = outcome(lambda: adapter.call("no-cancel-right", CANCEL, {"id": doc}))
    check(adapter.name, got, bad_request("0", NO_RIGHTS)[adapter.name])
    assert portal.status(doc) == "Y"


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_a_missing_id_parameter_is_code_100(adapter, portal: Portal) -> None:
    expected = bad_request("100", NO_ID) | {
        "b24pysdk.typed": ("unsupported", "missing 1 required positional argument: 'bitrix_id'"),
        "fast-bitrix24.call": ("unsupported", "call(): item_list can't be empty"),
    }
    check(adapter.name, outcome(lambda: adapter.call("admin", CANCEL, {})), expected[adapter.name])


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_an_id_of_the_wrong_type_is_code_100(adapter, portal: Portal) -> None:
    expected = bad_request("100", NOT_INT) | {
        "b24pysdk.typed": ("unsupported", "Argument 'bitrix_id' must be of type <class 'int'>, not 'str'"),
    }
    check(adapter.name, outcome(lambda: adapter.call("admin", CANCEL, {"id": "abc"})), expected[adapter.name])


@pytest.mark.parametrize("adapter", adapter_params("b24pysdk.call_method"), indirect=True)
def test_b24pysdk_error_accessors_raise_on_a_numeric_code(adapter, portal: Portal) -> None:
    """The portal sends `"error": 100` (a JSON number); b24pysdk's `.error` and `.error_description`
    both raise ValueError, so the adapter reads them from `.json_response` and says so."""
    with pytest.raises(ClientError) as caught:
        adapter.call("admin", CANCEL, {})
    assert caught.value.body == {"error": 100, "error_description": NO_ID}
    assert len(caught.value.notes) == 2
    assert all("raised ValueError" in note and ".json_response" in note for note in caught.value.notes)
    raw = caught.value.__cause__
    with pytest.raises(ValueError, match="Cannot convert Bitrix24 value to text: 100"):
        _ = raw.error
    assert raw.status_code == 400 and str(raw) == NO_ID


# -- OAuth ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_oauth_token_in_the_body_cancels(adapter, portal: Portal) -> None:
    [doc] = portal.conducted()
    check(adapter.name, outcome(lambda: adapter.call("admin-oauth", CANCEL, {"id": doc})), SUCCESS[adapter.name])
    assert portal.status(doc) == "C"


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_an_expired_token_is_refused_and_nothing_loops(adapter, portal: Portal) -> None:
    expected = {
        "reference": err("ErrorBody", "expired_token", "The access token provided has expired", 401),
        "b24pysdk.typed": err("BitrixAPIExpiredToken", "expired_token", "The access token provided has expired", 401),
        "b24pysdk.call_method": err("BitrixAPIExpiredToken", "expired_token",
                                    "The access token provided has expired", 401),
        "fast-bitrix24.raw": err("TokenRejectedError", None, None, 401),
        "fast-bitrix24.call": err("TokenRejectedError", None, None, 401),
    }
    for _ in range(2):  # the second call must not hang on the first one's state
        check(adapter.name, outcome(lambda: adapter.call("expired-oauth", CANCEL, {"id": 0})), expected[adapter.name])


# -- batch ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_batch_success_with_an_empty_result_error_list(adapter, portal: Portal) -> None:
    """The portal sends `result_error: []` (PHP's empty array) when no command failed."""
    [doc] = portal.conducted()
    got = adapter.batch("admin", {"c": (CANCEL, {"id": doc})}, halt=False)
    if adapter.name == "fast-bitrix24.call":
        assert got == {"c": True}  # call_batch returns only the per-command results
    else:
        inner = got.body["result"] if isinstance(got, Envelope) else got
        assert inner["result"] == {"c": True} and inner["result_error"] == []
    assert portal.status(doc) == "C"


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_batch_with_a_refused_command(adapter, portal: Portal) -> None:
    [draft] = portal.conducted(conduct=False)
    [doc] = portal.conducted()
    commands = {"a": (CANCEL, {"id": draft}), "b": (CANCEL, {"id": doc})}
    refusal = {"a": {"error": "0", "error_description": NOT_CONDUCTED}}
    if adapter.name == "fast-bitrix24.call":
        with pytest.raises(ClientError) as caught:
            adapter.batch("admin", commands, halt=False)
        assert caught.value.type_name == "ErrorInServerResponseException"
        assert caught.value.body == refusal and caught.value.status is None
    else:
        got = adapter.batch("admin", commands, halt=False)
        inner = got.body["result"] if isinstance(got, Envelope) else got
        assert inner["result"] == {"b": True} and inner["result_error"] == refusal
    assert portal.status(doc) == "C"  # even where the caller got an exception, the cancel ran


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_a_batch_of_51_commands(adapter, portal: Portal) -> None:
    commands = {f"c{i}": (CANCEL, {"id": 0}) for i in range(51)}
    expected = {
        "reference": err("ErrorBody", "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded", 400),
        "b24pysdk.typed": ("unsupported", "Maximum batch size is 50!"),
        "b24pysdk.call_method": ("unsupported", "Maximum batch size is 50!"),
        "fast-bitrix24.raw": lost(400),
        "fast-bitrix24.call": lost(400),
    }
    got = outcome(lambda: adapter.batch("admin", commands, halt=False))
    if adapter.name == "reference":  # the text is the profile's business; code and status are fixed
        assert got[:3] == expected["reference"][:3] and got[4] == 400, got
    else:
        check(adapter.name, got, expected[adapter.name])


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_cancel_list(adapter, portal: Portal) -> None:
    docs = portal.conducted(2)
    got = outcome(lambda: adapter.call("admin", "catalog.document.cancelList", {"documentIds": docs}))
    check(adapter.name, got, SUCCESS[adapter.name])
    assert [portal.status(d) for d in docs] == ["C", "C"]


@pytest.mark.parametrize("adapter", adapter_params("fast-bitrix24.call", "b24pysdk.typed"), indirect=True)
def test_a_list_method(adapter, portal: Portal) -> None:
    """fast-bitrix24.call pages with get_all (which adds order ID ASC, de-duplicates and unwraps
    `{"documents": [...]}`); the typed API's list() is one page, as the portal sent it."""
    [doc] = portal.conducted()
    got = outcome(lambda: adapter.call("admin", "catalog.document.list",
                                       {"filter": {"id": doc}, "select": ["id", "status"]}))
    expected = {"fast-bitrix24.call": ("bare", [{"id": doc, "status": "Y"}]),  # get_all unwraps `documents`
                "b24pysdk.typed": ("bare", {"documents": [{"id": doc, "status": "Y"}]})}
    check(adapter.name, got, expected[adapter.name])


# -- transports the adapter claims (or says it cannot do) -----------------------------------------

TRANSPORTS = [t for t in CAPABILITIES if t not in ("batch", "concurrent", "oauth-body", "oauth-query")]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_what_cannot_says_is_what_the_adapter_does(adapter, portal: Portal, transport: str) -> None:
    if transport in adapter.cannot:
        with pytest.raises(Unsupported, match="."):
            adapter.call("admin", CANCEL, {"id": 0}, transport=transport)
        return
    if transport == "plain-http":
        got = outcome(lambda: adapter.call("admin", CANCEL, {"id": 0}, transport=transport))
        want = {"reference": err("ErrorBody", "INVALID_REQUEST", "Https required", 400),
                "fast-bitrix24.raw": lost(400)}
        check(adapter.name, got, want[adapter.name])
        return
    [doc] = portal.conducted()
    check(adapter.name, outcome(lambda: adapter.call("admin", CANCEL, {"id": doc}, transport=transport)),
          SUCCESS[adapter.name])
    assert portal.status(doc) == "C"


@pytest.mark.parametrize("adapter", adapter_params("reference", "b24pysdk.call_method", "fast-bitrix24.raw"),
                         indirect=True)
def test_concurrent_calls_through_one_adapter(adapter, portal: Portal) -> None:
    docs = portal.conducted(2)
    results: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def worker(i: int) -> None:
        barrier.wait(timeout=10)
        results[i] = outcome(lambda: adapter.call("admin", CANCEL, {"id": docs[i]}))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [SUCCESS[adapter.name]] * 2
    assert [portal.status(d) for d in docs] == ["C", "C"]


# -- real-portal variants a client must survive -------------------------------------------------------

@pytest.mark.parametrize("name", adapter_params())
def test_a_success_body_without_operating_keys(name: str, on_prem: Portal) -> None:
    """On-prem portals send `time` without `operating` and `operating_reset_at`."""
    adapter = started(name, on_prem)
    try:
        [doc] = on_prem.conducted()
        got = adapter.call("admin", CANCEL, {"id": doc})
        if isinstance(got, Envelope):
            assert got.body["result"] is True and "operating" not in got.body["time"]
        else:
            assert got is True
        [other] = on_prem.conducted()
        batch = adapter.batch("admin", {"c": (CANCEL, {"id": other})}, halt=False)
        assert batch is not None
    finally:
        adapter.stop()
    assert on_prem.status(doc) == "C"


@pytest.mark.parametrize("name", adapter_params())
def test_a_success_body_without_a_time_block(name: str, no_time_block: Portal) -> None:
    """Mutant `no-time-block`: b24pysdk's typed API crashes reading the answer, after the cancel ran."""
    adapter = started(name, no_time_block)
    try:
        [doc] = no_time_block.conducted()
        if name == "b24pysdk.typed":
            with pytest.raises(KeyError, match="time"):
                adapter.call("admin", CANCEL, {"id": doc})
        else:
            got = adapter.call("admin", CANCEL, {"id": doc})
            if isinstance(got, Envelope):
                assert got.body == {"result": True}
            else:
                assert got is True
    finally:
        adapter.stop()
    assert no_time_block.status(doc) == "C"


@pytest.mark.parametrize("name", adapter_params())
def test_an_error_body_without_a_time_block_sent_with_http_200(name: str, errors_as_200: Portal) -> None:
    """Error bodies never carry `time` (the reference portal sends them so); mutant `errors-as-200`
    sends them with HTTP 200, as some older portals do. fast-bitrix24.raw hands it over as a success."""
    adapter = started(name, errors_as_200)
    try:
        got = outcome(lambda: adapter.call("admin", CANCEL, {"id": 99_999_999}))
    finally:
        adapter.stop()
    expected = {
        "reference": err("ErrorBody", "0", NO_RIGHTS, 200),
        "b24pysdk.typed": err("BitrixAPIError", "0", NO_RIGHTS, 200),
        "b24pysdk.call_method": err("BitrixAPIError", "0", NO_RIGHTS, 200),
        "fast-bitrix24.raw": ("envelope", None),  # the body {"error": "0", ...} returned as the answer
        "fast-bitrix24.call": err("ErrorInServerResponseException", "0", NO_RIGHTS, None),
    }
    check(name, got, expected[name])


# -- rate limit (HTTP 503 QUERY_LIMIT_EXCEEDED) ---------------------------------------------------------

@pytest.mark.parametrize("name", adapter_params())
def test_a_rate_limit_that_outlasts_the_clients_retries(name: str, rate_limited: Portal) -> None:
    """The bucket drains one request every 5 s: b24pysdk (3 attempts, 0.1 s + 0.2 s) and
    fast-bitrix24 (11 attempts; its back-off scaled to 1 % here) both give up."""
    options = {"retry_sleep_scale": 0.01} if name.startswith("fast-bitrix24") else {}
    adapter = started(name, rate_limited, **options)
    try:
        rate_limited.fill_bucket()
        began = time.perf_counter()
        kwargs = {"retry": False} if name == "reference" else {}
        got = outcome(lambda: adapter.call("admin", CANCEL, {"id": 0}, **kwargs))
        elapsed = time.perf_counter() - began
    finally:
        adapter.stop()
    limit = ("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)
    expected = {
        "reference": err("ErrorBody", *limit),
        "b24pysdk.typed": err("BitrixAPIQueryLimitExceeded", *limit),
        "b24pysdk.call_method": err("BitrixAPIQueryLimitExceeded", *limit),
        "fast-bitrix24.raw": err("RuntimeError", None, None, 503),
        "fast-bitrix24.call": err("RuntimeError", None, None, 503),
    }
    check(name, got, expected[name])
    if name.startswith("b24pysdk"):
        assert elapsed >= 0.3  # it did sleep between its three attempts
    if name.startswith("fast-bitrix24"):
        assert elapsed >= 0.16  # 1 % of its 16.8 s back-off


@pytest.mark.parametrize("name", ["b24pysdk.typed", "b24pysdk.call_method", "fast-bitrix24.raw"])
def test_a_short_rate_limit_is_ridden_out_by_the_clients_own_retries(name: str) -> None:
    """A bucket of 3 draining 2 per second: with the SDK's default delays (1 s, 2 s) and
    fast-bitrix24's real back-off, the caller never sees the 503, only the call's own answer."""
    settings = replace(reference_settings(), rate_threshold=3, rate_drain_per_s=2.0)
    options = {"initial_retry_delay": None, "retry_delay_increment": None} if name.startswith("b24pysdk") else {}
    with running(settings) as fast:
        adapter = started(name, fast, **options)
        try:
            fast.fill_bucket()
            began = time.perf_counter()
            got = outcome(lambda: adapter.call("admin", CANCEL, {"id": 99_999_999}))
            elapsed = time.perf_counter() - began
        finally:
            adapter.stop()
    check(name, got, bad_request("0", NO_RIGHTS)[name])
    assert elapsed >= 0.3  # the first attempt met the 503; a retry after a real sleep got through


# -- what the adapters leave behind ---------------------------------------------------------------------

def test_b24pysdk_trusts_the_portal_ca_only_during_its_calls(portal: Portal, monkeypatch) -> None:
    """A spy on `requests.post` (it passes every call through) sees the portal's CA; outside the
    call the variable is what it was."""
    import requests

    before = os.environ.get("REQUESTS_CA_BUNDLE")
    seen: list[str | None] = []
    real = requests.post

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(os.environ.get("REQUESTS_CA_BUNDLE"))
        return real(*args, **kwargs)

    monkeypatch.setattr(requests, "post", spy)
    adapter = started("b24pysdk.call_method", portal)
    try:
        adapter.call("admin", "catalog.document.mode.status", {})
    finally:
        adapter.stop()
    assert seen == [portal.config.verify]
    assert os.environ.get("REQUESTS_CA_BUNDLE") == before


def test_fast_bitrix24_keeps_its_default_session(portal: Portal) -> None:
    adapter = started("fast-bitrix24.raw", portal)
    try:
        adapter.call("admin", "catalog.document.mode.status", {})
        b = adapter.client("admin")
        assert b.srh.client_provided_by_user is False  # it opened (and closed) its own session
        assert b.srh.session is not None and b.srh.session.closed
    finally:
        adapter.stop()


@pytest.mark.parametrize("adapter", adapter_params(), indirect=True)
def test_a_misspelt_method(adapter, portal: Portal) -> None:
    """The typed API has no such wrapper (Unsupported); the rest reach the portal's 404."""
    missing = ("ERROR_METHOD_NOT_FOUND", "Method not found!")
    expected = {
        "reference": err("ErrorBody", *missing, 404),
        "b24pysdk.typed": ("unsupported", "no wrapper for 'catalog.document.cancelled'"),
        "b24pysdk.call_method": err("BitrixAPINotFound", *missing, 404),
        "fast-bitrix24.raw": lost(404),
        "fast-bitrix24.call": err("ErrorInServerResponseException", *missing, None),
    }
    got = outcome(lambda: adapter.call("admin", "catalog.document.cancelled", {"id": 0}))
    check(adapter.name, got, expected[adapter.name])


@pytest.mark.parametrize("name", adapter_params())
def test_a_portal_that_is_gone_is_the_targets_fault(name: str, tmp_path) -> None:
    """A refused connection is TargetUnreachable (an ERROR of the target), not a ClientError, and its
    message carries no webhook code. (The CA is kept: a stopped portal removes its own.)"""
    import shutil

    from b24_conformance.clients import load_adapter
    from b24_conformance.clients.base import access_for
    from b24_conformance.errors import TargetUnreachable

    options = {"retry_sleep_scale": 0.001} if name.startswith("fast-bitrix24") else {}
    with running() as gone:
        ca = shutil.copy(gone.config.verify, tmp_path / "ca.pem")
        access = replace(access_for(gone.config), ca_path=str(ca))
        code = gone.admin.secret
    adapter = load_adapter(name, **options)
    adapter.start(access)
    try:
        with pytest.raises(TargetUnreachable) as caught:
            adapter.call("admin", CANCEL, {"id": 0})
    finally:
        adapter.stop()
    assert code and code not in str(caught.value)
