"""Helpers shared by the report writers: the secret backstop, short reasons and safe text."""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # the C one where there is one
from typing import Any
from urllib.parse import quote

from b24_conformance.verdict import Outcome, RunResult, show_value

ELLIPSIS = "…"


def refuse_secrets(text: str, secrets: Iterable[str], *, report: str) -> None:
    """Raise ValueError naming `report` (never the secret) if any secret occurs in `text`."""
    for number, secret in enumerate((s for s in secrets if s), start=1):
        if any(form in text for form in _encoded_forms(secret)):
            raise ValueError(
                f"refusing to write the {report} report: it contains secret #{number} of those given; "
                "redact the run before reporting"
            )


def _encoded_forms(secret: str) -> set[str]:
    """The secret as it may appear once a writer has escaped it (HTML, XML, JSON, URL)."""
    return {secret, html.escape(secret), html.escape(secret, quote=False),
            json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], quote(secret, safe="")}


format_value = show_value  # the views render values exactly as grading wrote them in reasons


def gating_failures(result: RunResult) -> int:
    """How many clauses failed the gate (MUST ones; with --strict, SHOULD ones too)."""
    return len(result.gating)


def gate_line(result: RunResult) -> str:
    """The gate result, e.g. `gate: FAILED — 2 MUST clause(s) failed`."""
    failed = gating_failures(result)
    scope = "MUST and SHOULD clauses (strict)" if result.info.strict else "MUST clauses"
    known = result.counts().get(Outcome.XFAIL.value, 0)
    known_note = f"; {known} known deviation(s) from {result.info.baseline or 'the baseline'}" if known else ""
    if failed:
        return f"gate on {scope}: FAILED — {failed} clause(s) failed{known_note}"
    errors = result.counts()[Outcome.ERROR.value]
    if not result.complete:
        return (f"gate on {scope}: NOT JUDGED — the run was interrupted after {len(result.verdicts)} clause(s)"
                + (f", {errors} of them could not be judged" if errors else ""))
    if errors:
        return f"gate on {scope}: NOT JUDGED — could not judge {errors} clause(s) (infrastructure errors, exit code 3)"
    return f"gate on {scope}: passed{known_note}"


def counts_line(result: RunResult) -> str:
    """Counts per outcome, e.g. `3 PASS, 0 NON-STRICT, 1 FAIL, 0 SKIP, 0 ERROR`."""
    return ", ".join(f"{n} {outcome}" for outcome, n in result.counts().items()
                     if n or outcome != Outcome.XFAIL.value)  # XFAIL only in runs with a baseline


def one_line(text: str) -> str:
    """Text safe for a single terminal line: whitespace folded, control characters escaped."""
    folded = re.sub(r"[\r\n\t]+", " ", text)
    return "".join(_escape_control(ch) for ch in folded)


def _escape_control(ch: str) -> str:
    if unicodedata.category(ch) in ("Cc", "Cs"):  # ANSI escapes from a hostile body; lone surrogates
        return ch.encode("unicode_escape", "backslashreplace").decode("ascii")
    return ch


def truncate(text: str, width: int) -> str:
    """`text` cut to `width` characters, ending in an ellipsis when cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + ELLIPSIS


def truncate_middle(text: str, width: int) -> str:
    """`text` cut to `width` by dropping its middle: clause ids differ at the start and the end."""
    if len(text) <= width:
        return text
    if width < 8:
        return truncate(text, width)
    head = (width - 1) // 3
    return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head):]


def pretty_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """`json.dumps(value, ensure_ascii=False, indent=2, default=default)`, byte for byte, about three
    times faster: Python's encoder indents in pure Python through a generator per level, and
    indenting is most of writing report.json and of pretty-printing bodies for report.html.
    Anything but what `json.loads` makes (str keys; dicts, lists, str, int, float, bool, None)
    goes to `json.dumps` itself."""
    out: list[str] = []
    try:
        _emit(value, out.append, "\n")
    except (_Unusual, RecursionError):
        return json.dumps(value, ensure_ascii=False, indent=2, default=default)
    return "".join(out)


class _Unusual(Exception):
    """A value `pretty_json` leaves to the standard encoder."""


_INFINITY = float("inf")


def _emit(value: Any, put: Callable[[str], Any], newline: str) -> None:
    kind = type(value)
    if kind is str:
        put(encode_basestring(value))
    elif kind is dict or kind is list:
        mapping = kind is dict
        if not value:
            put("{}" if mapping else "[]")
            return
        inner = newline + "  "
        separator = ("{" if mapping else "[") + inner
        for item in value.items() if mapping else value:
            put(separator)
            if mapping:
                key, item = item
                if type(key) is not str:
                    raise _Unusual
                put(encode_basestring(key))
                put(": ")
            _emit(item, put, inner)
            separator = "," + inner
        put(newline + ("}" if mapping else "]"))
    elif value is None:
        put("null")
    elif value is True:
        put("true")
    elif value is False:
        put("false")
    elif kind is int:
        put(int.__repr__(value))
    elif kind is float:
        if math.isnan(value):
            put("NaN")
        elif value == _INFINITY:
            put("Infinity")
        elif value == -_INFINITY:
            put("-Infinity")
        else:
            put(float.__repr__(value))
    else:
        raise _Unusual
