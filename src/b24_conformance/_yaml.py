"""YAML for the data files (clauses, profiles, target configs, baselines): libyaml's C parser
where PyYAML has it, which reads the clause files several times faster than the pure-Python one;
and for the shipped data, whose parse is cached between runs by its text's hash (`_cache`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    """`yaml.safe_load`, with the C loader when it is there (the same safe subset of YAML)."""
    return yaml.load(text, Loader=SafeLoader)


def load_file(path: Path, *, check: Callable[[Any], None] | None = None, check_salt: str = "") -> Any:
    """`load` of a file's text (UTF-8), then `check(data)`, which raises when the data is bad: the
    pair is done once per distinct text and loader, and cached on disk (`_cache.parsed`), so a
    `check` must be a pure function of the data, named by `check_salt` (its rules, their version).
    Errors reading or parsing the file, and from `check`, are raised as by `load`."""
    from . import _cache

    text = path.read_text(encoding="utf-8")

    def parse(source: str) -> Any:
        data = load(source)
        if check is not None:
            check(data)
        return data

    return _cache.parsed(text, parse, kind="yaml", salt=f"{_loader()} {check_salt}", source=path)


@functools.cache
def _loader() -> str:
    return f"{yaml.__version__} {SafeLoader.__name__}"
