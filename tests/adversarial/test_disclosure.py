"""Adversarial: the processed responses do not single anyone out (issue 17).

Direct identifiers are gone, but a combination of aimag, sex, age band,
education and respondent group can still point at one respondent. The real
cleaning, run on a project copy, must leave every wave of
``responses.parquet`` k-anonymous on those quasi-identifiers (params
``k_anonymity``, default 5), say in the cleaning log how many respondents were
in smaller classes and what was suppressed, and refuse a demographic with more
levels than the data can protect (a select_one "School name" with 179 schools).
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest

from evalkit.params import load_params

from .helpers import CAMPAIGN
from .test_bad_input import clean, edit_xlsx, raw, read_rows, sheet_header, write_rows

pytestmark = pytest.mark.slow


def smallest_class(part: pd.DataFrame, qis: list[str]) -> int:
    """Independent count: the rarest tuple of quasi-identifier values (missing = its own value)."""
    return min(Counter(tuple("<NA>" if pd.isna(v) else str(v) for v in r)
                       for r in part[qis].itertuples(index=False)).values())


def test_each_wave_of_the_processed_responses_is_k_anonymous(project):
    result = clean(project)
    params = load_params(CAMPAIGN)
    responses = pd.read_parquet(project / "data" / "processed" / CAMPAIGN / "responses.parquet")
    qis = [*params.demographics, "group"]
    log = result.log[result.log["rule"] == "k_anonymity"].set_index("wave")
    assert sorted(log.index) == ["baseline", "endline"], "the cleaning log does not report the disclosure check"
    for wave, part in responses.groupby("wave"):
        sizes = part.groupby("group").size()
        assert sizes.min() >= params.k_anonymity  # (the shipped groups are large)
        k_now = smallest_class(part, qis)
        assert k_now >= params.k_anonymity, f"{wave}: a combination of {qis} is rarer than k"
        reason = log.loc[wave, "reason"]
        k_before, k_after = (int(re.search(rf"k {w} = (\d+)", reason).group(1)) for w in ("before", "after"))
        assert k_after == k_now, reason  # the log states the k of the file written, counted independently
        assert 1 <= k_before <= k_after, reason
        assert "respondent(s) were in combinations shared by fewer than" in reason


def test_k_comes_from_params(project):
    import yaml

    path = project / "params" / f"{CAMPAIGN}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["k_anonymity"] = 12
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    clean(project)
    responses = pd.read_parquet(project / "data" / "processed" / CAMPAIGN / "responses.parquet")
    for _, part in responses.groupby("wave"):
        assert smallest_class(part, [*load_params(CAMPAIGN).demographics, "group"]) >= 12


def _schools_as_education(root) -> None:
    """Turn the education question into a select_one 'School name' with 179 schools (names in the answers)."""
    schools = [f"site_{i:03d}" for i in range(179)]  # neutral codes: the level rule, not the value rule

    def form(wb):
        ws = wb["survey"]
        head = sheet_header(ws)
        for row in ws.iter_rows(min_row=2):
            if row[head.index("name")].value == "education":
                for j, h in enumerate(head):
                    if str(h).startswith("label"):
                        row[j].value = "School name"
        ch = wb["choices"]
        for s in schools:
            ch.append(["education", s, s.replace("_", " ").title(), s.replace("_", " ").title()])

    edit_xlsx(raw(root, "kap_form.xlsx"), form)
    rows = read_rows(raw(root, "baseline.csv"))
    j = rows[0].index("demo/education")
    for i in range(1, len(rows)):
        rows[i][j] = schools[i % 179]
    write_rows(raw(root, "baseline.csv"), rows)

    def export(wb):
        ws = wb.worksheets[0]
        col = sheet_header(ws).index("demo/education")
        for i, row in enumerate(ws.iter_rows(min_row=2), start=1):
            row[col].value = schools[(i * 7) % 179]

    edit_xlsx(raw(root, "endline.xlsx"), export)


def test_a_school_demographic_with_179_levels_is_refused(project):
    from evalkit.errors import ConfigError

    _schools_as_education(project)
    with pytest.raises(ConfigError) as err:
        clean(project)
    message = str(err.value)
    assert "demographics.education" in message and "179 levels" in message, message
    assert "site_0" not in message, "the message must not list the levels"
