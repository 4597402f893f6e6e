"""The `batch` method: up to 50 "method?query" commands, `$result[...]` references, `halt`.

The caller passes `invoke(method, params) -> CallOutcome`, which runs one sub-command with the
batch's credential (method lookup, scope, operating budget, handler). This module only does the
batch rules, so it needs nothing from app.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .envelope import CallOutcome
from .errors import PortalError
from .wire import WireError, parse_query

MAX_COMMANDS = 50
BATCH = "batch"

Invoke = Callable[[str, dict[str, Any]], CallOutcome]
SubError = Callable[[str], CallOutcome]

_REF = re.compile(r"\$result\[([^\]]*)\]((?:\[[^\]]*\])*)")
_INDEX = re.compile(r"\[([^\]]*)\]")
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FALSY = frozenset({"", "0", "false", "n", "no", "off"})
_MISSING = object()


def is_truthy(value: Any) -> bool:
    """`halt`: true/false or 1/0 per the docs; the strings "false", "N" and "no" count as false too."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSY
    return bool(value)


def commands(cmd: Any) -> list[tuple[str, Any]]:
    """`cmd` as (key, command) pairs: an object keeps its keys, a list gets 0..n-1. Anything else: none."""
    if isinstance(cmd, dict):
        return [(str(k), v) for k, v in cmd.items()]
    if isinstance(cmd, list):
        return [(str(i), v) for i, v in enumerate(cmd)]
    return []


def run_batch(params: Mapping[str, Any], invoke: Invoke, sub_error: SubError) -> dict[str, Any]:
    """The batch `result`: the five collections keyed by command key. PortalError for a too-long batch."""
    items = commands(params.get("cmd"))
    if len(items) > MAX_COMMANDS:
        raise PortalError("system.batch-length")
    halt = is_truthy(params.get("halt", False))
    results: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    totals: dict[str, Any] = {}
    nexts: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for key, command in items:
        outcome = _run_one(command, results, invoke, sub_error)
        if outcome.ok:
            results[key] = outcome.result
            if outcome.total is not None:
                totals[key] = outcome.total
            if outcome.next is not None:
                nexts[key] = outcome.next
            if outcome.time is not None:
                times[key] = outcome.time
        else:
            errors[key] = {"error": outcome.error, "error_description": outcome.description}
            if halt:
                break
    return {
        "result": php_collection(results),
        "result_error": php_collection(errors),
        "result_total": php_collection(totals),
        "result_next": php_collection(nexts),
        "result_time": php_collection(times),
    }


def _run_one(command: Any, results: Mapping[str, Any], invoke: Invoke, sub_error: SubError) -> CallOutcome:
    if not isinstance(command, str):
        return sub_error("system.method-not-found")
    method, _, query = command.partition("?")
    method = method.strip()
    if method.lower().endswith(".json"):
        method = method[:-5]
    if method.lower() == BATCH:
        return sub_error("system.batch-method-not-allowed")
    try:
        params = parse_query(query)
    except WireError as exc:
        return CallOutcome.failure(exc.http, exc.error, exc.description)
    params.pop("auth", None)  # sub-commands run with the batch's credential
    return invoke(method, substitute(params, results))


def substitute(value: Any, results: Mapping[str, Any]) -> Any:
    """Replace `$result[key][field]...` with earlier results. A value that is exactly one reference
    takes the referenced value (an array stays an array, a scalar becomes its PHP string); references
    inside longer strings are spliced in as strings. Unresolvable references are left as written."""
    if isinstance(value, str):
        if "$result[" not in value:
            return value
        whole = _REF.fullmatch(value)
        if whole is not None:
            found = _resolve(whole, results)
            if found is _MISSING:
                return value
            return found if isinstance(found, (dict, list)) else php_string(found)
        return _REF.sub(lambda m: _splice(m, results), value)
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    return value


def _splice(match: re.Match[str], results: Mapping[str, Any]) -> str:
    found = _resolve(match, results)
    if found is _MISSING or isinstance(found, (dict, list)):
        return match.group(0)
    return php_string(found)


def _resolve(match: re.Match[str], results: Mapping[str, Any]) -> Any:
    node: Any = results.get(match.group(1), _MISSING)
    for step in _INDEX.findall(match.group(2)):
        if isinstance(node, dict):
            node = node.get(step, _MISSING)
        elif isinstance(node, list) and _CANONICAL_INT.fullmatch(step) and 0 <= int(step) < len(node):
            node = node[int(step)]
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def php_string(value: Any) -> str:
    """How PHP prints a scalar into a string: true "1", false and null "", numbers as written."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def php_collection(items: dict[str, Any]) -> dict[str, Any] | list[Any]:
    """PHP's json_encode of an array: keys exactly 0..n-1 (or none) come out as a JSON list."""
    if all(k == str(i) for i, k in enumerate(items)):
        return list(items.values())
    return items
