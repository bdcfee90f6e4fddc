"""Typed, validated campaign configuration (``params/<campaign>.yaml``).

Papermill only warns about unknown parameters; evalkit refuses them. Loading a
params file checks every key against the dataclasses below: an unknown key, a
missing required key or a value of the wrong type raises :class:`ConfigError`
naming the file and the dotted key (``indicators[2].positive``).

The format is documented for users in ``params/README.md``; the dataclasses
here are its single source of truth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from evalkit import paths
from evalkit.errors import ConfigError
from evalkit.derived import Band, Derived  # noqa: F401 (Band: part of the schema)
from evalkit.evaluation import Evaluation, check_evaluation
# The indicator schema lives in indicator_spec; Indicator stays importable from here.
from evalkit.indicator_spec import Denominator, Indicator, ScoreItem, check_indicators  # noqa: F401
from evalkit.reportspec import ReportSettings, check_report
from evalkit.fieldwork_settings import FieldworkSettings
from evalkit.sampling import Sampling, check_sampling

Wave = Literal["baseline", "endline"]
WAVES: tuple[str, str] = ("baseline", "endline")
#: The pooled group of every indicator's population (a claim's ``group: all``, the results' pooled rows).
ALL_GROUPS = "all"

#: Claim kinds that publish a change, so that their test of change can enter the primary family.
CHANGE_CLAIM_KINDS: tuple[str, ...] = ("change_pp", "increase", "baseline_endline_pct")


@dataclass(frozen=True)
class DateRange:
    """A closed date interval.

    Attributes
    ----------
    start, end : datetime.date
        First and last day (inclusive).
    """

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class WaveFile:
    """One raw survey export of one wave.

    Attributes
    ----------
    file : str
        File name relative to ``data/raw/<campaign>/`` (CSV, XLSX or SAV).
    headers : {"xml", "label"}
        Whether column headers are XLSForm names (``group/question``) or the
        question labels (Kobo "labels" export).
    values : {"xml", "label"}
        Whether answers are choice names or choice labels.
    language : str
        Language of labels, when ``headers`` or ``values`` is ``"label"``:
        the code of an XLSForm label column (``fr`` for
        ``label::French (fr)``), or its name (``French``). ``""`` (the
        default) means the form's ``default_language``, else its first
        label column.
    group_separator : str
        Separator between group and question in headers: ``"/"``, ``"-"``
        or ``"."``.
    separator : {"auto", ",", ";", "\t"}
        CSV field separator; ``auto`` detects it from the header row (Kobo
        writes ``;`` by default, ODK Central ``,``).
    ignore : list of str
        Export headers to leave out (logged in the cleaning log), for
        columns that are neither in the codebook nor known metadata.
    form_version : str
        Form version the export was made from (for renamed questions).
    fieldwork : DateRange
        Fieldwork dates; submissions before ``fieldwork.start`` are tests.
    """

    file: str
    fieldwork: DateRange
    headers: Literal["xml", "label"] = "xml"
    values: Literal["xml", "label"] = "xml"
    language: str = ""
    group_separator: Literal["/", "-", "."] = "/"
    separator: Literal["auto", ",", ";", "\t"] = "auto"
    ignore: list[str] = field(default_factory=list)
    form_version: str = "v1"


@dataclass(frozen=True)
class RawFiles:
    """Where a campaign's raw exports are.

    Attributes
    ----------
    codebook : str
        The XLSForm (``survey`` and ``choices`` sheets), relative to the
        campaign's raw folder.
    baseline, endline : WaveFile
        The two survey exports.
    reach : str or None
        Per-post social-media reach export (CSV), if any.
    """

    codebook: str
    baseline: WaveFile
    endline: WaveFile
    reach: str | None = None


@dataclass(frozen=True)
class Columns:
    """Codebook names of the questions with a structural role.

    Attributes
    ----------
    respondent_id : str
        Respondent identifier (matched across waves in a panel); replaced by a
        keyed pseudonym in processed data.
    group : str
        Question whose answer is the respondent group: the populations that
        each indicator's ``population`` names.
    consent : str
        Consent question; only ``consent_yes`` answers are kept.
    consent_yes : str
        Choice name meaning consent was given.
    enumerator : str
        Column holding the enumerator / Kobo username.
    weight : str or None
        Column with survey weights; ``None`` means every weight is 1.0.
    """

    respondent_id: str
    group: str
    consent: str
    consent_yes: str = "yes"
    enumerator: str = "username"
    weight: str | None = None


@dataclass(frozen=True)
class RangeCheck:
    """A numeric answer that must lie in ``[min, max]``.

    Attributes
    ----------
    question : str
        Codebook name.
    min, max : float
        Allowed range (inclusive). Rows outside it are dropped and logged.
    """

    question: str
    min: float
    max: float


@dataclass(frozen=True)
class ConsistencyCheck:
    """Two answers that cannot occur together.

    A row where ``if_question`` equals ``if_value`` and ``then_question`` is
    not one of ``then_values`` is inconsistent and is dropped and logged.
    """

    name: str
    if_question: str
    if_value: str
    then_question: str
    then_values: list[str]


@dataclass(frozen=True)
class Cleaning:
    """Cleaning rules; each one is counted in ``cleaning_log.csv``.

    Attributes
    ----------
    test_enumerators : list of str
        Usernames whose submissions are tests (compared case-insensitively).
    min_duration_minutes : float
        Interviews shorter than this (``end - start``) are dropped.
    duplicate_respondent_keep : {"latest_complete", "latest", "first"}
        Which interview to keep when a respondent was interviewed more than
        once in a wave.
    dont_know, refused : list of str
        Choice names meaning "don't know" and "refused"; they become missing
        with the reason kept in ``<indicator>_missing_reason``.
    free_text : {"drop", "keep_scrubbed"}
        Drop free-text answers (default) or keep them with phone numbers and
        e-mail addresses removed.
    range_checks, consistency_checks : list
        Out-of-range and inconsistent-answer rules.
    corrections, other_recodes, duplicate_resolutions : str or None
        The fieldwork team's decision files (:mod:`evalkit.corrections`),
        relative to ``data/raw/<campaign>/``. None (default): the files
        ``corrections.csv``, ``other_recodes.csv`` and ``duplicates.csv``
        there, when they exist; a name given here must exist.
    """

    test_enumerators: list[str] = field(default_factory=lambda: ["test"])
    min_duration_minutes: float = 3.0
    duplicate_respondent_keep: Literal["latest_complete", "latest", "first"] = "latest_complete"
    dont_know: list[str] = field(default_factory=lambda: ["dont_know"])
    refused: list[str] = field(default_factory=lambda: ["refused"])
    free_text: Literal["drop", "keep_scrubbed"] = "drop"
    range_checks: list[RangeCheck] = field(default_factory=list)
    consistency_checks: list[ConsistencyCheck] = field(default_factory=list)
    corrections: str | None = None
    other_recodes: str | None = None
    duplicate_resolutions: str | None = None


@dataclass(frozen=True)
class CompareWith:
    """Take a claim's baseline from another campaign stage.

    Used when a published figure spans two stages (Differently Different:
    2019 baseline to 2020 endline).
    """

    campaign: str
    wave: Wave = "baseline"


@dataclass(frozen=True)
class Claim:
    """A published figure the report checks against the data.

    Attributes
    ----------
    id : str
        Short identifier (``T1`` ...).
    text : str
        The published statement, in words.
    indicator : str
        Indicator id measuring it.
    group : str
        Respondent group (or ``all``) it refers to.
    kind : {"change_pp", "endline_pct", "baseline_pct", "baseline_endline_pct", "increase"}
        What was published: a change in percentage points, a single
        percentage at one wave, both percentages, or only a direction.
    value : float or None
        The published number for ``change_pp``, ``endline_pct`` and
        ``baseline_pct``.
    baseline, endline : float or None
        The published percentages for ``baseline_endline_pct``.
    compare_with : CompareWith or None
        Take the baseline from another stage.
    unit : {"pp", "relative"}
        For ``change_pp``: whether ``value`` is in percentage points or a
        relative change in % of the baseline ("+13%" of 47.8% = +6.2 pp).
    unit_ambiguous : bool
        The source does not say which unit it means: the claim is checked
        under both readings and the note says whether the data tell them apart.
    """

    id: str
    text: str
    indicator: str
    group: str
    kind: Literal["change_pp", "endline_pct", "baseline_pct", "baseline_endline_pct", "increase"]
    value: float | None = None
    baseline: float | None = None
    endline: float | None = None
    compare_with: CompareWith | None = None
    unit: Literal["pp", "relative"] = "pp"
    unit_ambiguous: bool = False


@dataclass(frozen=True)
class JointReach:
    """A published reach figure that spans several campaign stages.

    Attributes
    ----------
    text : str
        The published statement, in words.
    campaigns : list of str
        The stages whose reach exports add up to the figure.
    more_than : int
        The published lower bound ("more than 4 million").
    """

    text: str
    campaigns: list[str]
    more_than: int


@dataclass(frozen=True)
class Params:
    """A campaign stage's full configuration.

    Attributes
    ----------
    campaign : str
        Campaign name; must equal the params file's stem.
    title, stage : str
        Report title and stage description.
    design : {"paired", "independent"}
        ``paired``: a panel matched by respondent id. ``independent``:
        repeated cross-sections.
    synthetic : bool
        The shipped raw data is synthetic; the report shows a notice.
    campaign_period : DateRange
        When the campaign ran.
    raw : RawFiles
        Raw export locations and flavours.
    columns : Columns
        Structural questions.
    groups : dict
        Respondent group choice name -> label shown in the report.
    demographics : dict
        Output column name -> codebook question (e.g. ``sex: demo/sex``).
    indicators : list of Indicator
    claims : list of Claim
    primary_family : list of str
        Ids of the claims whose tests of change form the primary,
        pre-specified multiplicity family (Holm/BH among themselves); every
        other row of the headline table is in the secondary family.
    renames : dict
        Per wave, header in that wave's export -> codebook name (questions
        renamed between form versions).
    cleaning : Cleaning
    subgroups : list of str
        Demographic columns to break results down by.
    published_reach : int or None
        Published total of engagements, compared with the reach export.
    published_reach_across_stages : JointReach or None
        A published reach figure spanning several stages; the index page
        checks the sum of their reach exports.
    alpha : float
        Significance level (two-sided).
    min_cell_size : int
        Cells with fewer respondents are suppressed in the report.
    k_anonymity : int
        Every combination of demographics and group in a wave of
        ``responses.parquet`` is shared by at least this many respondents
        (:mod:`evalkit.disclosure`); default 5.
    reference_docx : str or None
        Organisation Word template for the ``.docx`` copy (fonts, colours,
        logo), a path relative to the project folder; pandoc's ``--reference-doc``.
    evaluation : Evaluation
        Optional framing, targets and evaluator recommendations
        (:mod:`evalkit.evaluation`).
    report : ReportSettings
        Default report language and campaign-specific text per language
        (:mod:`evalkit.reportspec`).
    fieldwork : FieldworkSettings
        Settings of the fieldwork checks (:mod:`evalkit.fieldwork_settings`).
    derived : list of Derived
        Recodes and derived variables (:mod:`evalkit.derived`), usable
        wherever a codebook name is (group, demographics, indicators).
    sampling : Sampling
        Optional survey design: strata, clusters, finite population
        correction, panel weight, population shares (:mod:`evalkit.sampling`).
    """

    campaign: str
    title: str
    stage: str
    design: Literal["paired", "independent"]
    campaign_period: DateRange
    raw: RawFiles
    columns: Columns
    groups: dict[str, str]
    indicators: list[Indicator]
    synthetic: bool = False
    demographics: dict[str, str] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    primary_family: list[str] = field(default_factory=list)
    renames: dict[str, dict[str, str]] = field(default_factory=dict)
    cleaning: Cleaning = field(default_factory=Cleaning)
    subgroups: list[str] = field(default_factory=list)
    published_reach: int | None = None
    published_reach_across_stages: JointReach | None = None
    alpha: float = 0.05
    min_cell_size: int = 10
    k_anonymity: int = 5
    reference_docx: str | None = None
    evaluation: Evaluation = field(default_factory=Evaluation)
    report: ReportSettings = field(default_factory=ReportSettings)
    fieldwork: FieldworkSettings = field(default_factory=FieldworkSettings)
    derived: list[Derived] = field(default_factory=list)
    sampling: Sampling = field(default_factory=Sampling)

    def indicator(self, indicator_id: str) -> Indicator:
        """Return the indicator with this id (raises ``KeyError`` if none)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def raw_path(self, relative: str, *, what: str = "raw file") -> Path:
        """Resolve a raw file name safely inside ``data/raw/<campaign>/``."""
        return paths.safe_join(paths.campaign_raw_dir(self.campaign), relative, what=what)

    def raw_paths(self) -> dict[str, Path]:
        """Every raw file the params name (setting -> path), resolved safely."""
        named = {"raw.codebook": self.raw.codebook, "raw.baseline.file": self.raw.baseline.file,
                 "raw.endline.file": self.raw.endline.file}
        if self.raw.reach:
            named["raw.reach"] = self.raw.reach
        return {key: self.raw_path(rel, what=f"raw file ({key})") for key, rel in named.items()}

    def wave_file(self, wave: str) -> WaveFile:
        """The :class:`WaveFile` of ``"baseline"`` or ``"endline"``."""
        if wave not in WAVES:
            raise ConfigError(f"Wave {_shown(wave)} is unknown; expected one of: {', '.join(WAVES)}.")
        return getattr(self.raw, wave)


# --------------------------------------------------------------------------- loading


class _StrictYamlLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a key given twice and aliases, and leaves dates as text.

    Plain YAML keeps the last of two equal keys silently, and turns an
    impossible date (``2022-02-31``) into a crash instead of an error naming
    the key; dates are checked by :class:`_Loader` instead. Aliases
    (``*name``) are refused: a few nested ones expand a 1 KB file into
    gigabytes ("billion laughs"), and a params file never needs them.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102 (PyYAML hook)
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"an alias (*{str(event.anchor)[:40]}) is used; aliases and anchors are not allowed "
                f"in params files, write the value out in full", event.start_mark)
        return super().compose_node(parent, index)


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # unhashable key: construct_mapping reports it
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice (first on line {first + 1}); keep one",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_StrictYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
_StrictYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


#: Longest echo of a user's value in a message (a huge value must not flood the terminal).
SHOWN_MAX = 80


def _shown(value: Any) -> str:
    """A short ``repr`` of a user's value for messages, at most :data:`SHOWN_MAX` characters.

    Built with :mod:`reprlib`, so a huge value is never turned into text whole.
    """
    import reprlib

    r = reprlib.Repr()
    r.maxstring = r.maxother = SHOWN_MAX - 10
    r.maxlist = r.maxdict = r.maxtuple = r.maxset = 4
    r.maxlevel = 3
    text = r.repr(value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 3] + "..."


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of: " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (list,):
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin in (dict,):
        return "a mapping"
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false",
            dt.date: "a date (YYYY-MM-DD)", type(None): "empty (null)"}.get(tp, getattr(tp, "__name__", str(tp)))


class _Loader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, key: str, message: str) -> None:
        shown_key = key if len(key) <= SHOWN_MAX else key[: SHOWN_MAX - 3] + "..."
        self.problems.append(f"key '{shown_key}': {message}")

    def convert(self, value: Any, tp: Any, key: str) -> Any:
        origin = typing.get_origin(tp)
        if origin in (types.UnionType, typing.Union):
            args = typing.get_args(tp)
            if value is None and type(None) in args:
                return None
            non_none = [a for a in args if a is not type(None)]
            if len(non_none) == 1:
                return self.convert(value, non_none[0], key)
            for a in non_none:  # float | None etc.; try in order
                before = len(self.problems)
                out = self.convert(value, a, key)
                if len(self.problems) == before:
                    return out
                del self.problems[before:]
            self.fail(key, f"expected {_type_name(tp)}, got {_shown(value)}")
            return None
        if origin is Literal:
            allowed = typing.get_args(tp)
            if value not in allowed:
                self.fail(key, f"expected {_type_name(tp)}, got {_shown(value)}")
            return value
        if origin is list:
            if not isinstance(value, list):
                self.fail(key, f"expected {_type_name(tp)}, got {type(value).__name__} {_shown(value)}")
                return []
            (item_tp,) = typing.get_args(tp)
            return [self.convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(key, f"expected a mapping (key: value lines), got {_shown(value)}")
                return {}
            k_tp, v_tp = typing.get_args(tp)
            return {self.convert(k, k_tp, f"{key}"): self.convert(v, v_tp, f"{key}.{k}") for k, v in value.items()}
        if dataclasses.is_dataclass(tp):
            return self.build(tp, value, key)
        if tp is bool:
            if not isinstance(value, bool):
                self.fail(key, f"expected true or false, got {_shown(value)}")
            return value
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(key, f"expected a whole number, got {_shown(value)}")
            return value
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(key, f"expected a number, got {_shown(value)}")
                return value
            return float(value)
        if tp is str:
            if not isinstance(value, str):
                self.fail(key, f"expected text, got {type(value).__name__} {_shown(value)}")
            elif "\x00" in value:
                self.fail(key, "contains a NUL byte")
            return value
        if tp is dt.date:
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    pass
            self.fail(key, f"expected a date written YYYY-MM-DD, got {_shown(value)}")
            return value
        raise TypeError(f"unsupported type {tp!r} in params schema")  # a bug in this module

    def build(self, cls: Any, value: Any, key: str) -> Any:
        where = key or "the top level"
        if not isinstance(value, dict):
            self.fail(key or "(top level)", f"expected a mapping of settings, got {_shown(value)}")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for k in value:
            if k not in fields:
                self.fail(f"{key}.{k}" if key else str(k),
                          f"unknown setting in {where}; allowed: {', '.join(fields)}. Check the spelling.")
        kwargs = {}
        missing = False
        for name, f in fields.items():
            sub = f"{key}.{name}" if key else name
            if name in value:
                kwargs[name] = self.convert(value[name], hints[name], sub)
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(sub, f"is required but missing ({_type_name(hints[name])})")
                missing = True
        return None if missing else cls(**kwargs)


def _semantic_checks(p: Params, fail: Any) -> None:
    paths.check_campaign_name(p.campaign)
    ids = [i.id for i in p.indicators]
    check_indicators(p.indicators, p.groups, fail, _shown)
    for i, c in enumerate(p.claims):
        if c.indicator not in ids:
            fail(f"claims[{i}].indicator", f"{_shown(c.indicator)} is not an indicator id ({', '.join(ids)})")
        elif p.indicator(c.indicator).type == "numeric":
            fail(f"claims[{i}].indicator", f"{_shown(c.indicator)} is a numeric indicator (a mean); published "
                 f"claims are percentages, so they need a binary, likert, scale or score indicator")
        if c.group != "all" and c.group not in p.groups:
            fail(f"claims[{i}].group", f"{_shown(c.group)} is not 'all' or a group in 'groups'")
        need = {"change_pp": ["value"], "endline_pct": ["value"], "baseline_pct": ["value"],
                "baseline_endline_pct": ["baseline", "endline"], "increase": []}[c.kind]
        for n in need:
            if getattr(c, n) is None:
                fail(f"claims[{i}].{n}", f"is required for a claim of kind {_shown(c.kind)}")
        if c.compare_with is not None:
            paths.check_campaign_name(c.compare_with.campaign)
        if (c.unit != "pp" or c.unit_ambiguous) and c.kind != "change_pp":
            fail(f"claims[{i}].unit", f"only a claim of kind 'change_pp' has a unit, not {_shown(c.kind)}")
    claim_kinds = {c.id: c.kind for c in p.claims}
    for j, cid in enumerate(p.primary_family):
        if cid not in claim_kinds:
            fail(f"primary_family[{j}]", f"{_shown(cid)} is not a claim id ({', '.join(claim_kinds) or 'no claims'})")
        elif claim_kinds[cid] not in CHANGE_CLAIM_KINDS:
            fail(f"primary_family[{j}]", f"claim {_shown(cid)} publishes a level ({claim_kinds[cid]}), not a change, "
                 f"so it has no test of change; list only claims of kind {', '.join(CHANGE_CLAIM_KINDS)}")
    for g in p.groups:
        if g == "all":
            fail("groups", "'all' is reserved for the pooled row; rename that group")
    for s in p.subgroups:
        if s not in p.demographics:
            fail("subgroups", f"{_shown(s)} is not a key of 'demographics' ({', '.join(p.demographics)})")
    for wave in p.renames:
        if wave not in WAVES:
            fail(f"renames.{wave}", f"expected a wave name ({', '.join(WAVES)})")
    if p.published_reach_across_stages is not None:
        for c in p.published_reach_across_stages.campaigns:
            paths.check_campaign_name(c)
    check_evaluation(p.evaluation, indicator_ids=ids, groups=list(p.groups), fail=fail)
    check_report(p.report, indicator_ids=ids, groups=list(p.groups), claim_ids=[c.id for c in p.claims], fail=fail)
    numeric = {i.id for i in p.indicators if i.type == "numeric"}
    for i, t in enumerate(p.evaluation.targets):
        if t.indicator in numeric:
            fail(f"evaluation.targets[{i}].indicator", f"{_shown(t.indicator)} is a numeric indicator (a mean); "
                 f"targets are percentages ({t.kind}), so they need a binary, likert, scale or score indicator")
    check_sampling(p.sampling, design=p.design, groups=list(p.groups),
                   populations=[list(i.population) for i in p.indicators], fail=fail)
    if not 0 < p.alpha < 1:
        fail("alpha", f"must lie between 0 and 1, got {p.alpha}")
    fw = p.fieldwork
    if fw.target_per_day is not None and fw.target_per_day < 1:
        fail("fieldwork.target_per_day", f"must be at least 1, got {fw.target_per_day}")
    if not 0 <= fw.max_short_share <= 1:
        fail("fieldwork.max_short_share", f"must lie between 0 and 1, got {fw.max_short_share}")
    if fw.outlier_z <= 0:
        fail("fieldwork.outlier_z", f"must be above 0, got {fw.outlier_z}")
    if fw.follow_up_by is not None and fw.follow_up_by not in p.demographics:
        fail("fieldwork.follow_up_by", f"{_shown(fw.follow_up_by)} is not a key of 'demographics' "
             f"({', '.join(p.demographics)})")
    if p.min_cell_size < 1:
        fail("min_cell_size", f"must be at least 1, got {p.min_cell_size}")
    if p.k_anonymity < 2:
        fail("k_anonymity", f"must be at least 2 (a class of one is a unique respondent), got {p.k_anonymity}")
    for name in [p.raw.codebook, p.raw.baseline.file, p.raw.endline.file] + ([p.raw.reach] if p.raw.reach is not None else []):
        try:
            p.raw_path(name)
        except ConfigError as exc:
            fail("raw", str(exc))


def _expand_each_option(p: Params) -> Params:
    """Params whose ``each_option`` indicators are generated from the codebook's choice list."""
    from evalkit.errors import RawDataError
    from evalkit.indicator_spec import expand_each_option
    from evalkit.xlsform import read_codebook  # not evalkit.readers: it imports this module

    try:
        codebook = read_codebook(p.raw_path(p.raw.codebook, what="raw.codebook"))
    except (RawDataError, OSError) as exc:
        raise ConfigError(f"an indicator has each_option: true, so its choices are read from the codebook, "
                          f"which cannot be read: {exc}") from None
    missing = [i.question for i in p.indicators if i.each_option and i.question not in codebook.questions]
    if missing:
        raise ConfigError(f"each_option: {', '.join(map(repr, missing))} is not a question in the codebook "
                          f"{codebook.path.name}")
    exclude = [*p.cleaning.dont_know, *p.cleaning.refused]
    return dataclasses.replace(p, indicators=expand_each_option(p.indicators, codebook, exclude=exclude))


def parse_params(data: Any, *, source: str = "<params>", expand: bool = True) -> Params:
    """Build :class:`Params` from an already-parsed mapping.

    Parameters
    ----------
    data : mapping
        The YAML document.
    source : str, keyword-only
        File name used in error messages.
    expand : bool, keyword-only
        Generate the indicators of ``each_option: true`` definitions from the
        campaign's codebook (``data/raw/<campaign>/<raw.codebook>``); the
        schema command passes False.

    Raises
    ------
    ConfigError
        Listing every problem found, each naming the dotted key.
    """
    loader = _Loader(source)
    result = loader.build(Params, data, "")
    if not loader.problems and result is not None and expand and any(i.each_option for i in result.indicators):
        check_indicators(result.indicators, result.groups, loader.fail, _shown)  # as written, before expanding
        try:
            result = result if loader.problems else _expand_each_option(result)
        except ConfigError as exc:
            loader.fail("indicators", str(exc))
    if not loader.problems and result is not None:
        try:
            _semantic_checks(result, loader.fail)
        except ConfigError as exc:
            loader.fail("campaign", str(exc))
    if loader.problems:
        from evalkit.errors import format_problems

        raise ConfigError(format_problems(
            f"The params file {source} has {len(loader.problems)} problem(s); fix them and run again "
            f"(the format is described in params/README.md):", loader.problems))
    return result


def load_params(campaign_or_path: str | Path) -> Params:
    """Load and validate a campaign's params file.

    Parameters
    ----------
    campaign_or_path : str or Path
        A campaign name (``"together"``, read from ``params/together.yaml``)
        or a path to a YAML file.

    Returns
    -------
    Params

    Raises
    ------
    ConfigError
        If the file is missing, is not valid YAML, or does not match the
        schema; the message names the file and the key.

    Examples
    --------
    >>> p = load_params("together")  # doctest: +SKIP
    >>> p.design
    'paired'
    """
    if isinstance(campaign_or_path, Path) or (isinstance(campaign_or_path, str) and campaign_or_path.endswith((".yaml", ".yml"))):
        path = Path(campaign_or_path)
    else:
        path = paths.params_dir() / f"{paths.require_campaign(campaign_or_path)}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"The params file {path} does not exist. Available campaigns: "
                          f"{', '.join(paths.available_campaigns()) or 'none'}.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The params file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                          f"save it as UTF-8.") from None
    try:
        data = yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"The params file {path} is not valid YAML{where}: {problem}. "
                          f"Check indentation and quotes there.") from None
    params = parse_params(data, source=str(path))
    if path.parent.resolve() == paths.params_dir().resolve() and params.campaign != path.stem:
        raise ConfigError(f"The params file {path} says campaign: {_shown(params.campaign)}, but its file name "
                          f"is {path.stem}.yaml; the two must be the same.")
    return params


def params_as_dict(params: Params) -> dict[str, Any]:
    """Plain, YAML/JSON-friendly dict of a :class:`Params` (dates as ISO text)."""

    def conv(v: Any) -> Any:
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v

    return conv(dataclasses.asdict(params))
