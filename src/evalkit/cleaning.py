"""Cleaning rules and the cleaning log: raw exports -> ``data/processed/<campaign>/``.

The checks are those field-survey teams already trust: IPA's high-frequency
checks (consent, duplicates, duration, don't-know and refusal rates, outliers)
and the World Bank DIME ``ieduplicates`` (duplicates resolved by a stated
rule). Each rule is a small function that takes one wave's answers and returns
the rows it keeps plus one :class:`LogEntry`; :func:`clean_wave` chains them,
so for every wave the log reads as an account of every raw row:

    rows_in (first rule) = raw rows;  rows_in = previous rows_out;
    rows_out = rows_in - rows_dropped;  rows_out (last rule) = rows in
    responses.parquet for that wave.

Rules, in order: ``read``, then the fieldwork team's decisions
(:mod:`evalkit.corrections`: one ``correction`` and one ``other_recode`` row
per applied line, dropping nothing), ``duplicate_submission`` (same ``_uuid``),
``test_submission`` (test enumerators, or started before fieldwork),
``consent``, ``short_interview``, ``missing_respondent_id``,
``duplicate_resolution`` (one row per line of the team's ``duplicates.csv``
for this wave, if any), ``duplicate_respondent`` (keep rule from params, for
the rest), ``unknown_group``, one
``range:<question>`` per range check, one ``consistency:<name>`` per
consistency check, then two rows that drop nothing: ``dont_know_refused``
(how many answers became missing, with the reason kept) and ``deidentify``
(columns dropped, pseudonym key used). Don't-know and refusal rates per
indicator are a separate table (:func:`evalkit.indicators.missing_rates`)
shown in the clean notebook.

The rules themselves are in :mod:`evalkit.cleaning_rules`, the choice of
columns and the personal-data detection in :mod:`evalkit.cleaning_columns`;
this module chains them per wave and campaign and writes the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evalkit import failpoints, paths
from evalkit.atomic import write_csv_atomic, write_with
from evalkit.cleaning_columns import (_needed_columns, _personal_by_name, _personal_by_values, _pii_report,
                                      check_params_against_codebook, column_plan, harmonise_group_values,
                                      left_out_columns)
from evalkit.cleaning_rules import (LogEntry, RuleResult, _apply, add_times, drop_duplicate_respondents,
                                    drop_duplicate_submissions, drop_inconsistent, drop_missing_ids,
                                    drop_out_of_range, drop_refused_consent, drop_short_interviews,
                                    drop_test_submissions, drop_unknown_groups)
from evalkit.errors import RawDataError
from evalkit.indicator_spec import (negative_policy_text, numeric_codes_text, numeric_missing_codes,
                                   required_questions)
from evalkit.params import WAVES, Params
from evalkit.relevance import add_relevance

if TYPE_CHECKING:
    from evalkit.corrections import Decisions

#: Columns of ``cleaning_log.csv``.
LOG_COLUMNS = ["step", "rule", "wave", "rows_in", "rows_dropped", "rows_out", "reason"]
#: Columns of ``raw_files.csv``.
RAW_FILE_COLUMNS = ["file", "sha256", "bytes", "rows", "encoding"]
#: Columns of ``panel.csv``.
PANEL_COLUMNS = ["matched", "baseline_only", "endline_only"]
# --------------------------------------------------------------------------- one wave, one campaign


@dataclass(frozen=True)
class WaveResult:
    """One cleaned wave.

    Attributes
    ----------
    wave : str
    answers : pandas.DataFrame
        Kept rows, harmonised (codebook names, choice names), not yet
        de-identified: never written to disk.
    log : list of LogEntry
        From ``read`` to the last consistency rule.
    raw_file : dict
        ``file, sha256, bytes, rows, encoding`` of the export.
    pii_columns : dict
        Export header -> PII kind, as detected (all are left out of the output).
    found_uuids : frozenset of str
        The ``_uuid`` values of the team's decision files found in this export.
    """

    wave: str
    answers: pd.DataFrame
    log: list[LogEntry]
    raw_file: dict
    pii_columns: dict[str, str]
    found_uuids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CleanResult:
    """A cleaned campaign stage, ready for :func:`write_processed`.

    Attributes
    ----------
    campaign : str
    responses : pandas.DataFrame
        The ``responses.parquet`` table (both waves).
    log : pandas.DataFrame
        ``cleaning_log.csv``: ``step, rule, wave, rows_in, rows_dropped,
        rows_out, reason``.
    raw_files : pandas.DataFrame
        ``raw_files.csv``: ``file, sha256, bytes, rows, encoding``.
    panel : pandas.DataFrame or None
        ``panel.csv`` (paired design): ``matched, baseline_only,
        endline_only``; None for independent samples.
    missing_rates : pandas.DataFrame
        Don't-know / refusal rates (see :func:`evalkit.indicators.missing_rates`).
    pii_columns : pandas.DataFrame
        ``wave, column, kind``: identifying or free-text columns left out.
    reach : pandas.DataFrame or None
        The typed reach export, if params name one.
    key_source : str
        ``env``, ``file`` or ``demo`` (see :mod:`evalkit.deid`).
    """

    campaign: str
    responses: pd.DataFrame
    log: pd.DataFrame
    raw_files: pd.DataFrame
    panel: pd.DataFrame | None
    missing_rates: pd.DataFrame
    pii_columns: pd.DataFrame
    reach: pd.DataFrame | None
    key_source: str


def drop_team_duplicates(df: pd.DataFrame, decisions: Decisions, *, id_column: str, in_export: set[str]
                         ) -> list[RuleResult]:
    """Rule ``duplicate_resolution``: one entry per ``duplicates.csv`` row that concerns this wave.

    Runs just before ``duplicate_respondent``, which then finds nothing left
    to decide for the respondents the team resolved (see
    :func:`evalkit.corrections.resolve_duplicates`).
    """
    from evalkit.corrections import resolve_duplicates

    out, rows = [], df.index  # every mask is over the rows entering this rule
    for res in resolve_duplicates(df, decisions, id_column=id_column, in_export=in_export):
        drop = pd.Series(res.drop, index=rows)
        result = _apply(df, drop.loc[df.index].to_numpy(), "duplicate_resolution", res.reason)
        df = result.kept
        out.append(result)
    return out


def clean_wave(params: Params, wave: str, codebook: object, *, decisions: Decisions | None = None) -> WaveResult:
    """Read, harmonise and clean one wave (no de-identification yet).

    Parameters
    ----------
    params : Params
    wave : {"baseline", "endline"}
    codebook : Codebook
        From :func:`evalkit.readers.read_codebook`.
    decisions : Decisions, keyword-only
        The team's corrections, "other" recodes and duplicate resolutions
        (:func:`evalkit.corrections.load_decisions`); corrections and recodes
        are applied before any rule, each one a log line. None: no decisions.

    Returns
    -------
    WaveResult

    Raises
    ------
    RawDataError, CodebookError
        Unreadable file, unknown columns or answers, unreadable times.
    """
    from evalkit.codebook import harmonise
    from evalkit.corrections import apply_corrections, apply_recodes, needed_questions
    from evalkit.readers import load_export

    wf = params.wave_file(wave)
    path = params.raw_path(wf.file, what=f"raw.{wave}.file")
    renames = params.renames.get(wave, {})
    header: list[str] = []
    extra = needed_questions(decisions) if decisions is not None else set()
    raw = load_export(path, wf, plan=column_plan(params, codebook, wf, renames, str(path), wave, seen=header,
                                                   extra=extra))
    if len(raw.frame) == 0:
        raise RawDataError(f"The export {path} has a header row but no submissions (nothing from row 2 on); "
                           f"re-export the {wave} data from Kobo/ODK with its submissions.")
    by_values = _personal_by_values(raw.frame, params, codebook, wave_file=wf, renames=renames, file=str(path))
    df = harmonise(raw.frame, codebook, wave_file=wf, renames=renames, file=str(path), wave=wave,
                   personal=set(by_values) | _personal_by_name(raw.frame.columns, codebook, wave_file=wf,
                                                               renames=renames))
    pii = _pii_report(pd.Index(header), df.columns, params, codebook, wave_file=wf, renames=renames)
    pii.update({t: k for t, k in by_values.values() if pii.get(t, "free_text") == "free_text"})
    derived_names = {d.name for d in params.derived}
    for col in ("start", "end", params.columns.respondent_id, params.columns.group, params.columns.consent):
        if col not in df and col not in derived_names:
            raise RawDataError(f"The export {path} has no column for {col!r}; every wave needs the respondent id, "
                               f"group, consent and start/end times. Check the headers or params renames.{wave}.")
    applied, found = [], set()
    if decisions is not None:  # the team's decisions come before any rule (never written to data/raw)
        df, applied, found = apply_corrections(df, decisions, codebook=codebook, wave_file=wf, file=wf.file)
        df, recoded = apply_recodes(df, decisions, codebook=codebook, file=wf.file)
        applied += recoded
    in_export = decisions.found_in(df) if decisions is not None else set()
    derived_log: list[str] = []
    if params.derived:  # from the corrected answers, before any rule: the group or a check may be derived
        from evalkit.derived import apply_derived
        df, derived_log = apply_derived(df, params.derived)
    df = harmonise_group_values(df, group_column=params.columns.group, groups=list(params.groups))
    unknown_relevance: list[str] = []
    if params.cleaning.duplicate_respondent_keep == "latest_complete":
        df, unknown_relevance = add_relevance(df, list(required_questions(params.indicators)), codebook)
    df = add_times(_needed_columns(df, params, codebook), str(path))
    c, cl = params.columns, params.cleaning
    log = [LogEntry("read", len(df), 0, len(df), f"{wf.file}: {len(df)} submissions read ({raw.encoding})")]
    left_out = left_out_columns(header, set(raw.frame.columns), codebook, wave_file=wf, renames=renames)
    if left_out:
        log.append(LogEntry("columns_left_out", len(df), 0, len(df), left_out))
    if raw.repeats:  # no indicator reads a repeat group yet: say so rather than drop them quietly
        sheets = ", ".join(f"{name} ({len(t)} rows)" for name, t in sorted(raw.repeats.items()))
        log.append(LogEntry("repeat_groups_left_out", len(df), 0, len(df),
                            f"repeat-group tables not used by any indicator, left out: {sheets}"))
    log += [LogEntry(a.rule, len(df), 0, len(df), a.reason) for a in applied]
    log += [LogEntry(f"derived:{d.name}", len(df), 0, len(df), line) for d, line in zip(params.derived, derived_log)]
    rules = [
        lambda d: drop_duplicate_submissions(d),
        lambda d: drop_test_submissions(d, enumerator_column=c.enumerator, test_enumerators=cl.test_enumerators,
                                        fieldwork_start=wf.fieldwork.start),
        lambda d: drop_refused_consent(d, consent=c.consent, consent_yes=c.consent_yes),
        lambda d: drop_short_interviews(d, min_minutes=cl.min_duration_minutes),
        lambda d: drop_missing_ids(d, id_column=c.respondent_id),
        *([lambda d: drop_team_duplicates(d, decisions, id_column=c.respondent_id, in_export=in_export)]
          if decisions is not None and not decisions.duplicates.empty else []),
        lambda d: drop_duplicate_respondents(
            d, id_column=c.respondent_id, keep=cl.duplicate_respondent_keep, group_column=c.group,
            required=required_questions(params.indicators), unknown_relevance=tuple(unknown_relevance)),
        lambda d: drop_unknown_groups(d, group_column=c.group, groups=list(params.groups)),
        *[lambda d, r=r: drop_out_of_range(d, r, missing_codes=numeric_missing_codes(params.indicators, r.question))
          for r in cl.range_checks],
        *[lambda d, k=k: drop_inconsistent(d, k) for k in cl.consistency_checks],
    ]
    for rule in rules:
        results = rule(df)
        for df, entry in results if isinstance(results, list) else [results]:
            log.append(entry)
        if results and len(df) == 0:
            counts = "; ".join(f"{e.rule}: {e.rows_dropped}" for e in log[1:] if e.rows_dropped)
            raise RawDataError(
                f"No submission of {path} is left after cleaning: rule '{entry.rule}' dropped the last "
                f"{entry.rows_dropped} row(s) ({entry.reason}). Rows dropped per rule: {counts}. Check the export "
                f"and the 'cleaning' and 'columns' settings in params/{params.campaign}.yaml.")
    info = {"file": wf.file, "sha256": raw.sha256, "bytes": raw.bytes, "rows": len(raw.frame),
            "encoding": raw.encoding}
    return WaveResult(wave, df, log, info, pii, frozenset(found | in_export))


def _free_text_columns(answers: pd.DataFrame, codebook: object, pii: dict[str, str], params: Params
                       ) -> dict[str, pd.Series]:
    """Scrubbed free-text answers (only for ``cleaning.free_text: keep_scrubbed``).

    Only text questions that are not identifiers (by name) and not a
    structural column (respondent id, enumerator) are kept.
    """
    import re

    from evalkit.deid import detect_pii_columns, scrub_free_text

    skip = {params.columns.respondent_id, params.columns.enumerator}
    out = {}
    for name, q in codebook.questions.items():
        kind = pii.get(name) or detect_pii_columns([name], codebook).get(name, "free_text")
        if q.type == "text" and name in answers and name not in skip and kind == "free_text":
            out["text_" + re.sub(r"\W+", "_", name).strip("_")] = scrub_free_text(answers[name]).reset_index(drop=True)
    return out


def _k_anonymous(responses: pd.DataFrame, params: Params, log_rows: list[dict]) -> tuple[pd.DataFrame, list[dict]]:
    """Statistical disclosure control (:mod:`evalkit.disclosure`); a ``k_anonymity`` log row closes each wave."""
    from evalkit.disclosure import protect_responses

    protected, entries = protect_responses(responses, params)
    rows = list(log_rows)
    for e in entries:
        last = max(i for i, r in enumerate(rows) if r["wave"] == e["wave"])
        rows.insert(last + 1, {"step": rows[last]["step"] + 1, "rule": "k_anonymity", "wave": e["wave"],
                               "rows_in": e["rows"], "rows_dropped": 0, "rows_out": e["rows"], "reason": e["reason"]})
    return protected, rows


def clean_campaign(params: Params) -> CleanResult:
    """Clean a campaign stage's raw exports into the processed tables.

    Parameters
    ----------
    params : Params
        From :func:`evalkit.params.load_params`.

    Returns
    -------
    CleanResult
        Nothing is written; pass it to :func:`write_processed`.

    Raises
    ------
    ConfigError
        Params that name questions or choices the codebook lacks, or
        demographics that are identifiers.
    RawDataError, CodebookError, EncodingDetectionError
        Problems in the raw files, each naming file, column, value and rows.

    References
    ----------
    Innovations for Poverty Action, ``ipacheck`` high-frequency checks; World
    Bank DIME Analytics, ``iefieldkit`` (``iecodebook``, ``ieduplicates``).

    Examples
    --------
    >>> from evalkit.params import load_params
    >>> result = clean_campaign(load_params("together"))  # doctest: +SKIP
    >>> result.log[["wave", "rule", "rows_dropped"]]  # doctest: +SKIP
    """
    failpoints.hold("clean-notebook", detail=params.campaign)
    from evalkit.deid import pseudonym_key, pseudonymise
    from evalkit.encoding import detect_bytes_encoding
    from evalkit.indicators import build_responses, missing_rates
    from evalkit.readers import read_bytes, read_codebook, sha256_hex

    codebook_path = params.raw_path(params.raw.codebook, what="raw.codebook")
    codebook = read_codebook(codebook_path)
    check_params_against_codebook(params, codebook)
    key = pseudonym_key()  # the demo key is flagged in the log ('deidentify') and by deid.key_notice
    cb_bytes = read_bytes(codebook_path)
    raw_files = [{"file": params.raw.codebook, "sha256": sha256_hex(cb_bytes), "bytes": len(cb_bytes),
                  "rows": len(codebook.questions), "encoding": "xlsx"}]
    from evalkit.corrections import check_all_found, load_decisions

    decisions = load_decisions(params)
    found: set[str] = set()
    parts, log_rows, pii_rows = [], [], []
    for wave in WAVES:
        wr = clean_wave(params, wave, codebook, decisions=decisions)
        found |= wr.found_uuids
        ids = pseudonymise(wr.answers[params.columns.respondent_id], key.key)
        cluster_q = params.sampling.questions(enumerator=params.columns.enumerator).get("sampling.cluster")
        clusters = (pseudonymise(wr.answers[cluster_q], key.key)  # a school name is personal data
                    if cluster_q and cluster_q in wr.answers else None)
        part = build_responses(wr.answers, params, wave=wave, respondent_id=ids, cluster=clusters)
        if params.cleaning.free_text == "keep_scrubbed":
            part = part.assign(**_free_text_columns(wr.answers, codebook, wr.pii_columns, params))
        reasons = [part[f"{i.id}_missing_reason"] for i in params.indicators]
        n_dk = int(sum((r == "dont_know").sum() for r in reasons))
        n_ref = int(sum((r == "refused").sum() for r in reasons))
        n = len(part)
        entries = list(wr.log) + [
            LogEntry("dont_know_refused", n, 0, n,
                     f"{n_dk} 'don't know' ({', '.join(params.cleaning.dont_know)}) and {n_ref} 'refused' "
                     f"({', '.join(params.cleaning.refused)}) answers across {len(params.indicators)} indicators set "
                     f"to missing, reason kept in <indicator>_missing_reason; rates per indicator in the clean "
                     f"notebook" + numeric_codes_text(params.indicators) + negative_policy_text(params.indicators)),
            LogEntry("deidentify", n, 0, n,
                     f"identifying or free-text columns left out: {', '.join(sorted(wr.pii_columns)) or 'none'}; "
                     f"free text: {params.cleaning.free_text}; respondent ids"
                     + (" and clusters (params sampling)" if cluster_q else "")
                     + " replaced by HMAC-SHA256 pseudonyms "
                     + ("(WARNING: public demo key used; set EVALKIT_PSEUDONYM_KEY for real data)"
                        if key.source == "demo" else f"(key from {'EVALKIT_PSEUDONYM_KEY' if key.source == 'env' else '.evalkit-key'})")),
        ]
        for step, e in enumerate(entries, start=1):
            log_rows.append({"step": step, "rule": e.rule, "wave": wave, "rows_in": e.rows_in,
                             "rows_dropped": e.rows_dropped, "rows_out": e.rows_out, "reason": e.reason})
        pii_rows += [{"wave": wave, "column": col, "kind": kind} for col, kind in wr.pii_columns.items()]
        raw_files.append(wr.raw_file)
        parts.append(part.sort_values("respondent_id", kind="stable"))
    check_all_found(decisions, found)
    responses = pd.concat(parts, ignore_index=True)
    responses, log_rows = _k_anonymous(responses, params, log_rows)
    panel = None
    if params.design == "paired":
        codes = pd.factorize(responses["respondent_id"])[0]  # integers: set logic stays vectorised
        is_base = (responses["wave"] == "baseline").to_numpy()
        base, end = np.unique(codes[is_base & (codes >= 0)]), np.unique(codes[~is_base & (codes >= 0)])
        matched = int(np.isin(base, end, assume_unique=True).sum())
        panel = pd.DataFrame([{"matched": matched, "baseline_only": len(base) - matched,
                               "endline_only": len(end) - matched}], columns=PANEL_COLUMNS)
    reach = None
    if params.raw.reach:
        from evalkit.reach import read_reach

        reach_path = params.raw_path(params.raw.reach, what="raw.reach")
        reach = read_reach(reach_path)
        rb = read_bytes(reach_path)
        raw_files.append({"file": params.raw.reach, "sha256": sha256_hex(rb), "bytes": len(rb), "rows": len(reach),
                          "encoding": detect_bytes_encoding(rb, name=str(reach_path))})
    raw_files += decisions.raw_files  # the team's decision files, hashed like the exports
    return CleanResult(
        campaign=params.campaign, responses=responses, log=pd.DataFrame(log_rows, columns=LOG_COLUMNS),
        raw_files=pd.DataFrame(raw_files, columns=RAW_FILE_COLUMNS), panel=panel,
        missing_rates=missing_rates(responses, params),
        pii_columns=pd.DataFrame(pii_rows, columns=["wave", "column", "kind"]), reach=reach, key_source=key.source)


def processed_output_dir(campaign: str, out_dir: Path | str | None = None) -> Path:
    """Resolve the clean notebook's ``output_dir`` safely inside the project.

    Parameters
    ----------
    campaign : str
    out_dir : Path or str, optional
        Empty or None: ``data/processed/<campaign>/``. A relative path is
        taken from the project root (as the pipeline passes its staging
        folder); an absolute one must lie inside the project.

    Raises
    ------
    UnsafePathError
        For a NUL byte, a name over 255 characters, or a folder outside the
        project (``..``, another absolute path).
    """
    from evalkit.errors import UnsafePathError

    if out_dir is None or str(out_dir) == "":
        return paths.campaign_processed_dir(campaign)
    text = str(out_dir)
    if "\x00" in text or len(text) > 255:
        shown = repr(text)[:60]
        raise UnsafePathError(f"The output folder {shown} is not allowed (it contains a NUL byte or is longer "
                              f"than 255 characters); leave output_dir empty to write data/processed/{campaign}/.")
    out = Path(text) if Path(text).is_absolute() else paths.project_root() / text
    return paths.ensure_output_path(out)


def write_processed(result: CleanResult, out_dir: Path | str | None = None) -> Path:
    """Write the processed tables atomically; ``responses.parquet`` last.

    Parameters
    ----------
    result : CleanResult
    out_dir : Path or str, optional
        Folder to write to, inside the project (see
        :func:`processed_output_dir`); default ``data/processed/<campaign>/``.

    Returns
    -------
    Path
        The folder written: ``cleaning_log.csv``, ``raw_files.csv``,
        ``panel.csv`` (paired design), ``reach.parquet`` (if a reach export
        exists) and ``responses.parquet``. Each file is written to a temporary
        name and renamed, and ``responses.parquet`` (the file ``make`` tracks)
        comes last, so an interrupted run never looks complete.
    """
    out = processed_output_dir(result.campaign, out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(result.log, out / "cleaning_log.csv")
    write_csv_atomic(result.raw_files, out / "raw_files.csv")
    if result.panel is not None:
        write_csv_atomic(result.panel, out / "panel.csv")
    if result.reach is not None:
        write_with(out / "reach.parquet", lambda p: result.reach.to_parquet(p, index=False))
    write_with(out / "responses.parquet", lambda p: result.responses.to_parquet(p, index=False))
    return out
