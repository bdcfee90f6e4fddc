"""Evaluate XLSForm ``relevant`` expressions on a wave's answers: was a question asked?

Used by the ``latest_complete`` duplicate rule (:mod:`evalkit.cleaning`): an
interview is complete when every indicator question that was *relevant* for
it is answered, so a question skipped by the form's own logic does not make
an interview incomplete. The XPath subset of real KAP forms is understood:
``${q} = 'v'``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` with text or numbers,
``selected(${q}, 'v')``, ``count-selected(${q})``, ``string-length(${q})``,
``not(...)``, ``and``, ``or``, parentheses, ``true()``/``false()``. Anything
else raises :class:`UnsupportedExpression`; the caller then treats the
question as always asked and says so in the cleaning log (never silently).

Empty answers follow XPath: an unanswered question is the empty string, so
``${q} = ''`` is true for it and ``${q} != 'v'`` too; as a number it is NaN,
so ``${q} > 3`` is false.

References
----------
XLSForm specification, "Relevant" and "Form logic" (https://xlsform.org);
ODK XForms specification, XPath functions (https://getodk.github.io/xforms-spec/).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

_TOKEN = re.compile(r"""\s*(?:(?P<ref>\$\{[^}]+\})|(?P<str>'[^']*'|"[^"]*")|(?P<num>-?\d+(?:\.\d+)?)
                        |(?P<op>!=|>=|<=|=|>|<)|(?P<paren>[(),])|(?P<name>[A-Za-z][\w-]*))""", re.X)


#: Prefix of the internal per-question relevance columns :func:`add_relevance` adds (never written).
RELEVANT = "__relevant:"


class UnsupportedExpression(ValueError):
    """A ``relevant`` expression outside the subset evalkit evaluates."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UnsupportedExpression(f"cannot read {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over the tokens; each node evaluates to a per-row array."""

    def __init__(self, text: str, column: Callable[[str], pd.Series], n: int) -> None:
        self.toks, self.i, self.column, self.n = _tokens(text), 0, column, n

    def peek(self, value: str | None = None) -> tuple[str, str] | None:
        tok = self.toks[self.i] if self.i < len(self.toks) else None
        return tok if tok is None or value is None or tok[1] == value else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek(value)
        if tok is None:
            raise UnsupportedExpression(f"expected {value or 'more'} at token {self.i + 1}")
        self.i += 1
        return tok

    def parse(self) -> np.ndarray:
        out = self.boolean(self.or_())
        if self.i != len(self.toks):
            raise UnsupportedExpression(f"unexpected {self.toks[self.i][1]!r}")
        return out

    def boolean(self, v: Any) -> np.ndarray:
        if isinstance(v, np.ndarray) and v.dtype == bool:
            return v
        raise UnsupportedExpression("a value is used where a condition is expected")

    def or_(self) -> Any:
        v = self.and_()
        while self.peek("or"):
            self.take()
            v = self.boolean(v) | self.boolean(self.and_())
        return v

    def and_(self) -> Any:
        v = self.cmp()
        while self.peek("and"):
            self.take()
            v = self.boolean(v) & self.boolean(self.cmp())
        return v

    def cmp(self) -> Any:
        left = self.unary()
        tok = self.peek()
        if tok and tok[0] == "op":
            self.take()
            return _compare(left, tok[1], self.unary(), self.n)
        return left

    def unary(self) -> Any:
        kind, value = self.take()
        if kind == "ref":
            return ("ref", self.column(value[2:-1].strip()))
        if kind == "str":
            return ("text", value[1:-1])
        if kind == "num":
            return ("number", float(value))
        if value == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "name":
            return self.function(value)
        raise UnsupportedExpression(f"unexpected {value!r}")

    def function(self, name: str) -> Any:
        self.take("(")
        args = []
        while not self.peek(")"):
            args.append(self.or_())
            if self.peek(","):
                self.take()
        self.take(")")
        if name in ("true", "false") and not args:
            return np.full(self.n, name == "true")
        if name == "not" and len(args) == 1:
            return ~self.boolean(args[0])
        if name == "selected" and len(args) == 2 and args[0][0] == "ref" and args[1][0] == "text":
            return _per_value(args[0][1], lambda v: args[1][1] in v.split(), False)
        if name == "count-selected" and len(args) == 1 and args[0][0] == "ref":
            return ("values", _per_value(args[0][1], lambda v: float(len(v.split())), 0.0, float))
        if name == "string-length" and len(args) == 1 and args[0][0] == "ref":
            return ("values", _per_value(args[0][1], lambda v: float(len(v)), 0.0, float))
        raise UnsupportedExpression(f"the function {name}() with these arguments")


def _per_value(s: pd.Series, func: Callable[[str], Any], empty: Any, dtype: type = bool) -> np.ndarray:
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    table = np.array([func(str(u)) for u in uniques] + [empty], dtype=dtype)
    return table[codes]


def _text(v: tuple) -> np.ndarray | str:
    if v[0] == "ref":
        codes, uniques = pd.factorize(v[1], use_na_sentinel=True)  # each distinct answer made text once
        return np.array([str(u) for u in uniques] + [""], dtype=object)[codes]
    if v[0] == "text":
        return v[1]
    raise UnsupportedExpression("text compared with a computed value")


def _number(v: tuple) -> np.ndarray | float:
    if v[0] == "ref":
        return pd.to_numeric(v[1].astype(object), errors="coerce").to_numpy(dtype=float)
    if v[0] in ("number", "values"):
        return v[1]
    try:
        return float(v[1])
    except ValueError:
        return np.nan


def _compare(left: Any, op: str, right: Any, n: int) -> np.ndarray:
    if not (isinstance(left, tuple) and isinstance(right, tuple)):
        raise UnsupportedExpression("a condition compared with a value")
    numeric = ("number" in (left[0], right[0]) or "values" in (left[0], right[0])
               or any(v[0] == "ref" and pd.api.types.is_numeric_dtype(v[1].dtype) for v in (left, right)))
    if numeric:
        a, b = _number(left), _number(right)
        with np.errstate(invalid="ignore"):
            out = {"=": np.equal, "!=": np.not_equal, ">": np.greater, "<": np.less, ">=": np.greater_equal,
                   "<=": np.less_equal}[op](a, b)
    else:
        if op not in ("=", "!="):
            raise UnsupportedExpression(f"text compared with {op}")
        a, b = _text(left), _text(right)
        out = np.equal(a, b) if op == "=" else np.not_equal(a, b)
    return np.broadcast_to(np.asarray(out, dtype=bool), (n,)).copy()


def relevant_mask(question: Any, answers: pd.DataFrame, codebook: Any) -> np.ndarray:
    """Per row: was ``question`` relevant (asked), by its and its groups' ``relevant`` expressions?

    Parameters
    ----------
    question : Question
        From the codebook (its ``relevant`` tuple).
    answers : pandas.DataFrame
        A wave's harmonised answers (codebook full names as columns).
    codebook : Codebook

    Returns
    -------
    numpy.ndarray of bool

    Raises
    ------
    UnsupportedExpression
        With the expression and why, when it is outside the subset or names
        a question whose answers are not in ``answers``.

    Examples
    --------
    >>> relevant_mask(cb.question("prac/soap_where"), answers, cb)  # doctest: +SKIP
    """
    by_short = {q.short_name: q.name for q in codebook.questions.values()}

    def column(short: str) -> pd.Series:
        full = by_short.get(short)
        if full is None or full not in answers:
            raise UnsupportedExpression(f"${{{short}}} is not a question whose answers were read")
        return answers[full]

    mask = np.ones(len(answers), dtype=bool)
    for text in question.relevant:
        try:
            mask &= _Parser(text, column, len(answers)).parse()
        except UnsupportedExpression as exc:
            raise UnsupportedExpression(f"{text!r}: {exc}") from None
    return mask


def add_relevance(df: pd.DataFrame, questions: list[str], codebook: object) -> tuple[pd.DataFrame, list[str]]:
    """Add ``__relevant:<question>`` (was it asked, by the form's ``relevant``) for questions that have one.

    Returns
    -------
    (pandas.DataFrame, list of str)
        The answers with the new columns, and one "question: expression:
        why" per expression :mod:`evalkit.relevance` cannot evaluate (that
        question is then treated as always asked).
    """
    cols, unknown = {}, []
    for q in questions:
        question = codebook.questions.get(q)
        if question is None or not question.relevant:
            continue
        try:
            cols[RELEVANT + q] = relevant_mask(question, df, codebook)
        except UnsupportedExpression as exc:
            unknown.append(f"{q}: {exc}")
    return (df.assign(**cols) if cols else df), unknown
