"""The list methods' machinery: filter, order, select and page API dicts as Bitrix's list actions do,
and `list_result`, the one way a `*.list` handler answers (rows under a key, with total and next)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .deviations import FAITHFUL, Deviations
from .errors import PortalError
from .params import parse_datetime, shown, start_param, to_array, to_decimal, to_object

PAGE = 50
_PREFIXES = ("!=%", "!%=", ">=", "<=", "!=", "=%", "%=", "!@", "!%", "=", "!", "@", "%", ">", "<")
_SAME_AS = {"!": "!=", "%=": "=%", "!%=": "!=%"}
_BAD = object()


def _norm(value: Any, type_: str) -> Any:
    """A row or filter value made comparable for a field type; `_BAD` if it cannot be."""
    if value is None:
        return None
    if isinstance(value, (bool, dict, list)):
        return _BAD
    if type_ == "integer" or type_ == "double":
        if isinstance(value, (int, float)):
            return value if not isinstance(value, float) or math.isfinite(value) else _BAD
        try:
            return float(to_decimal(value, ""))
        except PortalError:
            return _BAD
    if type_ == "datetime":
        moment = parse_datetime(value)
        return _BAD if moment is None else moment
    return value if isinstance(value, str) else shown(value)


def _like(pattern: str) -> re.Pattern[str] | None:
    """SQL LIKE as a regex; None (matches nothing) for patterns too long to be a real query."""
    pattern = re.sub("%+", "%", pattern)
    if len(pattern) > 256:
        return None
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _predicate(op: str, raw: Any, type_: str) -> Callable[[Any], bool]:
    if op in ("@", "!@") or (op in ("=", "!=") and isinstance(raw, (list, dict))):
        values = [
            _norm(v, type_) for v in (to_array(raw, "filter") if isinstance(raw, (list, dict)) else [raw])
        ]
        inside = op in ("@", "=")
        return lambda v: (v in values) == inside
    if op in ("%", "!%", "=%", "!=%"):
        text = shown(raw)
        anchored = op in ("=%", "!=%")
        regex = _like(text) if anchored else None
        positive = op in ("%", "=%")

        def like(v: Any) -> bool:
            if v is None:
                return not positive
            subject = v.isoformat() if isinstance(v, datetime) else shown(v)
            if anchored:
                hit = regex is not None and regex.fullmatch(subject) is not None
            else:
                hit = text.casefold() in subject.casefold()
            return hit == positive

        return like
    target = _norm(raw, type_)
    if op == "=":
        return lambda v: target is not _BAD and v == target
    if op == "!=":
        return lambda v: target is _BAD or v != target
    compare = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    cmp = compare[op]
    return lambda v: target is not _BAD and target is not None and v is not None and cmp(v, target)


def split_filter_key(key: str) -> tuple[str, str]:
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            return _SAME_AS.get(prefix, prefix), key[len(prefix) :]
    return "=", key


def _field(name: str, types: Mapping[str, str]) -> str | None:
    lowered = name.lower()
    return next((f for f in types if f.lower() == lowered), None)


@dataclass(frozen=True, slots=True)
class ListResult:
    """A list method's answer: `result`, plus the envelope's `total` and `next`."""

    result: Any
    total: int
    next: int | None


class Listed(Protocol):
    def to_api(self) -> dict[str, Any]: ...


def list_result(
    key: str, items: Iterable[Listed], types: Mapping[str, str], params: Mapping[str, Any],
    *, deviations: Deviations = FAITHFUL,
) -> ListResult:
    """`{key: page}` of `items` in their API form, filtered, ordered, paged and projected per `params`."""
    rows, total, nxt = paginate([item.to_api() for item in items], types, params, deviations=deviations)
    return ListResult({key: rows}, total, nxt)


def paginate(
    rows: list[dict[str, Any]], types: Mapping[str, str], params: Mapping[str, Any],
    *, deviations: Deviations = FAITHFUL,
) -> tuple[list[dict[str, Any]], int, int | None]:
    """Filter, order, page and project `rows` (API dicts) per `select`/`filter`/`order`/`start`."""
    dv = deviations
    select = [] if dv.list_ignores_select else to_array(params.get("select") or [], "select")
    filters = to_object(params.get("filter") or {}, "filter")
    order = {} if dv.list_ignores_order else to_object(params.get("order") or {}, "order")
    start = 0 if dv.list_start_ignored else start_param(params)

    for key, raw in filters.items():
        op, name = split_filter_key(key)
        op, raw = _deviated_filter(op, raw, key == name, dv)
        if op is None:
            continue
        field = _field(name, types)
        if field is None:
            continue
        test = _predicate(op, raw, types[field])
        rows = [r for r in rows if test(_norm(r.get(field), types[field]))]

    for name, direction in reversed(list(order.items())):
        field = _field(name, types)
        if field is None:
            continue
        descending = isinstance(direction, str) and direction.lower() == "desc"
        rows = sorted(rows, key=lambda r, f=field: _sort_key(_norm(r.get(f), types[f])), reverse=descending)

    if not order and dv.list_default_order_desc:
        rows = sorted(rows, key=lambda r: _sort_key(_norm(r.get("id"), "integer")), reverse=True)

    chosen = [f for f in (_field(s, types) for s in select if isinstance(s, str)) if f is not None]
    if not chosen and not select and dv.list_empty_select_id_only:
        chosen = ["id"]
    if chosen:
        rows = [{k: v for k, v in r.items() if k in chosen} for r in rows]

    if start == -1:
        return rows[:PAGE], 0, None
    start = max(start, 0)
    page = rows[start : start + PAGE]
    step = PAGE - 1 if dv.list_next_overlaps else PAGE
    nxt = start + step if start + PAGE < len(rows) else None
    return page, len(page) if dv.list_total_of_page else len(rows), nxt


def _deviated_filter(op: str, raw: Any, plain: bool, dv: Deviations) -> tuple[str | None, Any]:
    """A filter key's operator and value as a mutant portal reads them; None: the key is ignored."""
    if (plain and dv.list_ignores_plain_filter) or (op == "!@" and dv.list_not_in_ignored) \
            or (op == "!%" and dv.list_not_like_ignored):
        return None, raw
    if op == "!=" and dv.list_not_equal_as_equal:
        return "=", raw
    if op == "@" and dv.list_in_first_only and isinstance(raw, list) and raw:
        return "=", raw[0]
    if op in (">", "<") and dv.list_greater_inclusive:
        return op + "=", raw
    if op == "%" and dv.list_like_anchored:
        return "=%", raw
    return op, raw


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value is _BAD:
        return (0, 0)
    return (1, value)
