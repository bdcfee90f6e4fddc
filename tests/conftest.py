"""Shared test set-up: headless plotting, fixed time zone and locale."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("MPLBACKEND", "Agg")
# openpyxl picks its XML writer when first imported; with lxml installed (python-docx needs it)
# it would write other bytes than the committed synthetic exports. evalkit sets the same.
os.environ.setdefault("OPENPYXL_LXML", "False")


# --------------------------------------------------------------------------- processed-data factory
# (statistics tests) Build a small responses.parquet-shaped DataFrame (docs/design.md,
# "Processed data contract") with known proportions, deterministically.

import numpy as _np  # noqa: E402
import pandas as _pd  # noqa: E402
import pytest as _pytest  # noqa: E402


def build_responses(n_per_group, indicators, *, design="paired", likert=(), seed=0, demographics=None,
                    weight=None, missing_rate=0.0, attrition=0.0):
    """Return a DataFrame in the processed ``responses.parquet`` shape.

    n_per_group : dict group -> respondents per wave.
    indicators : dict id -> (baseline proportion, endline proportion), or
        id -> (p_base, p_end, groups) to restrict it to some groups.
    likert : ids that get an ``<id>_level`` column (levels 4-5 = positive).
    demographics : dict column -> list of levels (sampled uniformly).
    weight : None (1.0), or a callable rng, n -> weights.
    attrition : share of panel respondents missing at endline (paired).
    """
    rng = _np.random.default_rng(seed)
    demographics = demographics or {"location": ["urban", "rural"], "sex": ["female", "male"]}
    frames = []
    for g, n in n_per_group.items():
        base_ids = [f"{g}-{i:06d}" for i in range(n)]
        demo = {k: rng.choice(v, size=n) for k, v in demographics.items()}
        for wave in ("baseline", "endline"):
            if design == "paired":
                ids = base_ids
                keep = _np.ones(n, bool) if wave == "baseline" else rng.random(n) >= attrition
                wdemo = demo
            else:
                ids = [f"{g}-{wave}-{i:06d}" for i in range(n)]
                keep = _np.ones(n, bool)
                wdemo = {k: rng.choice(v, size=n) for k, v in demographics.items()}
            df = _pd.DataFrame({"respondent_id": _pd.array(ids, dtype="str"), "wave": wave,
                                "group": g, "interview_date": _pd.Timestamp("2022-01-20").date()})
            for k, v in wdemo.items():
                df[k] = _pd.array(v, dtype="str")
            df["weight"] = 1.0 if weight is None else _np.asarray(weight(rng, n), float)
            frames.append((g, wave, df.loc[keep].reset_index(drop=True)))
    out = []
    latent = {}
    for g, wave, df in frames:
        n = len(df)
        for ind, spec in indicators.items():
            p_b, p_e = spec[0], spec[1]
            groups = spec[2] if len(spec) > 2 else None
            p = p_b if wave == "baseline" else p_e
            if design == "paired":
                # correlated panel: the endline answer repeats the baseline one with
                # probability 0.6, otherwise it is a fresh draw at the endline rate.
                key = (g, ind)
                if wave == "baseline":
                    u = rng.random(len(df)) < p
                    latent[key] = dict(zip(df["respondent_id"], u))
                else:
                    prev = _np.array([latent[key][r] for r in df["respondent_id"]])
                    stay = rng.random(n) < 0.6
                    # fresh rate chosen so the marginal endline rate is p_e
                    fresh_p = min(max((p - 0.6 * p_b) / 0.4, 0.0), 1.0)
                    u = _np.where(stay, prev, rng.random(n) < fresh_p)
            else:
                u = rng.random(n) < p
            miss = rng.random(n) < missing_rate
            val = _pd.array(u, dtype="boolean")
            val[miss] = _pd.NA
            reason = _pd.array(_np.where(miss, "dont_know", None), dtype="str")
            if groups is not None and g not in groups:
                val[:] = _pd.NA
                reason[:] = "not_asked"
            df[ind] = val
            df[f"{ind}_missing_reason"] = reason
            if ind in likert:
                lv = _np.where(u, rng.integers(4, 6, n), rng.integers(1, 4, n)).astype("int64")
                lvl = _pd.array(lv, dtype="Int8")
                lvl[_np.asarray(val.isna())] = _pd.NA
                df[f"{ind}_level"] = lvl
        out.append(df)
    return _pd.concat(out, ignore_index=True)


def build_params(*, design="paired", indicators=None, groups=None, claims=None, subgroups=("location", "sex"),
                 min_cell_size=10, campaign="testcamp", extra=None):
    """Return a validated ``Params`` for tests (minimal raw settings); ``extra`` adds top-level keys."""
    from evalkit.params import parse_params

    groups = groups or {"parent": "Parents", "staff": "Staff"}
    fw = {"start": "2022-01-01", "end": "2022-01-31"}
    data = {
        "campaign": campaign, "title": "Test", "stage": "Test stage", "design": design,
        "campaign_period": fw,
        "raw": {"codebook": "kap_form.xlsx", "baseline": {"file": "b.csv", "fieldwork": fw},
                "endline": {"file": "e.csv", "fieldwork": fw}},
        "columns": {"respondent_id": "resp/id", "group": "resp/type", "consent": "consent"},
        "groups": groups,
        "demographics": {"location": "demo/location", "sex": "demo/sex"},
        "indicators": indicators or [
            {"id": "knows", "label": "Knows", "theme": "knowledge", "question": "k/knows",
             "positive": ["yes"], "population": list(groups)},
            {"id": "agrees", "label": "Agrees", "theme": "attitudes", "question": "a/agrees", "type": "likert",
             "levels": ["strongly_disagree", "disagree", "neutral", "agree", "strongly_agree"],
             "positive": ["agree", "strongly_agree"], "population": list(groups)[:1]},
        ],
        "claims": claims or [],
        "subgroups": list(subgroups),
        "min_cell_size": min_cell_size,
    } | dict(extra or {})
    return parse_params(data, source="test params")


@_pytest.fixture
def make_responses():
    """The :func:`build_responses` factory."""
    return build_responses


@_pytest.fixture
def make_params():
    """The :func:`build_params` factory."""
    return build_params


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory):
    """Every stage's report and the index, built by ``make -j2 reports`` on a
    project copy (``EVALKIT_ROOT``), so tests of the real HTML never depend on
    a previous build in the working tree. Returns the copy's ``reports/``."""
    from test_pipeline import make_project_copy, run

    root = make_project_copy(tmp_path_factory.mktemp("built-reports"))
    res = run(["make", "-j2", "reports"], root)
    if res.returncode != 0:
        raise RuntimeError(f"make -j2 reports failed on a project copy:\n{res.stdout}\n{res.stderr}")
    return root / "reports"
