"""Adversarial: names that become paths are refused before any file is touched.

Campaign names (command line, ``make CAMPAIGN=``, the params ``campaign`` and
``compare_with.campaign`` keys) and every params value that names a file
(``raw.codebook``, ``raw.baseline.file``, ``raw.endline.file``, ``raw.reach``)
are tried with ``../x``, ``/etc/x``, ``a/b``, ``..``, empty, a NUL byte and very
long values. Each must fail with a clear message while the whole project copy
stays byte-identical (no folder created, no file written). Every output path
the project builds must resolve inside the project.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

from evalkit import cli, paths
from evalkit.errors import ConfigError, EvalkitError
from evalkit.params import load_params

from .helpers import CAMPAIGN, make_project_copy, run, tree_hashes

BAD_NAMES = {
    "dotdot-slash": "../x",
    "absolute": "/etc/x",
    "subfolder": "a/b",
    "dotdot": "..",
    "dot": ".",
    "empty": "",
    "nul-byte": "a\x00b",
    "very-long": "x" * 5000,
    "65-chars": "x" * 65,
    "upper-case": "Together",
    "traversal-to-self": "together/../together",
    "backslash": "..\\x",
    "newline": "together\n",
    "url-encoded": "%2e%2e%2fx",
}
COMMANDS = ["check", "clean", "evaluate", "report", "run"]


@pytest.fixture(scope="module")
def copy_root(tmp_path_factory) -> Path:
    """A project copy shared by the module; every case must leave it unchanged."""
    return make_project_copy(tmp_path_factory.mktemp("names") / "project")


@pytest.fixture
def in_copy(copy_root, monkeypatch) -> Path:
    monkeypatch.setenv("EVALKIT_ROOT", str(copy_root))
    before = tree_hashes(copy_root)
    yield copy_root
    assert tree_hashes(copy_root) == before, "a file or folder of the project copy was touched"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("bad", list(BAD_NAMES.values()), ids=list(BAD_NAMES))
def test_cli_rejects_campaign_name(in_copy, capsys, command, bad):
    code = cli.main([command, bad])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert "is not allowed" in err and "lower-case letters" in err, err  # what to do
    assert CAMPAIGN in err  # lists the available campaigns
    assert len(err) < 1000, "a very long name must be shortened in the message"


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a/b", ".."])
def test_make_rejects_campaign_name(in_copy, bad):
    res = run(["make", "report", f"CAMPAIGN={bad}"], in_copy, timeout=120)
    assert res.returncode != 0
    assert "is not allowed" in res.stderr


def test_unknown_but_well_formed_campaign_is_refused(in_copy, capsys):
    assert cli.main(["run", "no-such-campaign"]) == 2
    err = capsys.readouterr().err
    assert "params/no-such-campaign.yaml" in err and CAMPAIGN in err


# ---------------------------------------------------------------- params values that become paths

PATH_KEYS = {
    "codebook": ("raw", "codebook"),
    "baseline-file": ("raw", "baseline", "file"),
    "endline-file": ("raw", "endline", "file"),
    "reach": ("raw", "reach"),
}
BAD_FILES = {
    "dotdot-slash": "../x",
    "absolute": "/etc/x",
    "dotdot": "..",
    "empty": "",
    "blank": "   ",
    "nul-byte": "a\x00b",
    "very-long": "x" * 300,
    "nested-escape": "a/../../b",
    "other-campaign": "../differently-different-2019/baseline.csv",
    "windows-drive": "C:\\x",
}


def _with(data: dict, keys: tuple[str, ...], value: object) -> dict:
    out = copy.deepcopy(data)
    node = out
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return out


def _write_params(root: Path, data: dict) -> Path:
    f = root / "params" / f"{CAMPAIGN}.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return f


@pytest.fixture
def params_copy(tmp_path, monkeypatch) -> Path:
    """A small copy (params only) whose params file the case rewrites."""
    root = tmp_path / "project"
    (root / "params").mkdir(parents=True)
    for f in paths.params_dir().glob("*.yaml"):
        (root / "params" / f.name).write_bytes(f.read_bytes())
    (root / "data" / "raw" / CAMPAIGN).mkdir(parents=True)
    monkeypatch.setenv("EVALKIT_ROOT", str(root))
    return root


@pytest.fixture(scope="module")
def together_dict() -> dict:
    return yaml.safe_load((paths.params_dir() / f"{CAMPAIGN}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", list(PATH_KEYS.values()), ids=list(PATH_KEYS))
@pytest.mark.parametrize("bad", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_params_path_value_rejected_before_any_file_is_touched(params_copy, together_dict, capsys, key, bad):
    f = _write_params(params_copy, _with(together_dict, key, bad))
    before = tree_hashes(params_copy)
    with pytest.raises(ConfigError) as err:
        load_params(CAMPAIGN)
    msg = str(err.value)
    assert str(f) in msg and "raw" in msg  # names the file and the key
    assert "fix them" in msg and ("relative to" in msg or "NUL" in msg)  # says what to do
    assert cli.main(["clean", CAMPAIGN]) == 2
    assert "error:" in capsys.readouterr().err
    assert tree_hashes(params_copy) == before


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a/b", "..", "", "a\x00b", "x" * 300])
def test_params_campaign_key_rejected(params_copy, together_dict, bad):
    _write_params(params_copy, _with(together_dict, ("campaign",), bad))
    before = tree_hashes(params_copy)
    with pytest.raises(ConfigError) as err:
        load_params(CAMPAIGN)
    assert "campaign" in str(err.value)
    assert tree_hashes(params_copy) == before


@pytest.mark.parametrize("bad", ["../x", "/etc/x", "a/b", "..", ""])
def test_params_compare_with_campaign_rejected(params_copy, together_dict, bad):
    data = copy.deepcopy(together_dict)
    data["claims"][0]["compare_with"] = {"campaign": bad, "wave": "baseline"}
    _write_params(params_copy, data)
    with pytest.raises(ConfigError, match="not allowed"):
        load_params(CAMPAIGN)


def test_symlink_leaving_the_raw_folder_is_refused(params_copy, together_dict, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\n", encoding="utf-8")
    (params_copy / "data" / "raw" / CAMPAIGN / "evil.csv").symlink_to(outside)
    _write_params(params_copy, _with(together_dict, ("raw", "baseline", "file"), "evil.csv"))
    with pytest.raises(ConfigError, match="is a link to a file outside .* copy the file itself"):
        load_params(CAMPAIGN)


def test_subfolder_raw_file_stays_inside_the_campaign_folder(params_copy, together_dict):
    """``a/b`` is a legal raw file name (a sub-folder), but only inside data/raw/<campaign>/."""
    _write_params(params_copy, _with(together_dict, ("raw", "baseline", "file"), "a/b.csv"))
    p = load_params(CAMPAIGN)
    resolved = p.raw_path(p.raw.baseline.file).resolve()
    assert resolved.is_relative_to((params_copy / "data" / "raw" / CAMPAIGN).resolve())


def test_params_file_outside_params_folder_cannot_redirect_outputs(params_copy, together_dict, tmp_path):
    """A params file loaded by path still has its raw names confined to data/raw/<campaign>/."""
    f = tmp_path / "elsewhere.yaml"
    f.write_text(yaml.safe_dump(_with(together_dict, ("raw", "codebook"), "/etc/passwd")), encoding="utf-8")
    with pytest.raises(ConfigError, match="absolute path"):
        load_params(f)


# ---------------------------------------------------------------- every output path inside the project


def test_every_output_path_function_stays_inside_the_project(params_copy):
    root = paths.project_root()
    assert root == params_copy.resolve()
    for c in paths.available_campaigns():
        for p in (paths.report_html(c), paths.campaign_processed_dir(c), paths.campaign_reports_dir(c),
                  paths.campaign_raw_dir(c), paths.params_file(c)):
            assert paths.ensure_inside_project(p).is_relative_to(root)


@pytest.mark.parametrize("escape", ["/tmp/evalkit-escape", "../escape", "reports/../../escape"])
def test_ensure_inside_project_refuses_escapes(params_copy, escape):
    with pytest.raises(EvalkitError):
        paths.ensure_inside_project(Path(escape) if escape.startswith("/") else params_copy / escape)


def test_outputs_of_a_real_run_stay_inside_the_project(built):
    for folder in (built / "reports", built / "data" / "processed"):
        for dirpath, dirnames, filenames in os.walk(folder):
            for n in dirnames + filenames:
                p = Path(dirpath) / n
                assert p.resolve().is_relative_to(built.resolve()), f"{p} leaves the project"


# ---------------------------------------------------------------- the notebooks' output_dir parameter

BAD_OUTPUT_DIRS = {
    "dotdot-slash": "../x",
    "absolute": "<tmp>/escape",  # an absolute folder outside the project (under the test's tmp_path)
    "dotdot": "..",
    "nested-escape": "reports/../../x",
    "nul-byte": "a\x00b",
    "very-long": "x" * 300,
}


@pytest.mark.parametrize("bad", list(BAD_OUTPUT_DIRS.values()), ids=list(BAD_OUTPUT_DIRS))
def test_evaluation_notebook_output_dir_is_confined(params_copy, bad, tmp_path):
    """``papermill -p output_dir ...`` on 02_evaluate.ipynb: resolved by ``report.output_dir``."""
    from evalkit.report import output_dir

    bad = bad.replace("<tmp>", str(tmp_path))
    before = tree_hashes(params_copy)
    with pytest.raises(EvalkitError):
        output_dir(CAMPAIGN, bad)
    assert tree_hashes(params_copy) == before
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize("bad", list(BAD_OUTPUT_DIRS.values()), ids=list(BAD_OUTPUT_DIRS))
def test_clean_notebook_output_dir_is_confined(params_copy, bad, tmp_path):
    """``papermill -p output_dir ...`` on 01_clean.ipynb: ``write_processed(result, output_dir)``."""
    import pandas as pd

    from evalkit.cleaning import CleanResult, write_processed

    bad = bad.replace("<tmp>", str(tmp_path))
    empty = pd.DataFrame()
    result = CleanResult(campaign=CAMPAIGN, responses=pd.DataFrame({"respondent_id": ["x"]}), log=empty,
                         raw_files=empty, panel=None, missing_rates=empty, pii_columns=empty, reach=None,
                         key_source="demo")
    before = tree_hashes(params_copy)
    cwd = os.getcwd()
    os.chdir(params_copy)  # papermill runs the notebook with the project root as working directory
    try:
        with pytest.raises(EvalkitError):
            write_processed(result, bad)
    finally:
        os.chdir(cwd)
    assert tree_hashes(params_copy) == before
    assert not (tmp_path / "escape").exists()
    assert not (params_copy.parent / "x").exists()
