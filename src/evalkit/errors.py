"""Exceptions a user of evalkit may see.

Every message follows one template: what was expected, what was found, where
(file, column, row), and what to do. A non-programmer should know what to fix.
"""

from __future__ import annotations


class EvalkitError(Exception):
    """Base class of every error evalkit raises on purpose."""


class ConfigError(EvalkitError, ValueError):
    """A params file or a command-line argument is invalid."""


class CampaignNameError(ConfigError):
    """A campaign name is malformed or names no params file."""


class UnsafePathError(ConfigError):
    """A configured path would leave its allowed folder."""


class RawDataError(EvalkitError, ValueError):
    """A raw survey export cannot be read or does not match its codebook."""


class EncodingDetectionError(RawDataError):
    """A raw file is in none of the supported text encodings."""


class CodebookError(RawDataError):
    """The XLSForm codebook is malformed, or an answer is not in it."""


class AnalysisError(EvalkitError, ValueError):
    """Processed data does not allow the requested analysis."""


def format_problems(header: str, problems: list[str], *, limit: int = 50) -> str:
    """Join a list of collected problems into one readable message.

    Parameters
    ----------
    header : str
        First line, saying what was being checked (e.g. the file name).
    problems : list of str
        One sentence per problem.
    limit : int, keyword-only
        Show at most this many problems and say how many were left out.

    Returns
    -------
    str
        ``header`` followed by one bullet per problem.
    """
    shown = problems[:limit]
    lines = [header] + [f"  - {p}" for p in shown]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more problem(s) of the same kind.")
    return "\n".join(lines)


#: Longest echo of an ordinary (not personal) value in a message.
SHOWN_VALUE_CHARS = 40


def shown_value(value: object, *, personal: bool = False) -> str:
    """A value as a message may show it: never for personal data, else quoted and cut.

    Parameters
    ----------
    value : object
    personal : bool, keyword-only
        The value comes from a personal-data column: nothing of it is shown.

    Examples
    --------
    >>> shown_value("maybe")
    "'maybe'"
    >>> shown_value("99112233", personal=True)
    '(value not shown: personal data)'
    """
    if personal:
        return "(value not shown: personal data)"
    text = repr(str(value))
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS - 4] + "...'"
