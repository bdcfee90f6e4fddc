"""Tests for evalkit.params: typed, validated params files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from evalkit import paths
from evalkit.errors import ConfigError
from evalkit.params import Params, load_params, params_as_dict, parse_params


@pytest.fixture(scope="module")
def together_dict() -> dict:
    return yaml.safe_load((paths.params_dir() / "together.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("campaign", ["together", "differently-different-2019", "differently-different-2020"])
def test_shipped_params_load(campaign):
    p = load_params(campaign)
    assert isinstance(p, Params)
    assert p.campaign == campaign
    assert p.indicators and p.groups


def test_round_trip(together_dict):
    p = parse_params(together_dict)
    assert parse_params(yaml.safe_load(yaml.safe_dump(params_as_dict(p)))) == p


def _write(tmp_path: Path, data) -> Path:
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return f


def test_unknown_key_names_file_and_key(tmp_path, together_dict):
    d = copy.deepcopy(together_dict)
    d["cleaning"]["min_duraton_minutes"] = 3
    f = _write(tmp_path, d)
    with pytest.raises(ConfigError) as err:
        load_params(f)
    assert str(f) in str(err.value)
    assert "cleaning.min_duraton_minutes" in str(err.value)
    assert "unknown setting" in str(err.value)


def test_missing_required_key(tmp_path, together_dict):
    d = copy.deepcopy(together_dict)
    del d["indicators"][1]["question"]
    with pytest.raises(ConfigError, match=r"indicators\[1\]\.question.*required"):
        load_params(_write(tmp_path, d))


def test_wrong_type(tmp_path, together_dict):
    d = copy.deepcopy(together_dict)
    d["min_cell_size"] = "ten"
    d["indicators"][0]["positive"] = "good"
    with pytest.raises(ConfigError) as err:
        load_params(_write(tmp_path, d))
    msg = str(err.value)
    assert "min_cell_size" in msg and "whole number" in msg
    assert "indicators[0].positive" in msg and "list" in msg


def test_all_problems_collected(tmp_path, together_dict):
    d = copy.deepcopy(together_dict)
    d["design"] = "pairs"
    d["alpah"] = 0.1
    with pytest.raises(ConfigError) as err:
        load_params(_write(tmp_path, d))
    assert "2 problem(s)" in str(err.value)


def test_yaml_syntax_error_names_line(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("campaign: together\ngroups: {a: b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_params(f)


@pytest.mark.parametrize("bad", ["../secret.csv", "/etc/passwd", "", "a\x00b"])
def test_raw_path_escape_rejected(tmp_path, together_dict, bad):
    d = copy.deepcopy(together_dict)
    d["raw"]["baseline"]["file"] = bad
    with pytest.raises(ConfigError, match="raw"):
        load_params(_write(tmp_path, d))


def test_semantic_checks(tmp_path, together_dict):
    d = copy.deepcopy(together_dict)
    d["indicators"][0]["population"] = ["parents"]
    d["claims"][0]["indicator"] = "nope"
    d["subgroups"] = ["shoe_size"]
    with pytest.raises(ConfigError) as err:
        load_params(_write(tmp_path, d))
    msg = str(err.value)
    assert "'parents' is not in 'groups'" in msg
    assert "'nope' is not an indicator id" in msg
    assert "shoe_size" in msg


def test_campaign_must_match_file_name(tmp_path, together_dict, monkeypatch):
    (tmp_path / "params").mkdir()
    d = copy.deepcopy(together_dict)
    d["campaign"] = "other"
    (tmp_path / "params" / "together.yaml").write_text(yaml.safe_dump(d), encoding="utf-8")
    monkeypatch.setenv("EVALKIT_ROOT", str(tmp_path))
    with pytest.raises(ConfigError, match="file name"):
        load_params("together")


def test_missing_file_lists_campaigns(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_params(tmp_path / "none.yaml")


@pytest.mark.parametrize("field, value, fragment", [
    ("at_least", 0, "indicators[0].at_least"),
    ("at_least", 99, "indicators[0].at_least"),
    ("mentions", "some", "indicators[0].mentions"),
])
def test_select_multiple_rule_is_checked(together_dict, field, value, fragment):
    data = copy.deepcopy(together_dict)
    data["indicators"][0][field] = value
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        parse_params(data)


def test_select_multiple_rule_defaults_to_any(together_dict):
    p = parse_params(together_dict)
    assert all(i.mentions == "any" and i.at_least is None for i in p.indicators)


def test_primary_family_names_change_claims_only(make_params):
    """primary_family lists claim ids; a level claim (no test of change) or an unknown id is refused."""
    from evalkit.errors import ConfigError

    claims = [{"id": "C1", "text": "t", "indicator": "knows", "group": "all", "kind": "change_pp", "value": 2},
              {"id": "C2", "text": "t", "indicator": "knows", "group": "all", "kind": "endline_pct", "value": 50}]
    assert make_params(claims=claims, extra={"primary_family": ["C1"]}).primary_family == ["C1"]
    with pytest.raises(ConfigError, match=r"primary_family\[0\].*level \(endline_pct\)"):
        make_params(claims=claims, extra={"primary_family": ["C2"]})
    with pytest.raises(ConfigError, match=r"primary_family\[0\].*'C9' is not a claim id"):
        make_params(claims=claims, extra={"primary_family": ["C9"]})
