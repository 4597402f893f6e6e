"""The report stream: one JSON object per line, written as verdicts arrive (bowtie's reporter).

`report.jsonl` starts with `{"header": ...}`, has one `{"verdict": ...}` line per clause as soon
as it is graded, and ends with `{"footer": ...}`. A run that crashes or is killed still leaves a
readable stream; `read_stream` rebuilds it as a RunResult with `complete=False`. Every other view
(report.json, JUnit, HTML, the terminal table, diff) is rendered from the stream. Each line is
checked against `schemas/report.schema.json#/$defs/line` on reading and for secrets on writing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from b24_conformance.errors import ContractError, UsageError
from b24_conformance.report._common import refuse_secrets
from b24_conformance.report.jsonreport import check_consistent, footer_of, json_text, validate
from b24_conformance.verdict import RunInfo, RunResult, Verdict

STREAM_FILE = "report.jsonl"
_HINT = "it is not a b24-conformance report stream; re-run to regenerate it"


class ReportStream:
    """A run handler that appends each event to `report.jsonl`. The folder is checked when the
    stream is made, before anything runs, so an unwritable folder costs no results; the file itself
    is replaced only when the run starts."""

    def __init__(self, directory: Path, *, secrets: Iterable[str] = ()) -> None:
        self.path = Path(directory) / STREAM_FILE
        self.secrets = tuple(secrets)
        self._file: IO[str] | None = None
        self._check()

    def _check(self) -> None:
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".b24c-probe-"):
                pass
            if self.path.is_dir():
                raise IsADirectoryError(self.path)
        except IsADirectoryError:
            raise UsageError(f"--reports {directory}: {STREAM_FILE} there is a folder",
                             hint="remove it, or name another folder") from None
        except (FileExistsError, NotADirectoryError):
            raise UsageError(f"--reports {directory}: not a folder (a file of that name is in the way)",
                             hint="name a folder, or remove the file") from None
        except OSError as exc:
            raise UsageError(f"--reports {directory}: cannot write there: {exc.strerror or exc}",
                             hint="name a folder you can write to") from None

    def start(self, info: RunInfo) -> None:
        self._file = self.path.open("w", encoding="utf-8")
        self._write({"header": info.to_dict()})

    def verdict(self, verdict: Verdict, index: int, total: int) -> None:
        self._write({"verdict": verdict.to_dict()})

    def finish(self, result: RunResult) -> None:
        self._write({"footer": footer_of(result)})
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, line: dict[str, Any]) -> None:
        assert self._file is not None, "the stream is closed"
        text = json_text(line)
        refuse_secrets(text, self.secrets, report="stream")
        self._file.write(text + "\n")
        self._file.flush()


def read_stream(path: Path | str, *, check: bool = True) -> RunResult:
    """The run a stream records; a stream without a footer is a partial run (`complete=False`).

    `check=False` skips the schema check of each line: for a stream this process has just written
    itself (every line was built from typed verdicts), where the check would only cost time.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ContractError(f"{path}: cannot read report stream: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ContractError(f"{path}: not UTF-8 at byte {exc.start}", hint=_HINT) from None
    header: RunInfo | None = None
    verdicts: list[Verdict] = []
    footer: dict[str, Any] | None = None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        if footer is not None:
            raise ContractError(f"{where}: a line after the footer", hint=_HINT)
        try:
            line = json.loads(text)
        except json.JSONDecodeError as exc:
            if number == len(lines):  # a line cut short by a kill: the run is partial, the rest is good
                break
            raise ContractError(f"{where}: not JSON: {exc.msg}", hint=_HINT) from None
        if check:
            validate(line, source=where, ref="#/$defs/line")
        if "header" in line:
            if header is not None:
                raise ContractError(f"{where}: a second header", hint=_HINT)
            header = RunInfo.from_dict(line["header"])
        elif header is None:
            raise ContractError(f"{where}: the stream does not start with its header", hint=_HINT)
        elif "verdict" in line:
            verdicts.append(Verdict.from_dict(line["verdict"]))
        else:
            footer = line["footer"]
    if header is None:
        raise ContractError(f"{path}: an empty report stream (no header)", hint=_HINT)
    if footer is None:
        return RunResult(info=header, verdicts=tuple(verdicts), complete=False,
                         duration_s=sum(v.duration_s for v in verdicts), request_count=sum(
                             len(v.exchanges) for v in verdicts))
    result = RunResult(info=header, verdicts=tuple(verdicts), duration_s=footer["duration_s"],
                       request_count=footer["request_count"], complete=footer["complete"])
    check_consistent(result, footer, source=str(path))
    return result
