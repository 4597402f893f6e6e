"""The parse cache (`_cache`): keyed by the text's hash, only what JSON carries exactly, never a
failure; clause files and cassettes read through it behave as if parsed afresh."""

import datetime
import json
import shutil

import pytest

from b24_conformance import _cache, paths
from b24_conformance.contract.clause import load_clause_file
from b24_conformance.errors import ClauseFileInvalid
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.cassette import cassette_target, read_sidecar
from b24_conformance.verdict import Outcome


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("B24C_CACHE", str(root))
    return root


class Counted:
    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self, text):
        self.calls += 1
        return self.value(text) if callable(self.value) else self.value


def test_the_same_text_is_parsed_once_and_another_text_again(cache, tmp_path):
    parse = Counted(lambda text: {"text": text, "n": [1, 2.5, True, None]})
    source = tmp_path / "a.yaml"
    first = _cache.parsed("one", parse, kind="t", salt="s", source=source)
    again = _cache.parsed("one", parse, kind="t", salt="s", source=source)
    assert first == again == {"text": "one", "n": [1, 2.5, True, None]} and parse.calls == 1
    assert _cache.parsed("two", parse, kind="t", salt="s", source=source) == {"text": "two", "n": [1, 2.5, True, None]}
    assert parse.calls == 2
    assert len(list((cache / "t").glob("*.json"))) == 1, "a source keeps only its newest entry"
    _cache.parsed("two", parse, kind="t", salt="another parser", source=source)
    assert parse.calls == 3, "the salt (parser and version) is part of the key"


@pytest.mark.parametrize("value", [(1, 2), {"k": b"bytes"}, {1: "int key"}, datetime.date(2025, 1, 1),
                                   [float("nan")], {"set": {1}}])
def test_what_json_would_change_is_never_kept(cache, tmp_path, value):
    parse = Counted(value)
    for _ in range(2):
        assert _cache.parsed("x", parse, kind="t", salt="s", source=tmp_path / "a") == value
    assert parse.calls == 2
    assert not (cache / "t").exists() or not list((cache / "t").glob("*.json"))


def test_a_failed_parse_keeps_nothing_and_a_broken_entry_is_parsed_again(cache, tmp_path):
    def broken(text):
        raise ValueError("bad")

    for _ in range(2):
        with pytest.raises(ValueError):
            _cache.parsed("x", broken, kind="t", salt="s", source=tmp_path / "a")
    parse = Counted({"ok": 1})
    _cache.parsed("y", parse, kind="t", salt="s", source=tmp_path / "a")
    [entry] = (cache / "t").glob("*.json")
    entry.write_text('{"ok": ', encoding="ascii")  # cut short
    assert _cache.parsed("y", parse, kind="t", salt="s", source=tmp_path / "a") == {"ok": 1}
    assert parse.calls == 2


def test_off_means_off(tmp_path, monkeypatch):
    monkeypatch.setenv("B24C_CACHE", "off")
    parse = Counted({"ok": 1})
    for _ in range(2):
        _cache.parsed("x", parse, kind="t", salt="s", source=tmp_path / "a")
    assert parse.calls == 2


def test_an_edited_clause_file_is_checked_again(cache, tmp_path):
    path = tmp_path / "catalog.document.cancel.yaml"
    shutil.copy(paths.clauses_dir() / "catalog.document.cancel.yaml", path)
    first = load_clause_file(path)
    assert load_clause_file(path) == first
    assert list((cache / "yaml").glob("*.json"))
    path.write_text(path.read_text("utf-8").replace("level: MUST", "level: MAYBE", 1), encoding="utf-8")
    with pytest.raises(ClauseFileInvalid, match="MAYBE"):
        load_clause_file(path)


def test_an_edited_cassette_is_replayed_as_edited(cache, tmp_path):
    """A replay from the cache, then the same cassette with its answer changed: the change is
    what the next replay sees (a FAIL), never the cached parse."""
    folder = tmp_path / "cassettes"
    shutil.copytree(paths.cassettes_dir() / "catalog.document.cancel", folder)
    clause = next(c for c in load_clause_file(paths.clauses_dir() / "catalog.document.cancel.yaml").clauses
                  if c.id == "cancel.draft.rejected")

    def outcome():
        options = RunOptions(cassettes=folder, run_id=read_sidecar(folder)["run_id"], manifest_dir=tmp_path / "m")
        return Runner(cassette_target(folder), options).run([clause]).verdicts[0].outcome

    assert outcome() is Outcome.PASS
    assert outcome() is Outcome.PASS  # from the cache
    assert list((cache / "cassettes").glob("*.json"))
    cassette = folder / "cancel.draft.rejected.yaml"
    text = cassette.read_text("utf-8")
    assert "Document is not yet executed" in text
    cassette.write_text(text.replace("Document is not yet executed", "Document is not executed"), encoding="utf-8")
    assert outcome() is Outcome.FAIL


def test_the_cache_holds_the_loaders_own_result(cache, tmp_path):
    """What an entry holds is what YAML gave: a shipped cassette's entry, read back, equals its parse."""
    from vcr.serializers import yamlserializer

    source = paths.cassettes_dir() / "catalog.document.cancel" / "cancel.draft.rejected.yaml"
    text = source.read_text()
    cached = _cache.parsed(text, yamlserializer.deserialize, kind="t", salt="s", source=source)
    [entry] = (cache / "t").glob("*.json")
    assert json.loads(entry.read_text("ascii")) == cached == yamlserializer.deserialize(text)
