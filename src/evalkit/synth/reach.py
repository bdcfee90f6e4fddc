"""The per-post social-media reach export (``reach.csv``) of a campaign stage.

Engagements are defined as reactions + comments + shares + video views
(repeat counts). The posts' engagements add up exactly to the stage's total:
the published reach for Together, the documented split of "more than 4
million" for Differently Different.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from evalkit.params import Params
from evalkit.synth import scenario

REACH_COLUMNS = ["post_id", "date", "content_type", "title", "reach", "impressions", "reactions", "comments",
                 "shares", "video_views"]
_WEIGHT = {"video": 3.0, "success_story": 1.6, "poster": 0.9, "cover_image": 0.5}
_TITLES = {
    "success_story": ["Амжилтын түүх: Тэмүүлэн анх удаа сургуульд явлаа", "Амжилтын түүх: Ээжийн итгэл",
                      "Амжилтын түүх: Хамтдаа суралцъя", "Амжилтын түүх: Багшийн туршлага",
                      "Амжилтын түүх: Найзууд маань", "Амжилтын түүх: Авьяасаа нээсэн нь",
                      "Амжилтын түүх: Ангийн хамт олон", "Амжилтын түүх: Мөрөөдлийн мэргэжил"],
    "poster": ["Бүх хүүхэд сурах эрхтэй", "Ялгаатай ч адилхан", "Хамтдаа илүү хүчтэй",
               "Хүүхэд бүрийн авьяасыг хөгжүүлье", "Хүртээмжтэй боловсрол гэж юу вэ?",
               "Гэртээ биш, сургуульдаа", "Тусгай хэрэгцээт хүүхдийг дэмжье", "Эрх тэгш боловсрол",
               "Бид бүгд өөр өөр", "Сургууль бүр хүн бүрт", "Хамтдаа тоглоё, хамтдаа сурцгаая"],
    "video": ["Видео: Хамтдаа суралцах нь", "Видео: Нэг өдөр ангид", "Видео: Эцэг эхийн үг",
              "Видео: Багш нарын туршлага", "Видео: Хүүхдүүдийн дуу хоолой"],
    "cover_image": ["Хуудасны нүүр зураг", "Кампанит ажлын нүүр зураг"],
}
_HASHTAG = {"together": "#Хамтдаа", "differently-different-2019": "#ӨөрӨөр",
            "differently-different-2020": "#ӨөрӨөр"}
_PAGE_ID = {"together": "104581223345", "differently-different-2019": "184402915528",
            "differently-different-2020": "184402915528"}


def split_total(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that add up exactly to ``total`` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    short = total - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out


def reach_table(rng: np.random.Generator, campaign: str, params: Params) -> pd.DataFrame:
    """The reach export of one stage.

    Parameters
    ----------
    rng : numpy.random.Generator
    campaign : str
        Stage name (a key of ``scenario.REACH_POSTS``).
    params : Params
        The stage's params; ``published_reach`` (if set) is the exact total
        of engagements, otherwise ``scenario.REACH_TOTALS``.

    Returns
    -------
    pandas.DataFrame
        Columns ``post_id, date, content_type, title, reach, impressions,
        reactions, comments, shares, video_views``, one row per post in date
        order.
    """
    counts = scenario.REACH_POSTS[campaign]
    total = params.published_reach or scenario.REACH_TOTALS[campaign]
    types = np.array([t for t, k in counts.items() for _ in range(k)], dtype=object)
    n = len(types)
    weights = np.array([_WEIGHT[t] for t in types]) * rng.lognormal(0, 0.35, n)
    eng = split_total(total, weights)
    is_video = types == "video"
    views = np.where(is_video, np.floor(eng * rng.uniform(0.62, 0.75, n)), 0).astype(np.int64)
    rest = eng - views
    reactions = np.floor(rest * rng.uniform(0.72, 0.82, n)).astype(np.int64)
    comments = np.floor(rest * rng.uniform(0.04, 0.09, n)).astype(np.int64)
    shares = rest - reactions - comments
    reach = np.round(eng * rng.uniform(1.1, 1.8, n)).astype(np.int64)
    impressions = np.round(reach * rng.uniform(1.3, 1.9, n)).astype(np.int64)
    period = params.campaign_period
    days = np.sort(rng.choice((period.end - period.start).days + 1, size=n, replace=n > 30))
    order = rng.permutation(n)  # which post goes out on which day
    seen: dict[str, int] = {}
    titles = []
    for t in types[order]:
        titles.append(f"{_TITLES[t][seen.get(t, 0) % len(_TITLES[t])]} {_HASHTAG[campaign]}")
        seen[t] = seen.get(t, 0) + 1
    post_numbers = np.sort(rng.choice(10**15, size=n, replace=False)) + 10**15
    return pd.DataFrame({
        "post_id": [f"{_PAGE_ID[campaign]}_{p}" for p in post_numbers],
        "date": [(period.start + dt.timedelta(days=int(d))).isoformat() for d in days],
        "content_type": types[order],
        "title": titles,
        "reach": reach[order], "impressions": impressions[order], "reactions": reactions[order],
        "comments": comments[order], "shares": shares[order], "video_views": views[order],
    })[REACH_COLUMNS]
