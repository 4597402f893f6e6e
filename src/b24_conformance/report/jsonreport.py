"""The machine report: header, verdicts and footer in one schema-checked JSON file, loadable again.

`report.json` is a view of the run's stream (`report/stream.py`): the same header, verdict and
footer objects, gathered into one document. `load_report` reads either form.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from b24_conformance.errors import ContractError
from b24_conformance.paths import schemas_dir
from b24_conformance.report._common import pretty_json, refuse_secrets
from b24_conformance.verdict import RunInfo, RunResult, Verdict

SCHEMA_FILE = "report.schema.json"
_HINT = "it is not a b24-conformance report, or an incompatible version wrote it; re-run to regenerate it"


def footer_of(result: RunResult) -> dict[str, Any]:
    """The footer object: counts, duration, requests, exit code, and whether the run completed."""
    return {
        "complete": result.complete,
        "counts": result.counts(),
        "duration_s": round(result.duration_s, 4),
        "request_count": result.request_count,
        "exit_code": result.exit_code,
    }


def to_json(result: RunResult) -> dict[str, Any]:
    """The run as a JSON-ready dict: `{"header": ..., "verdicts": [...], "footer": ...}`."""
    return {"header": result.info.to_dict(), "verdicts": [v.to_dict() for v in result.verdicts],
            "footer": footer_of(result)}


def json_text(data: Any, *, indent: int | None = None) -> str:
    """JSON text, readable UTF-8 unless a body holds lone surrogates (then kept as \\u escapes)."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes from a portal: keep them, as \u escapes
        text = json.dumps(data, ensure_ascii=True, indent=indent, default=str)
    return text


def dumps(result: RunResult, *, secrets: Iterable[str] = ()) -> str:
    """The report as JSON text (`json_text(..., indent=2)`)."""
    data = to_json(result)
    text = pretty_json(data, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: as json_text writes them
        text = json_text(data, indent=2)
    refuse_secrets(text, secrets, report="JSON")
    return text + "\n"


def write_json(result: RunResult, path: Path | str, *, secrets: Iterable[str] = ()) -> Path:
    """Write the report to `path` and return the path."""
    path = Path(path)
    path.write_text(dumps(result, secrets=secrets), encoding="utf-8")
    return path


def load_report(path: Path | str) -> RunResult:
    """A run from `report.json` or from its stream `report.jsonl` (possibly partial), schema-checked."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.jsonl" if (path / "report.jsonl").is_file() else path / "report.json"
    if path.suffix == ".jsonl":
        from b24_conformance.report.stream import read_stream
        return read_stream(path)
    return load_json(path)


def load_json(path: Path | str) -> RunResult:
    """Read a report written by `write_json`, schema-check it and rebuild the RunResult."""
    path = Path(path)
    data = read_json(path)
    validate(data, source=str(path))
    result = from_json(data)
    check_consistent(result, data["footer"], source=str(path))
    return result


def validate(data: Any, *, source: str = "<report>", ref: str = "") -> None:
    """Raise ContractError naming `source` and the JSON path of the first schema violation."""
    error = jsonschema.exceptions.best_match(_validator(ref).iter_errors(data))
    if error is not None:
        raise ContractError(f"{source}: invalid report at {error.json_path}: {error.message}", hint=_HINT)


def from_json(data: Mapping[str, Any]) -> RunResult:
    """Rebuild a RunResult from an already schema-checked report dict."""
    footer = data["footer"]
    return RunResult(
        info=RunInfo.from_dict(data["header"]),
        verdicts=tuple(Verdict.from_dict(v) for v in data["verdicts"]),
        duration_s=footer["duration_s"],
        request_count=footer["request_count"],
        complete=footer["complete"],
    )


@functools.cache
def _validator(ref: str = "") -> jsonschema.protocols.Validator:
    """The report schema's validator; with `ref`, for one of its definitions (e.g. `#/$defs/line`)."""
    schema = json.loads((schemas_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    if ref:
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": ref}
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContractError(f"{path}: cannot read report: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ContractError(f"{path}: not UTF-8 at byte {exc.start}", hint=_HINT) from exc
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}",
                            hint=_HINT) from exc


def check_consistent(result: RunResult, footer: Mapping[str, Any], *, source: str) -> None:
    """What the schema cannot say: clause ids are unique and the footer agrees with the verdicts."""
    seen: set[str] = set()
    for index, verdict in enumerate(result.verdicts):
        if verdict.clause_id in seen:
            raise ContractError(f"{source}: invalid report at $.verdicts[{index}].clause_id: "
                                f"duplicate clause {verdict.clause_id!r}", hint=_HINT)
        seen.add(verdict.clause_id)
    if footer["counts"] != result.counts():
        raise ContractError(f"{source}: invalid report at $.footer.counts: {footer['counts']} "
                            f"disagrees with the verdicts {result.counts()}", hint=_HINT)
    if footer["exit_code"] != result.exit_code:
        raise ContractError(f"{source}: invalid report at $.footer.exit_code: {footer['exit_code']} "
                            f"disagrees with the verdicts ({result.exit_code})", hint=_HINT)
