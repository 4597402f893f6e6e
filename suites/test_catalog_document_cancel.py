"""The catalog.document.cancel clauses, one pytest test each (node id = clause id)."""

from b24_conformance.plugin import assert_verdict

CLAUSE_FILE = "catalog.document.cancel.yaml"


def test_clause(b24_verdict):
    assert_verdict(b24_verdict)
