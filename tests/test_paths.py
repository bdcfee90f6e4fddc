"""Tests for evalkit.paths: campaign-name rule and safe joins."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit import paths
from evalkit.errors import CampaignNameError, UnsafePathError


@pytest.mark.parametrize("name", ["together", "differently-different-2019", "a", "x" * 64, "0abc"])
def test_valid_campaign_names(name):
    assert paths.check_campaign_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "../x", "/etc/x", "a/b", "..", "a\x00b", "x" * 65, "Together", "-abc", "a_b", "a b", None, 3],
)
def test_invalid_campaign_names_are_rejected_with_the_list(name):
    with pytest.raises(CampaignNameError, match="Available campaigns: .*together"):
        paths.check_campaign_name(name)


def test_unknown_campaign_lists_available():
    with pytest.raises(CampaignNameError) as err:
        paths.require_campaign("nope")
    msg = str(err.value)
    assert "params/nope.yaml" in msg
    for c in ("together", "differently-different-2019", "differently-different-2020"):
        assert c in msg


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../b", "..", "", "a\x00b", "x" * 300, "C:\\x"])
def test_safe_join_rejects_escapes(tmp_path: Path, rel):
    with pytest.raises(UnsafePathError):
        paths.safe_join(tmp_path, rel, what="raw file")


def test_safe_join_accepts_plain_names(tmp_path: Path):
    assert paths.safe_join(tmp_path, "sub/baseline.csv") == tmp_path / "sub" / "baseline.csv"


def test_output_paths_stay_inside_project():
    root = paths.project_root()
    for c in paths.available_campaigns():
        for p in (paths.report_html(c), paths.campaign_processed_dir(c), paths.campaign_reports_dir(c)):
            assert paths.ensure_inside_project(p).is_relative_to(root)
    with pytest.raises(UnsafePathError):
        paths.ensure_inside_project(Path("/tmp/elsewhere"))
