"""docs/report-checklist.md: every report section it lists exists in every built report."""

from __future__ import annotations

import re

import pytest

from evalkit import paths

CHECKLIST = paths.project_root() / "docs" / "report-checklist.md"
CAMPAIGNS = ["together", "differently-different-2019", "differently-different-2020"]


def listed_sections() -> set[str]:
    """Section ids in backticks in the 'where it is met' column of the checklist table."""
    ids: set[str] = set()
    for line in CHECKLIST.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.match(r"^\d+\.\d+$", cells[0]):
            ids.update(x for x in re.findall(r"`([a-z0-9-]+)`", cells[2]))
    return ids


def test_the_checklist_lists_sections():
    ids = listed_sections()
    assert {"indicator-tracking", "executive-summary", "ethics-and-data-protection", "annex-questionnaire"} <= ids


@pytest.mark.parametrize("campaign", CAMPAIGNS)
def test_every_listed_section_is_in_the_report(built_reports, campaign):
    html = (built_reports / f"{campaign}.html").read_text(encoding="utf-8")
    present = set(re.findall(r'<h2 id="([^"]+)"', html))
    missing = sorted(listed_sections() - present)
    assert not missing, f"docs/report-checklist.md lists sections missing from {campaign}.html: {missing}"
    assert 'id="tbl-tracking"' in html and "Status is judged from the 95% confidence interval" in html


def test_index_carries_the_tracking_table(built_reports):
    html = (built_reports / "index.html").read_text(encoding="utf-8")
    assert 'id="tbl-tracking-stages"' in html
    for campaign in CAMPAIGNS:
        assert (built_reports / campaign / "tracking.csv").is_file()
        assert (built_reports / campaign / "tracking.xlsx").is_file()
