"""Framing, ethics, evaluator recommendations and the questionnaire annex."""

from __future__ import annotations

import dataclasses

import pandas as pd
from conftest import build_params

from evalkit.report import annex, framing
from evalkit.evaluation import Evaluation, EvaluationQuestion, LogicModel, Recommendation
from evalkit.params import load_params
from evalkit.readers import read_codebook


def test_nothing_is_invented_when_params_are_absent():
    p = build_params()
    assert framing.metadata_html(p) == ""
    assert framing.questions_html(p) == ""
    assert framing.logic_model_html(p, reach_total=1000.0) == ""
    assert framing.evaluator_recommendations_html(p) == ""
    assert "gives no safeguarding statement" in framing.ethics_html(p, pd.DataFrame(columns=["rule"]))


def test_framing_escapes_and_links_indicators():
    p = build_params()
    ev = Evaluation(commissioned_by="<b>Org</b>", evaluation_team=["A & B"],
                    questions=[EvaluationQuestion("EQ1", "Did <i>it</i> work?", ["Indicator tracking"], ["knows"])],
                    logic_model=LogicModel(["posts"], ["reach"], ["knows"]),
                    recommendations=[Recommendation("Do x", "Ministry", "low", "2023"),
                                     Recommendation("Do <y>", "NGO", "high", "now")],
                    safeguarding="Referral <path>")
    p = dataclasses.replace(p, evaluation=ev)
    meta = framing.metadata_html(p)
    assert "&lt;b&gt;Org&lt;/b&gt;" in meta and "A &amp; B" in meta and "<b>" not in meta
    q = framing.questions_html(p)
    assert "Did &lt;i&gt;it&lt;/i&gt; work?" in q and "Knows" in q
    lm = framing.logic_model_html(p, reach_total=2_900_000)
    assert 'role="img"' in lm and 'aria-label="Logic model. Activities: posts.' in lm and "2,900,000" in lm
    recs = framing.evaluator_recommendations_html(p)
    assert recs.index("Do &lt;y&gt;") < recs.index("Do x")  # high priority first
    assert "Referral &lt;path&gt;" in framing.ethics_html(p, pd.DataFrame(columns=["rule"]))


def test_consent_rate_is_computed_from_the_cleaning_log():
    log = pd.DataFrame({"step": [1, 4, 1, 4], "rule": ["read", "consent", "read", "consent"],
                        "wave": ["baseline", "baseline", "endline", "endline"],
                        "rows_in": [907, 890, 812, 796], "rows_dropped": [0, 17, 0, 15],
                        "rows_out": [907, 873, 812, 781], "reason": [""] * 4})
    cr = framing.consent_rate(log)
    # 873/890 and 781/796, by hand
    assert cr["consented"].tolist() == [873, 781]
    assert abs(cr["consent_pct"].iloc[0] - 100 * 873 / 890) < 1e-12
    assert "873 of 890 (98.1%)" in framing.ethics_html(build_params(), log)


def test_questionnaire_annex_puts_relevance_into_words():
    path = load_params("together").raw_path("kap_form.xlsx")
    q = annex.questionnaire(path)
    row = q[q["name"] == "resp/has_sen_child"].iloc[0]
    assert row["question"] == "Do you have a child with special educational needs?"
    assert row["choices"] == "Yes; No"
    assert "\u201cRespondent type\u201d is not \u201cSchool staff\u201d" in row["relevance"]
    assert "start" not in q["name"].tolist()  # device metadata is not a question
    mn = annex.questionnaire(path, language="mn")
    assert mn.loc[mn["name"] == "consent", "question"].iloc[0] == read_codebook(path).question("consent").label("mn")
    cb = read_codebook(path)
    assert annex.relevance_in_words("", cb) == "always asked"
    assert annex.relevance_in_words("${x} > 3", cb) == "asked when: ${x} > 3"  # shown as written, not guessed


def test_computed_recommendations_state_their_statistics():
    p = build_params(min_cell_size=10)
    rows = pd.DataFrame([
        {"indicator": "knows", "group": "all", "n_baseline": 200, "n_endline": 200, "change_pp": 8.0, "ci_low_pp": 3.0,
         "ci_high_pp": 13.0, "p_value": 0.001, "p_holm": 0.002, "mde_pp": 6.0, "note": ""},
        {"indicator": "agrees", "group": "all", "n_baseline": 200, "n_endline": 200, "change_pp": 2.0, "ci_low_pp": -3.0,
         "ci_high_pp": 7.0, "p_value": 0.4, "p_holm": 0.4, "mde_pp": 6.0, "note": ""}])
    html = framing.computed_recommendations_html(rows, p)
    assert "rose (+8.0 pp, 95% CI 3.0 to 13.0" in html
    # (6 / 2)^2 = 9: the MDE scales with 1/sqrt(n)
    assert "about 9.0 times larger" in html
