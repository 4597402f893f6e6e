"""Where the data lives: schemas, clauses, profiles, target configs, cited sources and cassettes.

In a source checkout (the usual case, installed with `pip install -e`) the data is the top-level
`schemas/` and `suites/` folders. A built wheel carries a copy under `b24_conformance/_data/`.
The environment variable B24_CONFORMANCE_DATA overrides both, for users with their own clause sets.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder that holds `schemas/` and `suites/`."""
    override = os.environ.get("B24_CONFORMANCE_DATA")
    if override:
        return Path(override)
    checkout = _PACKAGE.parent.parent
    if (checkout / "suites" / "profiles").is_dir():
        return checkout
    return _PACKAGE / "_data"


def schemas_dir() -> Path:
    return data_root() / "schemas"


def clauses_dir() -> Path:
    return data_root() / "suites" / "clauses"


def family_file() -> Path:
    """The list of the family's documented pages, one per method (lint's coverage reads it)."""
    return data_root() / "suites" / "family" / "pages.yaml"


def profiles_dir() -> Path:
    return data_root() / "suites" / "profiles"


def targets_dir() -> Path:
    return data_root() / "suites" / "targets"


def sources_dir() -> Path:
    """The cited material, shipped with the data: `reference/` (the doc pages, MIT) and `notes/`."""
    return data_root() / "suites" / "sources"


def cassettes_dir() -> Path:
    return data_root() / "cassettes"


def cache_root() -> Path | None:
    """Where parsed data may be cached between runs (every entry is keyed by the hash of what it was
    made from): `$B24C_CACHE`, else `$XDG_CACHE_HOME/b24-conformance` (`~/.cache/...`).
    `B24C_CACHE=off` turns caching off."""
    override = os.environ.get("B24C_CACHE")
    if override is not None and override.strip().lower() in ("off", "0", "no", "false"):
        return None
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "b24-conformance"
