"""Social-media reach: read the per-post export and summarise it.

The export (``data/raw/<campaign>/reach.csv``, described in ``docs/design.md``)
has one row per post. Engagements are counted as Facebook reports them in
"post engagement": reactions + comments + shares + video views (repeat counts,
as in the published campaign figures); a missing ``video_views`` (a post that
is not a video) counts as 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalkit.errors import RawDataError, format_problems

#: Columns of the reach export, in order.
REACH_COLUMNS = ("post_id", "date", "content_type", "title", "reach", "impressions", "reactions", "comments",
                 "shares", "video_views")
#: Allowed ``content_type`` values.
CONTENT_TYPES = ("success_story", "poster", "video", "cover_image")
_COUNTS = ("reach", "impressions", "reactions", "comments", "shares", "video_views")
_ENGAGEMENT_PARTS = ("reactions", "comments", "shares", "video_views")


def read_reach(path: Path | str) -> pd.DataFrame:
    """Read and validate a reach export.

    Parameters
    ----------
    path : Path or str
        CSV file (UTF-8, UTF-8 BOM or Windows-1251), opened read-only.

    Returns
    -------
    pandas.DataFrame
        ``post_id`` (str), ``date`` (datetime64), ``content_type`` (str),
        ``title`` (str), ``reach, impressions, reactions, comments, shares,
        video_views`` (``Int64``, missing video views allowed) and
        ``engagements`` (``Int64``: reactions + comments + shares + video
        views).

    Raises
    ------
    RawDataError
        Listing every missing column, unreadable date, unknown content type,
        and negative or non-integer count, with its row number.

    Examples
    --------
    >>> df = read_reach("data/raw/together/reach.csv")  # doctest: +SKIP
    """
    from evalkit.codebook import format_rows
    from evalkit.readers import _read_csv, read_bytes

    path = Path(path)
    raw, _ = _read_csv(read_bytes(path), path)
    problems = []
    missing = [c for c in REACH_COLUMNS if c not in raw.columns]
    if missing:
        raise RawDataError(f"The reach export {path} lacks the column(s) {', '.join(missing)}; expected the "
                           f"columns {', '.join(REACH_COLUMNS)} (see data/raw/README.md).")
    out = pd.DataFrame(index=raw.index)
    out["post_id"] = raw["post_id"].str.strip()
    out["date"] = pd.to_datetime(raw["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    bad = out["date"].isna()
    if bad.any():
        problems.append(f"column 'date' is not a YYYY-MM-DD date in row(s) {format_rows(raw.index[bad])}")
    out["content_type"] = raw["content_type"].str.strip().str.casefold()
    bad = ~out["content_type"].isin(CONTENT_TYPES)
    if bad.any():
        values = ", ".join(sorted({repr(v) for v in raw.loc[bad, "content_type"].astype(str)}))
        problems.append(f"column 'content_type' has {values} in row(s) {format_rows(raw.index[bad])}; expected "
                        f"one of: {', '.join(CONTENT_TYPES)}")
    from evalkit.deid import scrub_free_text

    # Post titles can carry phone numbers and e-mails: scrubbed like free text (issue 17).
    out["title"] = scrub_free_text(raw["title"]).where(raw["title"].notna())
    for col in _COUNTS:
        num = pd.to_numeric(raw[col].str.strip(), errors="coerce")
        bad = (raw[col].notna() & (num.isna() | (num < 0) | (num % 1 != 0))) if col == "video_views" else \
            (num.isna() | (num < 0) | (num % 1 != 0))
        if bad.any():
            problems.append(f"column {col!r} is not a whole number >= 0 in row(s) {format_rows(raw.index[bad])}")
        out[col] = num.round().astype("Int64")
    dup = out["post_id"].duplicated(keep=False) & out["post_id"].notna()
    if dup.any():
        problems.append(f"column 'post_id' repeats in row(s) {format_rows(raw.index[dup])}; each post once")
    if problems:
        raise RawDataError(format_problems(
            f"The reach export {path} has {len(problems)} problem(s); correct them in the file and run again "
            f"(rows are spreadsheet rows, header = row 1):",
            problems))
    out["engagements"] = sum(out[c].fillna(0) for c in _ENGAGEMENT_PARTS).astype("Int64")
    return out.reset_index(drop=True)


def total_engagements(df: pd.DataFrame) -> int:
    """Total engagements (reactions + comments + shares + video views) of all posts.

    Examples
    --------
    >>> total_engagements(read_reach(path))  # doctest: +SKIP
    2900000
    """
    return int(df["engagements"].sum())


def _summary(df: pd.DataFrame, by: str) -> pd.DataFrame:
    g = df.groupby(by, sort=True, observed=True)
    out = pd.DataFrame({
        "posts": g.size(),
        "reach": g["reach"].sum(),
        "impressions": g["impressions"].sum(),
        "engagements": g["engagements"].sum(),
    }).reset_index()
    total = out["engagements"].sum()
    out["engagements_pct"] = (100 * out["engagements"] / total).astype("float64") if total else float("nan")
    return out


def reach_by_type(df: pd.DataFrame) -> pd.DataFrame:
    """Posts, reach, impressions and engagements per content type.

    Returns
    -------
    pandas.DataFrame
        ``content_type, posts, reach, impressions, engagements,
        engagements_pct`` (share of all engagements), sorted by content type.
    """
    return _summary(df, "content_type")


def reach_by_date(df: pd.DataFrame) -> pd.DataFrame:
    """Posts, reach, impressions and engagements per day.

    Returns
    -------
    pandas.DataFrame
        ``date, posts, reach, impressions, engagements, engagements_pct``,
        sorted by date (days without posts are absent).
    """
    return _summary(df, "date")
