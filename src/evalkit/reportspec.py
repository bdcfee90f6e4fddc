"""Params schema of the ``report:`` block: report language and campaign-specific text.

The report's own sentences are campaign-neutral and translated through the
message catalogue (:mod:`evalkit.report.i18n`). What only the campaign team
can write (a translated title, indicator and group labels in the report
language, limitations that are about the campaign's topic, a suggested
comparison group) comes from here, per language, or is left out. Every key is
optional. The user documentation is in ``params/README.md``.

This module imports nothing from evalkit, so :mod:`evalkit.params` can use it
without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

#: Report languages with a message catalogue (``src/evalkit/report/locale``).
REPORT_LANGUAGES = ("en", "mn")


@dataclass(frozen=True)
class LocalText:
    """Campaign-specific text in one language.

    Attributes
    ----------
    title, stage : str
        The report title and stage line (default: the params' ``title`` and ``stage``).
    indicators : dict
        Indicator id -> label in this language (default: the XLSForm question
        label in this language, else the params' ``label`` with a note).
    groups : dict
        Group name -> label in this language (default: the XLSForm choice
        label of the group question, else the params' ``groups`` label).
    claims : dict
        Claim id -> the published claim's text in this language.
    limitations : list of str
        Limitations specific to the campaign's topic (e.g. social desirability
        of a sensitive attitude), shown under Methods and limitations.
    comparison_group : str
        A comparison group the next evaluation could use.
    """

    title: str = ""
    stage: str = ""
    indicators: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)
    limitations: list[str] = field(default_factory=list)
    comparison_group: str = ""


@dataclass(frozen=True)
class ReportSettings:
    """The ``report:`` block.

    Attributes
    ----------
    language : {"en", "mn"}
        Default report language (``make report`` without ``REPORT_LANG``).
    text : dict
        Language code -> :class:`LocalText`.
    """

    language: Literal["en", "mn"] = "en"
    text: dict[str, LocalText] = field(default_factory=dict)

    def local(self, language: str) -> LocalText:
        """The campaign text in ``language`` (an empty :class:`LocalText` when none is given)."""
        return self.text.get(language, LocalText())


def check_report(rep: ReportSettings, *, indicator_ids: list[str], groups: list[str], claim_ids: list[str],
                 fail: Callable[[str, str], Any]) -> None:
    """Report (through ``fail(key, message)``) unknown languages, indicators, groups or claims."""
    for lang, text in rep.text.items():
        key = f"report.text.{lang}"
        if lang not in REPORT_LANGUAGES:
            fail(key, f"'{lang}' is not a report language ({', '.join(REPORT_LANGUAGES)})")
        for what, known, given in (("indicators", indicator_ids, text.indicators), ("groups", groups, text.groups),
                                   ("claims", claim_ids, text.claims)):
            for k in given:
                if k not in known:
                    fail(f"{key}.{what}", f"'{k}' is not one of the params' {what} ({', '.join(known) or 'none'})")
