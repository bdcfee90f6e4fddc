"""De-identification: PII column detection, keyed pseudonyms, free-text scrubbing.

Direct identifiers never reach ``data/processed/``: the processed table is
built from an allow-list of columns (ids, group, demographics, indicators),
respondent ids are replaced by a keyed pseudonym, and free text is dropped
unless params opt in, in which case phone numbers and e-mail addresses are
removed.

The pseudonym key comes from, in order: the environment variable
``EVALKIT_PSEUDONYM_KEY``; the git-ignored file ``.evalkit-key`` at the project
root; or :data:`DEMO_KEY`, a documented, public default that is fine for the
synthetic demo data only (its use is written in the cleaning log as a warning).
With the same key, the same respondent gets the same pseudonym in both waves,
so panels still match.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

from evalkit import paths
from evalkit.readers import Codebook

#: Environment variable holding the pseudonym key.
KEY_ENV = "EVALKIT_PSEUDONYM_KEY"
#: Git-ignored file at the project root holding the key (first line).
KEY_FILE = ".evalkit-key"
#: Public default key, for the synthetic demo data only. Anyone can recompute
#: pseudonyms made with it, so real data needs a secret key.
DEMO_KEY = "evalkit-demo-key-NOT-SECRET"
#: Length of a pseudonym (hex digits of HMAC-SHA256): 64 bits.
PSEUDONYM_HEX = 16

# English tokens (whole words of a column name split at / - _ . space).
_EN_TOKENS = {
    "phone": {"phone", "phones", "tel", "telephone", "mobile", "cellphone", "phonenumber", "msisdn", "whatsapp",
              "utas", "utasnii", "utasny", "gar_utas"},
    "school": {"school", "schoolname", "schoolid", "kindergarten",
               "surguuli", "surguul", "surguuliin", "tsetserleg"},
    "name": {"name", "names", "fullname", "firstname", "lastname", "surname", "familyname", "givenname",
             "fio", "respname", "respondentname", "childname", "parentname",
             # transliterated Mongolian
             "ner", "neriin", "ovog", "ovogner", "ovog_ner", "huuhdiin_ner", "khuukhdiin_ner"},
    "gps": {"gps", "geolocation", "geopoint", "geo", "latitude", "longitude", "lat", "lon", "lng",
            "coordinates", "altitude"},
    "email": {"email", "mail", "emailaddress", "imeil", "imail"},
    "address": {"address", "street", "khoroo", "hayag", "khayag", "gudamj"},
    "free_text": {"comment", "comments", "remark", "remarks", "note", "notes", "specify", "feedback"},
}
# Mongolian and Russian stems, matched at the start of a word.
_CYR_STEMS = {
    "school": ("сургуул", "школ", "цэцэрлэг"),
    "name": ("нэр", "овог", "фио", "ф.и.о", "имя", "фамили", "отчеств"),
    "phone": ("утас", "утсан", "телефон", "тел.", "гар утас", "моб"),
    "gps": ("байршил", "координат", "gps", "жпс"),
    "email": ("имэйл", "и-мэйл", "цахим шуудан", "эл.шуудан", "эл. шуудан", "электронн"),
    "address": ("хаяг", "адрес", "гудамж"),
    "free_text": ("тайлбар", "санал хүсэлт", "комментари", "тодорхойл"),
}
_TOKEN_SPLIT = re.compile(r"[/\-_.\s:()\[\]]+")
_WORD_START = {kind: re.compile(r"(?<![\w])(?:" + "|".join(re.escape(s) for s in stems) + ")", re.IGNORECASE)
               for kind, stems in _CYR_STEMS.items()}
_TYPE_KIND = {"text": "free_text", "geopoint": "gps", "geotrace": "gps", "geoshape": "gps",
              "phonenumber": "phone", "image": "free_text", "audio": "free_text", "video": "free_text",
              "file": "free_text", "barcode": "free_text"}

#: Separators allowed between digit groups: space, dot, hyphen and the
#: Unicode dashes (en dash, em dash, minus sign) a word processor types.
_SEP = r"[\s.\-\u2010-\u2015\u2212]?"
#: Phone numbers: a Mongolian 8-digit number, optionally after the country
#: code 976 (with or without ``+``/``00``), digits in groups of 2 or 4
#: (``+97699112233``, ``97699112233``, ``99 11 22 33``, ``9911–2233``).
PHONE_RE = re.compile(r"(?<!\d)(?:(?:\+|00)?\s?976" + _SEP + r")?\d{2}" + _SEP + r"\d{2}" + _SEP + r"\d{2}"
                      + _SEP + r"\d{2}(?!\d)")
#: E-mail addresses, also with a full-width or small at sign (``＠``, ``﹫``)
#: and full-width dots.
EMAIL_RE = re.compile(r"[\w.+\-]+\s?[@\uFF20\uFE6B]\s?[\w\-]+(?:[.\uFF0E\u3002][\w\-]+)+")
#: Mongolian civil register numbers (регистрийн дугаар): two Cyrillic letters
#: and 8 digits, e.g. ``УБ12345678``.
REGISTER_RE = re.compile(r"(?<!\w)[А-ЯЁӨҮа-яёөү]{2}\s?\d{8}(?!\d)")


def _kind_from_name(name: str) -> str | None:
    tokens = {t.casefold() for t in _TOKEN_SPLIT.split(name) if t}
    joined = "".join(t for t in _TOKEN_SPLIT.split(name.casefold()) if t)
    for kind, words in _EN_TOKENS.items():
        if tokens & words or joined in words:
            return kind
    for kind, pattern in _WORD_START.items():
        if pattern.search(name):
            return kind
    return None


def detect_pii_columns(columns: Iterable[str], codebook: Codebook | None = None) -> dict[str, str]:
    """Find columns that hold direct identifiers or free text.

    A column is flagged by its name (English tokens such as ``name``,
    ``phone``, ``school``, ``gps``, ``email``; Mongolian and Russian words such
    as ``нэр``, ``овог``, ``утас``, ``сургууль``, ``байршил``, ``ФИО``) or, when
    it is a codebook question, by its type (``text`` = free text,
    ``geopoint`` = GPS). Labels are not searched: ``demo/location`` (urban or
    rural) is a demographic, not a GPS position.

    Parameters
    ----------
    columns : iterable of str
        Column names: export headers or codebook full names.
    codebook : Codebook, optional
        To recognise free-text and GPS questions by type.

    Returns
    -------
    dict
        Column -> kind: ``name``, ``phone``, ``school``, ``gps``, ``email``,
        ``address`` or ``free_text``. Columns not listed look safe.

    Examples
    --------
    >>> detect_pii_columns(["resp/resp_name", "Утасны дугаар", "demo/sex"])
    {'resp/resp_name': 'name', 'Утасны дугаар': 'phone'}
    """
    out: dict[str, str] = {}
    questions = codebook.questions if codebook is not None else {}
    for col in columns:
        kind = _kind_from_name(col)
        q = questions.get(col)
        if q is not None and kind is None and q.type not in ("select_one", "select_multiple"):
            # an answer typed in (text, number): its label in every form language can give it away,
            # e.g. q3 "Хүүхдийн нэр" (child's name); select questions are left to their names
            for label in q.labels.values():  # every language of the form
                by_label = _kind_from_name(label) if label else None
                if by_label in ("name", "phone", "email", "school", "address"):
                    kind = by_label
                    break
        if q is not None and q.type in _TYPE_KIND and (kind is None or kind == "free_text"):
            kind = _TYPE_KIND[q.type]
        if kind is not None:
            out[col] = kind
    return out


class PseudonymKey(NamedTuple):
    """The pseudonym key and where it came from.

    Attributes
    ----------
    key : bytes
    source : {"env", "file", "demo"}
        ``demo`` means the public :data:`DEMO_KEY` was used.
    """

    key: bytes
    source: str


def pseudonym_key() -> PseudonymKey:
    """Find the pseudonym key: ``$EVALKIT_PSEUDONYM_KEY``, ``.evalkit-key``, or the demo key.

    Returns
    -------
    PseudonymKey
    """
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        return PseudonymKey(env.encode("utf-8"), "env")
    key_file = paths.project_root() / KEY_FILE
    if key_file.is_file():
        text = key_file.read_text(encoding="utf-8").strip()
        if text:
            return PseudonymKey(text.encode("utf-8"), "file")
    return PseudonymKey(DEMO_KEY.encode("utf-8"), "demo")


def key_notice(source: str) -> str:
    """One sentence for the reader on where the pseudonym key came from.

    Parameters
    ----------
    source : {"env", "file", "demo"}
        :attr:`PseudonymKey.source` (or ``CleanResult.key_source``).

    Returns
    -------
    str
        A warning when the public demo key was used.
    """
    if source == "demo":
        return (f"WARNING: respondent ids were pseudonymised with the public demo key, which is fine for the "
                f"synthetic demo data only. For real data set the environment variable {KEY_ENV} or write a "
                f"secret to {KEY_FILE} at the project root (it is git-ignored).")
    where = f"the environment variable {KEY_ENV}" if source == "env" else f"the file {KEY_FILE}"
    return f"Respondent ids were pseudonymised with the secret key from {where}."


def pseudonymise(ids: pd.Series, key: bytes | str) -> pd.Series:
    """Replace respondent ids by keyed pseudonyms (HMAC-SHA256).

    Each distinct id is hashed once, so the cost grows with the number of
    respondents, not of rows. Ids are stripped before hashing; missing ids
    stay missing.

    Parameters
    ----------
    ids : pandas.Series
        Respondent ids (text or numbers); not modified.
    key : bytes or str
        Secret key (see :func:`pseudonym_key`).

    Returns
    -------
    pandas.Series
        Same index; ``"r"`` followed by 16 hex digits.

    References
    ----------
    RFC 2104 (HMAC); NIST SP 800-188, "De-identifying Government Datasets", 4.2
    (keyed pseudonyms).

    Examples
    --------
    >>> pseudonymise(pd.Series(["A17"]), b"k").iloc[0]  # doctest: +SKIP
    'r6f5d5e9f3a8d5f31'
    """
    if isinstance(key, str):
        key = key.encode("utf-8")
    if isinstance(ids.dtype, pd.CategoricalDtype):  # hash each category once
        stripped = pd.Series(ids.cat.categories.astype("str")).str.strip()
        cat_codes, uniques = pd.factorize(stripped, use_na_sentinel=True)
        codes = np.append(cat_codes, -1)[ids.cat.codes.to_numpy()]
    else:
        codes, uniques = pd.factorize(ids.astype("str").str.strip(), use_na_sentinel=True)
    # RFC 2104 with the padded key hashed once; each id then costs two hash
    # copies (2-3x faster than hmac.digest per id; same result, see tests).
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def one(value: str) -> str:
        i = inner.copy()
        i.update(value.encode("utf-8"))
        o = outer.copy()
        o.update(i.digest())
        return "r" + o.hexdigest()[:PSEUDONYM_HEX]

    from evalkit.codebook import text_from_codes

    digests = [one(str(u)) for u in np.asarray(uniques, dtype=object)]
    return text_from_codes(codes, digests, ids.index).rename(ids.name)


def scrub_free_text(texts: pd.Series) -> pd.Series:
    """Remove phone numbers and e-mail addresses from free-text answers.

    Parameters
    ----------
    texts : pandas.Series
        Free-text answers; not modified.

    Returns
    -------
    pandas.Series
        E-mails replaced by ``[email]``, civil register numbers
        (``УБ12345678``) by ``[register number]``, phone numbers
        (``+976 9911 2233``, ``97699112233``, ``99 11 22 33``) by ``[phone]``.

    Examples
    --------
    >>> scrub_free_text(pd.Series(["call 99112233 or a@b.mn"])).iloc[0]
    'call [phone] or [email]'
    """
    out = texts.astype("str")
    out = out.str.replace(EMAIL_RE, "[email]", regex=True)
    out = out.str.replace(REGISTER_RE, "[register number]", regex=True)
    return out.str.replace(PHONE_RE, "[phone]", regex=True)


# --------------------------------------------------------------------------- personal data by its values

_UP, _LOW = "A-ZА-ЯЁӨҮ", "a-zа-яёөүʼ'’"
#: A person's name: an optional initial (``Д.``), then one to three capitalised
#: words, hyphenated parts allowed (``Д. Ариунаа``, ``Bat-Erdene Bold``).
NAME_RE = re.compile(rf"(?:[{_UP}]\.\s?)?[{_UP}][{_LOW}]+(?:-[{_UP}]?[{_LOW}]+)?"
                     rf"(?:\s(?:[{_UP}]\.|[{_UP}][{_LOW}]+(?:-[{_UP}]?[{_LOW}]+)?)){{0,2}}")
#: An identifier: one token of letters/digits/``-_/`` with a digit and a letter or a separator (``TG-0106``).
ID_RE = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-zА-Яа-я\-_/])[A-Za-zА-Яа-я0-9][A-Za-zА-Яа-я0-9\-_/]{2,23}")
#: Dates that the phone pattern would also match (``2022-05-03``, ``03.05.2022``).
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?|\d{2}[./-]\d{2}[./-]\d{4}")
#: A school named in a value (``... 5-р сургууль``, ``School No. 5``).
_SCHOOL_WORD = re.compile(r"(?<![\w])(?:school|kindergarten|сургуул|школ|цэцэрлэг)", re.IGNORECASE)
#: Share of a column's non-empty values that must look personal.
VALUE_SHARE = 0.6
#: Distinct values looked at per column (the first ones, so the answer is deterministic and cheap).
VALUE_SAMPLE = 5000
#: Names and ids are diverse: at least this many distinct values, and this share of the non-empty values.
MIN_DISTINCT, MIN_DISTINCT_SHARE = 5, 0.3


def personal_kind_of_values(values: pd.Series) -> str | None:
    """The kind of personal data a column's *values* look like, whatever its header.

    A column is personal when at least :data:`VALUE_SHARE` of its non-empty
    values are e-mail addresses, civil register numbers or phone numbers, or
    (for diverse columns: at least :data:`MIN_DISTINCT` distinct values making
    up :data:`MIN_DISTINCT_SHARE` of the answers) person names or one-token
    identifiers such as ``TG-0106``. Counted over the distinct values weighted
    by how often they occur; no value is returned or logged.

    Parameters
    ----------
    values : pandas.Series
        Raw answers (text, numbers or categories); not modified.

    Returns
    -------
    str or None
        ``email``, ``register``, ``phone``, ``school`` (names of schools or
        kindergartens: at least :data:`MIN_DISTINCT` of them), ``name``,
        ``id``, or None.

    Examples
    --------
    >>> personal_kind_of_values(pd.Series(["Д. Ариунаа", "Bat-Erdene Bold", "Н. Төмөрбаатар",
    ...                                    "М. Дорж", "Ж. Ганбаатар"]))
    'name'
    """
    if isinstance(values.dtype, pd.CategoricalDtype):  # counted on the codes, in order of appearance
        codes = values.cat.codes.to_numpy()
        used, first, n = np.unique(codes[codes >= 0], return_index=True, return_counts=True)
        seen = np.argsort(first, kind="stable")
        raw = pd.Series(n[seen], index=values.cat.categories[used[seen]])
    else:  # distinct values first: 1M answers are a few thousand texts
        raw = values.value_counts(dropna=True, sort=False)
    texts = pd.Index(raw.index.astype("str"), dtype="object").str.strip()
    counts = pd.Series(raw.to_numpy(), index=texts).groupby(level=0, sort=False).sum()
    counts = counts[counts.index != ""]
    if counts.empty:
        return None
    counts = counts.iloc[:VALUE_SAMPLE]
    total = int(counts.sum())
    texts = pd.Series(counts.index, dtype="str")
    weights = counts.to_numpy()

    def share(pattern: re.Pattern[str], *, search: bool = False) -> float:
        find = pattern.search if search else pattern.fullmatch
        hit = texts.map(lambda t: find(t) is not None and DATE_RE.fullmatch(t) is None).to_numpy(dtype=bool)
        return float(weights[hit].sum()) / total

    for kind, pattern in (("email", EMAIL_RE), ("register", REGISTER_RE), ("phone", PHONE_RE)):
        if share(pattern) >= VALUE_SHARE:
            return kind
    if len(counts) >= MIN_DISTINCT and share(_SCHOOL_WORD, search=True) >= VALUE_SHARE:
        return "school"
    if len(counts) >= MIN_DISTINCT and len(counts) >= MIN_DISTINCT_SHARE * total:
        for kind, pattern in (("name", NAME_RE), ("id", ID_RE)):
            if share(pattern) >= VALUE_SHARE:
                return kind
    return None


def detect_pii_values(frame: pd.DataFrame, *, skip: Iterable[str] = ()) -> dict[str, str]:
    """Columns of ``frame`` whose values look personal (:func:`personal_kind_of_values`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A raw export (headers as exported); not modified.
    skip : iterable of str, keyword-only
        Columns not to test (the respondent id, which is pseudonymised anyway).

    Returns
    -------
    dict
        Column -> kind.
    """
    skipped = set(skip)
    out = {}
    for col in frame.columns:
        if col in skipped:
            continue
        kind = personal_kind_of_values(frame[col])
        if kind is not None:
            out[col] = kind
    return out
