"""YAML for the data files (clauses, profiles, target configs, baselines): libyaml's C parser
where PyYAML has it, which reads the clause files several times faster than the pure-Python one."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load(text: str) -> Any:
    """`yaml.safe_load`, with the C loader when it is there (the same safe subset of YAML)."""
    return yaml.load(text, Loader=SafeLoader)
