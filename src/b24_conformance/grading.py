"""Grading, the only judge: a clause's `then` against a raw observation, one profile at a time.

`judge` turns an Observation into a Verdict, and is the one place a Verdict is built:
- a precondition the target cannot provide (`Observation.unavailable`) is SKIP;
- an infrastructure fault (`Observation.fault`) is ERROR: it says nothing about conformance;
- otherwise every `then` key of the clause is checked by its function in `CHECKS` under the
  selected profile. All match: PASS. Otherwise, when every field matches another known profile
  (for example the newer docs' wording), NON-STRICT naming it (Autobahn's grading); else FAIL.

Each check is small and pure: it reads the clause's expectation and the observation and returns
the fields it checked, expected against observed. Balance arithmetic is `balance_modes`, fed the
real amounts the engine read. Nothing here does I/O or knows which target produced the facts.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .baseline import Baseline, observed_of
from .contract.clause import MISSING, Clause, Expect, MessageRef, Then
from .contract.profile import PLACEHOLDER, Profile
from .contract.schemas import validate as validate_schema
from .observation import BalanceReading, ClientReply, Observation, Reply
from .verdict import FieldResult, Outcome, Verdict, show_value

EPS = 1e-9
RATE_LIMITS = frozenset({"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"})
BALANCE_MODES = ("reverted", "unchanged", "applied")


@dataclass(frozen=True, slots=True)
class Context:
    """What a check needs besides the clause and the observation: the profile, and the references."""

    profile: Profile
    references: Mapping[str, Any]

    def resolve(self, value: Any) -> Any:
        return self.references.get(value, value) if isinstance(value, str) else value


Check = Callable[[Then, Observation, Context], list[FieldResult]]


# -- the verdict -----------------------------------------------------------------------------------
def judge(clause: Clause, observation: Observation, profiles: Mapping[str, Profile], selected: str) -> Verdict:
    """The verdict on one clause, from what was observed for it."""
    if observation.unavailable:
        return _verdict(clause, observation, selected, Outcome.SKIP, reason=observation.unavailable)
    if observation.fault:
        return _after_fault(clause, observation, profiles[selected], selected)
    why_not = unjudgeable(clause, observation)
    if why_not:
        return _verdict(clause, observation, selected, Outcome.ERROR, reason=why_not)
    broken = client_breakage(observation)
    if broken:
        return _verdict(clause, observation, selected, Outcome.FAIL, fields=(broken,),
                        reason=f"{broken.expected}: {broken.observed}")
    fields = check_fields(clause, observation, profiles[selected])
    mismatch = next((f for f in fields if not f.ok), None)
    if mismatch is None:
        return _verdict(clause, observation, selected, Outcome.PASS, fields=fields)
    why = client_reason(mismatch, observation, clause) or mismatch_reason(mismatch)
    for name, profile in profiles.items():
        if name != selected and all(f.ok for f in check_fields(clause, observation, profile)):
            return _verdict(clause, observation, selected, Outcome.NON_STRICT, fields=fields, matched=name,
                            reason=f"matches profile {name}, not {selected} ({why})")
    return _verdict(clause, observation, selected, Outcome.FAIL, fields=fields, reason=why)


def _after_fault(clause: Clause, observation: Observation, profile: Profile, selected: str) -> Verdict:
    """A fault: ERROR, unless the portal had already answered the clause's own question wrongly,
    before the fault kept the after-state from being read; a wrong answer is a FAIL either way."""
    if observation.replies and not unjudgeable(clause, observation):
        fields = [f for f in check_fields(clause, observation, profile) if not f.field.startswith("after.")]
        mismatch = next((f for f in fields if not f.ok), None)
        if mismatch is not None:
            why = client_reason(mismatch, observation, clause) or mismatch_reason(mismatch)
            return _verdict(clause, observation, selected, Outcome.FAIL, fields=fields,
                            reason=f"{why} (the after-state could not be read: {observation.fault})")
    return _verdict(clause, observation, selected, Outcome.ERROR, reason=observation.fault)


def unjudgeable(clause: Clause, observation: Observation) -> str | None:
    """Why the replies cannot answer the clause's question, or None.

    A clause is graded only on answers the portal gave to the clause's own question. No answer (a
    timeout, a reset), a rate-limit refusal the clause did not ask for (it ran nothing), a 5xx the
    clause did not ask for, or a body that is not JSON (a proxy's page) says nothing about
    conformance.
    """
    expects_5xx = clause.about_rate_limits or any(
        e.http is not None and e.http >= 500 for e in (clause.then.expect, *clause.then.responses))
    for n, reply in enumerate(observation.replies):
        which = "the clause's request" if len(observation.replies) == 1 else f"request {n + 1} of the clause"
        if isinstance(reply, ClientReply):
            if _unasked_limit(reply.error_code, clause, observation):
                return (f"{which} was refused by the portal's limit ({reply.status} {reply.code}) and "
                        f"{reply.client} handed the refusal on; it ran nothing, so this is no verdict")
            if reply.raised and reply.status is not None and reply.status >= 500 and not expects_5xx:
                return f"{which} got HTTP {reply.status} through {reply.client}: a server fault, not a verdict"
            continue
        if reply.fault:
            return f"no answer to {which}: {reply.fault}"
        if _unasked_limit(reply.error_code, clause, observation):
            return (f"{which} was refused by the portal's limit ({reply.status} {reply.error_code}) every time it "
                    "was sent; it ran nothing, so this is no verdict on the method")
        if reply.status is not None and reply.status >= 500 and not expects_5xx:
            return f"{which} got HTTP {reply.status} ({reply.describe_body()}): a server or proxy fault, not a verdict"
        if reply.body is None:
            return f"{which} got HTTP {reply.status} with a body that is not JSON ({reply.describe_body()})"
    return None


def client_breakage(observation: Observation) -> FieldResult | None:
    """A client that crashed, or whose documented error object cannot be read, fails the clause
    whatever it would otherwise have shown (the caller's program stops there)."""
    for reply in observation.replies:
        if isinstance(reply, ClientReply) and reply.crash:
            first = reply.crash.splitlines()[0]
            return _field("client", f"{reply.client} crashed instead of returning or raising its documented "
                          "error", first, False)
        if isinstance(reply, ClientReply) and reply.unreadable:
            return _field("client", f"{reply.client}'s error object is unreadable ({reply.raised})",
                          "; ".join(reply.unreadable), False)
    return None


def client_reason(mismatch: FieldResult, observation: Observation, clause: Clause) -> str:
    """A FAIL of a client run, in words a client author acts on; '' for a portal run."""
    reply = observation.replies[0] if len(observation.replies) == 1 else None
    if not isinstance(reply, ClientReply):
        return ""  # a portal run, or several replies (concurrency): the generic reason says which
    field, status = mismatch.field.rsplit(".", 1)[-1], reply.status
    on = f"on HTTP {status}" if status is not None else "with no HTTP status"
    if reply.raised and clause.when.batch and mismatch.expected == 200:
        return (f"a batch with a refused command reached the caller as {reply.raised}: the batch's own "
                "answer (200, with result and result_error) and its successful results are lost")
    if reply.raised:
        lost = [name for name, value in (("error code", reply.code), ("error_description", reply.description))
                if value is None]
        if field in ("error", "error_description") and lost:
            return f"{' and '.join(lost)} lost {on}: the caller gets only {reply.raised}" + _notes(reply)
        if field == "http" and status is None:
            return f"HTTP status lost: the caller's {reply.raised} carries none (expected {mismatch.expected})"
        if reply.code in RATE_LIMITS and clause.about_rate_limits and not clause.expects_rate_limit:
            return f"no retry on {reply.code}: the caller got {reply.raised} ({status})"
        if field == "result" or (field == "http" and isinstance(mismatch.expected, int) and mismatch.expected < 300):
            return (f"a success reached the caller as {reply.raised}({show_value(reply.code)}, {status}): "
                    f"{reply.description}")
    elif field == "http" and isinstance(mismatch.expected, int) and mismatch.expected >= 400:
        return (f"the error was swallowed: the caller got {show_value(reply.returned)[:80]} instead of an "
                f"error (the portal answered {mismatch.expected})")
    return f"{reply.client}: {mismatch_reason(mismatch)}"


def _notes(reply: ClientReply) -> str:
    return f" ({'; '.join(reply.notes)})" if reply.notes else ""


def _unasked_limit(code: str | None, clause: Clause, observation: Observation) -> bool:
    """A limit refusal the clause does not ask about ran nothing, so it is no verdict; unless the
    bucket was seen open right after it, which makes a QUERY_LIMIT_EXCEEDED the portal's own
    (wrong) answer to the clause's question."""
    if code not in RATE_LIMITS or code in clause.judged_limit_codes:
        return False
    return not (code == "QUERY_LIMIT_EXCEEDED" and observation.bucket_after == "admitted")


def mismatch_reason(mismatch: FieldResult) -> str:
    """The one-line reason of a FAIL: the first field that did not match."""
    return f"{mismatch.field}: expected {show_value(mismatch.expected)}, got {show_value(mismatch.observed)}"


def check_fields(clause: Clause, observation: Observation, profile: Profile) -> list[FieldResult]:
    """Every field the clause's `then` asks about, under one profile, in `CHECKS` order."""
    ctx = Context(profile, observation.references)
    keys = set(clause.then.checked_keys())
    if any(isinstance(r, ClientReply) for r in observation.replies):
        batch = bool(clause.when.batch)
        observation = replace(observation, replies=tuple(as_reply(r, batch=batch) for r in observation.replies))
    return [f for key, check in CHECKS.items() if key in keys for f in check(clause.then, observation, ctx)]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientView(Reply):
    """A client's reply seen as the response its caller can rebuild: the body the client handed
    over, or one made of what it exposed (then `body_visible` is False and no schema is checked)."""

    body_visible: bool = True


def as_reply(reply: Reply | ClientReply, *, batch: bool = False) -> Reply:
    """The Reply a client's caller effectively received. A batch's bare return value is either the
    batch's `result` object (with `result` and `result_error`) or just its map of results; both
    are seen as the body `{"result": {"result": …, "result_error": …}}`."""
    if not isinstance(reply, ClientReply):
        return reply
    if reply.raised:
        if isinstance(reply.error_body, dict) and "error" in reply.error_body:
            return ClientView(status=reply.status, body=reply.error_body)
        body = {k: v for k, v in (("error", reply.code), ("error_description", reply.description)) if v is not None}
        return ClientView(status=reply.status, body=body, body_visible=False)
    status = reply.status if reply.status is not None else 200  # a plain return: the client saw a success
    if reply.whole:
        return ClientView(status=status, body=reply.returned)
    value = reply.returned
    if batch and not (isinstance(value, dict) and "result" in value):
        value = {"result": value, "result_error": {}}
    return ClientView(status=status, body={"result": value}, body_visible=False)


def _verdict(clause: Clause, observation: Observation, selected: str, outcome: Outcome, *,
             fields: Sequence[FieldResult] = (), reason: str = "", matched: str | None = None) -> Verdict:
    return Verdict(
        clause_id=clause.id, level=clause.level, title=clause.title, outcome=outcome, profile=selected,
        citation=clause.citation, fields=tuple(fields), reason=reason, matched_profile=matched,
        reproduction=observation.reproduction, exchanges=observation.exchanges,
        duration_s=observation.duration_s,
    )


# -- known deviations --------------------------------------------------------------------------------
def apply_baseline(verdict: Verdict, baseline: Baseline | None) -> Verdict:
    """The verdict in the light of the portal's known deviations (`baseline.py`).

    A FAIL the baseline lists, with the same first mismatching field and the same observed value, is
    XFAIL. A listed FAIL whose observed value changed stays FAIL: it is a new deviation. A listed
    clause that passes now is marked "fixed", so the baseline can shrink.
    """
    known = baseline.known.get(verdict.clause_id) if baseline else None
    if known is None:
        return verdict
    if verdict.outcome is Outcome.FAIL:
        seen = observed_of(verdict, known.field)
        first = verdict.mismatches[0] if verdict.mismatches else None
        if first is not None and first.field == known.field and same_json(seen, known.observed):
            return replace(verdict, outcome=Outcome.XFAIL, baseline="known",
                           reason=f"known deviation ({known.reason}): {verdict.reason}")
        return replace(verdict, baseline="changed",
                       reason=f"the known deviation changed (the baseline has {known.field} = "
                              f"{show_value(known.observed)}, now {show_value(seen)}): {verdict.reason}")
    if verdict.outcome in (Outcome.PASS, Outcome.NON_STRICT):
        return replace(verdict, baseline="fixed",
                       reason=("fixed: the baseline lists this clause as a known FAIL, and it passes now; "
                               "remove it from the baseline") + (f" ({verdict.reason})" if verdict.reason else ""))
    return verdict


# -- one reply -------------------------------------------------------------------------------------
def expected_message(ref: MessageRef, ctx: Context) -> tuple[int, str, str]:
    """(HTTP status, error code, error_description) a message key stands for under the profile."""
    params = {k: _param(v, ctx) for k, v in ref.params.items()}
    http, error, text = ctx.profile.render(ref.key, **params)
    return http, str(error), text


def _param(value: Any, ctx: Context) -> Any:
    """A placeholder's value: a `$label.field` reference, or `{key: reason.x}`, another message's text
    under the same profile (the inner reason of "Document conducting error: #ERROR#")."""
    if isinstance(value, Mapping) and "key" in value:
        inner = {k: _param(v, ctx) for k, v in (value.get("params") or {}).items()}
        return ctx.profile.render(value["key"], **inner)[2]
    return ctx.resolve(value)


def reply_http(expect: Expect, reply: Reply, ctx: Context, prefix: str = "") -> list[FieldResult]:
    want = expect.http if expect.http is not None else expected_message(expect.message, ctx)[0]  # type: ignore[arg-type]
    return [_field(prefix + "http", want, reply.status, want == reply.status)]


def reply_message(expect: Expect, reply: Reply, ctx: Context, prefix: str = "") -> list[FieldResult]:
    _, error, text = expected_message(expect.message, ctx)  # type: ignore[arg-type]
    body = reply.body if isinstance(reply.body, dict) else {}
    code = str(body["error"]) if "error" in body else MISSING
    description = body.get("error_description", MISSING)
    return [_field(prefix + "error", error, code, code == error),
            _field(prefix + "error_description", text, description, _text_matches(text, description))]


def _text_matches(text: str, description: Any) -> bool:
    """Equal, or, where a placeholder was left unfilled (a reason naming the sandbox's product),
    equal with any text in its place."""
    if not isinstance(description, str):
        return False
    if not PLACEHOLDER.search(text):
        return description == text
    parts = PLACEHOLDER.split(text)
    regex = "".join(re.escape(p) if i % 2 == 0 else ".+?" for i, p in enumerate(parts))
    return re.fullmatch(regex, description, re.DOTALL) is not None


def reply_result(expect: Expect, reply: Reply, ctx: Context, prefix: str = "") -> list[FieldResult]:
    observed = reply.body.get("result", MISSING) if isinstance(reply.body, dict) else MISSING
    return [_field(prefix + "result", expect.result, observed, same_json(expect.result, observed))]


def reply_schema(expect: Expect, reply: Reply, ctx: Context, prefix: str = "") -> list[FieldResult]:
    if isinstance(reply, ClientView) and not reply.body_visible:
        return []  # the client does not show its caller the body (e.g. it returns the bare result)
    errors = validate_schema(expect.schema, reply.body) if reply.body is not None else ["body is not JSON"]
    observed = "valid" if not errors else "; ".join(errors[:3])
    return [_field(prefix + f"schema:{expect.schema}", "valid", observed, not errors)]


REPLY_CHECKS: dict[str, Callable[..., list[FieldResult]]] = {
    "http": reply_http, "message": reply_message, "result": reply_result, "schema": reply_schema,
}


def check_reply(expect: Expect, reply: Reply, ctx: Context, prefix: str = "") -> list[FieldResult]:
    """Every key of one expectation against one reply."""
    return [f for key in expect.checked_keys() for f in REPLY_CHECKS[key](expect, reply, ctx, prefix)]


def _single(key: str) -> Check:
    def check(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
        return REPLY_CHECKS[key](then.expect, observation.reply, ctx)
    check.__name__ = f"check_{key}"
    return check


# -- several replies, batch, after-state -----------------------------------------------------------
def check_responses(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """Concurrency clauses: each expectation met by a different reply, in any order."""
    replies = observation.replies
    if len(then.responses) != len(replies):
        return [_field("responses", len(then.responses), len(replies), False)]
    best: list[FieldResult] = []
    for order in itertools.permutations(range(len(replies))):
        results = [f for n, (expect, idx) in enumerate(zip(then.responses, order))
                   for f in check_reply(expect, replies[idx], ctx, f"responses[{n}].")]
        if all(r.ok for r in results):
            return results
        if not best or sum(r.ok for r in results) > sum(r.ok for r in best):
            best = results
    return best


def check_batch(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """`result` per key, `result_error` per key (code and text from the profile), and keys not run."""
    body = observation.reply.body
    inner = body.get("result") if isinstance(body, dict) else None
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
        _, error, text = expected_message(ref, ctx)
        code = str(got["error"]) if "error" in got else MISSING
        description = got.get("error_description", MISSING)
        fields.append(_field(f"batch.result_error.{key}.error", error, code, code == error))
        fields.append(_field(f"batch.result_error.{key}.error_description", text, description,
                             description == text))
    for key in then.batch_absent:
        present = key in results_map or key in errors_map
        fields.append(_field(f"batch.{key}", "absent (not run)", "present" if present else "absent (not run)",
                             not present))
    return fields


def check_after_status(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    fields = []
    for label, want in then.after_status.items():
        got = observation.statuses.get(label, MISSING)
        fields.append(_field(f"after.status.{label}", want, got, got == want))
    return fields


def check_after_balances(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    fields = []
    for label, mode in then.after_balances.items():
        readings = observation.readings(label)
        ok = balances_are(mode, readings)
        fields.append(_field(f"after.balances.{label}", mode, mode if ok else describe_balances(readings), ok))
    return fields


def check_after_fields(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """Each named field of each document, as read back after the call, against the value given."""
    fields = []
    for label, wanted in then.after_fields.items():
        row = observation.documents.get(label, MISSING)
        for name, value in wanted.items():
            want = ctx.resolve(value)
            got = row.get(name, MISSING) if isinstance(row, Mapping) else MISSING
            fields.append(_field(f"after.fields.{label}.{name}", want, got, same_json(want, got)))
    return fields


def check_after_exists(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """Whether each document is still found after the call; a document not read back is no answer."""
    fields = []
    for label, want in then.after_exists.items():
        row = observation.documents.get(label, MISSING)
        got = MISSING if row is MISSING else row is not None
        fields.append(_field(f"after.exists.{label}", want, got, got is want))
    return fields


def check_after_items(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """A document's item rows after the call: exactly the expected rows, in any order, each matched
    on product, amount, both warehouse ends and (where given) price; a document not read is no answer."""
    fields = []
    for label, expected in then.after_items.items():
        want = [_expected_row(item, ctx) for item in expected]
        rows = observation.items.get(label, MISSING)
        if rows is MISSING:
            fields.append(_field(f"after.items.{label}", want, MISSING, False))
            continue
        seen = [{k: _row_value(k, row.get(k, MISSING)) for k in ("elementId", "amount", "storeFrom", "storeTo",
                                                                 "purchasingPrice")} for row in rows]
        unmatched = list(seen)
        # a row that names its price first: one that does not could otherwise take the row it needs
        for row in sorted(want, key=lambda r: "purchasingPrice" not in r):
            hit = next((got for got in unmatched if all(same_json(v, got[k]) for k, v in row.items()
                                                        if k != "product")), None)
            if hit is not None:
                unmatched.remove(hit)
        ok = len(seen) == len(want) and not unmatched
        fields.append(_field(f"after.items.{label}", want, seen, ok))
    return fields


def _expected_row(item: Any, ctx: Context) -> dict[str, Any]:
    """An expected item row in the portal's terms: the product's and warehouses' ids the sandbox built."""
    row = {"product": item.product, "elementId": _as_id(ctx.resolve(f"$product.{item.product}")),
           "amount": float(item.amount),
           "storeFrom": _as_id(ctx.resolve(f"$store.{item.store_from}")) if item.store_from else None,
           "storeTo": _as_id(ctx.resolve(f"$store.{item.store_to}")) if item.store_to else None}
    if item.price is not None:
        row["purchasingPrice"] = float(item.price)
    return row


def _row_value(key: str, value: Any) -> Any:
    """An item row's value as compared: ids as numbers, amounts and prices as floats (real portals
    send some numbers as strings)."""
    if value is MISSING or value is None:
        return value
    if key in ("amount", "purchasingPrice"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return _as_id(value)


def check_result_at(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """Values inside the result at dot paths; a path that leads nowhere is <missing>."""
    body = observation.reply.body
    fields = []
    for path, value in then.result_at.items():
        got: Any = body.get("result", MISSING) if isinstance(body, dict) else MISSING
        for key in path.split("."):
            if isinstance(got, list) and key.isdigit():
                got = got[int(key)] if int(key) < len(got) else MISSING
            else:
                got = got.get(key, MISSING) if isinstance(got, dict) else MISSING
        want = ctx.resolve(value)
        fields.append(_field(f"result.{path}", want, got, same_json(want, got)))
    return fields
# -- a list method's pages -------------------------------------------------------------------------
def check_pages(then: Then, observation: Observation, ctx: Context) -> list[FieldResult]:
    """The rows of every page (one reply, or each reply of a walk): which ids, exactly once each;
    the envelope's `total` on every page and `next` page by page; the keys of every row."""
    want = then.pages
    bodies = [r.body if isinstance(r.body, dict) else {} for r in observation.replies]
    # a client that hands its caller the bare result shows no envelope: `total` and `next` are not
    # the client's to show there (as with schemas, reply_schema), and a list helper may hand over
    # the rows themselves, unwrapped from their key
    envelope = not any(isinstance(r, ClientView) and not r.body_visible for r in observation.replies)
    rows = [row for body in bodies for row in _page_rows(body, want.get("key"), unwrapped=not envelope)]
    fields: list[FieldResult] = []
    if "ids" in want:
        seen = [_as_id(row.get("id")) for row in rows]
        if want["ids"] in ("given", "items"):  # every given document's (item row's) id once, any order
            ref = "$given.ids" if want["ids"] == "given" else "$given.items"
            given = sorted((_as_id(v) for v in ctx.references.get(ref, ())), key=_id_order)
            seen = sorted(seen, key=_id_order)
            fields.append(_field("pages.ids", given, seen, seen == given))
        else:
            expected = [_as_id(ctx.resolve(v)) for v in want["ids"]]
            fields.append(_field("pages.ids", expected, seen, seen == expected))
    if "total" in want and envelope:
        totals = [body.get("total", MISSING) for body in bodies]
        fields.append(_field("pages.total", [want["total"]] * len(bodies), [_plain(t) for t in totals],
                             all(same_json(t, want["total"]) for t in totals)))
    if "next" in want and envelope:
        nexts = [body.get("next") for body in bodies]
        fields.append(_field("pages.next", list(want["next"]), nexts, same_json(nexts, list(want["next"]))))
    for key, exact in (("fields", True), ("has", False)):
        if key in want:
            names = set(want[key])
            bad = next((sorted(row) for row in rows if (set(row) != names if exact else not names <= set(row))),
                       None)
            fields.append(_field(f"pages.{key}", sorted(names), bad if bad is not None else sorted(names),
                                 bad is None and bool(rows)))
    return fields


def _page_rows(body: Mapping[str, Any], key: str | None, *, unwrapped: bool = False) -> list[dict[str, Any]]:
    """A page's rows: `result[key]`; without a key, the one list in `result` (documents,
    documentElements, …)."""
    result = body.get("result")
    if isinstance(result, dict) and key is None:
        lists = [k for k, v in result.items() if isinstance(v, list)]
        key = lists[0] if len(lists) == 1 else "documents"
    rows = result.get(key) if isinstance(result, dict) else result if unwrapped else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _id_order(value: Any) -> tuple[int, int, str]:
    return (0, value, "") if isinstance(value, int) else (1, 0, str(value))


def _as_id(value: Any) -> Any:
    """An id as a number when it reads as one (real portals send some ids as strings)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


CHECKS: dict[str, Check] = {
    "http": _single("http"),
    "message": _single("message"),
    "result": _single("result"),
    "schema": _single("schema"),
    "responses": check_responses,
    "batch": check_batch,
    "after.status": check_after_status,
    "after.balances": check_after_balances,
    "after.fields": check_after_fields,
    "after.exists": check_after_exists,
    "after.items": check_after_items,
    "result_at": check_result_at,
    "pages": check_pages,
}


# -- balance arithmetic ----------------------------------------------------------------------------
def balance_modes(reading: BalanceReading) -> tuple[str, ...]:
    """Which of reverted / unchanged / applied one reading is, within float tolerance.

    reverted: back to the amount before the document was conducted; unchanged: the amount just
    before the call; applied: the amount before conduct plus the document's movement.
    """
    targets = {"reverted": reading.before_conduct, "unchanged": reading.before_call,
               "applied": reading.before_conduct + reading.moved}
    return tuple(mode for mode in BALANCE_MODES if abs(reading.after - targets[mode]) < EPS)


def balances_are(mode: str, readings: Iterable[BalanceReading]) -> bool:
    """Every reading of a document is in `mode`."""
    return all(mode in balance_modes(r) for r in readings)


def describe_balances(readings: Sequence[BalanceReading]) -> dict[str, Any]:
    """The observed value of a balance mismatch: the modes every reading shares, and the amounts."""
    shared = [m for m in BALANCE_MODES if balances_are(m, readings)]
    amounts = {f"{r.product}@{r.store}": {"before_conduct": r.before_conduct, "before_call": r.before_call,
                                          "now": r.after, "moved": r.moved} for r in readings}
    return {"matches": shared or ["none"], "amounts": amounts}


# -- helpers ---------------------------------------------------------------------------------------
def same_json(a: Any, b: Any) -> bool:
    """JSON equality that tells true from 1 and 1 from 1.0 only where JSON does (bools apart)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def _field(name: str, expected: Any, observed: Any, ok: bool) -> FieldResult:
    return FieldResult(field=name, expected=_plain(expected), observed=_plain(observed), ok=bool(ok))


def _plain(value: Any) -> Any:
    """MISSING as a readable marker; anything else as JSON would carry it."""
    if value is MISSING:
        return "<missing>"
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
