"""Every inventory-document page's own examples, EN and RU, meet the schemas (schemas/doc-examples.yaml).

Requests: the body of each cURL example (`-d '{...}'`, the webhook and the OAuth form) against
`request/<method>`, the method read from the example's URL. Responses: the page's ```json blocks in order
against the manifest's `responses`. A page whose example contradicts its own text is a listed discrepancy;
each is asserted to still hold, so a fix of the docs (or a schema drifting from what the entry says) is seen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from b24_conformance import paths
from b24_conformance.contract import schemas

MANIFEST_PATH = paths.schemas_dir() / "doc-examples.yaml"
MANIFEST: dict[str, Any] = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
FAMILY_DIR = "api-reference/catalog/document"
LANGS = tuple(MANIFEST["snapshots"])
PAGES: list[dict[str, Any]] = MANIFEST["pages"]
DISCREPANCIES: list[dict[str, Any]] = MANIFEST["discrepancies"]

_CURL = re.compile(r"-d\s+'(?P<body>[^']*)'\s*\\?\s*\n\s*(?P<url>\S+)")
_JSON_BLOCK = re.compile(r"```json[^\n]*\n(.*?)\n[ \t]*```", re.DOTALL)
_COMMENT = re.compile(r"^\s*//")


def _path(lang: str, page: str) -> Path:
    return paths.sources_dir() / "reference" / MANIFEST["snapshots"][lang]["root"] / FAMILY_DIR / page


def _text(lang: str, page: str) -> str:
    path = _path(lang, page)
    assert path.is_file(), f"{path} is missing from suites/sources/reference"
    return path.read_text(encoding="utf-8")


def curl_examples(text: str) -> list[tuple[str, Any]]:
    """(method named by the URL, parsed body) of every cURL example with a `-d` body."""
    return [(match["url"].rsplit("/", 1)[-1], json.loads(match["body"])) for match in _CURL.finditer(text)]


def json_blocks(text: str) -> list[tuple[str, Any]]:
    """(raw text, parsed value or the JSONDecodeError) of every ```json block; `//` lines are dropped."""
    out: list[tuple[str, Any]] = []
    for raw in _JSON_BLOCK.findall(text):
        cleaned = "\n".join(line for line in raw.splitlines() if not _COMMENT.match(line))
        try:
            out.append((raw, json.loads(cleaned)))
        except json.JSONDecodeError as exc:
            out.append((raw, exc))
    return out


def _discrepancies(page: str, lang: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [entry for entry in DISCREPANCIES
            if entry["page"] == page and lang in entry["langs"] and (kind is None or entry["kind"] == kind)]


def _pointer(document: Any, pointer: str) -> tuple[Any, Any]:
    """(parent container, key) of a JSON pointer, so the value can be read and replaced."""
    parts = [int(part) if part.isdigit() else part for part in pointer.lstrip("/").split("/")]
    node = document
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


CASES = [pytest.param(entry, lang, id=f"{entry['method']}[{lang}]") for entry in PAGES for lang in LANGS]


# ---------------------------------------------------------------- the manifest itself

def test_manifest_lists_every_page_of_the_family() -> None:
    """A page added to the docs (or dropped from the copy) must show up here."""
    listed = {entry["page"] for entry in PAGES}
    for lang in LANGS:
        root = _path(lang, "")
        found = {path.relative_to(root).as_posix() for path in root.rglob("*.md") if path.name != "index.md"}
        assert found == listed, f"{lang}: pages not in doc-examples.yaml {sorted(found - listed)}, " \
                                f"listed but absent {sorted(listed - found)}"


def test_every_method_has_a_request_and_a_result_schema() -> None:
    known = schemas.load_all()
    for entry in PAGES:
        assert f"request/{entry['method']}" in known, entry["method"]
        assert f"result/{entry['method']}" in known, entry["method"]
        assert entry["responses"][0] == f"result/{entry['method']}", "the success sample comes first"


def test_discrepancies_are_well_formed() -> None:
    pages = {entry["page"]: entry for entry in PAGES}
    for entry in DISCREPANCIES:
        assert entry["page"] in pages, entry
        assert set(entry["langs"]) <= set(LANGS) and entry["langs"], entry
        assert entry["kind"] in {"not-json", "comment", "type", "null"}, entry
        assert len(entry["reason"]) > 20, entry
        responses = pages[entry["page"]]["responses"]
        assert 0 <= entry["block"] < len(responses), entry
        assert (responses[entry["block"]] is None) == (entry["kind"] == "not-json"), (
            f"{entry['page']}: a not-json block has null in `responses`, and only such a block")


# ---------------------------------------------------------------- requests

@pytest.mark.parametrize(("entry", "lang"), CASES)
def test_request_examples_validate(entry: dict[str, Any], lang: str) -> None:
    examples = curl_examples(_text(lang, entry["page"]))
    assert len(examples) >= 2, f"{entry['page']} [{lang}]: expected the webhook and the OAuth cURL examples"
    for method, body in examples:
        assert method == entry["method"], f"{entry['page']} [{lang}]: a cURL example calls {method}"
        assert schemas.validate(f"request/{method}", body) == [], f"{entry['page']} [{lang}]: {body}"
    assert any("auth" in body for _, body in examples), "the OAuth example carries `auth` in the body"
    assert any("auth" not in body for _, body in examples), "the webhook example carries no `auth`"


# ---------------------------------------------------------------- responses

@pytest.mark.parametrize(("entry", "lang"), CASES)
def test_response_examples_validate(entry: dict[str, Any], lang: str) -> None:
    page = entry["page"]
    blocks = json_blocks(_text(lang, page))
    assert len(blocks) == len(entry["responses"]), f"{page} [{lang}]: {len(blocks)} json blocks"
    commented = {entry_["block"] for entry_ in _discrepancies(page, lang, "comment")}
    for index, ((raw, value), name) in enumerate(zip(blocks, entry["responses"], strict=True)):
        where = f"{page} [{lang}] block {index}"
        has_comment = any(_COMMENT.match(line) for line in raw.splitlines())
        assert has_comment == (index in commented), f"{where}: a `//` line must be listed as a discrepancy"
        if name is None:
            assert isinstance(value, json.JSONDecodeError), f"{where} parses now: give it a schema in the manifest"
            assert _discrepancies(page, lang, "not-json"), f"{where}: not JSON but not listed"
            continue
        assert not isinstance(value, json.JSONDecodeError), f"{where}: {value}"
        assert schemas.validate(name, value) == [], f"{where} against {name}"
        if name == "error":
            assert schemas.validate(entry["responses"][0], value) != [], f"{where}: an error is not a success"
        else:
            assert schemas.validate("error", value) != [], f"{where}: a success is not an error"


def _discrepancy_cases(kind: str) -> list[Any]:
    return [pytest.param(entry, lang, id=f"{entry['page'].rsplit('/', 1)[-1]}[{lang}]")
            for entry in DISCREPANCIES if entry["kind"] == kind for lang in entry["langs"]]


def _example(entry: dict[str, Any], lang: str) -> tuple[str, Any]:
    _raw, value = json_blocks(_text(lang, entry["page"]))[entry["block"]]
    assert not isinstance(value, json.JSONDecodeError)
    page = next(item for item in PAGES if item["page"] == entry["page"])
    return page["responses"][entry["block"]], value


@pytest.mark.parametrize(("entry", "lang"), _discrepancy_cases("type"))
def test_type_discrepancies_still_hold(entry: dict[str, Any], lang: str) -> None:
    """The page's table names one type, its sample shows another; the schema takes the side the entry says."""
    assert entry["follows"] == "example"
    text = _text(lang, entry["page"])
    field = entry["pointer"].rsplit("/", 1)[-1]
    assert re.search(rf"\*\*{re.escape(field)}\*\*\s*\n\[`{re.escape(entry['table_type'])}`\]", text), (
        f"{entry['page']} [{lang}]: the table no longer types {field} as {entry['table_type']}")
    name, example = _example(entry, lang)
    parent, key = _pointer(example, entry["pointer"])
    assert not isinstance(parent[key], type(entry["table_sample"])), "the sample now matches the table"
    assert schemas.validate(name, example) == []
    parent[key] = entry["table_sample"]
    assert schemas.validate(name, example) != [], f"{name} accepts the table's type too: update the entry"


@pytest.mark.parametrize(("entry", "lang"), _discrepancy_cases("null"))
def test_null_discrepancies_still_hold(entry: dict[str, Any], lang: str) -> None:
    name, example = _example(entry, lang)
    for pointer in entry["pointers"]:
        parent, key = _pointer(example, pointer)
        assert parent[key] is None, f"{entry['page']} [{lang}] {pointer} is no longer null: drop it from the entry"
    assert schemas.validate(name, example) == []


@pytest.mark.parametrize(("entry", "lang"), _discrepancy_cases("comment"))
def test_comment_discrepancies_still_hold(entry: dict[str, Any], lang: str) -> None:
    raw, value = json_blocks(_text(lang, entry["page"]))[entry["block"]]
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert not isinstance(value, json.JSONDecodeError), "without the comment line the block is JSON"
