"""Parsed data kept on disk between runs, keyed by the hash of what it was parsed from.

Parsing YAML (clause files, profiles, cassettes), and checking a clause file against its schema,
are a large part of a short run, and give the same result for the same text every time. `parsed`
returns `parse(text)`, or what it returned in an earlier process for the same text, the same
`salt` (which names the parser and its version) and the same `kind`.

What is kept is exactly what `parse` returned, as JSON, and only when JSON gives it back without
loss (str keys; str, int, float, bool, None; lists and dicts); anything else is parsed every
time. A `parse` that raises keeps nothing, so a broken file fails the same way each run. An entry
that cannot be read is parsed again. Entries live under `paths.cache_root()` (`B24C_CACHE=off`
turns it off); each source path keeps only its newest entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

FORMAT = "1"  # bump when what an entry holds changes meaning


def parsed(text: str, parse: Callable[[str], Any], *, kind: str, salt: str, source: Path | str) -> Any:
    """`parse(text)`, from the cache when this text was parsed the same way before."""
    folder = _folder(kind)
    if folder is None:
        return parse(text)
    digest = hashlib.sha256(f"{FORMAT}\0{salt}\0".encode() + text.encode("utf-8", "surrogatepass")).hexdigest()
    where = hashlib.sha256(os.path.abspath(source).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    entry = folder / f"{where}-{digest[:40]}.json"
    try:
        return json.loads(entry.read_bytes())
    except (OSError, ValueError):
        pass
    value = parse(text)
    if json_exact(value):
        _store(entry, json.dumps(value, separators=(",", ":")), stale=f"{where}-*.json")
    return value


def salt(*, files: Iterable[Path] = (), packages: Iterable[str] = ()) -> str:
    """A salt for what a parse depends on besides its text: data files, by their content's hash,
    and code, by `fingerprint`."""
    h = hashlib.sha256()
    for path in files:
        h.update(str(path).encode("utf-8", "surrogatepass") + b"\0" + Path(path).read_bytes() + b"\0")
    return f"{h.hexdigest()[:16]} {fingerprint(tuple(packages))}"


@functools.lru_cache(maxsize=8)
def fingerprint(packages: tuple[str, ...]) -> str:
    """Which code a parse ran: each package's modules by name, size and modification time (an
    upgrade or an edit changes it), hashed. Cheap: one directory listing per package."""
    import importlib.util

    h = hashlib.sha256()
    for name in packages:
        spec = importlib.util.find_spec(name)
        locations = list(spec.submodule_search_locations or ()) if spec else []
        origin = spec.origin if spec and not locations else None
        h.update(name.encode() + b"\0")
        for folder in locations:
            with os.scandir(folder) as listing:
                for item in sorted((e for e in listing if e.name.endswith((".py", ".so"))), key=lambda e: e.name):
                    stat = item.stat()
                    h.update(f"{item.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        if origin:
            stat = os.stat(origin)
            h.update(f"{origin}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def json_exact(value: Any) -> bool:
    """JSON gives `value` back exactly: nothing JSON would drop or change the type of."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if any(type(key) is not str for key in item):
                return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif item is not None and kind not in (str, int, bool):
            return False
    return True


def _folder(kind: str) -> Path | None:
    root = _root(os.environ.get("B24C_CACHE"), os.environ.get("XDG_CACHE_HOME"))
    return None if root is None else root / kind


@functools.lru_cache(maxsize=4)
def _root(setting: str | None, xdg: str | None) -> Path | None:  # keyed by the variables it reads
    from . import paths

    return paths.cache_root()


def _store(entry: Path, text: str, *, stale: str) -> None:
    """Write an entry atomically (a new name, then renamed) and drop the source's older entries.
    A cache that cannot be written is no cache: never an error."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=entry.parent, prefix=".tmp-", suffix=".json",
                                         encoding="ascii", delete=False) as out:
            try:
                out.write(text)
            except OSError:
                Path(out.name).unlink(missing_ok=True)
                raise
        os.replace(out.name, entry)
        for old in entry.parent.glob(stale):
            if old != entry:
                old.unlink(missing_ok=True)
    except OSError:
        pass
