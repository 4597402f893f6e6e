"""Every clause of every clause file, one pytest test each (node id = clause id).

Run from a clone or from an installed package alike: `pytest --pyargs b24_conformance.suites`, with
the plugin's `--b24-*` options choosing the target (the embedded reference portal by default).
"""

from b24_conformance.plugin import assert_verdict

CLAUSE_FILE = "*.yaml"


def test_clause(b24_verdict, b24_runner):
    assert_verdict(b24_verdict, strict=b24_runner.options.strict)
