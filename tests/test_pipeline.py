"""End to end: the real notebooks through papermill, make's graph, failures.

Runs on a copy of the project (params, raw data, notebooks, Makefile) with
``EVALKIT_ROOT`` pointing at it, so the repository's own outputs are never
touched. The shipped synthetic raw data is the fixture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from evalkit import paths

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RESULTS_COLUMNS = [
    "campaign", "indicator", "label", "group", "design", "n", "baseline_pct", "endline_pct",
    "change_pp", "ci_low_pp", "ci_high_pp", "test", "p_value", "p_holm", "q_bh", "effect_size",
    "effect_size_name", "mde_pp",
]


def make_project_copy(dest: Path) -> Path:
    """Copy what a run reads into ``dest``; link the venv; return ``dest``."""
    for sub in ("params", "data/raw", "notebooks", "src"):
        shutil.copytree(REPO / sub, dest / sub, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for f in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(REPO / f, dest / f)
    (dest / ".venv").symlink_to(REPO / ".venv")
    align_setup_mtimes(dest)
    return dest


def align_setup_mtimes(dest: Path) -> None:
    """Keep make in a project copy from re-running the venv setup recipe.

    A copy shares the repository's ``.venv`` through a link; if make there
    thought the venv out of date it would re-install evalkit from the
    temporary copy and break the real venv once the copy is deleted. The
    setup prerequisites get the stamp's time, so make sees the venv current.
    """
    stamp = REPO / ".venv" / ".evalkit-installed"
    if not stamp.is_file():
        raise RuntimeError("run `make setup` (or `make test`) first: the tests use the project's .venv")
    ns = stamp.stat().st_mtime_ns  # nanoseconds: a float time can round past the stamp
    for f in ("pyproject.toml", "requirements.lock"):
        if (dest / f).exists():
            os.utime(dest / f, ns=(ns, ns))


def run(cmd: list[str], root: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_ROOT": str(root), "PYTHONHASHSEED": "0"}
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A project copy on which ``make report CAMPAIGN=together`` has run."""
    root = make_project_copy(tmp_path_factory.mktemp("project"))
    res = run(["make", "report", "CAMPAIGN=together"], root)
    assert res.returncode == 0, f"make report failed:\n{res.stdout}\n{res.stderr}"
    assert "reports/together.html" in res.stdout
    return root


def test_report_html_has_no_code_and_no_external_resources(built):
    html = (built / "reports" / "together.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.title is not None and soup.find("h1") is not None
    assert not soup.select(".jp-InputArea, .jp-InputPrompt, .input_area, div.highlight"), "code is visible"
    for tag in soup.find_all(["script", "img", "link", "iframe"]):
        for attr in ("src", "href"):
            url = tag.get(attr)
            assert not url or url.startswith(("data:", "#")), f"{tag.name} loads {url}"
    assert "import evalkit" not in html


def test_results_csv_follows_the_contract(built):
    df = pd.read_csv(built / "reports" / "together" / "results.csv")
    assert list(df.columns[: len(RESULTS_COLUMNS)]) == RESULTS_COLUMNS
    assert set(df["campaign"]) == {"together"}
    assert "all" in set(df["group"])


def test_executed_notebooks_kept_for_researchers(built):
    for nb in ("01_clean.ipynb", "02_evaluate.ipynb"):
        executed = nbformat.read(built / "reports" / "together" / nb, as_version=4)
        assert executed.metadata["papermill"]["parameters"]["campaign"] == "together"
    assert not (built / "reports" / "together" / ".staging").exists()


def test_second_make_report_does_nothing(built):
    res = run(["make", "-q", "reports/together.html"], built)
    assert res.returncode == 0, "an up-to-date report would be rebuilt"
    res = run(["make", "report", "CAMPAIGN=together"], built)
    assert res.returncode == 0
    assert "running notebooks" not in res.stderr


def test_unknown_campaign_lists_the_available_ones(built):
    res = run(["make", "report", "CAMPAIGN=nope"], built)
    assert res.returncode != 0
    assert "together" in res.stderr and "differently-different-2019" in res.stderr


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a/b", "..", "Together"])
def test_bad_campaign_names_rejected_before_any_path_is_used(built, bad):
    res = run([sys.executable, "-m", "evalkit", "run", bad], built)
    assert res.returncode == 2
    assert "not allowed" in res.stderr
    assert not (built / "reports" / f"{bad}.html").exists()


def test_failing_cell_exits_nonzero_and_keeps_previous_outputs(built, tmp_path):
    html = built / "reports" / "together.html"
    results = built / "reports" / "together" / "results.csv"
    before = html.read_bytes(), results.read_bytes()
    nb_path = built / "notebooks" / "02_evaluate.ipynb"
    original = nb_path.read_bytes()
    nb = nbformat.reads(original.decode("utf-8"), as_version=4)
    nb.cells.insert(len(nb.cells) // 2, nbformat.v4.new_code_cell("raise RuntimeError('deliberate test failure')"))
    nbformat.write(nb, nb_path)
    try:
        res = run(["make", "report", "CAMPAIGN=together"], built)
    finally:
        nb_path.write_bytes(original)
    assert res.returncode != 0
    assert "deliberate test failure" in res.stderr
    assert "reports/together/02_evaluate.FAILED.ipynb" in res.stderr
    assert (built / "reports" / "together" / "02_evaluate.FAILED.ipynb").exists()
    assert (html.read_bytes(), results.read_bytes()) == before
    assert not (built / "reports" / "together" / ".staging").exists()
    # and the next run succeeds and removes the failure marker
    res = run(["make", "report", "CAMPAIGN=together"], built)
    assert res.returncode == 0, res.stderr
    assert not (built / "reports" / "together" / "02_evaluate.FAILED.ipynb").exists()


def test_report_code_variant_keeps_code(built):
    reviewers = (built / "reports" / "together.html").read_bytes()
    res = run(["make", "report", "CAMPAIGN=together", "REPORT_CODE=1"], built)
    assert res.returncode == 0, res.stderr
    assert "reports/together/report-with-code.html" in res.stdout
    html = (built / "reports" / "together" / "report-with-code.html").read_text(encoding="utf-8")
    assert "import evalkit" in html or "from evalkit" in html
    assert (built / "reports" / "together.html").read_bytes() == reviewers  # reviewers' report untouched


def test_make_reports_builds_every_stage_and_the_index(built):
    res = run(["make", "-j2", "reports"], built)
    assert res.returncode == 0, f"{res.stdout}\n{res.stderr}"
    for c in paths.available_campaigns():
        assert (built / "reports" / f"{c}.html").is_file()
        assert (built / "reports" / c / "results.csv").is_file()
    index = (built / "reports" / "index.html").read_text(encoding="utf-8")
    for c in paths.available_campaigns():
        assert f"{c}.html" in index
    assert "not built yet" not in index, "the index was written before a stage's report (issue 11)"


def test_reports_reproduce_the_published_figures(built):
    """Issue 3: computed from the cleaned data, every published figure is
    reproduced within 0.5 pp (point estimate), and the published 'increase'
    (children proud of helping, DD) is an increase. Reads each stage's
    claims.csv as the notebook computed it; no constants are compared."""
    from evalkit.claims import claim_estimates_within

    res = run(["make", "-j2", "reports"], built)
    assert res.returncode == 0, res.stderr
    seen = set()
    for c in paths.available_campaigns():
        claims = pd.read_csv(built / "reports" / c / "claims.csv")
        check = claim_estimates_within(claims, tol_pp=0.5)
        numeric = check[check["published"].notna()]
        assert numeric["within"].astype(bool).all(), numeric.to_string()
        increase = claims[claims["kind"] == "increase"]
        assert (increase["estimate"] > 0).all(), increase.to_string()
        seen.update(claims["claim_id"])
    assert {"T1", "T2", "T3", "T4", "T5", "T6", "DD0", "DD1", "DD2", "DD3"} <= seen


GOLDEN = Path(__file__).resolve().parent / "golden"


def _cells_agree(built: str, golden: str) -> bool:
    """Two CSV cells agree: same text, or numbers equal at the written precision.

    Floats are written with 12 significant digits (``evalkit.atomic.
    CSV_FLOAT_FORMAT``, docs/results-contract.md). A result whose last bits
    differ on another CPU can round to a neighbouring 12-digit value when it
    lies on a rounding boundary, so numbers may differ by one unit in the
    12th significant digit (relative 1e-11), never more.
    """
    if built == golden:
        return True
    try:
        a, b = float(built), float(golden)
    except ValueError:
        return False
    return abs(a - b) <= 1e-11 * max(abs(a), abs(b))


@pytest.mark.parametrize("campaign", ["together", "differently-different-2019", "differently-different-2020"])
@pytest.mark.parametrize("table", ["results.csv", "claims.csv", "subgroups.csv"])
def test_results_are_unchanged_from_the_golden_copy(built_reports, campaign, table):
    """Optimisations and refactors keep the report's numbers identical.

    ``tests/golden/<campaign>/`` holds the tables as built from the shipped
    data. Text cells must be identical and numbers equal at the written
    precision (12 significant digits, see :func:`_cells_agree`), so the test
    passes on any machine. A deliberate change of method or data regenerates
    them: run ``make reports`` and copy
    ``reports/<campaign>/{results,claims,subgroups}.csv`` into
    ``tests/golden/<campaign>/``, and say why in the commit message.
    """
    import csv

    with open(built_reports / campaign / table, encoding="utf-8", newline="") as fh:
        built = list(csv.reader(fh))
    with open(GOLDEN / campaign / table, encoding="utf-8", newline="") as fh:
        golden = list(csv.reader(fh))
    assert built[0] == golden[0], f"{campaign}/{table}: the columns changed"
    assert len(built) == len(golden), f"{campaign}/{table}: {len(built) - 1} rows, golden copy has {len(golden) - 1}"
    diffs = [(i, golden[0][j], b, g) for i, (rb, rg) in enumerate(zip(built, golden)) for j, (b, g) in enumerate(zip(rb, rg))
             if not _cells_agree(b, g)]
    assert not diffs, f"{campaign}/{table} differs from tests/golden (row, column, built, golden): {diffs[:10]}"


def test_golden_cells_compare_at_the_written_precision():
    assert _cells_agree("0.0995390816572", "0.0995390816572")
    assert _cells_agree("0.0995390816572", "0.0995390816573")  # one unit in the 12th digit
    assert not _cells_agree("0.0995390816572", "0.0995390816592")
    assert not _cells_agree("13.04", "13.05") and not _cells_agree("yes", "no") and _cells_agree("", "")
