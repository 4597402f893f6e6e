"""Schemathesis fuzzes cancel, conduct, cancelList and conductList on the embedded reference portal (loopback).

The OpenAPI document is `build_openapi()`; the base URL is the portal's webhook URL without its trailing
slash (schemathesis joins it with `/catalog.document.cancel`). Checks are set for RPC reality
(contract-testing-anchors.md §1.4, §1.7):

- `not_a_server_error` stays on, with its default (any 5xx fails): a 500 is a portal bug.
- `positive_data_acceptance` also accepts 400: a schema-valid random `id` legitimately gets a business error
  ("Insufficient permissions to save the document", "Document not found", "…has not been conducted yet").
- `unsupported_method` and `allow_header_conformance` are off: Bitrix serves GET and POST for every method
  and sends no `Allow` header. `use_after_free` / `ensure_resource_availability` key on REST verbs; off.
- `response_schema_conformance`, `status_code_conformance`, `content_type_conformance` and
  `negative_data_rejection` stay on with their defaults.

The generation seed is fixed so a CI failure replays; set B24_SCHEMATHESIS_SEED to explore other inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from b24_conformance.contract.openapi import build_openapi
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

FUZZED = ("catalog.document.cancel", "catalog.document.conduct", "catalog.document.cancelList",
          "catalog.document.conductList")
MAX_EXAMPLES = 25
SEED = int(os.environ.get("B24_SCHEMATHESIS_SEED", "20251106"))

CONFIG: dict[str, Any] = {
    "seed": SEED,
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
    "phases": {
        "coverage": {"unexpected-methods": []},
        "stateful": {"enabled": False},
    },
    "checks": {
        "not_a_server_error": {"enabled": True},
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]},
        "unsupported_method": {"enabled": False},
        "allow_header_conformance": {"enabled": False},
        "use_after_free": {"enabled": False},
        "ensure_resource_availability": {"enabled": False},
    },
    "request-timeout": 10,
}

schema = schemathesis.openapi.from_dict(build_openapi(), config=SchemathesisConfig.from_dict(CONFIG)).include(
    path_regex="^/(" + "|".join(name.replace(".", r"\.") for name in FUZZED) + ")$"
)


@pytest.fixture(scope="session")
def reference_portal() -> Iterator[EmbeddedPortal]:
    """One portal for the whole fuzz run; the rate limiter is effectively off so 503 means a bug."""
    with EmbeddedPortal(PortalSettings(rate_threshold=10**6)) as portal:
        yield portal


@pytest.fixture(scope="session")
def fuzz_base_url(reference_portal: EmbeddedPortal) -> str:
    return reference_portal.webhook_url("admin").rstrip("/")


def test_fuzzed_operations_are_the_four() -> None:
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert labels == sorted(f"POST /{name}" for name in FUZZED)


@schema.parametrize()
def test_fuzz_on_reference_portal(case: schemathesis.Case, fuzz_base_url: str) -> None:
    case.call_and_validate(base_url=fuzz_base_url)
