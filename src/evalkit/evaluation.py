"""Params schema of the ``evaluation:`` block: framing, targets, recommendations.

Everything an M&E reviewer checks first that is not computed from the data:
who commissioned and did the evaluation, the evaluation questions, the logic
model, indicator targets, the safeguarding statement and the evaluators'
recommendations. Every key is optional; the report shows nothing for an absent
key and invents nothing. :mod:`evalkit.params` loads this block strictly like
the rest of the file (``Params.evaluation``); the user documentation is in
``params/README.md``.

This module imports nothing from evalkit, so :mod:`evalkit.params` can use it
without an import cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Target:
    """A target for one indicator in one group.

    Attributes
    ----------
    indicator : str
        Indicator id.
    group : str
        Group name, or ``all`` for the pooled row.
    kind : {"endline_pct", "change_pp"}
        ``endline_pct``: endline share at least ``value`` percent;
        ``change_pp``: change of at least ``value`` percentage points.
    value : float
        The target figure.
    source : str
        Where the target comes from (logframe, proposal, published figure).
    """

    indicator: str
    group: str
    kind: Literal["endline_pct", "change_pp"]
    value: float
    source: str = ""


@dataclass(frozen=True)
class EvaluationQuestion:
    """An evaluation question and where the report answers it.

    Attributes
    ----------
    id : str
        Short id (``EQ1``).
    text : str
        The question.
    sections : list of str
        Report section titles that answer it.
    indicators : list of str
        Indicator ids that answer it.
    """

    id: str
    text: str
    sections: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LogicModel:
    """Activities -> outputs -> outcomes (outcomes are indicator ids)."""

    activities: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation written by the evaluators.

    Attributes
    ----------
    text : str
        The recommendation.
    owner : str
        Who should act on it.
    priority : {"high", "medium", "low"}
    timeline : str
        By when (free text, e.g. "before the next campaign").
    """

    text: str
    owner: str
    priority: Literal["high", "medium", "low"]
    timeline: str


@dataclass(frozen=True)
class Evaluation:
    """The optional ``evaluation:`` block of a params file (see ``params/README.md``)."""

    commissioned_by: str | None = None
    evaluation_team: list[str] = field(default_factory=list)
    funder: str | None = None
    locations: list[str] = field(default_factory=list)
    report_version: str | None = None
    report_date: dt.date | None = None
    questions: list[EvaluationQuestion] = field(default_factory=list)
    logic_model: LogicModel | None = None
    targets: list[Target] = field(default_factory=list)
    safeguarding: str | None = None
    recommendations: list[Recommendation] = field(default_factory=list)
    questionnaire_language: Literal["", "en", "mn"] = ""


def check_evaluation(ev: Evaluation, *, indicator_ids: list[str], groups: list[str],
                     fail: Callable[[str, str], Any]) -> None:
    """Report (through ``fail(key, message)``) targets or links naming an unknown indicator or group."""
    known = ", ".join(indicator_ids)
    for i, t in enumerate(ev.targets):
        if t.indicator not in indicator_ids:
            fail(f"evaluation.targets[{i}].indicator", f"'{t.indicator}' is not an indicator id ({known})")
        if t.group != "all" and t.group not in groups:
            fail(f"evaluation.targets[{i}].group", f"'{t.group}' is not 'all' or a group in 'groups'")
    for i, q in enumerate(ev.questions):
        for ind in q.indicators:
            if ind not in indicator_ids:
                fail(f"evaluation.questions[{i}].indicators", f"'{ind}' is not an indicator id ({known})")
    if ev.logic_model is not None:
        for ind in ev.logic_model.outcomes:
            if ind not in indicator_ids:
                fail("evaluation.logic_model.outcomes", f"'{ind}' is not an indicator id ({known})")
