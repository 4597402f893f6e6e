"""The machine report: header, verdicts and footer in one schema-checked JSON file, loadable again."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from b24_conformance.errors import ContractError
from b24_conformance.paths import schemas_dir
from b24_conformance.report._common import refuse_secrets
from b24_conformance.verdict import Citation, FieldResult, Outcome, RunInfo, RunResult, Verdict

SCHEMA_FILE = "report.schema.json"
_HINT = "it is not a b24-conformance report, or an incompatible version wrote it; re-run to regenerate it"


def to_json(result: RunResult) -> dict[str, Any]:
    """The run as a JSON-ready dict: `{"header": ..., "verdicts": [...], "footer": ...}`."""
    footer: dict[str, Any] = {
        "counts": result.counts(),
        "duration_s": round(result.duration_s, 4),
        "request_count": result.request_count,
        "exit_code": result.exit_code,
    }
    if result.extra:
        footer["extra"] = dict(result.extra)
    return {"header": result.info.to_dict(), "verdicts": [v.to_dict() for v in result.verdicts],
            "footer": footer}


def dumps(result: RunResult, *, secrets: Iterable[str] = ()) -> str:
    """The report as JSON text, readable UTF-8 unless a body holds lone surrogates."""
    data = to_json(result)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes from a portal: keep them, as \u escapes
        text = json.dumps(data, ensure_ascii=True, indent=2, default=str)
    refuse_secrets(text, secrets, report="JSON")
    return text + "\n"


def write_json(result: RunResult, path: Path | str, *, secrets: Iterable[str] = ()) -> Path:
    """Write the report to `path` and return the path."""
    path = Path(path)
    path.write_text(dumps(result, secrets=secrets), encoding="utf-8")
    return path


def load_json(path: Path | str) -> RunResult:
    """Read a report written by `write_json`, schema-check it and rebuild the RunResult."""
    path = Path(path)
    data = _read(path)
    validate(data, source=str(path))
    result = from_json(data)
    _check_consistent(result, data["footer"], source=str(path))
    return result


def validate(data: Any, *, source: str = "<report>") -> None:
    """Raise ContractError naming `source` and the JSON path of the first schema violation."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        raise ContractError(f"{source}: invalid report at {error.json_path}: {error.message}", hint=_HINT)


def from_json(data: Mapping[str, Any]) -> RunResult:
    """Rebuild a RunResult from an already schema-checked report dict."""
    footer = data["footer"]
    return RunResult(
        info=_run_info(data["header"]),
        verdicts=tuple(_verdict(v) for v in data["verdicts"]),
        duration_s=footer["duration_s"],
        request_count=footer["request_count"],
        extra=dict(footer.get("extra", {})),
    )


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads((schemas_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContractError(f"{path}: cannot read report: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ContractError(f"{path}: not UTF-8 at byte {exc.start}", hint=_HINT) from exc
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}",
                            hint=_HINT) from exc


def _run_info(header: Mapping[str, Any]) -> RunInfo:
    return RunInfo(**{**header, "clause_files": tuple(header["clause_files"])})


def _verdict(data: Mapping[str, Any]) -> Verdict:
    return Verdict(
        clause_id=data["clause_id"],
        level=data["level"],
        title=data["title"],
        outcome=Outcome(data["outcome"]),
        profile=data["profile"],
        citation=Citation(**data["citation"]),
        fields=tuple(FieldResult(**f) for f in data["fields"]),
        reason=data["reason"],
        matched_profile=data["matched_profile"],
        reproduction=data["reproduction"],
        exchanges=tuple(dict(e) for e in data["exchanges"]),
        duration_s=data["duration_s"],
    )


def _check_consistent(result: RunResult, footer: Mapping[str, Any], *, source: str) -> None:
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
