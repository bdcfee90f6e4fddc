"""Adversarial: no percentage or count is published for a cell with 1 <= n < 10.

Checked on the shipped run's ``subgroups.csv``, ``results.csv`` and HTML, and
on the processed data of that run with small cells forced in (a rare
subgroup level, a group of four respondents), through the library functions
the evaluation notebook calls (``subgroup_table``, ``compare_indicators``,
``evaluate_claims``) and the HTML tables the report shows. A suppressed cell
must also not be derivable from the published total and the other cells
(complementary suppression).
"""

from __future__ import annotations

import dataclasses

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from evalkit.params import load_params
from evalkit.report import ALL_GROUPS_LABEL
from evalkit.report.format import fmt_pct

from .helpers import CAMPAIGN

pytestmark = pytest.mark.slow

PCT_COLUMNS = ["baseline_pct", "endline_pct", "change_pp"]


@pytest.fixture(scope="module")
def params(built):
    return load_params(built / "params" / f"{CAMPAIGN}.yaml")


@pytest.fixture(scope="module")
def responses(built) -> pd.DataFrame:
    return pd.read_parquet(built / "data" / "processed" / CAMPAIGN / "responses.parquet")


@pytest.fixture(scope="module")
def shipped_subgroups(built) -> pd.DataFrame:
    return pd.read_csv(built / "reports" / CAMPAIGN / "subgroups.csv")


@pytest.fixture(scope="module")
def shipped_results(built) -> pd.DataFrame:
    return pd.read_csv(built / "reports" / CAMPAIGN / "results.csv")


def small(n: pd.Series, min_cell: int) -> pd.Series:
    n = pd.to_numeric(n, errors="coerce")
    return (n >= 1) & (n < min_cell)


def check_subgroups(table: pd.DataFrame, min_cell: int, *, unprotected: pd.DataFrame | None = None) -> list[str]:
    """Every small-cell problem of a ``subgroups.csv`` table.

    With ``unprotected`` (the same table built with ``min_cell_size: 1``, i.e. the true counts), also the
    gate's second rule: the hidden levels of a line must not *together* describe 1..min_cell-1 people,
    since the line's total minus its shown levels gives their sum.
    """
    problems = []
    if unprotected is not None:
        keys = ["indicator", "group", "subgroup", "level"]
        true_n = unprotected.set_index(keys)[["n_baseline", "n_endline"]]
        hidden = table[table["suppressed"].astype(str).str.lower().isin(["true", "1"])]
        for line, part in hidden.groupby(["indicator", "group", "subgroup"]):
            for col in ("n_baseline", "n_endline"):
                total = int(true_n.loc[[tuple(k) for k in part[keys].itertuples(index=False)], col].sum())
                if 0 < total < min_cell:
                    problems.append(f"{'/'.join(line)}: the hidden levels together have {col} = {total}")
    sup = table["suppressed"].astype(str).str.lower().isin(["true", "1"])
    for col in ("n_baseline", "n_endline"):
        bad = table[~sup & small(table[col], min_cell)]
        problems += [f"{r.indicator}/{r.subgroup}={r.level}: {col}={getattr(r, col)} published" for r in bad.itertuples()]
    shown = table.loc[sup, ["n_baseline", "n_endline", *PCT_COLUMNS]].notna().any(axis=1)
    problems += [f"suppressed {r.indicator}/{r.subgroup}={r.level} still publishes a number"
                 for r in table[sup][shown].itertuples()]
    for (ind, grp, var), part in table.groupby(["indicator", "group", "subgroup"]):
        k = int(sup[part.index].sum())
        if k == 1 and len(part) > 1:
            problems.append(f"{ind}/{grp}/{var}: one lone suppressed level can be derived from the total")
    return problems


def check_results(results: pd.DataFrame, min_cell: int) -> list[str]:
    """Small-cell problems of a ``results.csv`` table (indicator x group)."""
    problems = []
    n_cols = [c for c in ("n", "n_baseline", "n_endline") if c in results.columns]
    for r in results.itertuples():
        ns = [getattr(r, c) for c in n_cols]
        if any(pd.notna(n) and 1 <= n < min_cell for n in ns):
            shown = [c for c in [*PCT_COLUMNS, "ci_low_pp", "ci_high_pp", *n_cols] if pd.notna(getattr(r, c))]
            problems.append(f"{r.indicator}/{r.group}: n={ns} but publishes {shown}")
    for ind, part in results.groupby("indicator"):
        groups = part[part["group"] != "all"]
        hidden = groups[[c for c in PCT_COLUMNS if c in groups]].isna().all(axis=1) & (len(groups) > 1)
        total = part[part["group"] == "all"]
        if int(hidden.sum()) == 1 and not total[PCT_COLUMNS].isna().all(axis=1).all():
            problems.append(f"{ind}: one hidden group can be derived from 'all' and the other groups")
    return problems


# ---------------------------------------------------------------- the shipped run


def test_shipped_subgroups_csv(shipped_subgroups, params):
    assert check_subgroups(shipped_subgroups, params.min_cell_size) == []


def test_shipped_results_csv(shipped_results, params):
    assert check_results(shipped_results, params.min_cell_size) == []


def test_shipped_html_shows_no_number_in_a_suppressed_row(built):
    soup = BeautifulSoup((built / "reports" / f"{CAMPAIGN}.html").read_text(encoding="utf-8"), "html.parser")
    table = soup.find("table", id="tbl-subgroups")
    assert table is not None, "the report has no subgroup table"
    for tr in table.find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        if any(c == "suppressed" for c in cells):
            numeric = [c for c in cells[3:7]]
            assert not any(re.search(r"\d", c) for c in numeric), f"a suppressed row shows numbers: {cells}"


# ---------------------------------------------------------------- small cells forced in


def _pairs_ids(responses: pd.DataFrame, group: str) -> list[str]:
    base = set(responses.loc[(responses["wave"] == "baseline") & (responses["group"] == group), "respondent_id"])
    end = set(responses.loc[(responses["wave"] == "endline") & (responses["group"] == group), "respondent_id"])
    return sorted(base & end)


def _with_level(responses: pd.DataFrame, var: str, level: str, ids: list[str]) -> pd.DataFrame:
    out = responses.copy()
    col = out[var].astype("string")
    col[out["respondent_id"].isin(ids)] = level
    out[var] = col
    return out


@pytest.mark.parametrize("size", [1, 4, 9])
def test_one_rare_subgroup_level_is_suppressed_with_a_complement(responses, params, size):
    from evalkit.subgroups import subgroup_table

    ids = _pairs_ids(responses, "parent_sen")[:size]
    data = _with_level(responses, "sex", "rare_level", ids)
    table = subgroup_table(data, params)
    rare = table[table["level"] == "rare_level"]
    assert len(rare) and rare["suppressed"].all()
    unprotected = subgroup_table(data, dataclasses.replace(params, min_cell_size=1))
    assert check_subgroups(table, params.min_cell_size, unprotected=unprotected) == []


def test_a_level_of_exactly_min_cell_size_is_published(responses, params):
    from evalkit.subgroups import subgroup_table

    ids = _pairs_ids(responses, "parent_sen")[: params.min_cell_size]
    table = subgroup_table(_with_level(responses, "sex", "rare_level", ids), params)
    rare = table[(table["level"] == "rare_level") & (table["indicator"] == "good_knowledge")]
    assert not rare["suppressed"].any()
    assert check_subgroups(table, params.min_cell_size) == []


def test_two_rare_levels_are_both_suppressed(responses, params):
    from evalkit.subgroups import subgroup_table

    ids = _pairs_ids(responses, "parent_sen")
    data = _with_level(_with_level(responses, "sex", "rare_a", ids[:3]), "sex", "rare_b", ids[3:8])
    table = subgroup_table(data, params)
    assert table[table["level"].isin(["rare_a", "rare_b"])]["suppressed"].all()
    # 3 + 5 = 8 people together: a third level must be hidden with them
    unprotected = subgroup_table(data, dataclasses.replace(params, min_cell_size=1))
    assert check_subgroups(table, params.min_cell_size, unprotected=unprotected) == []


def test_suppressed_subgroup_html_shows_no_number(responses, params):
    from evalkit.report import subgroups_table
    from evalkit.subgroups import subgroup_table

    ids = _pairs_ids(responses, "parent_sen")[:4]
    table = subgroup_table(_with_level(responses, "sex", "rare_level", ids), params)
    soup = BeautifulSoup(subgroups_table(table, params), "html.parser")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.find_all("tr")]
    rare = [r for r in rows if any("rare level" in c for c in r)]
    assert rare
    for r in rare:
        assert not any(re.search(r"\d", c) for c in r[3:7]), f"numbers shown for a suppressed cell: {r}"


def _small_group(responses: pd.DataFrame, group: str, size: int) -> pd.DataFrame:
    keep = set(_pairs_ids(responses, group)[:size])
    return responses[(responses["group"] != group) | responses["respondent_id"].isin(keep)].reset_index(drop=True)


@pytest.mark.parametrize("size", [1, 4, 9])
def test_a_small_respondent_group_is_not_published_in_results(responses, params, size):
    from evalkit.compare import compare_indicators

    results = compare_indicators(_small_group(responses, "staff", size), params)
    staff = results[results["group"] == "staff"]
    assert len(staff)
    assert check_results(results, params.min_cell_size) == []


def _html_rows(html: str) -> list[list[str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [[td.get_text(" ", strip=True) for td in tr.find_all(["td", "th"])] for tr in soup.find_all("tr")]


def test_a_small_group_is_not_shown_in_the_results_table(responses, params):
    """Neither directly nor as 'all' minus the other groups."""
    from evalkit.compare import compare_indicators
    from evalkit.report import results_table

    results = compare_indicators(_small_group(responses, "staff", 4), params)
    rows = _html_rows(results_table(results, params))
    labels = {params.groups[g]: g for g in params.groups} | {ALL_GROUPS_LABEL: "all"}
    sections, current = [], None
    for r in rows:
        if len(r) == 1:  # an indicator's section row
            current = {}
            sections.append((r[0], current))
        elif current is not None and r and r[0] in labels:
            current[labels[r[0]]] = r
    assert sections
    for name, groups in sections:
        shown = {g: any("%" in c for c in r) for g, r in groups.items()}
        if "staff" in shown:
            assert not shown["staff"], f"{name}: a 4-respondent group shows percentages: {groups['staff']}"
            others = [g for g in shown if g not in ("staff", "all")]
            if shown.get("all") and others:
                assert not all(shown[g] for g in others), (
                    f"{name}: the 4-respondent group follows from 'All respondents' minus the other groups")


def test_a_small_group_is_not_published_in_claims(responses, params):
    from evalkit.claims import evaluate_claims
    from evalkit.compare import compare_indicators

    data = _small_group(responses, "parent_sen", 4)
    results = compare_indicators(data, params)
    claims = evaluate_claims(params, results, data)
    sen = claims[claims["group"] == "parent_sen"]
    assert len(sen)
    for col in ("estimate", "ci_low", "ci_high"):
        assert sen[col].isna().all(), f"claims.csv publishes {col} for a group of 4: {sen[col].tolist()}"


def test_a_small_group_has_no_count_in_the_sample_table(responses, params):
    """The sample-size table must not print a group of 4 as "4", nor as the total minus the other groups."""
    from evalkit.report import sample_table_html

    rows = _html_rows(sample_table_html(_small_group(responses, "staff", 4), params))
    staff_label = params.groups["staff"]
    staff = [r for r in rows if r and r[0] == staff_label]
    assert staff, rows
    for r in staff:
        assert not any(re.fullmatch(r"[1-9]", c) for c in r[1:]), f"a count below 10 is published: {r}"
    counts = [r for r in rows if r and r[0] in (*params.groups.values(), ALL_GROUPS_LABEL, "All")]
    for col in (1, 2):
        hidden = [r[0] for r in counts if not re.fullmatch(r"[\d,]+", r[col])]
        total_shown = any(r[0].startswith("All") and re.fullmatch(r"[\d,]+", r[col]) for r in counts)
        assert not (len(hidden) == 1 and total_shown), (
            f"the hidden count of {hidden} follows from the total minus the other groups: {counts}")


def test_few_drop_outs_have_no_published_means(responses, params):
    """Balance table (completers vs drop-outs): 5 drop-outs must not get their own percentages."""
    from evalkit.report import balance_table_html

    base_ids = set(responses.loc[responses["wave"] == "baseline", "respondent_id"])
    end_ids = set(responses.loc[responses["wave"] == "endline", "respondent_id"])
    drop_outs = sorted(base_ids - end_ids)
    keep = set(drop_outs[:5])
    data = responses[~responses["respondent_id"].isin(set(drop_outs) - keep)].reset_index(drop=True)
    soup = BeautifulSoup(balance_table_html(data, params), "html.parser")
    for tr in soup.find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        if len(cells) >= 5:
            assert not re.search(r"\d", cells[3]), f"drop-outs' share published for 5 people: {cells}"
            assert not re.fullmatch(r"[1-9]", cells[4]), f"drop-out count below 10 published: {cells}"
            # the baseline total is published, so the completers' count would give the drop-outs' count
            assert not re.fullmatch(r"[\d,]+", cells[2]), f"drop-outs follow from total minus completers: {cells}"


# ---------------------------------------------------------------- issue 17 (e): one gate, every output

#: Report tables whose counts are counts of people, and the positions of those columns (any report language).
PEOPLE_TABLES = {"tbl-sample": (1, 2), "tbl-balance": (2, 4), "tbl-dont-know": (1,), "tbl-results": (1,),
                 "tbl-subgroups": (3,)}
#: Tables of data-quality counts about answers, rows or posts (exempt by the rule in evalkit.smallcells).
EXEMPT_TABLES = {"tbl-cleaning-log", "tbl-raw-files", "tbl-reach", "tbl-packages"}


def _ints(text: str) -> list[int]:
    return [int(x.replace(",", "")) for x in re.findall(r"(?<![\d.,])\d[\d,]*(?![\d.]*%)", text)]


def _pct(text: str) -> float | None:
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)%", text.strip())
    return float(m.group(1)) if m else None


def balance_leaks(soup: BeautifulSoup, k: int) -> list[str]:
    """Shares of a group or level that stand for 1..k-1 people (or leave 1..k-1 for the rest) with n shown."""
    table = soup.find("table", id="tbl-balance")
    problems = []
    if table is None:
        return problems
    for tr in table.find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        if len(cells) < 5 or ": " not in cells[0] or "(baseline answer)" in cells[0]:
            continue
        for pct_cell, n_cell in ((cells[1], cells[2]), (cells[3], cells[4])):
            pct, n = _pct(pct_cell), _ints(n_cell)
            if pct is None or len(n) != 1:
                continue
            people = round(pct / 100 * n[0])
            if 1 <= people < k or 1 <= n[0] - people < k:
                problems.append(f"balance '{cells[0]}': {pct_cell} of {n[0]} = {people} people")
    return problems


def report_leaks(html: str, k: int) -> list[str]:
    """Every published count of people 1..k-1 in a report: tables, balance shares, figure alt texts."""
    soup = BeautifulSoup(html, "html.parser")
    problems = balance_leaks(soup, k)
    for tid, cols in PEOPLE_TABLES.items():
        table = soup.find("table", id=tid)
        if table is None:
            continue
        head = [th.get_text(" ", strip=True) for th in table.find("thead").find_all("th")]
        for tr in table.find("tbody").find_all("tr"):
            cells = [td.get_text(" ", strip=True) for td in tr.find_all(["td", "th"])]
            if len(cells) < 2:
                continue  # a section row (the indicator's name)
            for i in cols:
                if i < len(cells) and any(1 <= v < k for v in _ints(cells[i])):
                    problems.append(f"{tid}: {head[i]} = {cells[i]!r} in {cells[:2]}")
    for img in soup.find_all("img"):
        for m in re.finditer(r"\b(?:n\s*=\s*|)(\d+)\s+respondents?\b|\bn\s*=\s*(\d+)\b", img.get("alt", "")):
            v = int(m.group(1) or m.group(2))
            if 1 <= v < k:
                problems.append(f"figure alt text: {m.group(0)!r}")
    return problems


def notebook_leaks(path, k: int) -> list[str]:
    """Counts of people 1..k-1 in the executed clean notebook's panel and missing-rate tables."""
    import json

    problems = []
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            html = "".join(out.get("data", {}).get("text/html", ""))
            if not html:
                continue
            table = BeautifulSoup(html, "html.parser").find("table")
            if table is None:
                continue
            head = [th.get_text(strip=True) for th in table.find("thead").find_all("th")]
            people = [i for i, h in enumerate(head) if h in ("n_asked", "n_answered", "matched", "baseline_only",
                                                             "endline_only")]
            for tr in table.find("tbody").find_all("tr"):
                cells = [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
                for i in people:
                    if i < len(cells) and re.fullmatch(r"[1-9]", cells[i]):
                        problems.append(f"{path.name}: {head[i]} = {cells[i]} in {cells[:3]}")
    return problems


def test_shipped_report_and_notebook_publish_no_count_below_min_cell(built, params):
    """The final check of issue 17: tables, balance shares, alt texts and the executed notebook."""
    reports = sorted((built / "reports").glob(f"{CAMPAIGN}*.html"))  # every report language
    assert reports
    for path in reports:
        assert report_leaks(path.read_text(encoding="utf-8"), params.min_cell_size) == [], path.name
    for nb in sorted((built / "reports" / CAMPAIGN).glob("*.ipynb")):
        assert notebook_leaks(nb, params.min_cell_size) == []


def test_shipped_balance_table_publishes_no_small_share(built, params):
    """'Aimag: orkhon, Drop-outs 7.7%, n 104' was 8 people."""
    soup = BeautifulSoup((built / "reports" / f"{CAMPAIGN}.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.find("table", id="tbl-balance") is not None
    assert balance_leaks(soup, params.min_cell_size) == []


def test_a_group_of_four_is_hidden_in_balance_dont_know_and_missing_rates(responses, params):
    """'School staff 0.3% of 614', 'Asked 4', 'Asked 2' and the clean notebook's missing-rate table."""
    from evalkit.indicators import missing_rates
    from evalkit.report import balance_table_html, dont_know_html, sample_table
    from evalkit.smallcells import missing_rates_for

    k = params.min_cell_size
    data = _small_group(responses, "staff", 4)
    assert balance_leaks(BeautifulSoup(balance_table_html(data, params), "html.parser"), k) == []
    totals = sample_table(data, params).set_index("group").loc["all"]
    soup = BeautifulSoup(dont_know_html(data, params), "html.parser")
    for tr in soup.find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        if len(cells) >= 2 and re.fullmatch(r"[\d,]+", cells[1]):
            asked = int(cells[1].replace(",", ""))
            total = int(totals[cells[0].lower()])
            assert not 1 <= asked < k, f"don't-know table: Asked {asked}"
            assert not 1 <= total - asked < k, f"don't-know table: total {total} minus Asked {asked} < {k}"
    table = missing_rates_for(missing_rates(data, params), data, params)
    for r in table.itertuples():
        if isinstance(r.n_asked, (int, float)):
            total = int(totals[r.wave])
            assert not 1 <= r.n_asked < k and not 1 <= total - r.n_asked < k, (r.wave, r.indicator, r.n_asked)


def test_few_endline_only_interviews_are_not_published(params):
    from evalkit.report import panel_summary_html

    html = panel_summary_html(pd.DataFrame([{"matched": 740, "baseline_only": 106, "endline_only": 3}]), params)
    text = BeautifulSoup(html, "html.parser").get_text()
    assert not [v for v in _ints(text) if 1 <= v < params.min_cell_size], text
    attrition = fmt_pct(100 * 106 / (740 + 106))  # the share lost, which with the matched count gives the 3
    assert "740" not in text and attrition not in text, text
