"""One place for every path and name the project uses.

No other module or notebook builds a project path by string concatenation:
they call the functions here, which also enforce the campaign-name rule and
check that every output path resolves inside the project.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from evalkit.errors import CampaignNameError, UnsafePathError

#: Project root: the folder holding ``pyproject.toml``. ``EVALKIT_ROOT``
#: overrides it (tests use this to run the pipeline on a copy of the project).
PROJECT_ROOT = Path(os.environ.get("EVALKIT_ROOT", Path(__file__).resolve().parents[2])).resolve()

#: Campaign names: lower-case letters, digits and hyphens, at most 64 chars.
CAMPAIGN_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def project_root() -> Path:
    """Return the project root, honouring ``EVALKIT_ROOT`` at call time."""
    env = os.environ.get("EVALKIT_ROOT")
    return Path(env).resolve() if env else PROJECT_ROOT


def params_dir() -> Path:
    """Folder of the per-campaign YAML params files."""
    return project_root() / "params"


def raw_dir() -> Path:
    """Folder of the immutable raw exports, one sub-folder per campaign."""
    return project_root() / "data" / "raw"


def processed_dir() -> Path:
    """Folder of the cleaned, de-identified data (a build output)."""
    return project_root() / "data" / "processed"


def reports_dir() -> Path:
    """Folder of the HTML reports and executed notebooks (a build output)."""
    return project_root() / "reports"


def locks_dir() -> Path:
    """Folder of the per-campaign run locks (``build/locks``, git-ignored)."""
    return project_root() / "build" / "locks"


def notebooks_dir() -> Path:
    """Folder of the committed, output-free notebooks."""
    return project_root() / "notebooks"


def available_campaigns() -> list[str]:
    """Campaign names for which a params file exists, sorted."""
    return sorted(p.stem for p in params_dir().glob("*.yaml") if CAMPAIGN_RE.match(p.stem))


def check_campaign_name(name: object) -> str:
    """Validate a campaign name before it is used in any path.

    Parameters
    ----------
    name : object
        The name as given by the user (command line, params, notebook).

    Returns
    -------
    str
        The same name, once checked.

    Raises
    ------
    CampaignNameError
        If the name does not match ``^[a-z0-9][a-z0-9-]{0,63}$``.
    """
    if not isinstance(name, str) or not CAMPAIGN_RE.fullmatch(name):
        shown = repr(name)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise CampaignNameError(
            f"Campaign name {shown} is not allowed: use 1-64 lower-case letters, digits "
            f"and hyphens, starting with a letter or digit (e.g. 'together'). "
            f"Available campaigns: {', '.join(available_campaigns()) or 'none'}."
        )
    return name


def require_campaign(name: object) -> str:
    """Validate a campaign name and check that its params file exists.

    Raises
    ------
    CampaignNameError
        If the name is malformed or no ``params/<name>.yaml`` exists; the
        message lists the available campaigns.
    """
    checked = check_campaign_name(name)
    if not (params_dir() / f"{checked}.yaml").is_file():
        raise CampaignNameError(
            f"There is no campaign called '{checked}' (no file params/{checked}.yaml). "
            f"Available campaigns: {', '.join(available_campaigns()) or 'none'}. "
            f"To add one, copy a params file and edit it (see params/README.md)."
        )
    return checked


def params_file(campaign: str) -> Path:
    """Path of a campaign's params file."""
    return params_dir() / f"{check_campaign_name(campaign)}.yaml"


def campaign_raw_dir(campaign: str) -> Path:
    """Folder of a campaign's raw exports."""
    return raw_dir() / check_campaign_name(campaign)


def campaign_processed_dir(campaign: str) -> Path:
    """Folder of a campaign's processed data."""
    return processed_dir() / check_campaign_name(campaign)


def campaign_reports_dir(campaign: str) -> Path:
    """Folder of a campaign's executed notebooks, results.csv and figures."""
    return reports_dir() / check_campaign_name(campaign)


def language_suffix(language: str | None) -> str:
    """``""`` for the params' default language (``language`` None or empty), else ``".<lang>"`` (e.g. ``.mn``).

    ``reports/<campaign>.html`` is the report in the campaign's default
    language (params ``report.language``, English unless set);
    ``reports/<campaign>.<lang>.html`` is the report in that language.
    """
    if not language:
        return ""
    if not (language.isascii() and language.isalpha() and language.islower() and 2 <= len(language) <= 3):
        raise ValueError(f"Report language {language[:20]!r} is not a language code such as 'en' or 'mn'.")
    return f".{language}"


def report_html(campaign: str, language: str | None = None) -> Path:
    """Path of a campaign's HTML report (in ``language``, else the default language)."""
    return reports_dir() / f"{check_campaign_name(campaign)}{language_suffix(language)}.html"


#: Formats a report can be written in: the HTML report and its donor-ready copies.
REPORT_FORMATS = ("html", "docx", "pdf")


def report_copy(campaign: str, fmt: str, language: str | None = None) -> Path:
    """Path of a campaign's report in ``fmt`` (``reports/<campaign>[.<lang>].html``, ``.docx`` or ``.pdf``)."""
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"Report format {fmt!r} is unknown; expected one of: {', '.join(REPORT_FORMATS)}.")
    return reports_dir() / f"{check_campaign_name(campaign)}{language_suffix(language)}.{fmt}"


def plan_html(campaign: str) -> Path:
    """Path of a campaign's survey plan (``make plan``): ``reports/<campaign>/plan.html``."""
    return campaign_reports_dir(campaign) / "plan.html"


def report_with_code_html(campaign: str) -> Path:
    """Path of the researchers' variant of a report, with the code cells kept."""
    return campaign_reports_dir(campaign) / "report-with-code.html"


def safe_join(base: Path, relative: str, *, what: str = "path") -> Path:
    """Join a configured relative path to ``base`` and refuse to escape it.

    Parameters
    ----------
    base : Path
        Folder the result must stay inside.
    relative : str
        A relative path from a params file (e.g. ``"baseline.csv"``).
    what : str, keyword-only
        Name of the setting, used in the error message.

    Raises
    ------
    UnsafePathError
        If ``relative`` is empty, absolute, contains a NUL byte or ``..``, is
        longer than 255 characters, or resolves outside ``base``.
    """
    problem = None
    if not isinstance(relative, str) or not relative.strip():
        problem = "is empty"
    elif "\x00" in relative:
        problem = "contains a NUL byte"
    elif len(relative) > 255:
        problem = "is longer than 255 characters"
    elif Path(relative).is_absolute() or relative.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", relative):
        problem = "is an absolute path"
    elif any(part == ".." for part in re.split(r"[\\/]", relative)):
        problem = "contains '..'"
    if problem is None:
        resolved = (base / relative).resolve()
        if not resolved.is_relative_to(base.resolve()):
            if (base / relative).is_symlink():
                raise UnsafePathError(
                    f"The {what} {repr(relative)[:80]} is a link to a file outside {base} (it resolves outside "
                    f"that folder); copy the file itself into that folder instead of linking it.")
            else:
                problem = f"resolves outside {base}"
    if problem is not None:
        shown = repr(relative)[:80]
        raise UnsafePathError(
            f"The {what} {shown} {problem}. Give a file name relative to {base}, "
            f"without '..' (for example 'baseline.csv')."
        )
    return base / relative


def ensure_inside_project(path: Path) -> Path:
    """Return ``path`` resolved, or raise if it lies outside the project root.

    A NUL byte or a path component longer than 255 characters is refused too
    (the operating system would fail on it later, with a less helpful error).
    Output paths go through :func:`ensure_output_path`, which also keeps them
    out of ``data/raw/``.
    """
    text = str(path)
    if "\x00" in text or any(len(part) > 255 for part in Path(text).parts):
        shown = repr(text)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise UnsafePathError(f"Output path {shown} contains a NUL byte or a name longer than 255 characters; "
                              f"use a short folder name inside the project folder {project_root()}.")
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(project_root()):
        raise UnsafePathError(f"Output path {path} resolves outside the project folder {project_root()}.")
    return resolved


def ensure_output_path(path: Path) -> Path:
    """Return an output path resolved, or raise if the pipeline may not write it.

    Outputs go inside the project (:func:`ensure_inside_project`) and never
    into ``data/raw/``: raw exports are read-only for the pipeline, also when
    a link leads there.

    Raises
    ------
    UnsafePathError
        For a path outside the project or inside ``data/raw/``.
    """
    resolved = ensure_inside_project(path)
    raw = raw_dir().resolve()
    if resolved == raw or resolved.is_relative_to(raw):
        rel = os.path.relpath(resolved, project_root())
        raise UnsafePathError(f"Output path {rel} is inside data/raw/, which holds the raw exports and is never "
                              f"written by the pipeline. Leave output_dir empty (the default folders) or choose a "
                              f"folder outside data/raw/.")
    return resolved


def require_regular_file(path: Path, *, what: str = "raw file") -> Path:
    """Check that ``path`` is a regular file inside the project before reading it.

    A FIFO, socket or device would block the run or read endless bytes, and a
    link that leads out of the project would read data nobody reviewed.

    Raises
    ------
    UnsafePathError
        For a link that resolves outside the project, or anything that is
        not a regular file (missing files are left to the caller's message).
    """
    import stat

    path = Path(path)
    rel = os.path.relpath(path, project_root()) if path.is_absolute() else str(path)
    if path.is_symlink() and not path.resolve().is_relative_to(project_root()):
        raise UnsafePathError(f"The {what} {rel} is a link to a file outside the project folder; copy the file "
                              f"itself into {os.path.relpath(path.parent, project_root())}/ instead of linking it.")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return path
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device or special file"
        raise UnsafePathError(f"The {what} {rel} is {kind}, not a regular file; only ordinary files are read. "
                              f"Save the export as a normal file there.")
    return path
