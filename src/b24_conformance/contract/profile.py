"""Message profiles: one data file per source of expected error strings.

A profile maps a message key (`cancel.not-conducted`) to the HTTP status, the `error` code and the
`error_description` text that source says a portal returns. The reference portal speaks one
profile; the suite grades observations against the selected one and recognises the others.
Texts may hold Bitrix-style placeholders, `#TITLE#`, `#ID#`, `#ERROR#`, `#PARAM#`, `#VALUE#` and
`#TYPE#`, which `Message.render` fills in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .. import _yaml, paths
from ..errors import ContractError, UnknownProfileKey

PLACEHOLDER = re.compile(r"#([A-Z_]+)#")


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a profile's strings were read: a file under `shared/`, and its revision."""

    name: str
    file: str | None = None
    revision: str | None = None
    date: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    key: str
    http: int
    error: str | int
    text: str
    source: str
    quote: str | None = None
    note: str | None = None

    def render(self, **params: Any) -> str:
        """The text with its `#NAME#` placeholders filled from `params` (missing ones stay)."""

        def fill(match: re.Match[str]) -> str:
            value = params.get(match.group(1).lower())
            return match.group(0) if value is None else str(value)

        return PLACEHOLDER.sub(fill, self.text)

    def pattern(self) -> re.Pattern[str]:
        """A regex that matches any rendering of this message (placeholders match anything)."""
        parts = PLACEHOLDER.split(self.text)
        regex = "".join(re.escape(p) if i % 2 == 0 else ".*?" for i, p in enumerate(parts))
        return re.compile(rf"\A{regex}\Z", re.DOTALL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    name: str
    title: str
    messages: Mapping[str, Message]
    sources: Mapping[str, Source] = field(default_factory=dict)
    extends: str | None = None

    def message(self, key: str) -> Message:
        try:
            return self.messages[key]
        except KeyError:
            raise UnknownProfileKey(self.name, key, hint=f"add {key!r} to suites/profiles/") from None

    def render(self, key: str, **params: Any) -> tuple[int, str | int, str]:
        """(HTTP status, error code, error_description) for `key`."""
        msg = self.message(key)
        return msg.http, msg.error, msg.render(**params)


def available_profiles(directory: Path | None = None) -> list[str]:
    directory = directory or paths.profiles_dir()
    return sorted(p.stem for p in directory.glob("*.yaml"))


@lru_cache(maxsize=32)
def _load_cached(name: str, directory: str) -> Profile:
    return _load(name, Path(directory), seen=())


def load_profile(name: str, directory: Path | None = None) -> Profile:
    """Load profile `name`, with the keys of the profile it `extends` filled in beneath its own."""
    directory = directory or paths.profiles_dir()
    return _load_cached(name, str(directory))


def load_all_profiles(directory: Path | None = None) -> dict[str, Profile]:
    return {name: load_profile(name, directory) for name in available_profiles(directory)}


def _load(name: str, directory: Path, seen: tuple[str, ...]) -> Profile:
    path = directory / f"{name}.yaml"
    if not path.is_file():
        import difflib

        from ..errors import UsageError

        known = available_profiles(directory)
        close = difflib.get_close_matches(name, known, n=1)
        raise UsageError(
            f"unknown profile {name!r}; known: {', '.join(known)}",
            hint=f"did you mean {close[0]!r}?" if close else None,
        )
    if name in seen:
        raise ContractError(f"profile cycle: {' -> '.join((*seen, name))}")
    try:
        raw = _yaml.load_file(path)
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("messages"), dict):
        raise ContractError(f"{path}: a profile needs a `messages` mapping")
    parent_name = raw.get("extends")
    inherited: dict[str, Message] = {}
    sources: dict[str, Source] = {}
    if parent_name:
        parent = _load(parent_name, directory, (*seen, name))
        inherited = dict(parent.messages)
        sources = dict(parent.sources)
    for src_name, src in (raw.get("sources") or {}).items():
        sources[src_name] = Source(name=src_name, **(src or {}))
    own: dict[str, Message] = {}
    for key, entry in raw["messages"].items():
        if not isinstance(entry, dict) or "text" not in entry:
            raise ContractError(f"{path}: message {key!r} needs at least `text`")
        base = inherited.get(key)
        own[key] = Message(
            key=key,
            http=int(entry.get("http", base.http if base else 400)),
            error=entry.get("error", base.error if base else "0"),
            text=str(entry["text"]),
            source=str(entry.get("source", "")),
            quote=entry.get("quote"),
            note=entry.get("note"),
        )
    return Profile(
        name=name,
        title=str(raw.get("title", name)),
        messages={**inherited, **own},
        sources=sources,
        extends=parent_name,
    )
