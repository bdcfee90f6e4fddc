"""Tests for evalkit.reach: reading the per-post export and its summaries."""

from __future__ import annotations

import pytest

import fixtures_raw as fx
from evalkit.errors import RawDataError
from evalkit.reach import reach_by_date, reach_by_type, read_reach, total_engagements


@pytest.fixture
def reach(tmp_path):
    path = tmp_path / "reach.csv"
    path.write_text(fx.REACH_CSV, encoding="utf-8")
    return read_reach(path)


def test_typed_and_engagements(reach):
    assert reach["reach"].dtype == "Int64" and str(reach["date"].dtype).startswith("datetime64")
    # Hand sums of fixtures_raw.REACH_CSV: 100+10+5, 50+3+2, 200+20+10+700, 30+0+1.
    assert reach["engagements"].tolist() == [115, 55, 930, 31]
    assert total_engagements(reach) == 1131


def test_summaries(reach):
    by_type = reach_by_type(reach)
    assert by_type.columns.tolist() == ["content_type", "posts", "reach", "impressions", "engagements", "engagements_pct"]
    assert by_type.set_index("content_type").loc["video", "engagements"] == 930
    assert abs(by_type["engagements_pct"].sum() - 100) < 1e-9
    by_date = reach_by_date(reach)
    assert by_date["posts"].tolist() == [2, 1, 1] and by_date["engagements"].tolist() == [170, 930, 31]


def test_problems_listed(tmp_path):
    path = tmp_path / "reach.csv"
    path.write_text(fx.REACH_CSV.replace("2022-02-03", "03/02/2022").replace(",poster,", ",meme,")
                    .replace(",300,", ",-3,"), encoding="utf-8")
    with pytest.raises(RawDataError) as exc:
        read_reach(path)
    message = str(exc.value)
    assert "reach.csv" in message and "3 problem(s)" in message
    assert "'date' is not a YYYY-MM-DD date in row(s) 4" in message
    assert "'meme'" in message and "row(s) 3" in message and "'reach' is not a whole number >= 0 in row(s) 5" in message


def test_missing_columns(tmp_path):
    path = tmp_path / "reach.csv"
    path.write_text("post_id,date\np1,2022-02-01\n", encoding="utf-8")
    with pytest.raises(RawDataError, match="lacks the column"):
        read_reach(path)
