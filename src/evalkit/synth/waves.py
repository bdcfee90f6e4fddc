"""Assemble each wave's raw rows: calibrated respondents, Kobo metadata and fieldwork mess.

The result of :func:`build_waves` is one DataFrame per wave with codebook
names as columns (``resp/resp_type``) and choice names as values, plus the
Kobo metadata columns; :mod:`evalkit.synth.export` turns it into the wave's
export flavour. A hidden column ``_mess`` says which kind of mess a row is
(empty for the clean respondents); it is not exported, but tests use it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from evalkit.params import Params, WaveFile
from evalkit.synth import scenario
from evalkit.synth.forms import Form
from evalkit.synth.respondents import AnswerCoder, allocate, exact_true, extras, obj, paired_counts, people

_ENUMERATORS = {
    "together": ["bolormaa.b", "ganbat.d", "oyuna.ts", "tuvshin.e", "enkhjargal.s", "munkhzul.g",
                 "batbayar.n", "sarnai.o"],
    "differently-different-2019": ["altan.kh", "dulguun.b", "khulan.ts", "nomin.g", "temuujin.b",
                                   "zolzaya.d", "erdene.s", "undral.m", "bilguun.o"],
    "differently-different-2020": ["anu.b", "dulguun.b", "gerel.ts", "khongor.e", "nomin.g", "saruul.d",
                                   "tseren.m", "yesui.n", "zaya.o"],
}
_TEST_USERS = np.array(["test", "Test", "demo", "TEST"])
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


def _cross_section_outcomes(rng, groups, ind, coder, key, targets, pooled) -> np.ndarray:
    """Outcomes (1/0/-1, -2 = not asked) with exact positive counts per group."""
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


def _panel_outcomes(rng, groups, matched, in_base, in_end, ind, coder, campaign, targets, pooled):
    """Baseline and endline outcomes of a panel, exact on matched pairs."""
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


def _answers(rng, coder: AnswerCoder, outcome: np.ndarray) -> np.ndarray:
    values = np.full(len(outcome), None, dtype=object)
    asked = outcome != -2
    values[asked] = coder.code(rng, outcome[asked])
    return values


def clean_respondents(rng, campaign: str, params: Params, form: Form, sizes: scenario.Sizes,
                      targets: dict, pooled: dict) -> dict[str, pd.DataFrame]:
    """The clean respondents of both waves, answers calibrated to the targets.

    Returns
    -------
    dict
        ``baseline`` / ``endline`` -> DataFrame with codebook-named columns
        (identity, PII, demographics, indicator questions, info sources,
        comments, and ``gps`` for Together).
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
        persons = pd.concat([persons, extras(rng, len(groups))], axis=1)
        frames = {"baseline": persons[in_base].copy(), "endline": persons[in_end].copy()}
        # Answers that change between waves are redrawn at endline.
        frames["endline"][["prac/info_sources", "comments"]] = extras(rng, int(in_end.sum())).to_numpy()
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
            f = pd.concat([f, extras(rng, len(groups))], axis=1)
            for ind in params.indicators:
                out = _cross_section_outcomes(rng, groups, ind, coders[ind.id], (campaign, wave), targets, pooled)
                f[ind.question] = _answers(rng, coders[ind.id], out)
            frames[wave] = f
    for f in frames.values():
        f.insert(0, "consent", "yes")
    has_gps = "gps" in [q.name for q in form.questions]
    return {w: (f if has_gps else f.drop(columns="gps")).reset_index(drop=True) for w, f in frames.items()}


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
    for dst, src in [(0, 0), (9, 8), (14, 12), (19, 16), (24, 20)]:
        width = {0: 8, 9: 4, 14: 4, 19: 4, 24: 12}[dst]
        out[:, dst:dst + width] = nib[:, src:src + width]
    return out.view("S36").ravel().astype("U36").astype(object)


def _times(rng, n: int, fieldwork, *, days_before: np.ndarray | None = None,
           minutes: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and submission times (UTC epoch seconds) of ``n`` interviews."""
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


def _random_respondents(rng, groups: np.ndarray, prefix: str, params: Params, form: Form,
                        first_number: int, width: int) -> pd.DataFrame:
    """Uncalibrated respondents for mess rows (answers drawn at random)."""
    n = len(groups)
    f = people(rng, groups, id_prefix=prefix, first_number=first_number, width=width,
               child_grades="child" in params.groups)
    f = pd.concat([f, extras(rng, n)], axis=1)
    if "gps" not in [q.name for q in form.questions]:
        f = f.drop(columns="gps")
    for ind in params.indicators:
        coder = AnswerCoder(ind, form, params)
        out = np.where(np.isin(groups, ind.population),
                       _bernoulli_outcomes(rng, n, 0.6, coder.has_missing), -2).astype(np.int8)
        f[ind.question] = _answers(rng, coder, out)
    f.insert(0, "consent", "yes")
    return f


def build_waves(rng: np.random.Generator, campaign: str, params: Params, form: Form, sizes: scenario.Sizes,
                targets: dict, pooled: dict) -> dict[str, pd.DataFrame]:
    """Every raw row of both waves: clean respondents plus the fieldwork mess.

    Returns
    -------
    dict
        ``baseline`` / ``endline`` -> DataFrame in submission order with
        :data:`META_HEAD`, the codebook-named question columns,
        :data:`META_TAIL` and the hidden ``_mess`` column (``""`` for clean
        rows, else one of the keys of ``scenario.MESS_RATES``).
    """
    clean = clean_respondents(rng, campaign, params, form, sizes, targets, pooled)
    enumerators = np.array(_ENUMERATORS[campaign])
    letters = list("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
    devices = {u: "collect:" + "".join(rng.choice(letters, 16)) for u in enumerators}
    width = id_width(sizes)
    paired = params.design == "paired"
    next_number = 1 + len(pd.unique(pd.concat([f["resp/resp_id"] for f in clean.values()])))
    question_cols = list(clean["baseline"].columns)
    out = {}
    id0 = _KOBO_ID0[campaign]
    for wave in ("baseline", "endline"):
        wf: WaveFile = params.wave_file(wave)
        c = clean[wave].copy()
        n = len(c)
        prefix = _ID_PREFIX[campaign] + ("" if paired else wave[0].upper())
        if not paired:
            next_number = n + 1
        c["_mess"] = ""
        c["_t0"], c["_t1"], c["_ts"] = _times(rng, n, wf.fieldwork)
        c["username"] = obj(enumerators[rng.integers(0, len(enumerators), n)])
        parts = [c]

        def count(kind: str) -> int:
            return max(2, int(round(scenario.MESS_RATES[kind] * n)))

        # Re-interviews: an incomplete interview before (a) or after (b) the kept one.
        k = count("reinterview")
        src = c.iloc[rng.choice(n, k, replace=False)].copy()
        later = rng.random(k) < 0.5
        gap = rng.uniform(20 * 60, 180 * 60, k).astype(np.int64)
        dur = rng.uniform(4 * 60, 8 * 60, k).astype(np.int64)
        t0 = np.where(later, src["_ts"].to_numpy() + gap, src["_t0"].to_numpy() - gap - dur)
        src["_t0"], src["_t1"] = t0, t0 + dur
        src["_ts"] = src["_t1"] + rng.integers(60, 600, k)
        for col in src.columns:
            if col.startswith(_ANSWER_PREFIXES) or col in ("comments", "gps"):
                src[col] = None
        src["_mess"] = "reinterview"
        parts.append(src)

        # New (uncalibrated) respondents whose rows the cleaning rules drop.
        def newcomers(kind: str, groups: np.ndarray) -> pd.DataFrame:
            nonlocal next_number
            f = _random_respondents(rng, groups, prefix, params, form, next_number, width)
            next_number += len(groups)
            f["_mess"] = kind
            f["username"] = obj(enumerators[rng.integers(0, len(enumerators), len(groups))])
            f["_t0"], f["_t1"], f["_ts"] = _times(rng, len(groups), wf.fieldwork)
            return f

        all_groups = np.array(list(params.groups))
        k = count("test_enumerator")
        f = newcomers("test_enumerator", all_groups[rng.integers(0, len(all_groups), k)])
        f["username"] = obj(_TEST_USERS[rng.integers(0, len(_TEST_USERS), k)])
        f["resp/resp_id"] = obj(_TEST_IDS[rng.integers(0, len(_TEST_IDS), k)])
        parts.append(f)
        k = count("before_fieldwork")
        f = newcomers("before_fieldwork", all_groups[rng.integers(0, len(all_groups), k)])
        f["_t0"], f["_t1"], f["_ts"] = _times(rng, k, wf.fieldwork, days_before=rng.integers(1, 6, k))
        parts.append(f)
        k = count("refused_consent")
        f = newcomers("refused_consent", all_groups[rng.integers(0, len(all_groups), k)])
        for col in question_cols:
            f[col] = None
        f["consent"] = "no"
        f["_t0"], f["_t1"], f["_ts"] = _times(rng, k, wf.fieldwork, minutes=(0.7, 4.0))
        parts.append(f)
        k = count("short_interview")
        f = newcomers("short_interview", all_groups[rng.integers(0, len(all_groups), k)])
        f["_t0"], f["_t1"], f["_ts"] = _times(rng, k, wf.fieldwork, minutes=(1.0, 2.9))
        parts.append(f)
        for check in params.cleaning.range_checks:
            k = count("out_of_range")
            f = newcomers("out_of_range", np.full(k, "child", dtype=object))
            bad = np.array([1, 2, 3, 10, 11, 12])[rng.integers(0, 6, k)]
            f[check.question] = bad.astype(object)
            f["demo/age_band"] = obj(np.where(bad <= 6, "age_10_12", "age_13_15"))
            parts.append(f)
        for check in params.cleaning.consistency_checks:
            k = count("inconsistent")
            f = newcomers("inconsistent", np.full(k, check.if_value, dtype=object))
            f[check.then_question] = "no"
            parts.append(f)

        rows = pd.concat(parts, ignore_index=True)
        # Exact duplicates: the same submission received twice.
        k = count("exact_duplicate")
        dup = rows[rows["_mess"] == ""].sample(n=k, random_state=rng).copy()
        dup["_mess"] = "exact_duplicate"
        rows = pd.concat([rows, dup], ignore_index=True)
        rows["_uuid"] = uuids(rng, len(rows))
        rows.loc[rows.index[-k:], "_uuid"] = rows.loc[dup.index, "_uuid"].to_numpy()
        rows = rows.sort_values(["_ts", "_mess"], kind="stable", key=None).reset_index(drop=True)
        out[wave] = _finish(rows, campaign, wf, devices, question_cols, id0=id0)
        id0 += len(rows) + 2_456_117  # Kobo ids grow with every submission on the server
    return out


def _iso(t: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(t.astype("datetime64[s]"), unit="s")


def _finish(rows: pd.DataFrame, campaign: str, wf: WaveFile, devices: dict, question_cols: list[str], *,
            id0: int) -> pd.DataFrame:
    """Format the Kobo metadata columns and put the columns in export order."""
    n = len(rows)
    t0, t1, ts = (rows[c].to_numpy(dtype=np.int64) for c in ("_t0", "_t1", "_ts"))
    local_start = _iso(t0 + _TZ)
    meta = pd.DataFrame({
        "start": obj(np.strings.add(local_start, ".000+08:00")),
        "end": obj(np.strings.add(_iso(t1 + _TZ), ".000+08:00")),
        "today": obj(np.strings.slice(local_start, 0, 10)),
        "username": rows["username"].to_numpy(),
        "deviceid": rows["username"].map(devices).fillna("ee.kobotoolbox.org:kQ2vX9pLmT4rZs8w").to_numpy(),
    })
    family = "together" if campaign == "together" else "dd"
    tail = pd.DataFrame({
        "_id": np.arange(id0, id0 + n),
        "_uuid": rows["_uuid"].to_numpy(),
        "_submission_time": obj(_iso(ts)),
        "_validation_status": None, "_notes": None,
        "_status": "submitted_via_web", "_submitted_by": _SUBMITTED_BY,
        "__version__": _VERSIONS[(family, wf.form_version)],
        "_tags": None,
        "_index": np.arange(1, n + 1),
    })
    return pd.concat([meta, rows[question_cols].reset_index(drop=True), tail,
                      rows[["_mess"]].reset_index(drop=True)], axis=1)
