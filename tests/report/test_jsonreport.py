"""The JSON report: shape, schema, round trip and clear errors on malformed files."""

from __future__ import annotations

import json

import jsonschema
import pytest

from b24_conformance.errors import ContractError
from b24_conformance.paths import schemas_dir
from b24_conformance.report.jsonreport import load_json, to_json, write_json
from b24_conformance.verdict import FieldResult, Outcome


def test_shape_is_header_verdicts_footer(run):
    data = to_json(run())
    assert list(data) == ["header", "verdicts", "footer"]
    assert data["header"]["run_id"] == "run-20250101-0001"
    assert data["verdicts"][1]["outcome"] == "FAIL"
    assert data["footer"] == {"complete": True, "counts": {"PASS": 1, "NON-STRICT": 1, "FAIL": 1, "XFAIL": 0, "SKIP": 1, "ERROR": 1},
                              "duration_s": 1.5, "request_count": 17, "exit_code": 1}


def test_output_validates_against_the_published_schema(run):
    schema = json.loads((schemas_dir() / "report.schema.json").read_text())
    assert schema["$id"] == "https://b24-conformance.dev/schemas/report.schema.json"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(to_json(run()))


def test_round_trip_rebuilds_equal_dataclasses(run, verdict, tmp_path):
    odd = FieldResult(field="after.balances", expected={"p@s": -3}, observed=[1, None, "ы"], ok=False)
    result = run(*run().verdicts, verdict("x.y.z", outcome=Outcome.FAIL, fields=(odd,)), complete=False)
    path = write_json(result, tmp_path / "report.json")
    assert load_json(path) == result


def test_undecodable_body_survives_the_round_trip(run, verdict, wire, tmp_path):
    result = run(verdict(exchanges=(wire("bytes \udcff here"),)))
    assert load_json(write_json(result, tmp_path / "r.json")) == result


def test_malformed_report_names_file_and_json_path(run, tmp_path):
    data = to_json(run())
    data["verdicts"][2]["outcome"] = "PASSED"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ContractError) as caught:
        load_json(path)
    message = str(caught.value)
    assert str(path) in message
    assert "$.verdicts[2].outcome" in message


def test_not_json_is_a_contract_error(tmp_path):
    path = tmp_path / "garbage.json"
    path.write_text("{not json")
    with pytest.raises(ContractError, match="garbage.json: not JSON: line 1"):
        load_json(path)


def test_missing_file_is_a_contract_error(tmp_path):
    with pytest.raises(ContractError, match="cannot read report"):
        load_json(tmp_path / "nope.json")


def test_footer_that_disagrees_with_verdicts_is_rejected(run, tmp_path):
    data = to_json(run())
    data["footer"]["counts"]["PASS"] = 9
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ContractError, match=r"\$\.footer\.counts"):
        load_json(path)


def test_duplicate_clause_is_rejected(run, verdict, tmp_path):
    path = write_json(run(verdict("a.b.c"), verdict("a.b.c")), tmp_path / "r.json")
    with pytest.raises(ContractError, match=r"\$\.verdicts\[1\]\.clause_id: duplicate"):
        load_json(path)


def test_refuses_to_write_a_secret(run, verdict, tmp_path):
    leaky = verdict(reproduction="curl -d 'auth=Zz9/tok\"en'")
    path = tmp_path / "r.json"
    with pytest.raises(ValueError, match="JSON") as caught:
        write_json(run(leaky), path, secrets=['Zz9/tok"en'])
    assert "Zz9" not in str(caught.value)
    assert not path.exists()
