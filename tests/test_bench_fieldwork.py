"""The partial export of the ``make check`` bench case (evalkit.bench_fieldwork): cut, not edited."""

from __future__ import annotations

import datetime as dt
import hashlib

from evalkit import bench, paths
from evalkit.bench_fieldwork import CAMPAIGN, DAYS, write_partial_raw
from evalkit.params import load_params
from evalkit.readers import load_export


def test_partial_endline_keeps_the_first_days_and_leaves_the_shipped_files_alone(tmp_path):
    params = load_params(CAMPAIGN)
    source = paths.campaign_raw_dir(CAMPAIGN)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in source.iterdir()}
    dest, kept = write_partial_raw(source, tmp_path / CAMPAIGN, params=params)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in source.iterdir()} == before
    full = load_export(source / params.raw.endline.file, params.raw.endline).frame
    part = load_export(dest / params.raw.endline.file, params.raw.endline).frame
    last = (params.raw.endline.fieldwork.start + dt.timedelta(days=DAYS - 1)).isoformat()
    expected = full[full["start"].str.slice(0, 10) <= last]
    assert 0 < kept == len(part) == len(expected) < len(full)
    assert part.reset_index(drop=True).equals(expected.reset_index(drop=True))  # same cells, same order
    base = params.raw.baseline.file
    assert (dest / base).read_bytes() == (source / base).read_bytes()


def test_check_target_is_listed_and_read_from_the_check_section():
    assert "check_vs_floor" in {t[0] for t in bench.TARGETS} and "check" in bench.SKIPPABLE
    res = {"check": {"status": "ok", "ratio_to_floor": 0.3}}
    assert bench._measured_for("check_vs_floor", res) == (0.3, "")
    assert bench._measured_for("check_vs_floor", {})[0] is None
