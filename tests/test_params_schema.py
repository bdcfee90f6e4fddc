"""docs/params.schema.json is generated from the params dataclasses and validates the shipped params."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml

from evalkit import paths
from evalkit.params import _StrictYamlLoader
from evalkit.params_schema import SCHEMA_FILE, params_schema, schema_text, write_schema


def _load(campaign: str) -> dict:
    text = (paths.params_dir() / f"{campaign}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 (a SafeLoader; dates stay text as in editors)


def test_committed_schema_is_what_the_dataclasses_generate():
    committed = (paths.project_root() / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema_text(), "docs/params.schema.json is stale: run python -m evalkit schema"


def test_schema_is_valid_json_schema_and_writes_atomically(tmp_path):
    jsonschema.Draft202012Validator.check_schema(params_schema())
    out = write_schema(tmp_path / "s.json")
    assert out.read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize("campaign", ["together", "differently-different-2019", "differently-different-2020"])
def test_shipped_params_validate(campaign):
    jsonschema.Draft202012Validator(params_schema()).validate(_load(campaign))


@pytest.mark.parametrize("change, where", [
    (lambda d: d["cleaning"].update(min_duraton_minutes=3), "min_duraton_minutes"),
    (lambda d: d["indicators"][0].update(type="score"), "items"),
    (lambda d: d["indicators"][0].pop("question"), "question"),
    (lambda d: d["indicators"][0].update(mode="seen"), "seen"),
    (lambda d: d["indicators"][0].update(denominator={"dont_know": "zero"}), "zero"),
    (lambda d: d.update(campaign="Together"), "Together"),
])
def test_schema_rejects_what_the_loader_rejects(change, where):
    data = copy.deepcopy(_load("together"))
    change(data)
    errors = list(jsonschema.Draft202012Validator(params_schema()).iter_errors(data))
    assert errors and any(where in str(e.message) or where in str(list(e.path)) or where in str(e.schema)
                          for e in errors)


def test_every_indicator_setting_has_a_description():
    ind = params_schema()["$defs"]["Indicator"]["properties"]
    assert [k for k, v in ind.items() if not v.get("description")] == []
