"""`pretty_json` writes what `json.dumps(..., ensure_ascii=False, indent=2)` writes, byte for byte."""

import datetime
import json

import pytest

from b24_conformance import paths
from b24_conformance.report._common import pretty_json

NASTY = [
    {"a": [1, 2.5, 1e300, -0.0, 1e-7, float("nan"), float("inf"), -float("inf"), True, False, None]},
    {"é": "é\u2028\u2029\x00\x1f\"\\/\t\n", "": {"": [[], {}, [[{}]]]}, "k": 10**40, "n": -3},
    [], {}, [[]], [{}], "plain", 1.0, 0, None, True,
    {"\ud800": "lone \udfff surrogates"},
]


@pytest.mark.parametrize("value", NASTY)
def test_the_same_text_as_the_standard_encoder(value):
    assert pretty_json(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_every_shipped_body_prints_as_before():
    """The response bodies of the shipped cassettes, parsed, as report.html pretty-prints them."""
    from vcr.serializers import yamlserializer

    values = []
    for path in sorted(paths.cassettes_dir().glob("*/*.yaml"))[:60]:
        for interaction in yamlserializer.deserialize(path.read_text("utf-8"))["interactions"]:
            for body in (interaction["request"]["body"], interaction["response"]["body"]["string"]):
                try:
                    values.append(json.loads(body))
                except (TypeError, ValueError):
                    pass
    assert len(values) > 100
    assert all(pretty_json(v) == json.dumps(v, ensure_ascii=False, indent=2) for v in values)


@pytest.mark.parametrize("value", [(1, 2), {1: "int key"}, {"when": datetime.date(2025, 1, 2)}, {"s": {1}}])
def test_anything_else_is_the_standard_encoders(value):
    assert pretty_json(value, default=str) == json.dumps(value, ensure_ascii=False, indent=2, default=str)


def test_deep_nesting_is_left_to_the_standard_encoder():
    deep: list = []
    for _ in range(3000):
        deep = [deep]
    with pytest.raises(RecursionError):
        json.dumps(deep, ensure_ascii=False, indent=2)
    with pytest.raises(RecursionError):
        pretty_json(deep)
