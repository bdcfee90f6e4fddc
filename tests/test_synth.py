"""Tests of evalkit.synth: reproducible bytes, calibration to the published figures, the mess.

The calibration check is deliberately independent of the generator: it reads
the exports with plain pandas, maps headers and labels through the XLSForm,
applies the params' cleaning rules in a few lines and recomputes every
published figure (``../shared/campaigns.md``, encoded as the params claims).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from evalkit import paths
from evalkit.params import load_params
from evalkit.synth import CAMPAIGNS, generate_campaign
from evalkit.synth.__main__ import main

TOL_PP = 0.5  # the calibration tolerance, percentage points


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Every stage regenerated with the default seed, through the command line."""
    root = tmp_path_factory.mktemp("raw")
    assert main(["--all", "--out", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def params():
    return {c: load_params(c) for c in CAMPAIGNS}


# --------------------------------------------------------------------------- an independent reader


def _read_form(path):
    sheets = pd.read_excel(path, sheet_name=None, dtype=str)
    survey, choices = sheets["survey"].fillna(""), sheets["choices"].fillna("")
    questions, stack = [], []
    for row in survey.itertuples(index=False):
        typ, name = row[0], row[1]
        if typ == "begin_group":
            stack.append(row)
        elif typ == "end_group":
            stack.pop()
        elif typ not in ("start", "end", "today", "username", "deviceid"):
            questions.append({"name": "/".join([g[1] for g in stack] + [name]), "type": typ,
                              "en": [g[2] for g in stack] + [row[2]], "mn": [g[3] for g in stack] + [row[3]]})
    return questions, choices


def _read_export(path):
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=str).fillna("")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1251"
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


_CACHE: dict = {}


def harmonised(root, p, wave):
    """One wave's export with codebook names and choice names (empty string = missing)."""
    key = ("h", str(root), p.campaign, wave, p.wave_file(wave).file)
    if key not in _CACHE:
        _CACHE[key] = _harmonised(root, p, wave)
    return _CACHE[key].copy()


def _harmonised(root, p, wave):
    questions, choices = _read_form(root / p.raw.codebook)
    wf = p.wave_file(wave)
    df = _read_export(root / wf.file)
    renames = p.renames.get(wave, {})
    out = pd.DataFrame(index=df.index)
    for col in ["start", "end", "username", "_uuid", "_submission_time"]:
        out[col] = df[col]
    for q in questions:
        if q["type"] == "select_multiple" or q["type"].startswith("select_multiple"):
            continue
        if wf.headers == "xml":
            old = {v: k for k, v in renames.items()}.get(q["name"], q["name"])
            header = old.replace("/", wf.group_separator)
        else:
            header = wf.group_separator.join(q[wf.language])
        values = df[header]
        if q["type"].startswith("select_one") and wf.values == "label":
            lst = choices[choices["list_name"] == q["type"].split()[1]]
            col = "label::English (en)" if wf.language == "en" else "label::Mongolian (mn)"
            lookup = {lab.strip().casefold(): name for lab, name in zip(lst[col], lst["name"])}
            lookup[""] = ""
            values = values.map(lambda v: lookup[v.strip().casefold()])
        out[q["name"]] = values
    return out


def cleaned(root, p, wave):
    """The params' cleaning rules, applied in a few lines; returns the kept rows."""
    key = ("c", str(root), p.campaign, wave, p.wave_file(wave).file)
    if key not in _CACHE:
        _CACHE[key] = _cleaned(root, p, wave)
    return _CACHE[key].copy()


def _cleaned(root, p, wave):
    df = harmonised(root, p, wave)
    wf = p.wave_file(wave)
    c = p.cleaning
    df = df[~df["_uuid"].duplicated()]
    df = df[~df["username"].str.casefold().isin([t.casefold() for t in c.test_enumerators])]
    df = df[pd.to_datetime(df["_submission_time"]).dt.date >= wf.fieldwork.start]
    df = df[df[p.columns.consent] == p.columns.consent_yes]
    minutes = (pd.to_datetime(df["end"]) - pd.to_datetime(df["start"])).dt.total_seconds() / 60
    df = df[minutes >= c.min_duration_minutes]
    for rc in c.range_checks:
        v = pd.to_numeric(df[rc.question], errors="coerce")
        df = df[v.isna() | v.between(rc.min, rc.max)]
    for cc in c.consistency_checks:
        df = df[~((df[cc.if_question] == cc.if_value) & ~df[cc.then_question].isin(cc.then_values))]
    # Re-interviews: keep the latest interview whose indicator answers are all given.
    group = p.columns.group
    complete = pd.Series(True, index=df.index)
    for ind in p.indicators:
        asked = df[group].isin(ind.population)
        complete &= ~(asked & (df[ind.question] == ""))
    df = df.assign(_complete=complete).sort_values(["_complete", "_submission_time"])
    df = df[~df[p.columns.respondent_id].duplicated(keep="last")]
    return df.drop(columns="_complete").sort_values("_submission_time")


def coded(df, p, ind):
    """1 positive, 0 negative, NaN missing (not asked, don't know, refused)."""
    v = df[ind.question]
    missing = v.isin([""] + p.cleaning.dont_know + p.cleaning.refused) | ~df[p.columns.group].isin(ind.population)
    return v.isin(ind.positive).astype(float).where(~missing)


def figure(root_by_campaign, all_params, claim, campaign):
    """Baseline and endline percentage of a claim, computed from the files."""
    p = all_params[campaign]
    ind = p.indicator(claim.indicator)
    groups = ind.population if claim.group == "all" else [claim.group]
    gcol = p.columns.group
    if p.design == "paired":
        b = cleaned(root_by_campaign(campaign), p, "baseline")
        e = cleaned(root_by_campaign(campaign), p, "endline")
        rid = p.columns.respondent_id
        m = b.merge(e, on=rid, suffixes=("_b", "_e"))
        xb = coded(m.rename(columns=lambda c: c[:-2] if c.endswith("_b") else c), p, ind)
        xe = coded(m.rename(columns=lambda c: c[:-2] if c.endswith("_e") else c), p, ind)
        keep = xb.notna() & xe.notna() & m[gcol + "_b"].isin(groups)
        return 100 * xb[keep].mean(), 100 * xe[keep].mean(), int(keep.sum())
    base_c, base_w = (claim.compare_with.campaign, claim.compare_with.wave) if claim.compare_with \
        else (campaign, "baseline")
    b = cleaned(root_by_campaign(base_c), all_params[base_c], base_w)
    e = cleaned(root_by_campaign(campaign), p, "endline")
    xb = coded(b, p, ind)[b[gcol].isin(groups)].dropna()
    xe = coded(e, p, ind)[e[gcol].isin(groups)].dropna()
    return 100 * xb.mean(), 100 * xe.mean(), min(len(xb), len(xe))


# --------------------------------------------------------------------------- tests


def test_committed_raw_data_is_reproduced_byte_for_byte(generated):
    # Reference: the committed data/raw/<campaign>/ files (README.md is the datasheet, not generated).
    for c in CAMPAIGNS:
        committed = sorted(f.name for f in paths.campaign_raw_dir(c).iterdir() if f.is_file())
        fresh = sorted(f.name for f in (generated / c).iterdir())
        assert committed == fresh, c
        for name in fresh:
            assert (generated / c / name).read_bytes() == (paths.campaign_raw_dir(c) / name).read_bytes(), \
                f"data/raw/{c}/{name} differs from a fresh run of python -m evalkit.synth --all"


def test_every_published_figure_within_half_a_point(generated, params):
    # Reference values: the params claims, i.e. ../shared/campaigns.md (T1-T6, DD0-DD3).
    checked = 0
    for campaign, p in params.items():
        for claim in p.claims:
            base, end, n = figure(lambda c: generated / c, params, claim, campaign)
            assert n >= 150, (claim.id, n)
            if claim.kind == "change_pp":
                assert abs((end - base) - claim.value) <= TOL_PP, (claim.id, base, end)
            elif claim.kind == "endline_pct":
                assert abs(end - claim.value) <= TOL_PP, (claim.id, end)
            elif claim.kind == "baseline_pct":
                assert abs(base - claim.value) <= TOL_PP, (claim.id, base)
            elif claim.kind == "baseline_endline_pct":
                assert abs(base - claim.baseline) <= TOL_PP and abs(end - claim.endline) <= TOL_PP, \
                    (claim.id, base, end)
            else:
                assert end > base, (claim.id, base, end)
            checked += 1
    assert checked == 10  # T1-T6, DD0, DD1-DD3


def test_cleaning_order_does_not_change_the_clean_respondents(generated, params):
    # Dropping re-interviews first (before the other rules) must keep the same interviews.
    for c, p in params.items():
        for wave in ("baseline", "endline"):
            late = cleaned(generated / c, p, wave)
            df = harmonised(generated / c, p, wave)
            df = df[~df["_uuid"].duplicated()]
            ids = df[p.columns.respondent_id]
            first = df[(ids == "") | ~ids.duplicated(keep=False)]
            assert set(late["_uuid"]) <= set(first["_uuid"]) | set(df.loc[ids.duplicated(keep=False), "_uuid"])
            # every kept respondent id is unique and non-empty
            assert late[p.columns.respondent_id].is_unique and (late[p.columns.respondent_id] != "").all()


def test_sizes_and_panel_attrition(generated, params):
    # Reference: the design in data/raw/README.md (hundreds per group per wave; 10-15 % attrition).
    p = params["together"]
    b, e = cleaned(generated / "together", p, "baseline"), cleaned(generated / "together", p, "endline")
    for g in p.groups:
        nb = (b["resp/resp_type"] == g).sum()
        matched = len(set(b.loc[b["resp/resp_type"] == g, "resp/resp_id"]) & set(e["resp/resp_id"]))
        assert 100 <= nb <= 500
        assert 0.10 <= 1 - matched / nb <= 0.15, g
    for c in CAMPAIGNS[1:]:
        dfs = {w: cleaned(generated / c, params[c], w) for w in ("baseline", "endline")}
        assert not set(dfs["baseline"]["resp/resp_id"]) & set(dfs["endline"]["resp/resp_id"])
        for df in dfs.values():
            counts = df["resp/resp_type"].value_counts()
            assert 500 <= counts["parent"] <= 600 and 300 <= counts["child"] <= 400


def test_fieldwork_mess_is_present(generated, params):
    for c, p in params.items():
        for wave in ("baseline", "endline"):
            df = harmonised(generated / c, p, wave)
            assert df["_uuid"].duplicated().sum() >= 2
            once = df[~df["_uuid"].duplicated()]
            ids = once.loc[once["resp/resp_id"] != "", "resp/resp_id"]
            assert ids.duplicated().sum() >= 2  # re-interviews (and test ids)
            assert once["username"].str.casefold().isin(["test", "demo"]).sum() >= 2
            early = pd.to_datetime(once["_submission_time"]).dt.date < p.wave_file(wave).fieldwork.start
            assert early.sum() >= 2
            assert (once["consent"] == "no").sum() >= 2
            minutes = (pd.to_datetime(once["end"]) - pd.to_datetime(once["start"])).dt.total_seconds() / 60
            assert ((minutes < 3) & (once["consent"] == "yes")).sum() >= 2
            answers = pd.concat([once[i.question] for i in p.indicators])
            assert answers.isin(p.cleaning.dont_know).sum() >= 10 and answers.isin(p.cleaning.refused).sum() >= 3
            assert once["resp/phone"].str.fullmatch(r"\+976 \d{8}").sum() > 100
            assert once["comments"].str.contains(r"\d{4}-?\d{4}").sum() >= 2
            assert (once["resp/name"] != "").sum() > 100 and (once["resp/school"] != "").sum() > 100
        if p.cleaning.range_checks:
            for wave in ("baseline", "endline"):
                g = pd.to_numeric(harmonised(generated / c, p, wave)["resp/grade"], errors="coerce")
                assert ((g < 4) | (g > 9)).sum() >= 2
        for cc in p.cleaning.consistency_checks:
            df = harmonised(generated / c, p, "baseline")
            assert ((df[cc.if_question] == cc.if_value) & ~df[cc.then_question].isin(cc.then_values)).sum() >= 2


def test_export_flavours_encodings_and_renames(generated, params):
    tg = generated / "together"
    assert "know/know_well" in pd.read_csv(tg / "baseline.csv", nrows=0).columns  # v1 name (params renames)
    assert "know/self_know_sen" in pd.read_excel(tg / "endline.xlsx", nrows=0).columns
    assert not (tg / "baseline.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    dd19 = (generated / "differently-different-2019" / "baseline.csv").read_bytes()
    assert dd19.startswith(b"\xef\xbb\xbf") and "Оролцогч-Оролцогчийн төрөл".encode() in dd19
    dd20 = (generated / "differently-different-2020" / "baseline.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        dd20.decode("utf-8")
    assert not set("ӨөҮү") & set(dd20.decode("cp1251"))
    # Label answers carry stray whitespace and case, but all map back (harmonised() would raise KeyError).
    end = pd.read_excel(tg / "endline.xlsx", dtype=str)["resp/resp_type"].dropna()
    assert (end != end.str.strip()).sum() >= 2
    labels = {"Тусгай хэрэгцээт хүүхдийн эцэг эх", "Тусгай хэрэгцээгүй хүүхдийн эцэг эх", "Сургуулийн ажилтан"}
    assert (~end.isin(labels)).sum() >= 5
    # select_multiple: summary plus one 0/1 column per choice.
    base = pd.read_csv(tg / "baseline.csv", dtype=str, keep_default_na=False)
    sm = base["prac/info_sources"]
    assert ((base["prac/info_sources/facebook"] == "1") == sm.str.split().map(lambda s: "facebook" in s)).all()


def test_reach_totals_match_the_published_reach(generated, params):
    # Reference: campaigns.md — Together 2.9 million engagements, 5 success stories, 3 posters, 4 videos,
    # cover images; Differently Different more than 4 million across both stages.
    eng = ["reactions", "comments", "shares", "video_views"]
    tg = pd.read_csv(generated / "together" / "reach.csv")
    assert tg[eng].to_numpy().sum() == params["together"].published_reach == 2_900_000
    assert tg["content_type"].value_counts().to_dict() == {"success_story": 5, "video": 4, "poster": 3,
                                                          "cover_image": 2}
    dd = sum(pd.read_csv(generated / c / "reach.csv")[eng].to_numpy().sum() for c in CAMPAIGNS[1:])
    assert dd > 4_000_000
    assert (tg["video_views"][tg["content_type"] != "video"] == 0).all()
    assert tg["date"].between("2022-02-01", "2022-02-28").all()


def test_form_has_both_languages_for_every_question_and_choice(generated):
    for c in CAMPAIGNS:
        questions, choices = _read_form(generated / c / "kap_form.xlsx")
        for q in questions:
            assert all(q["en"]) and all(q["mn"]), q["name"]
            assert re.search("[А-Яа-яӨөҮү]", q["mn"][-1]), q["name"]
        assert (choices["label::English (en)"] != "").all() and (choices["label::Mongolian (mn)"] != "").all()


def test_scale_mode_same_shape_and_calibrated(tmp_path, generated, params):
    files = generate_campaign("together", tmp_path, respondents_per_wave=3000)
    assert [f.name for f in files] == ["kap_form.xlsx", "baseline.csv", "endline.csv", "reach.csv"]
    big = pd.read_csv(tmp_path / "endline.csv", dtype=str, nrows=5)
    small = pd.read_excel(generated / "together" / "endline.xlsx", dtype=str, nrows=5)
    assert list(big.columns) == list(small.columns)
    p = params["together"]
    # As the bench does: the params copy points raw.endline.file to endline.csv.
    raw = dataclasses.replace(p.raw, endline=dataclasses.replace(p.raw.endline, file="endline.csv"))
    scaled = {**params, "together": dataclasses.replace(p, raw=raw)}
    b = cleaned(tmp_path, scaled["together"], "baseline")
    assert 2900 <= len(b) <= 3100
    for claim in p.claims:
        base, end, _ = figure(lambda c: tmp_path, scaled, claim, "together")
        if claim.kind == "change_pp":
            assert abs((end - base) - claim.value) <= TOL_PP, claim.id


def test_seed_changes_the_data_but_not_the_shape(tmp_path, generated):
    other = generate_campaign("together", tmp_path, seed=1)
    assert other[1].read_bytes() != (generated / "together" / "baseline.csv").read_bytes()
    assert pd.read_csv(other[1], nrows=0).columns.equals(pd.read_csv(generated / "together" / "baseline.csv",
                                                                     nrows=0).columns)
    assert np.isclose(pd.read_csv(other[3])[["reactions", "comments", "shares", "video_views"]].to_numpy().sum(),
                      2_900_000)


def test_datasheet_mess_table_matches_the_generator():
    # Reference: the mess table in data/raw/README.md; recomputed from the generator's hidden _mess column.
    from evalkit.synth import _rng, all_params, build_waves, form_for, scaled_sizes, scenario

    text = (paths.raw_dir() / "README.md").read_text(encoding="utf-8")
    everything = all_params()
    targets, pooled = scenario.resolve_targets(everything)
    counts = {}
    for c in CAMPAIGNS:
        waves = build_waves(_rng(scenario.SEED, c, 0), c, everything[c], form_for(c), scaled_sizes(c, None),
                            targets, pooled)
        for w, t in waves.items():
            counts[(c, w)] = pd.Series(t["_mess"]).value_counts().to_dict()
    kinds = {"exact duplicate": "exact_duplicate", "re-interview": "reinterview",
             "test enumerator": "test_enumerator", "before fieldwork": "before_fieldwork",
             "refused consent": "refused_consent", "short interview": "short_interview",
             "out of range": "out_of_range", "inconsistent": "inconsistent"}
    for label, kind in kinds.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
        cells = [x.strip() for x in row.strip("|").split("|")][-3:]
        for c, cell in zip(CAMPAIGNS, cells):
            expected = " / ".join(str(counts[(c, w)].get(kind, 0)) for w in ("baseline", "endline"))
            assert cell in (expected, "—"), (label, c, cell, expected)
            if cell == "—":
                assert expected == "0 / 0"


def test_targets_follow_the_params_claims(params):
    # A published figure lives only in the params: changing a claim changes the targets (no second copy).
    from evalkit.errors import ConfigError
    from evalkit.synth import scenario

    tg = params["together"]
    t1 = next(c for c in tg.claims if c.id == "T1")
    changed = dataclasses.replace(tg, claims=[dataclasses.replace(t1, value=10.0)])
    targets, _ = scenario.resolve_targets({**params, "together": changed})
    base = targets[("together", "baseline", "good_knowledge", "parent_sen")]
    assert targets[("together", "endline", "good_knowledge", "parent_sen")] == pytest.approx(base + 0.10)
    _, pooled = scenario.resolve_targets(params)
    assert pooled[("together", "endline", "no_harm")].value == pytest.approx(0.87)  # T6, campaigns.md
    bad = dataclasses.replace(t1, group="staff", indicator="give_info")  # no target for staff give_info
    with pytest.raises(ConfigError, match="TARGETS has no value"):
        scenario.resolve_targets({**params, "together": dataclasses.replace(tg, claims=[bad])})
