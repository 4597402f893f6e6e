"""Bitrix calling conventions on the wire: REST paths, body encodings and PHP bracket parameters."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_FIELDS = 20_000

_INT_KEY = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")
_BRACKET = re.compile(r"\[([^\]]*)\]")
_INT64_MAX = 2**63 - 1


class WireError(Exception):
    """A request the portal cannot even read. Answered 400 `INVALID_REQUEST`; never a 500."""

    http = 400
    error = "INVALID_REQUEST"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class UnsupportedFormat(WireError):
    """`.xml` (or any suffix other than `.json`): the reference portal answers JSON only."""


@dataclass(frozen=True, slots=True)
class RestPath:
    """What `/rest/...` names: the method, and for a webhook the user id and code from the path."""

    method: str  # as sent, without the `.json` suffix
    user_id: str | None = None  # webhook form only
    code: str | None = None  # webhook form only

    @property
    def is_webhook(self) -> bool:
        return self.code is not None


def parse_rest_path(tail: str) -> RestPath | None:
    """Split the part after `/rest/`. None when it names no method (too few or too many segments)."""
    parts = [p for p in tail.split("/") if p]
    if len(parts) == 1:
        return RestPath(_strip_format(parts[0]))
    if len(parts) == 3:
        return RestPath(_strip_format(parts[2]), user_id=parts[0], code=parts[1])
    return None


def _strip_format(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith(".json"):
        return name[:-5]
    if lowered.endswith(".xml"):
        raise UnsupportedFormat("The reference portal answers JSON only; drop the .xml suffix or use .json")
    return name


# ---------------------------------------------------------------- PHP bracket syntax


class _PhpArray(dict):  # type: ignore[type-arg]
    """A PHP array while it is being built: an ordered map that remembers its next append index."""

    __slots__ = ("next_index",)

    def __init__(self) -> None:
        super().__init__()
        self.next_index = 0

    def put(self, key: str | int | None, value: Any) -> Any:
        if key is None:
            key = self.next_index
        if isinstance(key, int) and key >= self.next_index:
            self.next_index = key + 1
        self[key] = value
        return value


def _php_key(raw: str) -> str | int:
    """PHP turns canonical decimal keys ("0", "12", "-3"; not "012") into integers."""
    if _INT_KEY.fullmatch(raw):
        value = int(raw)
        if -_INT64_MAX <= value <= _INT64_MAX:
            return value
    return raw


def _split_name(name: str) -> list[str | None]:
    """`a[b][]` -> ["a", "b", None]; None means append. A name whose first `[` never closes is literal."""
    start = name.find("[")
    if start <= 0 or "]" not in name[start:]:
        return [name]
    keys: list[str | None] = [name[:start]]
    pos = start
    while pos < len(name) and name[pos] == "[":
        match = _BRACKET.match(name, pos)
        if match is None:
            break  # PHP ignores whatever follows the last complete bracket
        keys.append(match.group(1) if match.group(1) != "" else None)
        if len(keys) - 1 > MAX_DEPTH:
            raise WireError(f"Parameter nesting exceeds {MAX_DEPTH} levels")
        pos = match.end()
    return keys


def php_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Fold `a[b][c]=1`, `a[]=1`, `a[0]=1` pairs into nested dicts and lists, as PHP fills $_REQUEST.

    Later pairs override earlier ones; a scalar that meets a bracketed name becomes an array.
    Arrays whose keys are exactly 0..n-1 in order come back as lists (PHP's json_encode rule).
    """
    root = _PhpArray()
    for count, (name, value) in enumerate(pairs):
        if count >= MAX_FIELDS:
            raise WireError(f"More than {MAX_FIELDS} parameters")
        keys = _split_name(name)
        node = root
        for raw in keys[:-1]:
            key = _php_key(raw) if raw is not None else None
            child = node.get(key) if key is not None else None
            if not isinstance(child, _PhpArray):
                child = node.put(key, _PhpArray())
            node = child
        last = keys[-1]
        node.put(_php_key(last) if last is not None else None, value)
    finished = _finish(root)
    return finished if isinstance(finished, dict) else {str(i): v for i, v in enumerate(finished)}


def _finish(node: _PhpArray) -> dict[str, Any] | list[Any]:
    items = [(k, _finish(v) if isinstance(v, _PhpArray) else v) for k, v in node.items()]
    if all(k == i for i, (k, _) in enumerate(items)):
        return [v for _, v in items]
    return {str(k): v for k, v in items}


def parse_query(raw: bytes | str) -> dict[str, Any]:
    """A query string or urlencoded body. Bytes that are not UTF-8 become U+FFFD, as a lenient PHP would."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not text:
        return {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="replace")
    except ValueError:
        raise WireError(f"More than {MAX_FIELDS} parameters") from None
    return php_params(pairs)


# ---------------------------------------------------------------- bodies


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON object body. Malformed, non-object, too deep or non-finite input raises WireError."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise WireError("Invalid JSON in the request body") from None
    if not isinstance(value, dict):
        raise WireError("The JSON request body must be an object")
    check_depth(value)
    return value


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise WireError when containers nest deeper than `limit` (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise WireError(f"Parameter nesting exceeds {limit} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """multipart/form-data: every part, file or not, becomes a string field named by its part name."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise WireError("multipart/form-data without a boundary")
    pairs: list[tuple[str, str]] = []
    state: dict[str, Any] = {"header": b"", "value": b"", "disposition": b"", "data": bytearray()}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        if state["header"].lower() == b"content-disposition":
            state["disposition"] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_part_begin() -> None:
        state["disposition"], state["data"] = b"", bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"] += data[start:end]

    def on_part_end() -> None:
        _, opts = parse_options_header(state["disposition"])
        name = opts.get(b"name")
        if name is None:
            raise WireError("A multipart part has no name")
        pairs.append((name.decode("utf-8", "replace"), bytes(state["data"]).decode("utf-8", "replace")))
        if len(pairs) > MAX_FIELDS:
            raise WireError(f"More than {MAX_FIELDS} parameters")

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError):
        raise WireError("Invalid multipart/form-data body") from None
    return php_params(pairs)


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Parameters from a body by its content type. Other types (or none) are ignored, as PHP does."""
    if not body:
        return {}
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return parse_json(body)
    if media == "application/x-www-form-urlencoded":
        return parse_query(body)
    if media == "multipart/form-data":
        return parse_multipart(body, content_type or "")
    return {}


def merge_params(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Query-string parameters beneath body parameters (shallow, like PHP's $_REQUEST)."""
    if not query:
        return body
    if not body:
        return query
    return {**query, **body}
