"""Grading: a clause's expectations, one profile at a time, against an observation.

Pure functions only: no I/O, no knowledge of the target. `grade` checks every field under the
selected profile; when that fails it tries each other known profile, and a full match there makes
the verdict NON-STRICT rather than FAIL (Autobahn's grading).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .contract.clause import MISSING, Clause, Expect
from .contract.profile import Profile
from .contract.schemas import validate as validate_schema
from .observation import Observation, Response
from .verdict import FieldResult, Outcome, Verdict

Resolve = Callable[[Any], Any]


def same_json(a: Any, b: Any) -> bool:
    """JSON equality that tells true from 1 and 1 from 1.0 only where JSON does (bools apart)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def check_fields(clause: Clause, observation: Observation, profile: Profile, resolve: Resolve) -> list[FieldResult]:
    """Every field the clause asks about, under one profile."""
    then = clause.then
    fields: list[FieldResult] = []
    if then.responses:
        fields += _check_multiset(then.responses, observation.responses, profile, resolve)
    else:
        fields += _check_response("", then.expect, observation.response, profile, resolve)
    if then.batch_result or then.batch_errors or then.batch_absent:
        fields += _check_batch(clause, observation.response, profile, resolve)
    fields += _check_after(clause, observation.after)
    return fields


def grade(clause: Clause, observation: Observation, profiles: Mapping[str, Profile], selected: str,
          resolve: Resolve = lambda v: v) -> Verdict:
    """PASS, NON-STRICT or FAIL for an observation that was actually made."""
    fields = check_fields(clause, observation, profiles[selected], resolve)
    outcome, matched, reason = Outcome.PASS, None, ""
    if not all(f.ok for f in fields):
        outcome = Outcome.FAIL
        first = next(f for f in fields if not f.ok)
        reason = f"{first.field}: expected {_short(first.expected)}, got {_short(first.observed)}"
        for name, profile in profiles.items():
            if name != selected and all(f.ok for f in check_fields(clause, observation, profile, resolve)):
                outcome, matched = Outcome.NON_STRICT, name
                reason = f"matches profile {name}, not {selected} ({reason})"
                break
    return Verdict(
        clause_id=clause.id, level=clause.level, title=clause.title, outcome=outcome, profile=selected,
        citation=clause.citation, fields=tuple(fields), reason=reason, matched_profile=matched,
        reproduction=observation.reproduction, exchanges=tuple(e.to_dict() for e in observation.exchanges),
    )


def expected_of(expect: Expect, profile: Profile, resolve: Resolve) -> dict[str, Any]:
    """The concrete values one Expect stands for under `profile`."""
    out: dict[str, Any] = {}
    if expect.message:
        params = {k: resolve(v) for k, v in expect.message.params.items()}
        http, error, text = profile.render(expect.message.key, **params)
        out.update(http=http, error=str(error), error_description=text)
    if expect.http is not None:
        out["http"] = expect.http
    if expect.result is not MISSING:
        out["result"] = expect.result
    if expect.schema:
        out["schema"] = expect.schema
    return out


def _check_response(prefix: str, expect: Expect, response: Response, profile: Profile,
                    resolve: Resolve) -> list[FieldResult]:
    want = expected_of(expect, profile, resolve)
    body = response.body if isinstance(response.body, dict) else {}
    results = []
    if "http" in want:
        results.append(_field(prefix + "http", want["http"], response.status, want["http"] == response.status))
    if "error" in want:
        observed = str(body["error"]) if "error" in body else MISSING
        results.append(_field(prefix + "error", want["error"], observed, observed == want["error"]))
    if "error_description" in want:
        observed = body.get("error_description", MISSING)
        results.append(_field(prefix + "error_description", want["error_description"], observed,
                              observed == want["error_description"]))
    if "result" in want:
        observed = body.get("result", MISSING) if response.body is not None else MISSING
        results.append(_field(prefix + "result", want["result"], observed, same_json(want["result"], observed)))
    if "schema" in want:
        errors = validate_schema(want["schema"], response.body) if response.body is not None else ["body is not JSON"]
        observed = "valid" if not errors else "; ".join(errors[:3])
        results.append(_field(prefix + f"schema:{want['schema']}", "valid", observed, not errors))
    return results


def _check_multiset(expects: Sequence[Expect], responses: Sequence[Response], profile: Profile,
                    resolve: Resolve) -> list[FieldResult]:
    if len(expects) != len(responses):
        return [_field("responses", len(expects), len(responses), False)]
    best: list[FieldResult] | None = None
    for order in itertools.permutations(range(len(responses))):
        results = []
        for n, (expect, idx) in enumerate(zip(expects, order)):
            results += _check_response(f"responses[{n}].", expect, responses[idx], profile, resolve)
        if all(r.ok for r in results):
            return results
        if best is None or sum(r.ok for r in results) > sum(r.ok for r in best):
            best = results
    return best or []


def _check_batch(clause: Clause, response: Response, profile: Profile, resolve: Resolve) -> list[FieldResult]:
    then = clause.then
    inner = response.body.get("result") if isinstance(response.body, dict) else None
    inner = inner if isinstance(inner, dict) else {}
    results_map = inner.get("result") if isinstance(inner.get("result"), dict) else {}
    errors_map = inner.get("result_error") if isinstance(inner.get("result_error"), dict) else {}
    fields = []
    for key, want in then.batch_result.items():
        observed = results_map.get(key, MISSING)
        fields.append(_field(f"batch.result.{key}", want, observed, same_json(want, observed)))
    for key, ref in then.batch_errors.items():
        got = errors_map.get(key)
        got = got if isinstance(got, dict) else {}
        want = expected_of(Expect(message=ref), profile, resolve)
        err = str(got["error"]) if "error" in got else MISSING
        desc = got.get("error_description", MISSING)
        fields.append(_field(f"batch.result_error.{key}.error", want["error"], err, err == want["error"]))
        fields.append(_field(f"batch.result_error.{key}.error_description", want["error_description"], desc,
                             desc == want["error_description"]))
    for key in then.batch_absent:
        present = key in results_map or key in errors_map
        fields.append(_field(f"batch.{key}", "absent (not run)", "present" if present else "absent (not run)",
                             not present))
    return fields


def _check_after(clause: Clause, after: Mapping[str, Any]) -> list[FieldResult]:
    fields = []
    status = after.get("status", {})
    for label, want in clause.then.after_status.items():
        got = status.get(label, MISSING)
        fields.append(_field(f"after.status.{label}", want, got, got == want))
    balances = after.get("balances", {})
    for label, mode in clause.then.after_balances.items():
        seen = balances.get(label) or {}
        ok = bool(seen.get(mode))
        observed = mode if ok else _describe_balances(seen)
        fields.append(_field(f"after.balances.{label}", mode, observed, ok))
    return fields


def _describe_balances(seen: Mapping[str, Any]) -> Any:
    modes = [m for m in ("reverted", "unchanged", "applied") if seen.get(m)]
    return {"matches": modes or ["none"], "amounts": seen.get("amounts", {})}


def _field(name: str, expected: Any, observed: Any, ok: bool) -> FieldResult:
    return FieldResult(field=name, expected=_plain(expected), observed=_plain(observed), ok=bool(ok))


def _plain(value: Any) -> Any:
    return "<missing>" if value is MISSING else value


def _short(value: Any, limit: int = 90) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


