"""Clean synthetic respondents and their answers, calibrated by exact counts.

Who answers positively is random; how many is not: for every indicator,
group and wave the number of positive answers is fixed so the published
figure comes out (to rounding) on the clean data. For the panel the counts
are fixed on matched pairs (baseline and endline both answered), for
cross-sections on each wave's respondents. Everything is vectorised numpy,
so the scale mode (a million respondents per wave) uses the same code.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from evalkit.params import Indicator, Params
from evalkit.synth import scenario
from evalkit.synth.forms import Form

#: A table: column name -> one array per column, all of the same length.
#: Answers with few distinct values are numpy object arrays (shared string
#: objects); free text and identifiers, unique per row, are Arrow string
#: arrays (compact UTF-8, no Python object per cell). Plain arrays keep a
#: million-row table fast (no pandas dtype inference).
Table = dict[str, "np.ndarray | pa.Array"]


def text(values: np.ndarray) -> pa.Array:
    """A numpy string array as an Arrow text column; empty strings become missing."""
    values = np.asarray(values)
    return pa.array(values, mask=values == "", type=pa.large_string())


def _is_arrow(values: object) -> bool:
    return isinstance(values, pa.Array)


def take(table: Table, rows: np.ndarray) -> Table:
    """Rows of a table by integer index or boolean mask."""
    idx = np.flatnonzero(rows) if rows.dtype == bool else rows
    arrow_idx = pa.array(idx, type=pa.int64())
    return {k: v.take(arrow_idx) if _is_arrow(v) else v[idx] for k, v in table.items()}


def concat(tables: list[Table]) -> Table:
    """Stack tables with the same columns (in the first table's order)."""
    out: Table = {}
    for k in tables[0]:
        parts = [t[k] for t in tables]
        if any(_is_arrow(p) for p in parts):
            out[k] = pa.concat_arrays([p if _is_arrow(p) else pa.array(p, type=pa.large_string(), from_pandas=True)
                                       for p in parts])
        else:
            out[k] = np.concatenate(parts)
    return out


def nrows(table: Table) -> int:
    """Number of rows of a table."""
    return len(next(iter(table.values())))


_GIVEN = np.array([
    "Батболд", "Оюунчимэг", "Мөнхбат", "Энхтуяа", "Ганбаатар", "Болормаа", "Сүхбаатар", "Наранцэцэг",
    "Төмөрбаатар", "Баярмаа", "Дорж", "Уранчимэг", "Золбоо", "Цэцэгмаа", "Хүрэлсүх", "Мөнхзул",
    "Ариунаа", "Тэмүүлэн", "Нандин-Эрдэнэ", "Өлзийбаяр", "Түвшинжаргал", "Сарнай", "Бат-Эрдэнэ",
    "Отгонбаяр", "Гэрэлмаа", "Пүрэвдорж", "Алтанцэцэг", "Жаргалсайхан", "Номин", "Энхжин",
    "Үүрцайх", "Мягмарсүрэн", "Дэлгэрмаа", "Ганзориг", "Солонго", "Хулан", "Билгүүн", "Анударь",
])
_INITIALS = np.array(list("АБГДЖЗИЛМНОӨПРСТУҮХЦЧШЭЯ"))
_PHONE_PREFIX = np.array(["99", "88", "95", "94", "91", "80", "89", "96", "85", "86"])

#: Aimag -> (Mongolian genitive for school names, latitude, longitude,
#: altitude, sampling weight, share urban).
AIMAGS: dict[str, tuple[str, float, float, float, float, float]] = {
    "ulaanbaatar": ("Улаанбаатар хотын", 47.9184, 106.9177, 1350.0, 0.40, 0.95),
    "darkhan_uul": ("Дархан-Уул аймгийн", 49.4867, 105.9228, 707.0, 0.10, 0.70),
    "orkhon": ("Орхон аймгийн", 49.0278, 104.0447, 1250.0, 0.10, 0.75),
    "arkhangai": ("Архангай аймгийн", 47.4746, 101.4540, 1690.0, 0.10, 0.35),
    "uvurkhangai": ("Өвөрхангай аймгийн", 46.2639, 102.7750, 1900.0, 0.10, 0.35),
    "khovd": ("Ховд аймгийн", 48.0056, 91.6419, 1400.0, 0.10, 0.40),
    "dornod": ("Дорнод аймгийн", 48.0706, 114.5361, 750.0, 0.10, 0.45),
}

_COMMENTS = np.array([
    "Энэ сурталчилгаа маш хэрэгтэй байна",
    "Тусгай хэрэгцээт хүүхдийн талаар илүү их мэдээлэл хэрэгтэй",
    "Багш нарт сургалт хэрэгтэй",
    "Сургуулийн орчныг хүртээмжтэй болгох хэрэгтэй",
    "Фэйсбүүкээр видео үзсэн, сайн байсан",
    "Хүүхдүүд хамт сурах нь зөв",
    "Манай сумын сургуульд туслах багш хэрэгтэй",
    "Эцэг эхчүүдэд зориулсан уулзалт зохион байгуулаач",
    "Сайн байна",
    "Ямар нэг санал алга",
])
_PHONE_COMMENTS = np.array([
    "Дэлгэрэнгүй мэдээлэл авмаар байна, утас ",
    "Миний утас руу залгаарай ",
    "Сургалтад хамрагдмаар байна. Холбоо барих: ",
])
COMMENT_RATE = 0.25
PHONE_COMMENT_SHARE = 0.15

#: Choice sampling weights of demographics, per respondent group.
_ADULT_AGE = {"age_18_29": 0.15, "age_30_39": 0.42, "age_40_49": 0.30, "age_50_plus": 0.13}
_STAFF_AGE = {"age_18_29": 0.20, "age_30_39": 0.35, "age_40_49": 0.30, "age_50_plus": 0.15}
_PARENT_EDU = {"none_primary": 0.08, "secondary": 0.42, "vocational": 0.20, "higher": 0.30}
_STAFF_EDU = {"vocational": 0.15, "higher": 0.85}
_FEMALE = {"parent_sen": 0.74, "parent_nosen": 0.70, "staff": 0.80, "parent": 0.72, "child": 0.50}
_INFO_SOURCES = {"facebook": 0.70, "tv": 0.45, "school": 0.40, "friends": 0.30, "other": 0.08}


def obj(values: np.ndarray) -> np.ndarray:
    """A numpy string array as an object array (empty strings become ``None``)."""
    out = np.asarray(values).astype(object)
    out[out == ""] = None
    return out


def choose(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    """``n`` choice names drawn with the given weights (object array)."""
    names = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return obj(names[rng.choice(len(names), size=n, p=p / p.sum())])


def exact_true(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """A boolean array of length ``n`` with exactly ``k`` True, in random order."""
    out = np.zeros(n, dtype=bool)
    out[:k] = True
    return rng.permutation(out)


def allocate(n: dict[str, int], p: dict[str, float], pooled: float | None) -> dict[str, int]:
    """Positive counts per group, so each group and the pooled share hit their targets.

    Parameters
    ----------
    n : dict
        Group -> respondents with a non-missing answer.
    p : dict
        Group -> target share.
    pooled : float or None
        Target share of all groups together; the largest group absorbs the
        rounding so the pooled count is ``round(pooled * sum(n))``.

    Returns
    -------
    dict
        Group -> number of positive answers.
    """
    k = {g: int(round(p[g] * n[g])) for g in n}
    if pooled is not None and n:
        total = int(round(pooled * sum(n.values())))
        largest = max(n, key=lambda g: n[g])
        k[largest] = min(max(k[largest] + total - sum(k.values()), 0), n[largest])
    return k


def paired_counts(n: int, kb: int, ke: int, rho: float) -> tuple[int, int, int, int]:
    """Cell counts ``(pos->pos, pos->neg, neg->pos, neg->neg)`` of a paired 2x2 table.

    The margins are exactly ``kb`` positive at baseline and ``ke`` at endline;
    ``rho`` in [0, 1] moves the concordant count from independence towards
    its maximum.
    """
    indep = kb * ke / n if n else 0.0
    a = int(round(indep + rho * (min(kb, ke) - indep)))
    a = max(a, kb + ke - n, 0)
    return a, kb - a, ke - a, n - kb - ke + a


class AnswerCoder:
    """Turns positive/negative/missing outcomes into choice names for one indicator.

    Positive outcomes spread over the positive choices (lower one more
    often), negative ones over the other substantive choices (nearest to
    positive most often); missing ones are "don't know" (70 %) or "refused".
    """

    def __init__(self, ind: Indicator, form: Form, params: Params) -> None:
        q = form.question(ind.question)
        names = form.choice_names(q.list_name)
        dk, ref = params.cleaning.dont_know[0], params.cleaning.refused[0]
        self.has_missing = dk in names and ref in names
        self.missing = (dk, ref)
        substantive = [c for c in names if c not in (dk, ref)]
        self.positive = [c for c in substantive if c in ind.positive]
        self.negative = [c for c in substantive if c not in ind.positive][::-1]  # nearest first

    def code(self, rng: np.random.Generator, outcome: np.ndarray) -> np.ndarray:
        """Choice names for outcomes ``1`` (positive), ``0`` (negative), ``-1`` (missing)."""
        out = np.empty(len(outcome), dtype=object)
        for mask, names, weights in [
            (outcome == 1, self.positive, [0.58, 0.42]),
            (outcome == 0, self.negative, [0.45, 0.40, 0.15]),
            (outcome == -1, list(self.missing), [scenario.DONT_KNOW_SHARE, 1 - scenario.DONT_KNOW_SHARE]),
        ]:
            m = int(mask.sum())
            if m:
                w = np.resize(np.array(weights[:len(names)] or [1.0]), len(names)).astype(float)
                out[mask] = np.array(names, dtype=object)[rng.choice(len(names), size=m, p=w / w.sum())]
        return out


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return text(np.strings.add(prefix, np.strings.zfill(numbers.astype(str), width)))


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mongolian mobile numbers ``+976 ########``."""
    digits = np.strings.zfill(rng.integers(0, 1_000_000, size=n).astype(str), 6)
    return np.strings.add(np.strings.add("+976 ", _PHONE_PREFIX[rng.integers(0, len(_PHONE_PREFIX), n)]), digits)


def _fixed(values: np.ndarray, decimals: int) -> np.ndarray:
    """Format positive floats with a fixed number of decimals, vectorised."""
    digits = np.round(values * 10**decimals).astype(np.int64).astype(str)
    digits = np.strings.zfill(digits, decimals + 1)
    return np.strings.add(np.strings.add(np.strings.slice(digits, 0, -decimals), "."),
                          np.strings.slice(digits, -decimals, None))


def people(rng: np.random.Generator, groups: np.ndarray, *, id_prefix: str, first_number: int,
           width: int, child_grades: bool) -> Table:
    """Respondents with identity, PII and demographics (codebook names as keys).

    Parameters
    ----------
    rng : numpy.random.Generator
    groups : array of str
        One respondent group (choice name of ``resp/resp_type``) per person.
    id_prefix, first_number, width : keyword-only
        Respondent ids are ``id_prefix`` + zero-padded running number.
    child_grades : bool, keyword-only
        Draw ``resp/grade`` 4-9 for children (Differently Different).

    Returns
    -------
    Table
        Columns ``resp/resp_id, resp/name, resp/phone, resp/school,
        resp/resp_type, resp/has_sen_child, resp/grade, demo/*, gps``.
    """
    n = len(groups)
    aimag_names = np.array(list(AIMAGS))
    a_idx = rng.choice(len(aimag_names), size=n, p=np.array([v[4] for v in AIMAGS.values()]))
    urban_share = np.array([v[5] for v in AIMAGS.values()])[a_idx]
    is_child = groups == "child"
    is_staff = groups == "staff"
    p_female = np.zeros(n)
    for g, share in _FEMALE.items():
        p_female[groups == g] = share
    female = rng.random(n) < p_female
    school_no = np.where(a_idx == 0, rng.integers(1, 120, n), rng.integers(1, 12, n))
    genitive = np.array([v[0] for v in AIMAGS.values()])[a_idx]
    school = np.strings.add(np.strings.add(np.strings.add(genitive, " "), school_no.astype(str)), "-р сургууль")
    lat = np.array([v[1] for v in AIMAGS.values()])[a_idx] + rng.normal(0, 0.04, n)
    lon = np.array([v[2] for v in AIMAGS.values()])[a_idx] + rng.normal(0, 0.06, n)
    alt = np.array([v[3] for v in AIMAGS.values()])[a_idx] + rng.normal(0, 15, n)
    acc = rng.uniform(3, 25, n)
    gps = np.strings.add(np.strings.add(np.strings.add(np.strings.add(np.strings.add(np.strings.add(
        _fixed(lat, 6), " "), _fixed(lon, 6)), " "), _fixed(alt, 1)), " "), _fixed(acc, 1))
    name = np.strings.add(np.strings.add(_INITIALS[rng.integers(0, len(_INITIALS), n)], ". "),
                          _GIVEN[rng.integers(0, len(_GIVEN), n)])
    grade = np.where(is_child, rng.integers(4, 10, n), 0)
    age = np.where(is_staff, choose(rng, _STAFF_AGE, n), choose(rng, _ADULT_AGE, n))
    age = np.where(is_child, np.where(grade <= 6, "age_10_12", "age_13_15"), age)
    edu = np.where(is_staff, choose(rng, _STAFF_EDU, n), choose(rng, _PARENT_EDU, n))
    has_sen = np.where(groups == "parent_sen", "yes", np.where(groups == "parent_nosen", "no", ""))
    return {
        "resp/resp_id": _ids(id_prefix, np.arange(first_number, first_number + n), width),
        "resp/name": text(name),
        "resp/phone": text(phones(rng, n)),
        "resp/school": text(school),
        "resp/resp_type": obj(groups),
        "resp/has_sen_child": obj(has_sen),
        "resp/grade": np.where(is_child, grade, None) if child_grades else np.full(n, None, dtype=object),
        "demo/aimag": obj(aimag_names[a_idx]),
        "demo/location": obj(np.where(rng.random(n) < urban_share, "urban", "rural")),
        "demo/sex": obj(np.where(female, "female", "male")),
        "demo/age_band": obj(age),
        "demo/education": np.where(is_child, None, obj(edu)),
        "gps": text(gps),
    }


def extras(rng: np.random.Generator, n: int) -> Table:
    """Answers that are no indicator: information sources and free-text comments.

    Returns
    -------
    Table
        Columns ``prac/info_sources`` (space-separated choice names, at least
        one) and ``comments`` (mostly empty; some contain a phone number).
    """
    names = list(_INFO_SOURCES)
    bits = np.zeros(n, dtype=np.int64)
    for i, p in enumerate(_INFO_SOURCES.values()):
        bits |= (rng.random(n) < p).astype(np.int64) << i
    bits[bits == 0] = 1  # nobody has no source at all: facebook
    combos = np.array([" ".join(c for i, c in enumerate(names) if b >> i & 1) for b in range(2 ** len(names))],
                      dtype=object)
    summary = combos[bits]
    has_comment = rng.random(n) < COMMENT_RATE
    with_phone = has_comment & (rng.random(n) < PHONE_COMMENT_SHARE)
    plain = _COMMENTS[rng.integers(0, len(_COMMENTS), n)]
    ph = phones(rng, n)
    style = rng.integers(0, 3, n)
    ph = np.where(style == 0, np.strings.slice(ph, 5, None), ph)  # local form 99112345
    ph = np.where(style == 1, np.strings.add(np.strings.add(np.strings.slice(ph, 0, 9), "-"),
                                             np.strings.slice(ph, 9, None)), ph)  # +976 9911-2345
    phone_text = np.strings.add(_PHONE_COMMENTS[rng.integers(0, len(_PHONE_COMMENTS), n)], ph)
    comments = np.where(with_phone, phone_text, np.where(has_comment, plain, ""))
    return {"prac/info_sources": summary, "comments": text(comments)}
