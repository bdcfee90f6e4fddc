"""Issue 14: the report's sentences are true for a campaign unlike the shipped ones.

The fixture (tests/fixtures_handwash.py) is a hand-washing campaign in Kenya with
independent samples and an enumerator-observed indicator. Its report, in English
and Mongolian, must not speak of the shipped campaigns' topic, country or
population, must not describe a panel, must not call the observed indicator
self-reported, must not compare outcomes in the balance table, and its counts
must agree with its own tables.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

import fixtures_handwash as hw
from test_i18n_reports import untranslated
from test_pipeline import make_project_copy, run


@pytest.fixture(scope="module")
def handwash(tmp_path_factory):
    root = make_project_copy(tmp_path_factory.mktemp("handwash"))
    hw.make_project(root)
    for lang in ("", "mn"):
        res = run(["make", "report", "CAMPAIGN=handwash", *([f"REPORT_LANG={lang}"] if lang else [])], root)
        assert res.returncode == 0, f"make report failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return root


def _text(root, name: str) -> str:
    html = (root / "reports" / name).read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    for pre in soup.select("pre, details.ek-params"):  # the params YAML, shown as code
        pre.decompose()
    return soup.get_text(" ")


#: Words of the shipped campaigns that must not appear in another campaign's report (English).
FOREIGN_TOPIC = ["Mongolia", "SEN", "special educational", "disabilit", "province", "aimag", "inclusive",
                 "enrolment", "school staff"]


def test_no_sentence_names_another_campaigns_topic(handwash):
    text = _text(handwash, "handwash.html")
    for word in FOREIGN_TOPIC:
        assert not re.search(rf"\b{re.escape(word)}", text, re.I), f"the report mentions {word!r}"
    assert "households in a county the radio campaign did not reach" in text  # the params' own comparison group


def test_design_sentences_follow_independent_samples(handwash):
    text = _text(handwash, "handwash.html")
    for phrase in ("(a panel)", "survey, a panel", "being interviewed twice", "matched pairs", "same respondents", "drop-outs",
                   "completers", "baseline answer", "attrition ("):
        assert phrase.lower() not in text.lower(), f"independent design, yet the report says {phrase!r}"
    assert "two independent cross-sections" in text
    assert "differences between the two samples can also change the results" in text


def test_balance_table_compares_demographics_only(handwash):
    html = (handwash / "reports" / "handwash.html").read_text(encoding="utf-8")
    table = BeautifulSoup(html, "html.parser").select_one("#tbl-balance")
    rows = [tr.get_text(" ") for tr in table.select("tbody tr")]
    assert rows and all(r.split(":")[0].strip() in ("Group", "County", "Sex") for r in rows), rows


def test_observed_indicator_is_not_called_self_reported(handwash):
    text = _text(handwash, "handwash.html")
    assert "Observed indicators were recorded by the enumerator" in text
    assert "All indicators are self-reported" not in text
    assert "not in observed behaviour" not in text


def test_counts_agree_with_the_tables(handwash):
    soup = BeautifulSoup((handwash / "reports" / "handwash.html").read_text(encoding="utf-8"), "html.parser")
    claims = pd.read_csv(handwash / "reports" / "handwash" / "claims.csv")
    n = claims["claim_id"].nunique()
    para = soup.select_one(".ek-summary").get_text(" ")
    assert re.search(rf"Of {n} published figures? for this stage", para)
    results = pd.read_csv(handwash / "reports" / "handwash" / "results.csv")
    assert f"across {results['indicator'].nunique()} knowledge, attitude and practice indicators" in para


def test_mongolian_report_marks_english_labels_and_has_no_untranslated_text(handwash):
    html = (handwash / "reports" / "handwash.mn.html").read_text(encoding="utf-8")
    english, nodes = untranslated(html)
    assert nodes > 20 and not english, english[:8]
    # The form has no Mongolian labels: the English ones are marked, and Methods says how many.
    assert '<span lang="en">Soap and water at the hand-washing place (observed)</span>' in html
    assert "англи" in BeautifulSoup(html, "html.parser").get_text(" ").lower()
