"""What an indicator definition in params may say, and the checks on it.

:class:`Indicator` is the schema of one entry of ``indicators:`` in
``params/<campaign>.yaml`` (loaded by :mod:`evalkit.params`, which calls
:func:`check_indicators`); :func:`expand_each_option` turns an
``each_option: true`` definition into one indicator per choice of its
question; :func:`codebook_problems` checks every definition against the
XLSForm before any data is read. The kinds (``type``):

- ``binary``: a select_one or select_multiple question; ``positive`` choices
  (select_multiple: "mentions any of", or ``mentions: all``, ``at_least: k``);
- ``likert``: a five-point select_one agreement scale (``levels`` lowest
  first), with a rank test on the levels;
- ``scale``: the same for any number of points (3 to 11), e.g. a 3-, 4- or
  7-point scale; ``reverse: true`` for a reverse-coded item (level 1 is
  then the most favourable);
- ``numeric``: an integer / decimal question, compared by mean and median;
  ``dont_know_codes`` / ``refused_codes`` (98, 99, 999 ...) become missing
  with the reason kept;
- ``score``: a knowledge score, the number of ``items`` answered with a
  ``correct`` choice; the indicator is "good knowledge", score >=
  ``cut_off`` x the number of items.

Every indicator says whether it is ``self_reported`` or ``observed``
(``mode``), which the report text follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

#: Question types each kind reads (XLSForm base types).
FITS: dict[str, tuple[str, ...]] = {
    "binary": ("select_one", "select_multiple"), "likert": ("select_one",), "scale": ("select_one",),
    "numeric": ("integer", "decimal", "range"), "score": ("select_one", "select_multiple"),
}
#: Kinds whose ``<id>_level`` column holds an ordinal level (rank test on it).
ORDINAL_KINDS = ("likert", "scale")


@dataclass(frozen=True)
class ScoreItem:
    """One question of a knowledge score.

    Attributes
    ----------
    question : str
        Codebook name of the question.
    correct : list of str
        Its correct choice name(s); an answer is correct when it is one of
        them (select_one) or mentions one of them (select_multiple), unless
        ``mentions: all``.
    mentions : {"any", "all"}
        For a select_multiple item: ``all`` = correct only when every
        ``correct`` choice is mentioned.
    """

    question: str
    correct: list[str]
    mentions: Literal["any", "all"] = "any"


@dataclass(frozen=True)
class Denominator:
    """Which answers are in an indicator's denominator (percent of whom).

    Attributes
    ----------
    not_asked : {"excluded", "negative"}
        A respondent of the population who was not asked (skipped by the
        form's relevance, empty answer): left out of the denominator
        (default), or counted as a negative outcome.
    dont_know, refused : {"excluded", "negative"}
        "Don't know" / "refused" answers: left out (default, the missing
        reason is kept) or counted as a negative outcome.
    """

    not_asked: Literal["excluded", "negative"] = "excluded"
    dont_know: Literal["excluded", "negative"] = "excluded"
    refused: Literal["excluded", "negative"] = "excluded"


@dataclass(frozen=True)
class Indicator:
    """One KAP indicator (an entry of params ``indicators``).

    Attributes
    ----------
    id : str
        Identifier, also the column name in ``responses.parquet``
        (lower-case, e.g. ``t1_good_knowledge``).
    label : str
        Plain-language description shown in the report.
    theme : {"knowledge", "attitudes", "practices"}
        KAP domain, one figure per theme.
    population : list of str
        Respondent groups asked this question; the pooled row ``all`` covers
        exactly these groups.
    question : str
        Codebook name of the question (every kind but ``score``).
    positive : list of str
        Choice names coded as a positive outcome (``binary``, ``likert``,
        ``scale``; e.g. ``[agree, strongly_agree]``).
    type : {"binary", "likert", "scale", "numeric", "score"}
        The kind (module docstring). ``likert``/``scale`` keep their level
        in ``<id>_level``, ``numeric`` its value in ``<id>``, ``score`` its
        score in ``<id>_score``.
    levels : list of str
        ``likert`` (5) / ``scale`` (3 to 11): choice names from level 1 up.
    reverse : bool
        ``likert``/``scale``: a reverse-coded item; ``<id>_level`` counts
        from the last of ``levels`` (so a higher level is always the
        favourable direction).
    mentions : {"any", "all"}
        How ``positive`` is read on a select_multiple: ``any`` (default) =
        mentions at least one, ``all`` = every one.
    at_least : int or None
        "Mentions at least k of ``positive``" (overrides ``mentions``).
    each_option : bool
        Generate one binary indicator per choice of ``question``
        (``<id>_<choice>``, label "<label>: <choice label>"), don't know and
        refused choices left out; ``positive`` must then be empty.
    option : str
        Set by ``each_option`` on the indicators it generates: the choice
        counted (labels in other report languages come from it); leave it out.
    mode : {"self_reported", "observed"}
        Whether the respondent reported it or an enumerator observed it.
    dont_know_codes, refused_codes : list of float
        ``numeric``: values meaning "don't know" / "refused" (e.g. 98, 99,
        999, 9999); they become missing with the reason kept.
    items : list of ScoreItem
        ``score``: the questions scored, each with its correct choice(s).
    cut_off : float or None
        ``score``: "good knowledge" = score >= ``cut_off`` x number of items
        (0 < cut_off <= 1; the common KAP convention is 0.8).
    denominator : Denominator
        Whether not asked / don't know / refused are excluded (default) or
        count as negative (``binary``, ``likert``, ``scale``).
    """

    id: str
    label: str
    theme: Literal["knowledge", "attitudes", "practices"]
    population: list[str]
    question: str = ""
    positive: list[str] = field(default_factory=list)
    type: Literal["binary", "likert", "scale", "numeric", "score"] = "binary"
    levels: list[str] = field(default_factory=list)
    reverse: bool = False
    mentions: Literal["any", "all"] = "any"
    at_least: int | None = None
    each_option: bool = False
    option: str = ""
    mode: Literal["self_reported", "observed"] = "self_reported"
    dont_know_codes: list[float] = field(default_factory=list)
    refused_codes: list[float] = field(default_factory=list)
    items: list[ScoreItem] = field(default_factory=list)
    cut_off: float | None = None
    denominator: Denominator = field(default_factory=Denominator)

    @property
    def questions(self) -> list[str]:
        """Every codebook question this indicator reads (the items of a score)."""
        return [it.question for it in self.items] if self.type == "score" else [self.question]


def check_indicators(indicators: list[Indicator], groups: dict[str, str], fail: Callable[[str, str], None],
                     shown: Callable[[Any], str] = repr) -> None:
    """Check what the params alone can tell about the indicator definitions.

    Every problem goes to ``fail(key, message)`` (collected by the caller,
    one message in the end). Questions and choices are checked against the
    codebook by :func:`codebook_problems`.
    """
    ids = [i.id for i in indicators]
    for i, ind in enumerate(indicators):
        key = f"indicators[{i}]"
        if not ind.id.isidentifier() or ind.id != ind.id.lower():
            fail(f"{key}.id", f"{shown(ind.id)} must be a lower-case identifier (letters, digits, _)")
        if ids.count(ind.id) > 1:
            fail(f"{key}.id", f"{shown(ind.id)} is used by more than one indicator")
        for g in ind.population:
            if g not in groups:
                fail(f"{key}.population", f"group {shown(g)} is not in 'groups' ({', '.join(groups)})")
        kind = ind.type
        if kind != "score" and not ind.question:
            fail(f"{key}.question", f"is required for a {kind} indicator (the codebook name of its question)")
        if kind == "score":
            if not ind.items:
                fail(f"{key}.items", "is required for a score indicator: a list of {question, correct}")
            for j, it in enumerate(ind.items):
                if not it.correct:
                    fail(f"{key}.items[{j}].correct", "needs at least one correct choice")
            if ind.cut_off is None or not 0 < ind.cut_off <= 1:
                fail(f"{key}.cut_off", "a score needs cut_off between 0 and 1 (share of the maximum score, "
                     f"e.g. 0.8), got {shown(ind.cut_off)}")
        elif ind.items or ind.cut_off is not None:
            fail(f"{key}.items", f"'items' and 'cut_off' are for a score indicator, not {kind}")
        if kind in ("binary", "likert", "scale") and not ind.each_option and not ind.positive:
            fail(f"{key}.positive", "needs at least one positive answer")
        if kind in ("numeric", "score") and ind.positive:
            fail(f"{key}.positive", f"a {kind} indicator has no positive choices; remove 'positive'")
        if kind in ("numeric", "score") and ind.denominator != Denominator():
            fail(f"{key}.denominator", f"a {kind} indicator has no percentage of answers to choose a denominator "
                 f"for; remove 'denominator'")
        if kind != "numeric" and (ind.dont_know_codes or ind.refused_codes):
            fail(f"{key}.dont_know_codes", f"numeric don't-know/refused codes apply to a numeric indicator, not "
                 f"{kind}; for a choice question list the choices under cleaning.dont_know / cleaning.refused")
        if ind.option and (ind.positive != [ind.option] or ind.each_option):
            fail(f"{key}.option", "is filled in by each_option for the indicators it generates; leave it out")
        if ind.each_option and (kind != "binary" or ind.positive):
            fail(f"{key}.each_option", "each_option generates one binary indicator per choice: use type binary "
                 "and leave 'positive' out")
        if ind.at_least is not None and not 1 <= ind.at_least <= max(len(ind.positive), 1):
            fail(f"{key}.at_least", f"must be between 1 and the number of positive choices "
                 f"({len(ind.positive)}), not {ind.at_least}")
        if kind in ORDINAL_KINDS:
            want = (5, 5) if kind == "likert" else (3, 11)
            if not want[0] <= len(ind.levels) <= want[1]:
                need = "exactly 5 levels" if kind == "likert" else "3 to 11 levels"
                fail(f"{key}.levels", f"a {kind} indicator needs {need}, lowest first (got {len(ind.levels)})")
            if len(set(ind.levels)) != len(ind.levels):
                fail(f"{key}.levels", "a level is listed twice")
            for v in ind.positive:
                if ind.levels and v not in ind.levels:
                    fail(f"{key}.positive", f"{shown(v)} is not one of its levels")
        elif ind.levels or ind.reverse:
            fail(f"{key}.levels", f"'levels' and 'reverse' are for a likert or scale indicator, not {kind}")


def expand_each_option(indicators: list[Indicator], codebook: Any, *, exclude: list[str]) -> list[Indicator]:
    """Replace every ``each_option: true`` indicator by one binary indicator per choice.

    Parameters
    ----------
    indicators : list of Indicator
    codebook : Codebook
        From :func:`evalkit.readers.read_codebook`.
    exclude : list of str, keyword-only
        Choices to skip (params ``cleaning.dont_know`` + ``cleaning.refused``).

    Returns
    -------
    list of Indicator
        Same order; a template's generated indicators, in choice-list order,
        take its place, ids ``<id>_<choice>``, labels ``<label>: <choice
        label>`` (the codebook's label in its default language).
    """
    out: list[Indicator] = []
    for ind in indicators:
        if not ind.each_option:
            out.append(ind)
            continue
        q = codebook.question(ind.question)
        for c in codebook.choices.get(q.list_name or "", []):
            if c.name in exclude:
                continue
            out.append(replace(ind, id=f"{ind.id}_{c.name}".lower(), each_option=False, positive=[c.name], option=c.name,
                               label=f"{ind.label}: {codebook.choice_label(c, codebook.default_language)}",
                               mentions="any", at_least=None))
    return out


def codebook_problems(indicators: list[Indicator], codebook: Any, *, missing_choices: tuple[str, ...] = (),
                      derived: dict[str, list[str]] | None = None) -> list[str]:
    """Every way the indicator definitions do not fit the codebook (all problems, not the first).

    Checks, for each indicator: its question(s) exist; the question type
    fits the kind (:data:`FITS`); ``mentions: all`` / ``at_least`` are on a
    select_multiple; every named choice (``positive``, ``levels``, score
    ``correct``) is a choice of the question (the message lists those that
    exist); a ``likert``/``scale`` question has no choice that is neither a
    level nor one of ``missing_choices`` (params ``cleaning.dont_know`` +
    ``cleaning.refused``), which would otherwise have no level. A derived
    variable (``derived``: name -> its values) counts as a select_one whose
    choices are its values.

    Returns
    -------
    list of str
        One plain sentence per problem, naming the params key.
    """
    problems = []
    for i, ind in enumerate(indicators):
        key = f"indicators[{i}]"
        if ind.type == "score":
            checks = [(f"{key}.items[{j}]", it.question, it.correct, it.mentions == "all")
                      for j, it in enumerate(ind.items)]
        else:
            checks = [(key, ind.question, [*ind.positive, *ind.levels],
                       ind.mentions == "all" or ind.at_least is not None)]
        for where, question, named, needs_multiple in checks:
            if derived and question in derived:
                if ind.type not in ("binary", "likert", "scale") or needs_multiple:
                    problems.append(f"key '{key}.type': {question} is a derived variable (one value per "
                                    f"respondent); a {ind.type} indicator cannot read it")
                for v in named:
                    if v not in derived[question]:
                        problems.append(f"key '{where}': {v!r} is not a value of the derived variable {question} "
                                        f"({', '.join(derived[question])})")
                continue
            if question not in codebook.questions:
                problems.append(f"key '{where}.question': {question!r} is not a question in the codebook "
                                f"{codebook.path.name}")
                continue
            qtype = codebook.questions[question].type
            if qtype not in FITS[ind.type]:
                problems.append(f"key '{key}.type': a {ind.type} indicator needs a question of type "
                                f"{' or '.join(FITS[ind.type])}, but {question} is {qtype}")
                continue
            if needs_multiple and qtype != "select_multiple":
                problems.append(f"key '{where}': 'mentions: all' and 'at_least' apply to a select_multiple "
                                f"question, but {question} is {qtype}; remove them")
            names = codebook.choice_names(question) if qtype in FITS["binary"] else []
            for v in named:
                if names and v not in names:
                    problems.append(f"key '{where}': {v!r} is not a choice of {question} ({', '.join(names)})")
            if ind.type in ORDINAL_KINDS and names and all(v in names for v in ind.levels):
                loose = [c for c in names if c not in ind.levels and c not in missing_choices]
                if loose:
                    problems.append(f"key '{key}.levels': the choice(s) {', '.join(loose)} of {question} are neither "
                                    f"a level nor a don't know / refused choice (cleaning.dont_know, "
                                    f"cleaning.refused); add them to one of the two")
    return problems


def required_questions(indicators: list[Indicator]) -> dict[str, list[str]]:
    """Indicator question -> the groups it is asked of (every indicator reading it; score items too)."""
    out: dict[str, list[str]] = {}
    for ind in indicators:
        for q in ind.questions:
            out[q] = list(dict.fromkeys([*out.get(q, []), *ind.population]))
    return out


def numeric_missing_codes(indicators: list[Indicator], question: str) -> tuple[float, ...]:
    """Don't-know / refused codes that numeric indicators declare for ``question``."""
    return tuple(dict.fromkeys(c for i in indicators if i.type == "numeric" and i.question == question
                               for c in (*i.dont_know_codes, *i.refused_codes)))


def numeric_codes_text(indicators: list[Indicator]) -> str:
    """The cleaning-log words for the numeric don't-know / refused codes ("" when none is declared)."""
    parts = [f"{i.id}: " + ", ".join([*(f"{c:g} = don't know" for c in i.dont_know_codes),
                                      *(f"{c:g} = refused" for c in i.refused_codes)])
             for i in indicators if i.type == "numeric" and (i.dont_know_codes or i.refused_codes)]
    return f"; numeric codes counted with them ({'; '.join(parts)})" if parts else ""


def negative_policy_text(indicators: list[Indicator]) -> str:
    """The cleaning-log words for indicators whose denominator counts don't know / refused as negative ("" if none)."""
    parts = [f"{i.id} ({', '.join(r for r in ('dont_know', 'refused') if getattr(i.denominator, r) == 'negative')})"
             for i in indicators if "negative" in (i.denominator.dont_know, i.denominator.refused)]
    return (f"; except that these indicators count them as negative (params denominator), the reason still kept: "
            f"{', '.join(parts)}") if parts else ""
