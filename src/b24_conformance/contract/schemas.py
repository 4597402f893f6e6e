"""The JSON Schemas under `schemas/` as a `referencing` registry, with cached 2020-12 validators by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .. import paths
from ..errors import ContractError

SUFFIX = ".schema.json"
ID_BASE = "https://b24-conformance.dev/schemas/"


def schema_id(name: str) -> str:
    """The `$id` of the schema called `name` ("success-true", "request/catalog.document.cancel")."""
    return f"{ID_BASE}{name}{SUFFIX}"


def iter_schema_files(root: Path | None = None) -> Iterator[tuple[str, Path]]:
    """(name, path) of every `*.schema.json` under `root`, sorted; the name is the path minus the suffix."""
    root = paths.schemas_dir() if root is None else root
    for path in sorted(root.rglob(f"*{SUFFIX}")):
        yield path.relative_to(root).as_posix()[: -len(SUFFIX)], path


@lru_cache(maxsize=1)
def load_all() -> dict[str, dict[str, Any]]:
    """Every schema document by name, parsed once."""
    out: dict[str, dict[str, Any]] = {}
    for name, path in iter_schema_files():
        try:
            out[name] = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ContractError(f"{path}: not valid JSON: {exc}") from exc
    return out


@lru_cache(maxsize=1)
def registry() -> Registry:
    """All schemas, registered under their `$id`s (and under the conventional id of their name)."""
    pairs: list[tuple[str, Resource[Any]]] = []
    for name, contents in load_all().items():
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        uris = {contents.get("$id") or schema_id(name), schema_id(name)}
        pairs.extend((uri, resource) for uri in uris)
    return Registry().with_resources(pairs).crawl()


def schema(name: str) -> dict[str, Any]:
    """The raw schema document called `name`; `ContractError` when there is none."""
    try:
        return load_all()[name]
    except KeyError:
        known = ", ".join(sorted(load_all()))
        raise ContractError(f"no schema named {name!r} under {paths.schemas_dir()} (known: {known})") from None


def refs(node: Any) -> list[str]:
    """Every `$ref` string in a schema (or OpenAPI) document, depth first."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in refs(item)]
    return []


@cache
def validator(name: str) -> Draft202012Validator:
    """A 2020-12 validator for schema `name`, resolving `$ref`s through the registry; formats are checked too."""
    return Draft202012Validator(
        schema(name), registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _location(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(name: str, instance: Any) -> list[str]:
    """Messages for every way `instance` breaks schema `name`, each prefixed with its JSON path; [] when valid."""
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{_location(e.absolute_path)}: {e.message}" for e in errors]


def is_valid(name: str, instance: Any) -> bool:
    return validator(name).is_valid(instance)


def clear_cache() -> None:
    """Forget loaded schemas (tests that point B24_CONFORMANCE_DATA elsewhere)."""
    validator.cache_clear()
    registry.cache_clear()
    load_all.cache_clear()
