"""The ``sampling:`` params block (evalkit.sampling): parsing and validation."""

from __future__ import annotations

import copy

import pytest
import yaml

from evalkit import paths
from evalkit.errors import ConfigError
from evalkit.params import parse_params
from evalkit.sampling import Sampling


@pytest.fixture(scope="module")
def together_dict() -> dict:
    return yaml.safe_load((paths.params_dir() / "together.yaml").read_text(encoding="utf-8"))


def _with(d: dict, sampling: dict) -> dict:
    out = copy.deepcopy(d)
    out["sampling"] = sampling
    return out


def test_default_is_no_design(together_dict):
    p = parse_params(together_dict)
    assert p.sampling == Sampling()
    assert not p.sampling.declared


def test_full_block_parses(together_dict):
    groups = list(together_dict["groups"])
    shares = {g: 1 / len(groups) for g in groups}
    p = parse_params(_with(together_dict, {
        "strata": "resp/province", "cluster": "resp/school", "fpc": "resp/n_schools", "lonely_psu": "remove",
        "panel_weight": "baseline_attrition_adjusted", "population_shares": shares}))
    s = p.sampling
    assert s.declared and s.lonely_psu == "remove" and s.panel_weight == "baseline_attrition_adjusted"
    assert s.questions(enumerator="username") == {"sampling.strata": "resp/province", "sampling.fpc": "resp/n_schools",
                                                  "sampling.cluster": "resp/school"}
    assert sum(s.population_shares.values()) == pytest.approx(1, abs=1e-12)


def test_enumerator_as_cluster_is_stated(together_dict):
    s = parse_params(_with(together_dict, {"cluster_kind": "enumerator"})).sampling
    assert s.declared
    assert s.questions(enumerator="username") == {"sampling.cluster": "username"}


@pytest.mark.parametrize("block, fragments", [
    ({"cluster": "resp/school", "cluster_kind": "enumerator"}, ["sampling.cluster", "must be empty"]),
    ({"fpc": "resp/n"}, ["sampling.fpc", "needs a cluster"]),
    ({"lonely_psu": "average_please"}, ["sampling.lonely_psu", "fail"]),
    ({"population_shares": {"parent_sen": 0.5, "parent_nosen": 0.2, "staff": 0.2}},
     ["add up to 0.9", "must add up to 1"]),
    ({"population_shares": {"parent_sen": 0.5, "parent_nosen": 0.5}}, ["no share for group(s) staff"]),
    ({"population_shares": {"parent_sen": 0.5, "parent_nosen": 0.5, "staff": 0.0, "pupils": 0.0}},
     ["'pupils' is not a group", "staff': must be a share between 0 and 1"]),
    ({"strata": 3}, ["sampling.strata", "expected text"]),
    ({"cluser": "resp/school"}, ["sampling.cluser", "unknown setting"]),
])
def test_bad_blocks_are_refused_with_the_key(together_dict, block, fragments):
    with pytest.raises(ConfigError) as err:
        parse_params(_with(together_dict, block), source="params/together.yaml")
    msg = str(err.value)
    assert "params/together.yaml" in msg
    for f in fragments:
        assert f in msg, msg


def test_panel_weight_only_for_a_panel(together_dict):
    d = _with(together_dict, {"panel_weight": "baseline_attrition_adjusted"})
    d["design"] = "independent"
    with pytest.raises(ConfigError, match="only applies to a panel"):
        parse_params(d)
