"""The shipped reports in both languages (issue 14), as built by ``make -j2 reports`` on a project copy.

- every stage and the index exist in English and Mongolian, with ``<html lang>``;
- no visible text node of a Mongolian report is an untranslated English string
  (text marked ``lang="en"`` is campaign text from params, code and file names
  are in ``<code>``; an allow-list covers method names and codes);
- the numbers are the same in both languages (one results.csv);
- the index links each stage in each language.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evalkit import paths

#: Proper names and codes a Mongolian sentence keeps in Latin script.
ALLOWED = {"McNemar", "Wilcoxon", "Holm", "Benjamini", "Hochberg", "Newcombe", "Pearson", "Mann", "Whitney", "Cohen",
           "Kish", "KAP", "evalkit", "SHA-256", "HMAC", "SHA256", "CSV", "Kobo", "ODK", "XLSForm", "MDE", "Git", "GPS"}
SKIP_TAGS = {"script", "style", "code", "pre", "svg", "title"}
VOID = {"br", "img", "meta", "link", "hr", "input", "col", "area", "base", "wbr", "source", "track", "embed", "param"}
CYRILLIC = re.compile("[\u0400-\u04FF]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


class _Text(HTMLParser):
    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.report_lang = lang
        self.stack: list[tuple[str, str | None]] = []
        self.english: list[str] = []
        self.nodes = 0

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang") or (self.stack[-1][1] if self.stack else None)))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not data.strip() or not self.stack or any(t in SKIP_TAGS for t, _l in self.stack):
            return
        if (self.stack[-1][1] or self.report_lang) != self.report_lang:
            return  # marked as another language: campaign text, announced to screen readers
        self.nodes += 1
        text = data
        for word in ALLOWED:
            text = text.replace(word, "")
        if LATIN_WORD.search(text) and not CYRILLIC.search(data):
            self.english.append(data.strip()[:120])


def untranslated(html: str, lang: str = "mn") -> tuple[list[str], int]:
    """Visible text nodes in English (no Cyrillic letter, a Latin word) outside ``lang``-marked elements."""
    p = _Text(lang)
    p.feed(html)
    return p.english, p.nodes


def test_the_checker_finds_english_and_ignores_marked_text():
    found, n = untranslated('<html lang="mn"><body><p>Гол тоонууд</p><p>Key figures</p>'
                            '<p><span lang="en">Together campaign</span></p><code>results.csv</code>'
                            '<p>McNemar-ийн тест</p><p>Holm p</p></body></html>')
    assert found == ["Key figures"] and n == 4


PAGES = [*paths.available_campaigns(), "index"]


@pytest.mark.parametrize("page", PAGES)
def test_both_languages_are_built_with_html_lang(built_reports, page):
    for name, lang in ((f"{page}.html", "en"), (f"{page}.mn.html", "mn")):
        html = (built_reports / name).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in html, name


@pytest.mark.parametrize("page", PAGES)
def test_mongolian_report_has_no_untranslated_text(built_reports, page):
    english, nodes = untranslated((built_reports / f"{page}.mn.html").read_text(encoding="utf-8"))
    assert nodes > 20
    assert not english, f"{page}.mn.html shows {len(english)} English text node(s): {english[:8]}"


@pytest.mark.parametrize("campaign", paths.available_campaigns())
def test_the_numbers_are_the_same_in_both_languages(built_reports, campaign):
    def numbers(name: str) -> list[str]:
        html = (built_reports / name).read_text(encoding="utf-8")
        table = re.search(r'<table id="tbl-results">.*?</table>', html, re.S).group(0)
        return re.findall(r"[-+]?\d[\d,]*\.\d+", re.sub(r"<[^>]+>", " ", table))

    en, mn = numbers(f"{campaign}.html"), numbers(f"{campaign}.mn.html")
    assert en and en == mn


def test_index_links_each_stage_in_each_language(built_reports):
    for name in ("index.html", "index.mn.html"):
        html = (built_reports / name).read_text(encoding="utf-8")
        for c in paths.available_campaigns():
            assert f'href="{c}.html" hreflang="en"' in html and f'href="{c}.mn.html" hreflang="mn"' in html, name
        other = "index.mn.html" if name == "index.html" else "index.html"
        assert f'href="{other}"' in html


def test_mongolian_dates_in_the_title_block(built_reports):
    html = (built_reports / "together.mn.html").read_text(encoding="utf-8")
    assert "2022\u202fоны 1-р сарын 17" in html  # baseline fieldwork start, CLDR medium date
    assert "January" not in re.sub(r'<(pre|code)[^>]*>.*?</\1>', "", html, flags=re.S)


@pytest.mark.parametrize("campaign", paths.available_campaigns())
def test_claim_counts_agree_between_summary_box_paragraph_and_claims_table(built_reports, campaign):
    """Issue 14: a count stated in two places comes from one function (summary.claim_counts) and agrees."""
    import pandas as pd
    from bs4 import BeautifulSoup

    html = (built_reports / f"{campaign}.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    claims = pd.read_csv(built_reports / campaign / "claims.csv")
    per_claim = claims.drop_duplicates("claim_id")["verdict"].astype(str)
    total = len(per_claim)
    consistent = int(per_claim.str.startswith("consistent").sum())
    untestable = int((per_claim == "not testable").sum())
    card = next(c for c in soup.select(".ek-keyfig") if "published figures consistent" in c.get_text())
    assert card.select_one(".ek-keyfig-value").get_text() == f"{consistent} of {total - untestable}"
    if untestable:
        assert f"of {total} published; {untestable} cannot be tested" in card.get_text()
    para = soup.select_one(".ek-summary").get_text(" ")
    assert re.search(rf"Of {total} published figures? for this stage, {consistent} (is|are) consistent", para), para
    if untestable:
        assert f"{untestable} cannot be tested" in para
