"""Tests for evalkit.report.htmlexport and notebooks/02_evaluate.ipynb's shape.

:func:`fake_executed_notebook` runs the real notebook's code cells in-process
(no kernel: fast) on synthetic inputs, with the statistics modules replaced by
stubs that return synthetic tables of the contract shapes, and records the
displayed HTML as cell outputs, as papermill would. tests/test_notebooks.py
runs the notebook for real with papermill.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import sys
import types
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_output
from test_report import (CANARY, assert_no_injection, canary_params, synthetic_claims, synthetic_reach,
                         synthetic_responses, synthetic_results, synthetic_subgroups)

from evalkit import paths, report
from evalkit.report import htmlexport
from evalkit.params import Params, load_params

NOTEBOOK = paths.PROJECT_ROOT / "notebooks" / "02_evaluate.ipynb"


@contextlib.contextmanager
def _patched(obj, name, value):
    old = getattr(obj, name, None)
    had = hasattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        if had:
            setattr(obj, name, old)
        else:
            delattr(obj, name)


def fake_executed_notebook(params: Params, *, canary: bool = False, tmp: Path | None = None) -> nbformat.NotebookNode:
    """The evaluation notebook with outputs, executed in-process on synthetic data.

    Parameters
    ----------
    params : Params
        Stage params (``canary=True`` replaces every label with HTML-injection canaries).
    tmp : Path or None
        Where the notebook's CSV outputs go (a temporary folder by default).
    """
    import tempfile

    import evalkit
    import IPython.display as ipd
    import pandas as pd

    responses = synthetic_responses(params)
    results = synthetic_results(params, responses)
    claims, subs = synthetic_claims(params, results), synthetic_subgroups(params)
    if canary:
        params = canary_params(params)
        results = results.assign(label=CANARY)
        claims = claims.assign(text=CANARY)
        subs = subs.assign(level=CANARY)
    inputs = report.EvaluationInputs(
        params=params, responses=responses,
        cleaning_log=pd.DataFrame([dict(step=1, rule="consent", wave="baseline", rows_in=200, rows_dropped=20,
                                        rows_out=180, reason=CANARY if canary else "no consent")]),
        raw_files=pd.DataFrame([dict(file="baseline.csv", sha256="0" * 64, bytes=1000, rows=200, encoding="utf-8")]),
        panel=pd.DataFrame([dict(matched=150, baseline_only=30, endline_only=3)]), reach=synthetic_reach())
    stubs = {"compare": {"compare_indicators": lambda r, p, campaign=None: results},
             "subgroups": {"subgroup_table": lambda r, p: subs},
             "claims": {"evaluate_claims": lambda p, r, resp, other_responses=None: claims}}
    out_dir = Path(tmp or tempfile.mkdtemp())
    nb = nbformat.read(NOTEBOOK, as_version=4)
    captured: list = []

    def display(obj):
        captured.append(new_output("display_data", data={"text/html": obj.data,
                                                         "text/plain": "<IPython.core.display.HTML object>"}))

    with contextlib.ExitStack() as stack:
        for name, fns in stubs.items():
            mod = types.ModuleType(f"evalkit.{name}")
            mod.__dict__.update(fns)
            stack.enter_context(_patched(evalkit, name, mod))
            stack.enter_context(_patched_module(f"evalkit.{name}", mod))
        stack.enter_context(_patched(report, "load_inputs", lambda c: inputs))
        stack.enter_context(_patched(report, "output_dir", lambda c, o="": out_dir))
        stack.enter_context(_patched(ipd, "display", display))
        ns: dict = {}
        cells = []
        for i, cell in enumerate(nb.cells):
            cells.append(cell)
            if cell.cell_type != "code":
                continue
            captured.clear()
            exec(compile(cell.source, f"<cell {i}>", "exec"), ns)
            cell.outputs = list(captured)
            cell.execution_count = i
            if "parameters" in cell.metadata.get("tags", []):  # as papermill does
                injected = new_code_cell(f'campaign = "{params.campaign}"\noutput_dir = ""',
                                         metadata={"tags": ["injected-parameters"]})
                cells.append(injected)
        nb.cells = cells
    return nb


@contextlib.contextmanager
def _patched_module(name, mod):
    old = sys.modules.get(name)
    sys.modules[name] = mod
    try:
        yield
    finally:
        if old is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = old


@functools.lru_cache(maxsize=4)
def _cached(campaign: str, canary: bool) -> tuple[nbformat.NotebookNode, Path]:
    import tempfile

    out = Path(tempfile.mkdtemp(prefix="evalkit-nb-"))
    return fake_executed_notebook(load_params(campaign), canary=canary, tmp=out), out


def cached_fake_notebook(campaign: str = "together", *, canary: bool = False) -> nbformat.NotebookNode:
    """:func:`fake_executed_notebook`, computed once per session (a copy is returned)."""
    return copy.deepcopy(_cached(campaign, canary)[0])


@pytest.fixture(scope="module")
def executed():
    return cached_fake_notebook("together")


@pytest.fixture(scope="module")
def rendered(executed):
    return htmlexport.render_html(executed)


# --------------------------------------------------------------------------- the notebook itself


def test_notebook_committed_without_outputs_and_one_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    ns: dict = {}
    exec(params[0].source, ns)
    assert ns["campaign"] == "together" and ns["output_dir"] == ""
    # Notebooks narrate: every code cell that shows something sits under a markdown cell.
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and i > 0:
            assert nb.cells[i - 1].cell_type == "markdown" or nb.cells[i - 1].cell_type == "code"
    assert max(len(c.source.splitlines()) for c in code) <= 10


def test_notebook_writes_its_tables(executed):
    out = _cached("together", False)[1]
    assert sorted(p.name for p in out.iterdir()) == ["claims.csv", "results.csv", "subgroups.csv", "tracking.csv",
                                                   "tracking.xlsx"]


# --------------------------------------------------------------------------- the HTML


def test_html_is_offline_and_script_free(rendered):
    assert htmlexport.external_references(rendered) == []
    soup = BeautifulSoup(rendered, "html.parser")
    assert soup.find("script") is None
    assert soup.find("link") is None
    assert "require.js" not in rendered.lower() and "mathjax" not in rendered.lower()
    assert all(img["src"].startswith("data:") for img in soup.find_all("img"))


def test_html_hides_code_and_parameters(rendered):
    soup = BeautifulSoup(rendered, "html.parser")
    assert soup.find("pre", string=lambda s: s and "campaign =" in s) is None
    assert "compare_indicators" not in rendered
    assert "remove-cell" not in rendered and "02 Evaluate" not in rendered  # notes for researchers stay out
    assert "In&nbsp;[" not in rendered and "Out[" not in rendered


def test_include_code_keeps_code_for_researchers(executed):
    text = htmlexport.render_html(executed, include_code=True)
    assert "compare_indicators" in text
    assert 'campaign = "together"' in BeautifulSoup(text, "html.parser").get_text()  # the injected parameters
    assert BeautifulSoup(text, "html.parser").title.get_text() == load_params("together").title
    assert htmlexport.external_references(text) == []


def test_toc_links_resolve_and_ids_unique(rendered):
    soup = BeautifulSoup(rendered, "html.parser")
    nav = soup.find("nav", class_="ek-toc")
    ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    targets = [a["href"][1:] for a in nav.find_all("a")]
    assert targets and all(soup.find(id=t) is not None for t in targets)
    texts = [a.get_text() for a in nav.find_all("a")]
    for section in ["Summary", "Published figures vs. this data", "Reach", "Headline results", "Results by theme",
                    "Subgroups", "Sample and data quality", "Methods and limitations", "Provenance"]:
        assert section in texts
    # The content order the issue asks for.
    assert texts.index("Summary") < texts.index("Published figures vs. this data") < texts.index("Reach") \
        < texts.index("Headline results") < texts.index("Results by theme") < texts.index("Subgroups") \
        < texts.index("Sample and data quality") < texts.index("Methods and limitations") < texts.index("Provenance")


def test_document_basics(rendered):
    soup = BeautifulSoup(rendered, "html.parser")
    assert soup.html["lang"] == "en"
    assert soup.title.get_text() == load_params("together").title
    assert soup.find("meta", attrs={"name": "viewport"}) is not None
    css = soup.find("style").get_text()
    assert "@media print" in css and "@page" in css
    assert len(soup.find_all("h1")) == 1
    assert soup.find("aside", class_="ek-notice") is not None  # together.yaml says synthetic: true
    for fig in soup.find_all("figure"):
        assert fig.find("img")["alt"].strip() and fig.find("figcaption").get_text().strip()


def test_rendering_is_deterministic(executed):
    assert htmlexport.render_html(executed) == htmlexport.render_html(executed)


def test_export_html_writes_atomically(executed, tmp_path):
    nb_path = tmp_path / "02_evaluate.ipynb"
    nbformat.write(executed, nb_path)
    out = htmlexport.export_html(nb_path, tmp_path / "together.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left
    with pytest.raises(htmlexport.HtmlExportError, match="Cannot read"):
        htmlexport.export_html(tmp_path / "missing.ipynb", tmp_path / "x.html")


def test_export_refuses_network_content(executed, tmp_path):
    nb = nbformat.from_dict(executed)
    nb.cells[-1].outputs = [new_output("display_data", data={
        "text/html": '<script src="https://cdn.example.org/require.js"></script>'})]
    nb_path = tmp_path / "bad.ipynb"
    nbformat.write(nb, nb_path)
    with pytest.raises(htmlexport.HtmlExportError, match="network"):
        htmlexport.export_html(nb_path, tmp_path / "bad.html")
    assert not (tmp_path / "bad.html").exists()


def test_external_references_detects_fetches_not_links():
    assert htmlexport.external_references('<a href="https://www.who.int/">WHO</a>') == []
    assert htmlexport.external_references('<img src="https://x.org/a.png">')
    assert htmlexport.external_references('<link rel="stylesheet" href="//cdn.x/a.css">')
    assert htmlexport.external_references("<style>@import 'x.css';</style>")
    assert htmlexport.external_references('<p style="background:url(//x.org/a.png)">x</p>')
    assert htmlexport.external_references('<p onclick="x()">x</p>')
    # Escaped text that only mentions these is inert and allowed.
    import html

    assert htmlexport.external_references(
        "<p>" + html.escape("<script src=//x></script> url(//evil.example/x) @import 'x.css'") + "</p>") == []


def test_canaries_are_escaped_end_to_end():
    nb = cached_fake_notebook("together", canary=True)
    text = htmlexport.render_html(nb)
    main = text.split("<main", 1)[1]
    assert_no_injection(main)
    assert "&lt;script&gt;" in main


def test_slugify_and_toc():
    assert htmlexport.slugify("2. Published figures vs. this data") == "published-figures-vs-this-data"
    assert htmlexport.slugify("Don&#x27;t know") == "don-t-know"
    body, nav = htmlexport.add_toc("<h2>A</h2><h3>B</h3><h2>A</h2>")
    assert 'id="a"' in body and 'id="a-2"' in body and 'href="#b"' in nav
