"""Assemble each wave's raw rows: calibrated respondents, Kobo metadata and fieldwork mess.

The result of :func:`build_waves` is one table per wave with codebook
names as columns (``resp/resp_type``) and choice names as values, plus the
Kobo metadata columns; :mod:`evalkit.synth.export` turns it into the wave's
export flavour. A hidden column ``_mess`` says which kind of mess a row is
(empty for the clean respondents); it is not exported, but tests use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from evalkit.params import DateRange, Indicator, Params, WaveFile
from evalkit.synth import scenario
from evalkit.synth.forms import Form
from evalkit.synth.respondents import (AnswerCoder, Table, allocate, concat, exact_true, extras, nrows,
                                      paired_counts, people, take, text)

_ENUMERATORS = {
    "together": ["bolormaa.b", "ganbat.d", "oyuna.ts", "tuvshin.e", "enkhjargal.s", "munkhzul.g",
                 "batbayar.n", "sarnai.o"],
    "differently-different-2019": ["altan.kh", "dulguun.b", "khulan.ts", "nomin.g", "temuujin.b",
                                   "zolzaya.d", "erdene.s", "undral.m", "bilguun.o"],
    "differently-different-2020": ["anu.b", "dulguun.b", "gerel.ts", "khongor.e", "nomin.g", "saruul.d",
                                   "tseren.m", "yesui.n", "zaya.o"],
}
_TEST_IDS = np.array(["test", "TEST-1", "0000", "тест", "123"])
_ID_PREFIX = {"together": "TG-", "differently-different-2019": "DD19-", "differently-different-2020": "DD20-"}
_SUBMITTED_BY = "stc_mongolia_mel"
_VERSIONS = {("together", "v1"): "vTgK4m8QpZx2WcYh7Ls3Rb", ("together", "v2"): "vN6sJd2HqXe9AuVr4Tk8Mf",
             ("dd", "v1"): "vDd5Pw3FzLq7YcBn2Gh9Ks"}
_KOBO_ID0 = {"together": 151_203_000, "differently-different-2019": 48_310_000,
             "differently-different-2020": 91_774_000}
_TZ = 8 * 3600  # Ulaanbaatar, UTC+08:00

#: Columns of mess rows that hold answers (blank in an incomplete interview).
_ANSWER_PREFIXES = ("know/", "att/", "prac/", "child/")

META_HEAD = ["start", "end", "today", "username", "deviceid"]
META_TAIL = ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
             "_submitted_by", "__version__", "_tags", "_index"]


def scaled_sizes(campaign: str, respondents_per_wave: int | None) -> scenario.Sizes:
    """The stage's :class:`~evalkit.synth.scenario.Sizes`, rescaled to ``respondents_per_wave``."""
    sizes = scenario.SIZES[campaign]
    if respondents_per_wave is None:
        return sizes
    f = respondents_per_wave / sum(sizes.baseline.values())
    base = {g: max(2, round(n * f)) for g, n in sizes.baseline.items()}
    only = {g: max(1, round(n * f)) for g, n in sizes.endline_only.items()}
    if sizes.attrition:
        end = {g: n - round(n * sizes.attrition[g]) + only[g] for g, n in base.items()}
    else:
        end = {g: max(2, round(n * f)) for g, n in sizes.endline.items()}
    return scenario.Sizes(baseline=base, endline=end, attrition=sizes.attrition, endline_only=only)


def id_width(sizes: scenario.Sizes) -> int:
    """Digits of the running number in respondent ids (at least 4)."""
    return max(4, len(str(2 * (sum(sizes.baseline.values()) + sum(sizes.endline.values())))))


def _group_array(sizes: dict[str, int]) -> np.ndarray:
    return np.concatenate([np.full(n, g, dtype=object) for g, n in sizes.items()]) if sizes else np.array([])


def _bernoulli_outcomes(rng: np.random.Generator, n: int, p: float, has_missing: bool) -> np.ndarray:
    out = (rng.random(n) < p).astype(np.int8)
    if has_missing:
        out[rng.random(n) < scenario.MISSING_RATE] = -1
    return out


def _cross_section_outcomes(rng: np.random.Generator, groups: np.ndarray, ind: Indicator, coder: AnswerCoder,
                            key: tuple[str, str], targets: dict, pooled: dict) -> np.ndarray:
    """Outcomes of one wave of a cross-section, exact positive counts per group.

    Returns
    -------
    numpy.ndarray of int8
        Per respondent: 1 positive, 0 negative, -1 don't know/refused, -2 not
        asked (not in the indicator's population).
    """
    out = np.full(len(groups), -2, dtype=np.int8)
    valid: dict[str, np.ndarray] = {}
    for g in ind.population:
        idx = rng.permutation(np.flatnonzero(groups == g))
        n_miss = int(round(scenario.MISSING_RATE * len(idx))) if coder.has_missing else 0
        out[idx[:n_miss]] = -1
        valid[g] = idx[n_miss:]
    p = {g: targets[(*key, ind.id, g)] for g in valid}
    pool = pooled.get((*key, ind.id))
    k = allocate({g: len(v) for g, v in valid.items()}, p, pool.value if pool else None)
    for g, idx in valid.items():
        out[idx] = exact_true(rng, len(idx), k[g]).astype(np.int8)
    return out


def _panel_outcomes(rng: np.random.Generator, groups: np.ndarray, matched: np.ndarray, in_base: np.ndarray,
                    in_end: np.ndarray, ind: Indicator, coder: AnswerCoder, campaign: str, targets: dict,
                    pooled: dict) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and endline outcomes of a panel, exact on matched pairs.

    Matched respondents with a non-missing answer at both waves get exactly
    the target counts and a 2x2 table from
    :func:`~evalkit.synth.respondents.paired_counts`; the others (missing at
    a wave, attrition, replacements) answer at random with the wave's target.

    Returns
    -------
    baseline, endline : numpy.ndarray of int8
        Per person, coded as in :func:`_cross_section_outcomes`.
    """
    base = np.full(len(groups), -2, dtype=np.int8)
    end = np.full(len(groups), -2, dtype=np.int8)
    valid: dict[str, np.ndarray] = {}
    for g in ind.population:
        idx = rng.permutation(np.flatnonzero((groups == g) & matched))
        n_miss = int(round(scenario.MISSING_RATE * len(idx))) if coder.has_missing else 0
        miss, valid[g] = idx[:n_miss], idx[n_miss:]
        pattern = rng.random(n_miss)
        pb, pe = targets[(campaign, "baseline", ind.id, g)], targets[(campaign, "endline", ind.id, g)]
        base[miss] = np.where(pattern < 0.6, -1, (rng.random(n_miss) < pb).astype(np.int8))
        end[miss] = np.where(pattern >= 0.4, -1, (rng.random(n_miss) < pe).astype(np.int8))
        for arr, present, p in [(base, in_base & ~matched, pb), (end, in_end & ~matched, pe)]:
            single = np.flatnonzero((groups == g) & present)
            arr[single] = _bernoulli_outcomes(rng, len(single), p, coder.has_missing)
    n_valid = {g: len(v) for g, v in valid.items()}
    k = {}
    for wave in ("baseline", "endline"):
        pool = pooled.get((campaign, wave, ind.id))
        k[wave] = allocate(n_valid, {g: targets[(campaign, wave, ind.id, g)] for g in valid},
                           pool.value if pool else None)
    for g, idx in valid.items():
        a, b, c, d = paired_counts(len(idx), k["baseline"][g], k["endline"][g], scenario.PANEL_RHO)
        base[idx] = np.repeat(np.array([1, 1, 0, 0], dtype=np.int8), [a, b, c, d])
        end[idx] = np.repeat(np.array([1, 0, 1, 0], dtype=np.int8), [a, b, c, d])
    return base, end


def _answers(rng: np.random.Generator, coder: AnswerCoder, outcome: np.ndarray) -> np.ndarray:
    values = np.full(len(outcome), None, dtype=object)
    asked = outcome != -2
    values[asked] = coder.code(rng, outcome[asked])
    return values


def clean_respondents(rng: np.random.Generator, campaign: str, params: Params, form: Form, sizes: scenario.Sizes,
                      targets: dict, pooled: dict) -> dict[str, Table]:
    """The clean respondents of both waves, answers calibrated to the targets.

    Returns
    -------
    dict
        ``baseline`` / ``endline`` -> :data:`Table` with codebook-named
        columns (consent, identity, PII, demographics, indicator questions,
        info sources, comments, and ``gps`` for Together).
    """
    prefix, child = _ID_PREFIX[campaign], "child" in params.groups
    coders = {ind.id: AnswerCoder(ind, form, params) for ind in params.indicators}
    width = id_width(sizes)
    if params.design == "paired":
        groups = _group_array(sizes.baseline)
        n_base = len(groups)
        left = np.concatenate([exact_true(rng, n, round(n * sizes.attrition[g]))
                               for g, n in sizes.baseline.items()])
        groups = np.concatenate([groups, _group_array(sizes.endline_only)])
        in_base = np.arange(len(groups)) < n_base
        in_end = np.concatenate([~left, np.ones(len(groups) - n_base, dtype=bool)])
        matched = in_base & in_end
        persons = people(rng, groups, id_prefix=prefix, first_number=1, width=width, child_grades=child)
        persons |= extras(rng, len(groups))
        frames = {"baseline": take(persons, in_base), "endline": take(persons, in_end)}
        # Answers that change between waves are redrawn at endline.
        frames["endline"] |= extras(rng, int(in_end.sum()))
        for ind in params.indicators:
            base, end = _panel_outcomes(rng, groups, matched, in_base, in_end, ind, coders[ind.id],
                                        campaign, targets, pooled)
            frames["baseline"][ind.question] = _answers(rng, coders[ind.id], base[in_base])
            frames["endline"][ind.question] = _answers(rng, coders[ind.id], end[in_end])
    else:
        frames = {}
        for wave in ("baseline", "endline"):
            groups = _group_array(getattr(sizes, wave))
            f = people(rng, groups, id_prefix=prefix + wave[0].upper(), first_number=1, width=width,
                       child_grades=child)
            f |= extras(rng, len(groups))
            for ind in params.indicators:
                out = _cross_section_outcomes(rng, groups, ind, coders[ind.id], (campaign, wave), targets, pooled)
                f[ind.question] = _answers(rng, coders[ind.id], out)
            frames[wave] = f
    return {w: _with_consent(f, form) for w, f in frames.items()}


def _with_consent(table: Table, form: Form) -> Table:
    """Consent first; drop columns the form does not have (``gps`` in Differently Different)."""
    names = {q.name for q in form.questions}
    out: Table = {"consent": np.full(nrows(table), "yes", dtype=object)}
    out |= {k: v for k, v in table.items() if k in names}
    return out


# --------------------------------------------------------------------------- metadata and mess


def _epoch(day: dt.date) -> int:
    return int((dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)).timestamp())


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random version-4 UUID strings, vectorised."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    hexchars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    nib = np.empty((n, 32), dtype=np.uint8)
    nib[:, 0::2], nib[:, 1::2] = hexchars[b >> 4], hexchars[b & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, src, width in [(0, 0, 8), (9, 8, 4), (14, 12, 4), (19, 16, 4), (24, 20, 12)]:
        out[:, dst:dst + width] = nib[:, src:src + width]
    return text(out.view("S36").ravel().astype("U36"))


def _times(rng: np.random.Generator, n: int, fieldwork: DateRange, *, days_before: np.ndarray | None = None,
           minutes: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and submission times (UTC epoch seconds) of ``n`` interviews.

    Interviews start 09:00-18:30 local time on a fieldwork day (or
    ``days_before`` the first one) and last 6-55 minutes (median 16), or a
    uniform draw from ``minutes``; they are submitted 2 minutes to 4 hours
    after they end.
    """
    n_days = (fieldwork.end - fieldwork.start).days + 1
    day = rng.integers(0, n_days, n) if days_before is None else -days_before
    local = rng.uniform(9 * 3600, 18.5 * 3600, n)
    start = _epoch(fieldwork.start) + day * 86400 + local.astype(np.int64) - _TZ
    if minutes is None:
        dur = np.clip(rng.lognormal(np.log(16 * 60), 0.35, n), 6 * 60, 55 * 60)
    else:
        dur = rng.uniform(minutes[0] * 60, minutes[1] * 60, n)
    end = start + dur.astype(np.int64)
    sub = end + rng.uniform(120, 4 * 3600, n).astype(np.int64)
    return start, end, sub


def _random_respondents(rng: np.random.Generator, groups: np.ndarray, prefix: str, params: Params, form: Form,
                        first_number: int, width: int) -> Table:
    """Uncalibrated respondents for mess rows (answers drawn at random)."""
    n = len(groups)
    f = people(rng, groups, id_prefix=prefix, first_number=first_number, width=width,
               child_grades="child" in params.groups)
    f |= extras(rng, n)
    for ind in params.indicators:
        coder = AnswerCoder(ind, form, params)
        out = np.where(np.isin(groups, ind.population),
                       _bernoulli_outcomes(rng, n, 0.6, coder.has_missing), -2).astype(np.int8)
        f[ind.question] = _answers(rng, coder, out)
    return _with_consent(f, form)


def _mess_count(kind: str, n: int) -> int:
    return max(2, int(round(scenario.MESS_RATES[kind] * n)))


def build_waves(rng: np.random.Generator, campaign: str, params: Params, form: Form, sizes: scenario.Sizes,
                targets: dict, pooled: dict) -> dict[str, Table]:
    """Every raw row of both waves: clean respondents plus the fieldwork mess.

    Returns
    -------
    dict
        ``baseline`` / ``endline`` -> :data:`Table` in submission order with
        :data:`META_HEAD`, the codebook-named question columns,
        :data:`META_TAIL` and the hidden ``_mess`` column (``""`` for clean
        rows, else one of the keys of ``scenario.MESS_RATES``).
    """
    return dict(iter_waves(rng, campaign, params, form, sizes, targets, pooled))


def iter_waves(rng: np.random.Generator, campaign: str, params: Params, form: Form, sizes: scenario.Sizes,
               targets: dict, pooled: dict) -> Iterator[tuple[str, Table]]:
    """:func:`build_waves` one wave at a time, so a caller can write and free each (scale mode)."""
    clean = clean_respondents(rng, campaign, params, form, sizes, targets, pooled)
    enumerators = np.array(_ENUMERATORS[campaign], dtype=object)
    letters = list("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
    devices = {u: "collect:" + "".join(rng.choice(letters, 16)) for u in enumerators}
    width = id_width(sizes)
    paired = params.design == "paired"
    next_number = 1 + len(pa.concat_arrays([f["resp/resp_id"] for f in clean.values()]).unique())
    question_cols = list(clean["baseline"])
    all_groups = np.array(list(params.groups), dtype=object)
    id0 = _KOBO_ID0[campaign]
    for wave in ("baseline", "endline"):
        wf: WaveFile = params.wave_file(wave)
        c = dict(clean.pop(wave))
        n = nrows(c)
        prefix = _ID_PREFIX[campaign] + ("" if paired else wave[0].upper())
        if not paired:
            next_number = n + 1

        def stamp(t: Table, kind: str, times, users: np.ndarray) -> Table:
            m = nrows(t)
            t["_mess"] = np.full(m, kind, dtype=object)
            t["_t0"], t["_t1"], t["_ts"] = times
            t["username"] = users
            return t

        def real_users(m: int) -> np.ndarray:
            return enumerators[rng.integers(0, len(enumerators), m)]

        parts = [stamp(c, "", _times(rng, n, wf.fieldwork), real_users(n))]

        # Re-interviews: an incomplete interview before (a) or after (b) the kept one.
        k = _mess_count("reinterview", n)
        src = take(c, rng.choice(n, k, replace=False))
        later = rng.random(k) < 0.5
        gap = rng.uniform(20 * 60, 180 * 60, k).astype(np.int64)
        dur = rng.uniform(4 * 60, 8 * 60, k).astype(np.int64)
        t0 = np.where(later, src["_ts"] + gap, src["_t0"] - gap - dur)
        ts = t0 + dur + rng.integers(60, 600, k)
        for col in src:
            if col.startswith(_ANSWER_PREFIXES) or col in ("comments", "gps"):
                src[col] = np.full(k, None, dtype=object)
        parts.append(stamp(src, "reinterview", (t0, t0 + dur, ts), src["username"]))

        # New (uncalibrated) respondents whose rows the cleaning rules drop.
        def newcomers(kind: str, groups: np.ndarray, **times) -> Table:
            nonlocal next_number
            f = _random_respondents(rng, groups, prefix, params, form, next_number, width)
            next_number += len(groups)
            return stamp(f, kind, _times(rng, len(groups), wf.fieldwork, **times), real_users(len(groups)))

        def any_group(kind: str) -> np.ndarray:
            return all_groups[rng.integers(0, len(all_groups), _mess_count(kind, n))]

        f = newcomers("test_enumerator", any_group("test_enumerator"))
        test_users = np.array([v for t in params.cleaning.test_enumerators for v in (t, t.capitalize(), t.upper())],
                              dtype=object)
        f["username"] = test_users[rng.integers(0, len(test_users), nrows(f))]
        f["resp/resp_id"] = _TEST_IDS[rng.integers(0, len(_TEST_IDS), nrows(f))].astype(object)
        parts.append(f)
        g = any_group("before_fieldwork")
        parts.append(newcomers("before_fieldwork", g, days_before=rng.integers(1, 6, len(g))))
        f = newcomers("refused_consent", any_group("refused_consent"), minutes=(0.7, 4.0))
        for col in question_cols:
            f[col] = np.full(nrows(f), None, dtype=object)
        f["consent"] = np.full(nrows(f), "no", dtype=object)
        parts.append(f)
        shortest = params.cleaning.min_duration_minutes
        parts.append(newcomers("short_interview", any_group("short_interview"),
                               minutes=(shortest / 3, shortest - 0.1)))
        for check in params.cleaning.range_checks:
            k = _mess_count("out_of_range", n)
            f = newcomers("out_of_range", np.full(k, "child", dtype=object))
            bad = np.array([1, 2, 3, 10, 11, 12])[rng.integers(0, 6, k)]
            f[check.question] = bad.astype(object)
            f["demo/age_band"] = np.where(bad <= 6, "age_10_12", "age_13_15").astype(object)
            parts.append(f)
        for check in params.cleaning.consistency_checks:
            k = _mess_count("inconsistent", n)
            f = newcomers("inconsistent", np.full(k, check.if_value, dtype=object))
            f[check.then_question] = np.full(k, "no", dtype=object)
            parts.append(f)

        rows = concat(parts)
        rows["_uuid"] = uuids(rng, nrows(rows))
        # Exact duplicates: the same clean submission received twice.
        k = _mess_count("exact_duplicate", n)
        dup = take(rows, np.sort(rng.choice(n, k, replace=False)))
        dup["_mess"] = np.full(k, "exact_duplicate", dtype=object)
        rows = concat([rows, dup])
        del parts, c, src, dup
        order = np.lexsort((np.arange(nrows(rows)), rows["_ts"]))  # a duplicate sorts after its original
        rows = take(rows, order)
        n_rows = nrows(rows)
        yield wave, _finish(rows, campaign, wf, devices, question_cols, id0=id0)
        del rows
        id0 += n_rows + 2_456_117  # Kobo ids grow with every submission on the server


def _iso(t: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(t.astype("datetime64[s]"), unit="s")


def _finish(rows: Table, campaign: str, wf: WaveFile, devices: dict, question_cols: list[str], *,
            id0: int) -> Table:
    """Format the Kobo metadata columns and put the columns in export order."""
    n = nrows(rows)
    local_start = _iso(rows["_t0"] + _TZ)
    users = rows["username"]
    device = np.full(n, "ee.kobotoolbox.org:kQ2vX9pLmT4rZs8w", dtype=object)  # web form (test users)
    for u, d in devices.items():
        device[users == u] = d
    family = "together" if campaign == "together" else "dd"
    out: Table = {
        "start": text(np.strings.add(local_start, ".000+08:00")),
        "end": text(np.strings.add(_iso(rows["_t1"] + _TZ), ".000+08:00")),
        "today": text(np.strings.slice(local_start, 0, 10)),
        "username": users,
        "deviceid": device,
    }
    out |= {c: rows[c] for c in question_cols}
    none = np.full(n, None, dtype=object)
    out |= {
        "_id": np.arange(id0, id0 + n),
        "_uuid": rows["_uuid"],
        "_submission_time": text(_iso(rows["_ts"])),
        "_validation_status": none, "_notes": none,
        "_status": np.full(n, "submitted_via_web", dtype=object),
        "_submitted_by": np.full(n, _SUBMITTED_BY, dtype=object),
        "__version__": np.full(n, _VERSIONS[(family, wf.form_version)], dtype=object),
        "_tags": none,
        "_index": np.arange(1, n + 1),
        "_mess": rows["_mess"],
    }
    return out
