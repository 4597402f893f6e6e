"""The human report: one self-contained offline HTML page with a summary, a filter and a section per clause."""

from __future__ import annotations

import base64
import difflib
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from b24_conformance.observation import Exchange
from b24_conformance.report._common import (
    counts_line,
    format_value,
    gate_line,
    pretty_json,
    refuse_secrets,
)
from b24_conformance.verdict import Citation, FieldResult, Outcome, RunResult, Verdict

CSS = """
:root{--pass:#1a7f37;--nonstrict:#9a6700;--fail:#cf222e;--skip:#57606a;--error:#8250df;
--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--bad:#ffebe9;--good:#dafbe1}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;
--soft:#151b23;--bad:#3c1618;--good:#12261e}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:76rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
background:var(--bg);color:var(--fg)}
h1{font-size:1.5rem;margin:0 0 .75rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
h3{font-size:.95rem;margin:1rem 0 .35rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem;margin:.3rem 0;
overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-word}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.bar{display:flex;height:1.1rem;border-radius:4px;overflow:hidden;margin:1rem 0 .4rem;
border:1px solid var(--line)}
.bar span{display:block;height:100%}
.PASS{--c:var(--pass)}.NON-STRICT{--c:var(--nonstrict)}.FAIL{--c:var(--fail)}.XFAIL{--c:#bc4c00}.SKIP{--c:var(--skip)}
.ERROR{--c:var(--error)}.bar span{background:var(--c)}
.badge{display:inline-block;min-width:6.5em;text-align:center;padding:0 .45em;border-radius:4px;
background:var(--c);color:#fff;font-weight:600;font-size:.8rem}
.gate{font-weight:600}.gate.failed{color:var(--fail)}.gate.passed{color:var(--pass)}
#filter{border:none;padding:0;margin:.6rem 0}#filter label{margin-right:1rem;cursor:pointer}
#filter button{margin-left:.5rem}
details.clause{border:1px solid var(--line);border-left:5px solid var(--c);border-radius:6px;margin:.45rem 0;
background:var(--bg)}
details.clause>summary{cursor:pointer;padding:.45rem .7rem;list-style-position:inside}
details.clause>summary .id{font-weight:600}
details.clause>summary .why{color:var(--muted);margin-left:.4rem}
details.clause>summary .dur{float:right;color:var(--muted);font-size:.85rem}
details.clause>.body{padding:0 1rem .8rem;border-top:1px solid var(--line)}
blockquote{margin:.3rem 0;padding:.2rem .8rem;border-left:3px solid var(--line);color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:.3rem 0}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft)}td code{white-space:pre-wrap;word-break:break-word}
tr.mismatch td{background:var(--bad)}tr.mismatch td.mark{color:var(--fail);font-weight:700}
td.mark{text-align:center;width:2rem;color:var(--pass)}
del{background:var(--bad);text-decoration:line-through}ins{background:var(--good);text-decoration:none}
.repro{position:relative}.repro button{position:absolute;top:.4rem;right:.4rem}
details.exchange{margin:.35rem 0}details.exchange>summary{cursor:pointer}
.status-err{color:var(--fail);font-weight:600}.muted{color:var(--muted)}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
"""

JS = """
(function(){
  var filter=document.getElementById('filter');filter.hidden=false;
  function apply(){
    var shown={};
    filter.querySelectorAll('input[data-outcome]').forEach(function(b){shown[b.dataset.outcome]=b.checked;});
    document.querySelectorAll('details.clause').forEach(function(d){d.hidden=!shown[d.dataset.outcome];});
  }
  filter.addEventListener('change',apply);
  document.getElementById('expand').addEventListener('click',function(){
    document.querySelectorAll('details.clause').forEach(function(d){d.open=true;});});
  document.getElementById('collapse').addEventListener('click',function(){
    document.querySelectorAll('details.clause').forEach(function(d){d.open=false;});});
  document.querySelectorAll('button.copy').forEach(function(b){
    b.addEventListener('click',function(){
      var text=document.getElementById(b.dataset.target).textContent;
      var done=function(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy';},1500);};
      if(navigator.clipboard){navigator.clipboard.writeText(text).then(done,function(){});}
      else{var r=document.createRange();r.selectNodeContents(document.getElementById(b.dataset.target));
        var s=getSelection();s.removeAllRanges();s.addRange(r);document.execCommand('copy');done();}
    });
  });
  apply();
})();
"""

_OPEN_BY_DEFAULT = frozenset({Outcome.FAIL, Outcome.ERROR})


def e(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return escape(_clean(str(value)), quote=True)


def _clean(text: str) -> str:
    """Lone surrogates (undecodable bytes) become U+FFFD, so the page always encodes as UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def to_html(result: RunResult, *, secrets: Iterable[str] = ()) -> str:
    """The run as one self-contained HTML page (inline CSS and JS, no external assets)."""
    try:
        return _page(result, secrets)
    finally:
        _shown.cache_clear()


def _page(result: RunResult, secrets: Iterable[str]) -> str:
    parts = [
        _head(result),
        "<body>",
        _header(result),
        _filter(result),
        '<main id="clauses">',
        *(_clause(v, i) for i, v in enumerate(result.verdicts)),
        "</main>",
        _footer(result),
        f"<script>{JS}</script>",
        "</body></html>\n",
    ]
    text = "\n".join(parts)
    refuse_secrets(text, secrets, report="HTML")
    return text


def _footer(result: RunResult) -> str:
    return (f"<footer>Generated by b24-conformance {e(result.info.tool_version)} from run "
            f"<code>{e(result.info.run_id)}</code>. No request was re-run to produce this page.</footer>")


def _head(result: RunResult) -> str:
    # The CSP pins the one inline script by hash: even a body that escaped escaping could not run.
    script_hash = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'"
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>b24-conformance — {e(result.info.profile)} — {e(result.info.run_id)}</title>"
        f"<style>{CSS}</style></head>"
    )


def _header(result: RunResult) -> str:
    info = result.info
    meta = {
        "Run": info.run_id, "Started": info.started_at, "Target": f"{info.target} ({info.target_kind})",
        "Profile": info.profile, "Tool version": info.tool_version,
        "Clause files": ", ".join(info.clause_files) or "—",
        "Duration": f"{result.duration_s:.2f} s", "HTTP requests": str(result.request_count),
        "Exit code": str(result.exit_code),
        "Complete": "yes" if result.complete else "no: a partial report, the run was interrupted",
    }
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta.items())
    gate_class = "passed" if result.exit_code == 0 else "failed"
    return (
        "<header><h1>b24-conformance report</h1>"
        f'<dl class="meta">{rows}</dl>{_summary_bar(result)}'
        f'<p>{e(counts_line(result))} — <span class="gate {gate_class}">{e(gate_line(result))}</span></p>'
        "</header>"
    )


def _summary_bar(result: RunResult) -> str:
    total = len(result.verdicts) or 1
    spans = "".join(
        f'<span class="{e(name)}" style="width:{100 * n / total:.3f}%" title="{n} {e(name)}"></span>'
        for name, n in result.counts().items() if n
    )
    return f'<div class="bar" role="img" aria-label="{e(counts_line(result))}">{spans}</div>'


def _filter(result: RunResult) -> str:
    boxes = "".join(
        f'<label class="{e(name)}"><input type="checkbox" data-outcome="{e(name)}" checked> '
        f'<span class="badge">{e(name)}</span> {n}</label>'
        for name, n in result.counts().items()
    )
    return (f'<fieldset id="filter" hidden><legend class="muted">Show</legend>{boxes}'
            '<button type="button" id="expand">Expand all</button>'
            '<button type="button" id="collapse">Collapse all</button></fieldset>')


def _clause(verdict: Verdict, index: int) -> str:
    outcome = verdict.outcome.value
    is_open = " open" if verdict.outcome in _OPEN_BY_DEFAULT else ""
    reason = verdict.reason
    summary = (
        f'<summary><span class="badge">{e(outcome)}</span> <code class="id">{e(verdict.clause_id)}</code> '
        f'<span class="muted">[{e(verdict.level)}]</span> {e(verdict.title)}'
        + (f' <span class="why">— {e(reason)}</span>' if reason else "")
        + f'<span class="dur">{verdict.duration_s:.2f} s</span></summary>'
    )
    body = "".join([
        _verdict_meta(verdict),
        _citation(verdict.citation),
        _fields(verdict.fields),
        _reproduction(verdict.reproduction, index),
        _wire_log(verdict.exchanges),
    ])
    return (f'<details class="clause {e(outcome)}" data-outcome="{e(outcome)}" '
            f'id="clause-{e(verdict.clause_id)}"{is_open}>{summary}<div class="body">{body}</div></details>')


def _verdict_meta(verdict: Verdict) -> str:
    rows = {"Level": verdict.level, "Profile": verdict.profile}
    if verdict.matched_profile:
        rows["Matched profile"] = verdict.matched_profile
    if verdict.reason:
        rows["Reason"] = verdict.reason
    return '<h3>Verdict</h3><dl class="meta">' + "".join(
        f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows.items()) + "</dl>"


def _citation(citation: Citation) -> str:
    where = f"{citation.repo}/{citation.page} @ {citation.revision}"
    url = _citation_url(citation)
    source = f'<a href="{e(url)}">{e(where)}</a>' if url else e(where)
    return f"<h3>Cited</h3><blockquote>{e(citation.quote)}</blockquote><p class=\"muted\">{source}</p>"


def _citation_url(citation: Citation) -> str | None:
    """A link to the cited page at its revision; only http(s) and plain repo paths are linked."""
    if re.match(r"https?://", citation.page):
        return citation.page
    if re.fullmatch(r"[\w.-]+/[\w.-]+", citation.repo) and citation.revision and ".." not in citation.page:
        return (f"https://github.com/{citation.repo}/blob/{quote(citation.revision, safe='')}/"
                f"{quote(citation.page.lstrip('/'))}")
    return None


def _fields(fields: tuple[FieldResult, ...]) -> str:
    if not fields:
        return ""
    rows = "".join(_field_row(f) for f in fields)
    return ("<h3>Expected vs observed</h3><table><thead><tr><th></th><th>Field</th><th>Expected</th>"
            f"<th>Observed</th></tr></thead><tbody>{rows}</tbody></table>")


def _field_row(result: FieldResult) -> str:
    mark, row_class = ("✓", "") if result.ok else ("✗", ' class="mismatch"')
    observed = f"<code>{e(format_value(result.observed))}</code>"
    if not result.ok:
        observed += value_diff(result.expected, result.observed)
    return (f'<tr{row_class}><td class="mark">{mark}</td><td><code>{e(result.field)}</code></td>'
            f"<td><code>{e(format_value(result.expected))}</code></td><td>{observed}</td></tr>")


def value_diff(expected: Any, observed: Any) -> str:
    """An HTML diff of two mismatching values: inline for strings, by line for JSON structures."""
    if isinstance(expected, str) and isinstance(observed, str):
        # only where the two are variants of one text (a changed word, a full stop): for unrelated
        # strings, or "<missing>", a character diff is noise that repeats the observed value
        if difflib.SequenceMatcher(None, expected, observed, autojunk=False).ratio() < 0.6:
            return ""
        return f"<div>{_inline_diff(expected, observed)}</div>"
    if isinstance(expected, (dict, list)) and isinstance(observed, (dict, list)):
        return f"<pre>{_line_diff(_pretty(expected), _pretty(observed))}</pre>"
    return ""


def _inline_diff(old: str, new: str) -> str:
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(e(old[i1:i2]))
            continue
        if i2 > i1:
            out.append(f"<del>{e(old[i1:i2])}</del>")
        if j2 > j1:
            out.append(f"<ins>{e(new[j1:j2])}</ins>")
    return "<code>" + "".join(out) + "</code>"


def _line_diff(old: str, new: str) -> str:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "expected", "observed", lineterm="", n=2)
    return "\n".join(_diff_line(line) for line in lines)


def _diff_line(line: str) -> str:
    if line.startswith("-") and not line.startswith("---"):
        return f"<del>{e(line)}</del>"
    if line.startswith("+") and not line.startswith("+++"):
        return f"<ins>{e(line)}</ins>"
    return e(line)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _reproduction(reproduction: str, index: int) -> str:
    if not reproduction:
        return ""
    target = f"repro-{index}"
    return ('<h3>Reproduce</h3><div class="repro">'
            f'<pre id="{target}">{e(reproduction)}</pre>'
            f'<button type="button" class="copy" data-target="{target}">Copy</button></div>')


def _wire_log(exchanges: tuple[Exchange, ...]) -> str:
    if not exchanges:
        return ""
    items = "".join(_exchange(x, n) for n, x in enumerate(exchanges, start=1))
    return f"<h3>Wire log ({len(exchanges)} exchange(s), redacted)</h3>{items}"


def _exchange(exchange: Exchange, number: int) -> str:
    failed = exchange.status is None or exchange.status >= 400
    status = exchange.status if exchange.status is not None else f"no response: {exchange.fault}"
    status_class = "status-err" if failed else ""
    summary = (f"<summary>{number}. <span class=\"muted\">{e(exchange.phase)}</span> "
               f"<code>{e(exchange.method)} {e(exchange.url)}</code>"
               f' → <span class="{status_class}">{e(status)}</span>'
               f' <span class="muted">{e(round(exchange.elapsed_ms, 3))} ms</span></summary>')
    return (f'<details class="exchange">{summary}'
            f"{_message('Request', exchange.request_headers, exchange.request_body)}"
            f"{_message('Response', exchange.response_headers, exchange.response_body)}"
            "</details>")


def _message(label: str, headers: Mapping[str, str], body: str) -> str:
    return _shown(label, tuple(headers.items()), body)


@functools.lru_cache(maxsize=4096)
def _shown(label: str, headers: tuple[tuple[str, str], ...], body: str) -> str:
    """A request or response as shown. The clauses of a shared set-up batch all show its exchanges,
    so one page shows the same message many times: each is pretty-printed (in pure Python, the
    slowest part of a page) and escaped once per page (to_html empties this cache)."""
    header_text = "".join(f"{k}: {v}\n" for k, v in headers)
    body_text = pretty_body(body)
    content = (header_text + ("\n" if header_text and body_text else "") + body_text) or "(empty)"
    return f'<div class="muted">{e(label)}</div><pre>{e(content)}</pre>'


def pretty_body(body: str) -> str:
    """A body pretty-printed when it parses as JSON, else as it was."""
    try:
        return pretty_json(json.loads(body))
    except (ValueError, TypeError):
        return body
