"""The message profiles (suites/profiles/*.yaml): shape, completeness and citations.

The key catalogue is parsed from suites/profiles/README.md, so the README stays the single list.
The citation check reads the doc pages and notes shipped in suites/sources/ (`paths.sources_dir()`);
it never depends on anything outside the checkout or the install.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from b24_conformance import paths
from b24_conformance.contract.profile import PLACEHOLDER, available_profiles, load_profile

PROFILES_DIR = paths.profiles_dir()
README = PROFILES_DIR / "README.md"
META_SCHEMA = paths.schemas_dir() / "meta" / "profile.schema.json"
PROFILE_NAMES = available_profiles(PROFILES_DIR)

SEED_PAGE = "reference/seed/000_1a6e62f1191e38a8.txt"
SEED_CANCEL_STRINGS = {
    "cancel.no-rights": "Insufficient permissions to save the document",
    "cancel.no-store-rights": (
        "Unable to complete the action as you do not have sufficient permissions to view and select inventories"
    ),
    "cancel.not-conducted": "Error canceling document execution: Document is not yet executed",
}


# --- helpers ---------------------------------------------------------------------------------------


@cache
def catalogue() -> dict[str, frozenset[str]]:
    """key -> the placeholders README.md allows for it, from the "Message keys" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Message keys", 1)[1]
    keys: dict[str, frozenset[str]] = {}
    for line in section.splitlines():
        m = re.match(r"^\|\s*`([a-z][a-z-]*\.[a-z][a-z-]*)`\s*\|(.*)\|(.*)\|\s*$", line)
        if m:
            keys[m.group(1)] = frozenset(re.findall(r"#[A-Z_]+#", m.group(3)))
    return keys


@cache
def readme_placeholders() -> frozenset[str]:
    """The placeholders README.md names in its "Placeholders are Bitrix-style" paragraph."""
    text = README.read_text(encoding="utf-8")
    paragraph = text.split("Placeholders are", 1)[1].split("\n\n", 1)[0]
    return frozenset(re.findall(r"#[A-Z_]+#", paragraph))


@cache
def raw(name: str) -> dict:
    return yaml.safe_load((PROFILES_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


@cache
def meta_schema() -> dict:
    return json.loads(META_SCHEMA.read_text(encoding="utf-8"))


def needs_shared() -> Path:
    """The shipped sources; their absence is a failure, not a skip."""
    shared = paths.sources_dir()
    assert (shared / "reference").is_dir(), f"the cited sources are missing from {shared}"
    return shared


def squash(text: str) -> str:
    """Collapse runs of whitespace; nothing else is normalised."""
    return " ".join(text.split())


@cache
def source_text(path: str) -> str:
    return squash(Path(path).read_text(encoding="utf-8"))


def cited_whole(needle: str, haystack: str) -> bool:
    """`needle` occurs in `haystack` as a whole string: not glued to a letter or digit on either side,
    and not followed by a sentence end (so a dropped final full stop or "!" is caught)."""
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before = haystack[start - 1] if start else " "
        after = haystack[end] if end < len(haystack) else " "
        if not before.isalnum() and not after.isalnum() and after not in ".!?":
            return True
        start = haystack.find(needle, start + 1)
    return False


def own_messages() -> list[tuple[str, str]]:
    """(profile, key) for every message a profile file states itself (not inherited)."""
    return [(name, key) for name in PROFILE_NAMES for key in raw(name)["messages"]]


OWN = own_messages()
CITED = [(p, k) for p, k in OWN if raw(p)["messages"][k].get("source") != "choice"]


# --- the README and the meta-schema ---------------------------------------------------------------


def test_readme_catalogue_parses():
    keys = catalogue()
    assert len(keys) > 50, "the README key table was not found or changed shape"
    assert "cancel.not-conducted" in keys and "system.batch-method-not-allowed" in keys
    assert keys["delete-list.conducted"] == {"#TITLE#", "#ID#"}
    assert {"#TITLE#", "#ID#", "#ERROR#", "#PARAM#", "#VALUE#", "#TYPE#"} <= readme_placeholders()


def test_the_five_profiles_exist():
    assert {"seed", "docs-en", "docs-ru", "server-en", "server-ru"} <= set(PROFILE_NAMES)


def test_meta_schema_is_a_valid_2020_12_schema():
    schema = meta_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_profile_validates_against_meta_schema(name):
    validator = Draft202012Validator(meta_schema())
    errors = sorted(validator.iter_errors(raw(name)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "title": "t", "messages": {"a.b": {"text": "t", "source": "s", "http": 99}}},
        {"name": "x", "title": "t", "messages": {"a.b": {"text": "t", "source": "s", "error": 1.5}}},
        {"name": "x", "title": "t", "messages": {"a.b": {"text": "t", "source": "choice"}}},
        {"name": "x", "title": "t", "messages": {"a.b": {"text": "t", "source": "s", "colour": "red"}}},
        {"name": "x", "title": "t", "messages": {"a.b": {"source": "s"}}},
        {"name": "x", "title": "t", "sources": {"s": {"path": "f"}}, "messages": {"a.b": {"text": "t", "source": "s"}}},
        {"name": "x", "messages": {"a.b": {"text": "t", "source": "s"}}},
    ],
    ids=["http-range", "error-type", "choice-without-note", "unknown-field", "no-text", "source-shape", "no-title"],
)
def test_meta_schema_rejects(bad):
    assert not Draft202012Validator(meta_schema()).is_valid(bad)


def test_profile_header_points_at_the_meta_schema():
    for name in PROFILE_NAMES:
        first = (PROFILES_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../schemas/meta/profile.schema.json", name


# --- structure and completeness -------------------------------------------------------------------


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_name_matches_file_and_extends_exists(name):
    data = raw(name)
    assert data["name"] == name
    if "extends" in data:
        assert data["extends"] in PROFILE_NAMES


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_profile_resolves_every_catalogue_key(name):
    profile = load_profile(name, PROFILES_DIR)
    missing = sorted(set(catalogue()) - set(profile.messages))
    assert not missing, f"{name} lacks {missing}"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_profile_has_no_key_outside_the_catalogue(name):
    unknown = sorted(set(raw(name)["messages"]) - set(catalogue()))
    assert not unknown, f"{name}: keys not in README.md: {unknown} (a typo, or add them to the README)"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_every_source_is_declared_or_choice(name):
    profile = load_profile(name, PROFILES_DIR)
    for key, msg in profile.messages.items():
        assert msg.source == "choice" or msg.source in profile.sources, (
            f"{name}:{key} cites {msg.source!r}, which is not in its (inherited) sources"
        )
        if msg.source == "choice":
            assert msg.note, f"{name}:{key} is a choice without a note"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_inherited_source_names_keep_their_file(name):
    """A profile may not re-point an inherited source name: inherited messages would cite the wrong file."""
    data = raw(name)
    if "extends" not in data:
        return
    parent = load_profile(data["extends"], PROFILES_DIR)
    for src_name, src in (data.get("sources") or {}).items():
        if src_name in parent.sources:
            assert src["file"] == parent.sources[src_name].file, f"{name} re-points source {src_name!r}"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_placeholders_are_the_readme_ones_for_each_key(name):
    profile = load_profile(name, PROFILES_DIR)
    allowed_anywhere = readme_placeholders()
    for key, msg in profile.messages.items():
        used = {f"#{p}#" for p in PLACEHOLDER.findall(msg.text)}
        assert used <= allowed_anywhere, f"{name}:{key} uses {sorted(used - allowed_anywhere)}"
        assert used <= catalogue().get(key, frozenset()), (
            f"{name}:{key} uses {sorted(used - catalogue()[key])}; README allows {sorted(catalogue()[key])}"
        )


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_rendered_messages_match_their_pattern(name):
    profile = load_profile(name, PROFILES_DIR)
    values = {"title": "Receipt 35", "id": 143, "error": "Supplier not specified", "param": "id",
              "value": "abc", "type": "int", "product": 6907, "name": "Monster Energy"}
    for key, msg in profile.messages.items():
        rendered = msg.render(**values)
        assert not PLACEHOLDER.search(rendered), f"{name}:{key} left a placeholder: {rendered!r}"
        assert msg.pattern().match(rendered), f"{name}:{key}"


# --- citations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), CITED, ids=[f"{p}:{k}" for p, k in CITED])
def test_citation_is_verbatim_in_its_source(name, key):
    """The `quote` (or the `text` when there is no quote) appears in the cited file, byte for byte
    up to runs of whitespace."""
    shared = needs_shared()
    profile = load_profile(name, PROFILES_DIR)
    msg = profile.messages[key]
    src = profile.sources[msg.source]
    assert src.file, f"source {msg.source!r} of {name} names no file"
    path = shared / src.file
    assert path.is_file(), f"{name}:{key}: {path} does not exist"
    needle = squash(msg.quote if msg.quote is not None else msg.text)
    assert needle, f"{name}:{key}: empty citation"
    haystack = source_text(str(path))
    assert needle in haystack, f"{name}:{key}: {needle!r} is not in {src.file}"
    assert cited_whole(needle, haystack), f"{name}:{key}: {needle!r} is only part of a longer string in {src.file}"


def test_quotes_are_used_only_when_text_is_not_verbatim():
    """A `quote` equal to `text` is noise; a text without placeholders normally needs no quote
    (composed server messages are the exception and say so in `note`)."""
    for name, key in OWN:
        entry = raw(name)["messages"][key]
        if "quote" in entry:
            assert entry["quote"] != entry["text"], f"{name}:{key}: quote equals text"
            if not PLACEHOLDER.search(entry["text"]):
                assert entry.get("note"), f"{name}:{key}: a quote for a placeholder-free text needs a note"


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_every_source_file_exists(name):
    shared = needs_shared()
    for src_name, src in load_profile(name, PROFILES_DIR).sources.items():
        assert src.file and (shared / src.file).is_file(), f"{name}: source {src_name} -> {src.file}"


# --- the seed profile -----------------------------------------------------------------------------


def test_seed_cancel_strings_are_the_seed_page_strings():
    seed = load_profile("seed", PROFILES_DIR)
    for key, expected in SEED_CANCEL_STRINGS.items():
        assert seed.message(key).text == expected, key
        assert seed.message(key).source == "seed-cancel"
    assert seed.sources["seed-cancel"].file == SEED_PAGE
    assert seed.sources["seed-cancel"].revision == "8b3ef819"


def test_seed_cancel_strings_match_the_seed_page_table():
    shared = needs_shared()
    page = (shared / SEED_PAGE).read_text(encoding="utf-8")
    rows = re.findall(r"^\|\| `0` \| (.+?) \| .+\|\|$", page, flags=re.MULTILINE)
    assert rows == list(SEED_CANCEL_STRINGS.values())
    sample = re.search(r'"error_description": "([^"]*)"', page).group(1)
    assert sample == SEED_CANCEL_STRINGS["cancel.not-conducted"]


def test_seed_overrides_only_the_cancel_keys_and_inherits_the_rest():
    seed, docs_en = load_profile("seed", PROFILES_DIR), load_profile("docs-en", PROFILES_DIR)
    own = set(raw("seed")["messages"])
    assert own <= {"cancel.no-rights", "cancel.not-found", "cancel.no-store-rights", "cancel.not-conducted"}
    assert seed.message("cancel.plan") == docs_en.message("cancel.plan")  # the seed page has no plan error
    for key in set(docs_en.messages) - own:
        assert seed.messages[key] == docs_en.messages[key]
