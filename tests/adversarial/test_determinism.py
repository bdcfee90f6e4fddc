"""Adversarial: the same inputs give byte-identical outputs, whatever the machine says.

Two independent ``make report CAMPAIGN=together`` runs on two project copies
(different folders) are compared byte for byte: the first with the test
environment (``TZ=UTC``, ``PYTHONHASHSEED=0``), the second with
``TZ=Asia/Ulaanbaatar``, ``LC_ALL=C.UTF-8`` and another hash seed. The HTML
report, ``results.csv`` and ``responses.parquet`` (and every other published
file) must be identical; the executed notebooks must be identical once
papermill's timings and the injected cell's random id are removed.
"""

from __future__ import annotations

import json
import re

import pytest

from .helpers import CAMPAIGN

pytestmark = pytest.mark.slow

PUBLISHED = [
    f"reports/{CAMPAIGN}.html",
    f"reports/{CAMPAIGN}/results.csv",
    f"reports/{CAMPAIGN}/claims.csv",
    f"reports/{CAMPAIGN}/subgroups.csv",
    f"data/processed/{CAMPAIGN}/responses.parquet",
    f"data/processed/{CAMPAIGN}/cleaning_log.csv",
    f"data/processed/{CAMPAIGN}/raw_files.csv",
    f"data/processed/{CAMPAIGN}/panel.csv",
    f"data/processed/{CAMPAIGN}/reach.parquet",
]


@pytest.mark.parametrize("rel", PUBLISHED)
def test_byte_identical_across_runs_time_zones_and_locales(built, rerun_tz, rel):
    a, b = built / rel, rerun_tz / rel
    assert a.is_file(), f"{rel} was not written"
    if a.read_bytes() != b.read_bytes():
        la, lb = a.read_bytes().splitlines(), b.read_bytes().splitlines()
        diff = next(((i, x, y) for i, (x, y) in enumerate(zip(la, lb)) if x != y), (min(len(la), len(lb)), b"", b""))
        pytest.fail(f"{rel} differs between the two runs; first difference at line {diff[0] + 1}:\n"
                    f"  run 1: {diff[1][:300]!r}\n  run 2: {diff[2][:300]!r}")


def _normalised_notebook(path) -> dict:
    # ipykernel names the temporary file of each cell after its process id (in warnings' file names)
    text = re.sub(r"ipykernel_\d+/\d+\.py", "ipykernel_<pid>/<cell>.py", path.read_text(encoding="utf-8"))
    nb = json.loads(text)
    nb["metadata"].pop("papermill", None)
    for cell in nb["cells"]:
        md = cell.get("metadata", {})
        md.pop("papermill", None)
        md.pop("execution", None)
        if "injected-parameters" in md.get("tags", []):
            cell.pop("id", None)
            cell["source"] = re.sub(r'output_dir = ".*"', 'output_dir = "<staging>"', "".join(cell["source"]))
    return nb


@pytest.mark.parametrize("notebook", ["01_clean.ipynb", "02_evaluate.ipynb"])
def test_executed_notebooks_identical_but_for_papermill_timings(built, rerun_tz, notebook):
    a = _normalised_notebook(built / "reports" / CAMPAIGN / notebook)
    b = _normalised_notebook(rerun_tz / "reports" / CAMPAIGN / notebook)
    for i, (ca, cb) in enumerate(zip(a["cells"], b["cells"])):
        assert ca == cb, f"cell {i} of {notebook} differs between runs:\n{str(ca)[:600]}\n---\n{str(cb)[:600]}"
    assert a == b


@pytest.mark.parametrize("rel", [f"reports/{CAMPAIGN}.html", f"reports/{CAMPAIGN}/02_evaluate.ipynb",
                                 f"reports/{CAMPAIGN}/01_clean.ipynb", f"reports/{CAMPAIGN}/results.csv"])
def test_outputs_do_not_contain_the_project_folder(built, rel):
    """An absolute path would make the bytes depend on where the project lives (and leak a user name).

    Papermill's own record of its input and output paths (notebook metadata) is
    the one exception: it is not rendered and is stripped when comparing runs.
    """
    path = built / rel
    text = (json.dumps(_normalised_notebook(path), ensure_ascii=False) if path.suffix == ".ipynb"
            else path.read_text(encoding="utf-8"))
    assert str(built) not in text
    assert str(built.resolve()) not in text


def test_report_has_no_random_ids_or_timestamps(built):
    html = (built / "reports" / f"{CAMPAIGN}.html").read_text(encoding="utf-8")
    assert not re.search(r'id="T_[0-9a-f]{5}', html), "pandas Styler's random table id"
    assert not re.search(r"<dc:date>|CreationDate|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+", html), "a timestamp"
