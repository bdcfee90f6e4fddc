"""Recodes and derived variables declared in params (``derived:``).

A derived variable is a new column computed from one question (or a
``calculate``, or an earlier derived variable) of each wave, before the
cleaning rules run, so it can be used wherever params name a question: the
respondent group (``columns.group``), a demographic, an indicator's
question, a consistency check. Two forms:

- ``map``: answer -> new value (a recode: ``{yes: parent_sen, no:
  parent_nosen}``); matching strips, collapses spaces and case-folds;
- ``bands``: numeric bands of an integer/decimal answer (age bands:
  ``[{max: 17, label: under_18}, {min: 18, max: 59, label: adult}, ...]``,
  both ends inclusive).

An answer with no mapping or band becomes missing (``unmapped: missing``,
the default) or keeps its value (``unmapped: keep``, ``map`` only); how many
did is written to the cleaning log (rule ``derived:<name>``), never silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Band:
    """One numeric band of a derived variable.

    Attributes
    ----------
    label : str
        The value given to answers in the band.
    min, max : float or None
        Inclusive limits; a missing one is open-ended.
    """

    label: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Derived:
    """A variable computed from a question (params ``derived`` entry).

    Attributes
    ----------
    name : str
        The new column's name, used in params like a codebook name; must not
        be a codebook question.
    question : str
        Codebook name (or an earlier derived variable) it is computed from.
    map : dict
        Answer (choice name, or a calculate's text) -> new value.
    bands : list of Band
        Numeric bands (first matching band wins), for integer/decimal answers.
    unmapped : {"missing", "keep"}
        What an answer without a mapping becomes (``keep``: its own value;
        ``map`` only). Counted in the cleaning log either way.
    """

    name: str
    question: str
    map: dict[str, str] = field(default_factory=dict)
    bands: list[Band] = field(default_factory=list)
    unmapped: Literal["missing", "keep"] = "missing"

    def values(self) -> list[str]:
        """The values it can take (mapped values or band labels, in params order)."""
        return list(dict.fromkeys(self.map.values() if self.map else (b.label for b in self.bands)))


def derived_problems(derived: list[Derived], codebook: Any) -> list[str]:
    """Every way the ``derived`` definitions do not fit each other or the codebook.

    Returns
    -------
    list of str
        One sentence per problem, naming the params key.
    """
    problems = []
    known: dict[str, str] = {}  # earlier derived variables -> their kind
    for i, d in enumerate(derived):
        key = f"derived[{i}]"
        if d.name in codebook.questions:
            problems.append(f"key '{key}.name': {d.name!r} is a question of the codebook; choose a new name")
        if d.name in known:
            problems.append(f"key '{key}.name': {d.name!r} is defined twice")
        if bool(d.map) == bool(d.bands):
            problems.append(f"key '{key}': give either 'map' (a recode) or 'bands' (numeric bands), not "
                            f"{'both' if d.map else 'neither'}")
        if d.bands and d.unmapped == "keep":
            problems.append(f"key '{key}.unmapped': 'keep' applies to a map; a number outside every band has "
                            f"no label")
        for j, b in enumerate(d.bands):
            if b.min is None and b.max is None:
                problems.append(f"key '{key}.bands[{j}]': give min, max or both")
            elif b.min is not None and b.max is not None and b.min > b.max:
                problems.append(f"key '{key}.bands[{j}]': min {b.min:g} is above max {b.max:g}")
        if d.question in known:
            if d.name not in codebook.questions:
                known[d.name] = "map" if d.map else "bands"
            continue
        q = codebook.questions.get(d.question)
        if q is None:
            problems.append(f"key '{key}.question': {d.question!r} is not a question in the codebook "
                            f"{codebook.path.name} nor an earlier derived variable")
        elif d.bands and q.type not in ("integer", "decimal", "range", "calculate"):
            problems.append(f"key '{key}.bands': bands need a number question, but {d.question} is {q.type}")
        elif d.map and q.type in ("select_one", "select_multiple"):
            names = codebook.choice_names(d.question)
            for v in d.map:
                if str(v) not in names:
                    problems.append(f"key '{key}.map': {v!r} is not a choice of {d.question} ({', '.join(names)})")
        if d.name not in codebook.questions:
            known[d.name] = "map" if d.map else "bands"
    return problems


def _norm(text: object) -> str:
    from evalkit.xlsform import normalise_label  # not evalkit.codebook: it imports params, which imports this

    return normalise_label(str(text))


def derive_column(source: pd.Series, d: Derived) -> tuple[pd.Series, int]:
    """The derived column and how many answered rows got no mapping or band.

    Parameters
    ----------
    source : pandas.Series
        The question's answers (choice names, text or numbers; missing = not answered).
    d : Derived

    Returns
    -------
    (pandas.Series, int)
        A ``category`` Series (same index; categories = :meth:`Derived.values`
        plus kept unmapped values) and the count of unmapped answers.

    Examples
    --------
    >>> d = Derived(name="band", question="age", bands=[Band("young", max=29), Band("older", min=30)])
    >>> derive_column(pd.Series([18, 45, None]), d)[0].tolist()
    ['young', 'older', nan]
    """
    answered = source.notna().to_numpy()
    if d.bands:
        num = pd.to_numeric(source.astype("string").str.strip().str.replace(",", ".", regex=False),
                            errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        out = np.full(len(source), None, dtype=object)
        for b in reversed(d.bands):  # the first matching band wins
            inside = ~np.isnan(num)
            if b.min is not None:
                inside &= num >= b.min
            if b.max is not None:
                inside &= num <= b.max
            out[inside] = b.label
    else:
        # each distinct answer is looked up once; rows take their answer's result by code (1M rows)
        lookup = {_norm(k): v for k, v in d.map.items()}
        codes, uniques = pd.factorize(source.astype(object), use_na_sentinel=True)
        found = np.array([_norm(u) in lookup for u in uniques] + [True], dtype=bool)
        mapped = [lookup.get(_norm(u), u if d.unmapped == "keep" else None) for u in uniques]
        out = np.array([*mapped, None], dtype=object)[codes]  # code -1 (missing) takes the last entry
    if d.map:  # answered rows whose answer has no mapping (kept as given, or made missing)
        unmapped = int((~found[codes]).sum())
    else:
        unmapped = int((answered & pd.isna(out)).sum())
    present = {str(v) for v in (mapped if d.map else out) if v is not None}
    categories = d.values() + sorted(present - set(d.values()))
    return pd.Series(pd.Categorical(out, categories=categories), index=source.index), unmapped


def apply_derived(df: pd.DataFrame, derived: list[Derived]) -> tuple[pd.DataFrame, list[str]]:
    """Add every derived column to a wave's harmonised answers, in params order.

    Returns
    -------
    (pandas.DataFrame, list of str)
        A copy with the new columns, and one cleaning-log sentence per
        derived variable (values produced, unmapped answers). A source column
        the export lacks gives an all-missing column and says so.
    """
    out = df.copy()
    lines = []
    for d in derived:
        if d.question not in out:
            out[d.name] = pd.Series(pd.Categorical([None] * len(out), categories=d.values()), index=out.index)
            lines.append(f"{d.name}: the export has no column for {d.question}, so {d.name} is empty")
            continue
        out[d.name], unmapped = derive_column(out[d.question], d)
        how = "mapped" if d.map else "put in bands"
        fate = "kept as they are" if d.map and d.unmapped == "keep" else "left missing"
        lines.append(f"{d.name} from {d.question}: answers {how} ({', '.join(d.values())}); {unmapped} "
                     f"answer(s) with no {'mapping' if d.map else 'band'} {fate}")
    return out, lines
