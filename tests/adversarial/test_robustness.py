"""Adversarial (issue 11): interrupts, other filesystems, concurrent runs, hostile files.

Each case stops a real run at a named point (:mod:`evalkit.failpoints`): the
run writes a marker file there and blocks, the test waits for the marker and
then signals. No case depends on how fast the machine is: a slow machine only
makes the wait for the marker longer (bounded by a generous safety timeout).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalkit import atomic, paths
from evalkit.errors import ConfigError, RawDataError, UnsafePathError

from .helpers import CAMPAIGN, PY, clone_tree, evalkit, kill_tree, raw_hashes, run, run_log, start, wait_for_failpoint

pytestmark = pytest.mark.slow

MARKER_TIMEOUT = 600  # safety net only, as helpers.FAILPOINT_TIMEOUT


# ---------------------------------------------------------------- helpers


@pytest.fixture
def built_copy(built, tmp_path) -> Path:
    """A private, mutable copy of the built project."""
    return clone_tree(built, tmp_path / "project")


# ---------------------------------------------------------------- make never deletes a published output


@pytest.mark.parametrize("how", ["sigint-to-the-process-group", "sigterm-to-make"])
def test_an_interrupt_just_after_a_step_published_keeps_its_output(built_copy, how):
    """Before: make's .DELETE_ON_ERROR (and its default on signals) deleted the
    just-published responses.parquet, the only copy."""
    root = built_copy
    target = root / "data" / "processed" / CAMPAIGN / "responses.parquet"
    (root / "params" / f"{CAMPAIGN}.yaml").touch()  # make must re-run the cleaning step
    cmd = ["make", "report", f"CAMPAIGN={CAMPAIGN}"] if how.startswith("sigint") else ["make", f"reports/{CAMPAIGN}.html"]
    proc = start(root, cmd, failpoint=f"published:{CAMPAIGN}:responses.parquet")
    try:
        wait_for_failpoint(proc)
        if how.startswith("sigint"):
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=MARKER_TIMEOUT)
    finally:
        kill_tree(proc)
    assert "Deleting file" not in run_log(proc), run_log(proc)
    assert target.is_file(), "make deleted the published responses.parquet"
    assert len(pd.read_parquet(target)) > 0


def test_make_has_no_delete_on_error_and_keeps_every_target_precious():
    text = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    rules = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    assert not any(ln.startswith(".DELETE_ON_ERROR") for ln in rules)
    precious = next(ln for ln in rules if ln.startswith(".PRECIOUS:")).split()[1:]
    for pattern in ("data/processed/%/responses.parquet", "reports/%/results.csv", "reports/%.html",
                    "reports/index.html"):
        assert pattern in precious


# ---------------------------------------------------------------- the index waits for the stages


def test_the_index_is_built_after_every_stage_report(inputs, tmp_path):
    """Before: reports/index.html depended on results.csv only, so make -j2
    wrote it while a stage's HTML was still being built ("Report not built yet")."""
    root = clone_tree(inputs, tmp_path / "project")
    res = run(["make", "-n", "--no-print-directory", "reports/index.html"], root)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    index_at = max(i for i, ln in enumerate(lines) if "evalkit index" in ln)
    for c in paths.available_campaigns():
        report_at = [i for i, ln in enumerate(lines) if "evalkit report" in ln and ln.rstrip().endswith(f" {c}")]
        assert report_at and max(report_at) < index_at, f"the index would be built before reports/{c}.html"


# ---------------------------------------------------------------- another filesystem


def test_publishing_moves_across_filesystems(tmp_path, monkeypatch):
    """os.replace cannot cross filesystems (EXDEV); move_atomic copies, syncs and renames."""
    src, dst = tmp_path / "staging" / "a.csv", tmp_path / "final" / "a.csv"
    src.parent.mkdir()
    dst.parent.mkdir()
    src.write_bytes(b"new complete file\n")
    dst.write_bytes(b"old\n")
    real_replace = os.replace

    def replace(a, b):
        if Path(a).parent != Path(b).parent:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    atomic.move_atomic(src, dst)
    assert dst.read_bytes() == b"new complete file\n"
    assert not src.exists()
    assert sorted(p.name for p in dst.parent.iterdir()) == ["a.csv"]


def _can_mount() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path("/tmp") / f"evalkit-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(probe)], check=True)
    probe.rmdir()
    return ok


@pytest.mark.skipif(not _can_mount(), reason="needs root and permission to mount a tmpfs (CI runs as root)")
def test_reports_on_another_filesystem_build_without_a_traceback(pristine, tmp_path):
    """Before: every run failed with OSError: [Errno 18] Invalid cross-device link."""
    root = clone_tree(pristine, tmp_path / "project")
    (root / "reports").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(root / "reports")], check=True)
    try:
        assert os.stat(root / "reports").st_dev != os.stat(root / "data").st_dev
        res = run(["make", "report", f"CAMPAIGN={CAMPAIGN}"], root)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        assert "Traceback" not in res.stderr
        assert (root / "reports" / f"{CAMPAIGN}.html").is_file()
        assert (root / "reports" / CAMPAIGN / "01_clean.ipynb").is_file()
        assert (root / "data" / "processed" / CAMPAIGN / "responses.parquet").is_file()
    finally:
        subprocess.run(["umount", "-l", str(root / "reports")], check=False)


# ---------------------------------------------------------------- concurrent runs


@pytest.mark.parametrize("second", [["python", "-m", "evalkit", "clean", CAMPAIGN], ["make", "report", f"CAMPAIGN={CAMPAIGN}"]],
                         ids=["evalkit-clean", "make-report"])
def test_a_second_run_of_the_same_campaign_is_refused_while_one_runs(built_copy, second):
    """Before: two runs shared one .staging folder and published a mix of both."""
    root = built_copy
    before = {p: p.read_bytes() for p in (root / "data" / "processed" / CAMPAIGN).iterdir() if p.is_file()}
    first = start(root, [PY, "-m", "evalkit", "clean", CAMPAIGN], failpoint=f"locked:{CAMPAIGN}")
    try:
        wait_for_failpoint(first)
        cmd = [PY, *second[1:]] if second[0] == "python" else second
        res = run(cmd, root)
        assert res.returncode != 0
        assert f"Another run of {CAMPAIGN} is in progress (pid {first.pid})" in res.stderr
        assert "Traceback" not in res.stderr
    finally:
        kill_tree(first)
    after = {p: p.read_bytes() for p in (root / "data" / "processed" / CAMPAIGN).iterdir() if p.is_file()}
    assert after == before
    res = evalkit(root, "clean", CAMPAIGN)  # the lock died with its holder
    assert res.returncode == 0, res.stderr[-2000:]


def test_runs_of_different_campaigns_do_not_block_each_other(built_copy, monkeypatch):
    root = built_copy
    first = start(root, [PY, "-m", "evalkit", "clean", CAMPAIGN], failpoint=f"locked:{CAMPAIGN}")
    try:
        wait_for_failpoint(first)
        res = evalkit(root, "check", "differently-different-2019")
        assert res.returncode == 0, res.stderr
        other = [c for c in paths.available_campaigns() if c != CAMPAIGN][0]
        from evalkit.locks import campaign_lock

        monkeypatch.setenv("EVALKIT_ROOT", str(root))
        with campaign_lock(other) as fd:
            assert fd is not None
    finally:
        kill_tree(first)


# ---------------------------------------------------------------- an interrupted first set-up


PROBE_BACKEND = '''
import base64, hashlib, os, zipfile

def _wheel(directory, pth):
    name = "probe-0-py3-none-any.whl"
    files = {"probe.pth": pth,
             "probe-0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: probe\\nVersion: 0\\n",
             "probe-0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: probe\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    record = []
    with zipfile.ZipFile(os.path.join(directory, name), "w") as zf:
        for arc, text in files.items():
            data = text.encode()
            zf.writestr(arc, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arc},sha256={digest},{len(data)}")
        record.append("probe-0.dist-info/RECORD,,")
        zf.writestr("probe-0.dist-info/RECORD", "\\n".join(record) + "\\n")
    return name

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, os.path.abspath("src") + "\\n")

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, os.path.abspath("src") + "\\n")
'''


@pytest.mark.parametrize("state", ["venv-without-pip", "pip-interrupted-no-stamp"])
def test_setup_repairs_a_venv_left_by_an_interrupted_first_run(tmp_path, state):
    """Before: Ctrl-C during venv creation left a .venv without pip and every
    later make failed with 'No module named pip'. Runs the real Makefile's set-up
    on a tiny stand-in project (no dependencies, so nothing is downloaded)."""
    root = tmp_path / "proj"
    (root / "src" / "probe").mkdir(parents=True)
    (root / "src" / "probe" / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    shutil.copy2(Path(__file__).resolve().parents[2] / "Makefile", root / "Makefile")
    (root / "requirements.lock").write_text("", encoding="utf-8")
    # A build backend of a few lines (PEP 517/660, in the tree) so that pip needs no download.
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "probe_backend"\nbackend-path = ["."]\n'
        '[project]\nname = "probe"\nversion = "0"\n', encoding="utf-8")
    (root / "probe_backend.py").write_text(PROBE_BACKEND, encoding="utf-8")
    base = getattr(sys, "_base_executable", sys.executable)
    if state == "venv-without-pip":
        subprocess.run([base, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    else:
        subprocess.run([base, "-m", "venv", str(root / ".venv")], check=True)
        (root / ".venv" / "half-installed-package").write_text("x", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "EVALKIT_ROOT")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    res = subprocess.run(["make", "setup", f"PYTHON={base}"], cwd=root, env=env, capture_output=True, text=True,
                         timeout=MARKER_TIMEOUT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "incomplete" in res.stdout
    assert (root / ".venv" / ".evalkit-installed").is_file()
    assert not (root / ".venv" / "half-installed-package").exists()
    check = subprocess.run([str(root / ".venv" / "bin" / "python"), "-c", "import pip, probe; print(probe.VALUE)"],
                           capture_output=True, text=True)
    assert check.stdout.strip() == "1", check.stderr


# ---------------------------------------------------------------- hostile raw files


def test_a_fifo_as_raw_export_is_refused_not_waited_on(project):
    """Before: a baseline.csv that is a named pipe blocked the run forever."""
    raw = project / "data" / "raw" / CAMPAIGN / "baseline.csv"
    raw.unlink()
    os.mkfifo(raw)
    res = evalkit(project, "clean", CAMPAIGN)
    assert res.returncode == 2, res.stderr[-2000:]
    assert "named pipe" in res.stderr and "baseline.csv" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_link_leading_out_of_the_project_is_refused(project, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    raw = project / "data" / "raw" / CAMPAIGN / "baseline.csv"
    shutil.copy2(raw, outside)
    raw.unlink()
    raw.symlink_to(outside)
    res = evalkit(project, "clean", CAMPAIGN)
    assert res.returncode == 2
    assert "is a link to a file outside" in res.stderr and "baseline.csv" in res.stderr
    assert "copy the file itself" in res.stderr and "Traceback" not in res.stderr


def _bomb(tmp_path: Path, *, sheet_bytes: int, dimension: str = "A1:B2") -> Path:
    """An .xlsx-shaped zip whose sheet expands to ``sheet_bytes`` of padding."""
    path = tmp_path / "bomb.xlsx"
    head = (f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>').encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            block = b" " * (1 << 20)
            for _ in range(sheet_bytes >> 20):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return path


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    """Before: a 1.2 MB XLSX took the reader to 4.2 GB of memory. The limit is
    lowered here so the bomb stays small; the message names the file, the size,
    the limit and the variable that raises it."""
    from evalkit.limits import BYTES_ENV, check_xlsx_expansion
    from evalkit.readers import read_codebook

    bomb = _bomb(tmp_path, sheet_bytes=64 << 20)
    assert bomb.stat().st_size < 1 << 20
    monkeypatch.setenv(BYTES_ENV, str(16 << 20))
    with pytest.raises(RawDataError) as err:
        check_xlsx_expansion(bomb.read_bytes(), bomb)
    msg = str(err.value)
    assert "bomb.xlsx" in msg and "expands to 64 MB" in msg and "the limit is 16 MB" in msg and BYTES_ENV in msg
    with pytest.raises(RawDataError):
        read_codebook(bomb)
    monkeypatch.setenv(BYTES_ENV, str(1 << 30))
    check_xlsx_expansion(bomb.read_bytes(), bomb)  # under the limit: accepted


def test_an_xlsx_declaring_too_many_cells_is_refused(tmp_path, monkeypatch):
    from evalkit.limits import CELLS_ENV, DEFAULT_MAX_XLSX_CELLS, check_xlsx_expansion

    bomb = _bomb(tmp_path, sheet_bytes=0, dimension="A1:XFD1048576")  # 17 billion cells
    with pytest.raises(RawDataError, match=CELLS_ENV):
        check_xlsx_expansion(bomb.read_bytes(), bomb)
    assert 16384 * 1048576 > DEFAULT_MAX_XLSX_CELLS
    monkeypatch.setenv(CELLS_ENV, "not-a-number")
    with pytest.raises(RawDataError, match="positive whole number"):
        check_xlsx_expansion(bomb.read_bytes(), bomb)


def test_the_shipped_workbooks_are_within_the_limits(pristine):
    from evalkit.limits import check_xlsx_expansion

    for p in (pristine / "data" / "raw").rglob("*.xlsx"):
        check_xlsx_expansion(p.read_bytes(), p)


# ---------------------------------------------------------------- hostile params


def test_a_yaml_alias_bomb_is_refused_at_once(params_project):
    """Before: 1 KB of nested aliases used 12 GB for 88 s, then printed gigabytes."""
    from evalkit.params import load_params

    lines = ['x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = "\n".join(lines)
    assert len(bomb) < 1200  # expands to 9**10 (3.5 billion) strings
    path = params_project / "params" / f"{CAMPAIGN}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", bomb + "\ntitle:", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_params(CAMPAIGN)
    assert "alias" in str(err.value) and len(str(err.value)) < 1000


def test_an_error_never_echoes_a_huge_value_in_full(params_project):
    from evalkit.params import load_params

    path = params_project / "params" / f"{CAMPAIGN}.yaml"
    huge = "x" * 1_000_000
    path.write_text(path.read_text(encoding="utf-8").replace("synthetic: true", f"synthetic: {huge}", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_params(CAMPAIGN)
    msg = str(err.value)
    assert "synthetic" in msg and "expected true or false" in msg
    assert len(msg) < 2000


# ---------------------------------------------------------------- raw data is read-only


@pytest.mark.parametrize("where", ["data/raw", "data/raw/together", "data/raw/../raw/together/sub"])
def test_no_output_path_may_point_into_raw(params_project, where):
    """Before: output_dir pointing into data/raw/ was accepted and five files were written there."""
    from evalkit import report
    from evalkit.cleaning import processed_output_dir

    before = raw_hashes(params_project)
    with pytest.raises(UnsafePathError, match="data/raw"):
        processed_output_dir(CAMPAIGN, where)
    with pytest.raises(UnsafePathError, match="data/raw"):
        report.output_dir(CAMPAIGN, where)
    assert raw_hashes(params_project) == before


def test_a_processed_folder_linked_into_raw_is_refused(params_project):
    processed = params_project / "data" / "processed"
    shutil.rmtree(processed, ignore_errors=True)
    processed.symlink_to(params_project / "data" / "raw")
    with pytest.raises(UnsafePathError, match="data/raw"):
        paths.ensure_output_path(paths.campaign_processed_dir(CAMPAIGN))


def test_the_clean_notebook_refuses_output_dir_in_raw(project):
    before = raw_hashes(project)
    res = run([PY, "-m", "papermill", "notebooks/01_clean.ipynb", str(project.parent / "out.ipynb"),
               "-p", "campaign", CAMPAIGN, "-p", "output_dir", f"data/raw/{CAMPAIGN}", "--no-progress-bar"], project)
    assert res.returncode != 0
    assert "inside data/raw/" in res.stderr + res.stdout
    assert raw_hashes(project) == before


# ---------------------------------------------------------------- 0% and 100% get a report


@pytest.mark.parametrize("n", [10, 37, 100, 333, 1000])
def test_wilson_limits_are_exact_at_zero_and_all(n):
    from evalkit.stats.proportions import wilson_ci

    low, high = wilson_ci([0, n], [n, n])
    assert low[0] == 0.0 and high[1] == 1.0
    # the other limits agree with statsmodels' Wilson interval (independent reference) to 1e-12
    from statsmodels.stats.proportion import proportion_confint

    ref_hi0 = proportion_confint(0, n, method="wilson")[1]
    ref_lo1 = proportion_confint(n, n, method="wilson")[0]
    assert abs(high[0] - ref_hi0) < 1e-12 and abs(low[1] - ref_lo1) < 1e-12


def test_a_figure_with_an_indicator_at_100_percent_is_drawn(tmp_path):
    """Before: the upper limit 99.99999999999999 < 100 gave matplotlib a negative
    error bar: ValueError: 'xerr' must not contain negative values."""
    from evalkit.report import figures as plots
    from evalkit.params import load_params

    golden = Path(__file__).resolve().parents[1] / "golden" / CAMPAIGN / "results.csv"
    results = pd.read_csv(golden)
    ind = results["indicator"].iloc[0]
    rows = results["indicator"] == ind
    results.loc[rows, ["baseline_pct", "endline_pct"]] = 100.0
    for wave in ("baseline", "endline"):
        if f"{wave}_ci_high_pct" in results:
            results.loc[rows, f"{wave}_ci_high_pct"] = 99.99999999999999
            results.loc[rows, f"{wave}_ci_low_pct"] = 90.0
    params = load_params(CAMPAIGN)
    theme = next(i.theme for i in params.indicators if i.id == ind)
    fig = plots.theme_figure(results, params, theme=theme)
    assert fig is not None
    assert plots.figure_html(fig)
    err = plots.error_bar_lengths(np.array([100.0, 50.0]), np.array([90.0, np.nan]), np.array([99.99999999999999, 60.0]))
    assert (err >= 0).all() and err[1, 0] == 0.0 and err[0, 1] == 0.0


# ---------------------------------------------------------------- CSV numbers are machine-independent


def test_csv_floats_are_written_at_12_significant_digits(tmp_path):
    """Before: the golden test failed on another CPU in the 16th digit
    (0.09953908165724346 vs 0.09953908165724323)."""
    df = pd.DataFrame({"a": [0.09953908165724346, 0.09953908165724323, 1 / 3, 2900000.0, np.nan, -0.0],
                       "b": ["x", "y", "z", "w", "v", "u"]})
    out = atomic.write_csv_atomic(df, tmp_path / "t.csv")
    text = out.read_text(encoding="utf-8").splitlines()
    # (text cells are quoted since issue 17: a ';' spreadsheet locale keeps them whole)
    assert text[1] == '0.0995390816572,"x"' and text[2] == '0.0995390816572,"y"'
    assert text[3].startswith("0.333333333333,") and text[4] == '2900000,"w"' and text[5] == ',"v"'
    back = pd.read_csv(out)
    assert np.allclose(back["a"].dropna(), df["a"].dropna(), rtol=1e-11)
