"""Parameter coercion as Bitrix's controller binder does it: raw REST params to typed values or `param.*` errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .entities import INT64
from .errors import PortalError

MAX_EXPONENT = 14  # amounts and prices stay below 1e15
ZERO = Decimal(0)

_INT = re.compile(r"[+-]?[0-9]+")


def shown(value: Any) -> str:
    """A value as PHP prints it into `#VALUE#` / `#ID#`."""
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return "Array"
    try:
        text = repr(value) if isinstance(value, float) else str(value)
    except ValueError:  # an int beyond Python's str() digit limit
        return "…"
    return text.encode("utf-8", "replace").decode("utf-8")


def invalid(value: Any, param: str, type_: str) -> PortalError:
    return PortalError("param.invalid", value=shown(value), param=param, type=type_)


def maybe_int(value: Any) -> int | None:
    """The integer a JSON int or a decimal-digit string denotes, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT.fullmatch(value) and len(value) <= 4000:
        return int(value)
    return None


def to_int(value: Any, param: str) -> int:
    result = maybe_int(value)
    if result is None:
        raise invalid(value, param, "int")
    return result


def to_id(value: Any, param: str) -> int | None:
    """An integer that is stored as a reference: null allowed, must fit signed 64 bit."""
    if value is None:
        return None
    result = to_int(value, param)
    if result not in INT64:
        raise invalid(value, param, "int")
    return result


def to_present_id(value: Any, param: str) -> int:
    """`to_id` of a value known to be present (not None)."""
    result = to_id(value, param)
    assert result is not None
    return result


def required(params: Mapping[str, Any], name: str) -> Any:
    if name not in params or params[name] is None:
        raise PortalError("param.missing", param=name)
    return params[name]


def int_param(params: Mapping[str, Any], name: str) -> int:
    return to_int(required(params, name), name)


def to_array(value: Any, param: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    raise invalid(value, param, "array")


def to_object(value: Any, param: str) -> dict[str, Any]:
    """A PHP associative array: a JSON object, or a JSON array (keys are its indexes)."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    raise invalid(value, param, "array")


def fields_param(params: Mapping[str, Any]) -> dict[str, Any]:
    return to_object(required(params, "fields"), "fields")


def to_text(value: Any, param: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid(value, param, "string")
    text = value if isinstance(value, str) else shown(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(value, param, "string") from None
    return text


def to_decimal(value: Any, param: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid(value, param, "double")
    try:
        result = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid(value, param, "double") from None
    if not result.is_finite() or (result and result.adjusted() > MAX_EXPONENT):
        raise invalid(value, param, "double")
    if not result or result.adjusted() < -MAX_EXPONENT:
        return ZERO
    return result + 0  # round to the context's 28 digits


def to_double(value: Any, param: str) -> float | None:
    return None if value is None else float(to_decimal(value, param))


def to_datetime(value: Any, param: str) -> str | None:
    """ISO-8601 in, `YYYY-MM-DDThh:mm:ss±hh:mm` out (a value without offset is taken as UTC)."""
    if value is None or value == "":
        return None
    moment = parse_datetime(value)
    if moment is None:
        raise invalid(value, param, "datetime")
    return moment.isoformat(timespec="seconds")


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def to_flag(value: Any, param: str) -> str:
    if value in ("Y", "N"):
        return value
    raise invalid(value, param, "string")


def start_param(params: Mapping[str, Any]) -> int:
    value = params.get("start")
    return 0 if value is None else to_int(value, "start")
