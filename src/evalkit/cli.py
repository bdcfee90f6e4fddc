"""Command-line entry point: ``python -m evalkit <command> ...``.

The Makefile's recipes call these commands, so every step also works where
``make`` is absent (e.g. on Windows: ``python -m evalkit run together``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from evalkit import paths
from evalkit.errors import EvalkitError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evalkit", description="Build evaluation reports.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the available campaigns")
    for name, text in [
        ("check", "check that a campaign exists and its params file is valid"),
        ("clean", "raw -> data/processed/<campaign>/ (runs notebooks/01_clean.ipynb)"),
        ("evaluate", "processed -> reports/<campaign>/results.csv (runs notebooks/02_evaluate.ipynb)"),
        ("report", "executed notebook -> reports/<campaign>.html"),
        ("run", "clean, evaluate and report in one go"),
        ("fieldwork", "daily data-quality checks on the exports so far -> reports/<campaign>/fieldwork.html "
                      "and fieldwork.csv (make check)"),
        ("plan", "results -> reports/<campaign>/plan.html: sample sizes for the next survey (notebooks/03_plan.ipynb)"),
    ]:
        sp = sub.add_parser(name, help=text)
        sp.add_argument("campaign")
        if name in ("evaluate", "report", "run"):
            sp.add_argument("--lang", default=None, metavar="mn",
                            help="report language (en, mn); default: the params' report.language, written to "
                                 "reports/<campaign>.html; with --lang, reports/<campaign>.<lang>.html")
        if name in ("report", "run"):
            sp.add_argument("--code", action="store_true", help="write the researchers' variant with code cells, reports/<campaign>/report-with-code.html")
            sp.add_argument("--formats", type=_formats, default=("html",), metavar="html,docx,pdf",
                            help="comma-separated formats to write: html (default), docx (Word), pdf; "
                                 "docx and pdf are made from reports/<campaign>.html")
    sp = sub.add_parser("index", help="build reports/index.html from every campaign's results.csv")
    sp.add_argument("--lang", default="en", metavar="mn", help="index language (en, mn): reports/index.html or reports/index.<lang>.html")
    sub.add_parser("i18n", help="maintainers: merge new report messages into the .po catalogues (then translate them)")
    sub.add_parser("schema", help="write docs/params.schema.json, the JSON Schema of params files")
    sp = sub.add_parser("locked", help="run a command (e.g. make) holding the campaign's lock; used by make report")
    sp.add_argument("campaign")
    sp.add_argument("cmd", nargs=argparse.REMAINDER, help="-- command and its arguments")
    return p


#: Lock name of the index build (no campaign can be called this: names start with a letter or digit).
INDEX_LOCK = "_index"


def _formats(text: str) -> tuple[str, ...]:
    """Parse ``--formats html,docx,pdf`` into known formats, in build order (HTML first)."""
    wanted = {f.strip().lower() for f in text.split(",") if f.strip()}
    unknown = sorted(wanted - set(paths.REPORT_FORMATS))
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(unknown) or '(none)'}; "
                                         f"expected a comma-separated list of: {', '.join(paths.REPORT_FORMATS)}")
    return tuple(f for f in paths.REPORT_FORMATS if f in wanted)


def _skip_slow_optional_imports() -> None:
    """Keep ``rfc3987_syntax`` out of evalkit's processes.

    papermill and nbconvert import nbformat, which imports jsonschema, which
    imports the optional ``rfc3987_syntax`` when it is installed; that import
    builds a parser and costs 2-3 s of CPU in every pipeline process
    (python-jsonschema/jsonschema#1428). It only checks the ``iri`` string
    format, which nbformat's schemas never use, and jsonschema skips that
    checker when the import fails. Measured by ``make bench`` (import costs).
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code (0 on success)."""
    _skip_slow_optional_imports()
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            print("\n".join(paths.available_campaigns()))
            return 0
        if args.command == "i18n":
            from evalkit.report.i18n import po_path, update_catalogues

            for lang, n in update_catalogues(paths.project_root()).items():
                print(f"{po_path(lang).relative_to(paths.project_root())}: {n} message(s) to translate")
            return 0
        if args.command == "schema":
            from evalkit.params_schema import write_schema

            print(f"Schema: {write_schema().relative_to(paths.project_root())}")
            return 0
        from evalkit.locks import campaign_lock, run_locked

        if args.command == "index":
            from evalkit.report import index

            from evalkit.report.i18n import check_language

            lang = check_language(args.lang)
            with campaign_lock(INDEX_LOCK if lang == "en" else f"{INDEX_LOCK}.{lang}"):
                out = index.build_index(args.lang)
            print(f"Index: {out.relative_to(paths.project_root())}")
            return 0
        campaign = paths.require_campaign(args.campaign)
        if args.command == "locked":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not cmd:
                raise EvalkitError("python -m evalkit locked <campaign> -- <command>: no command given.")
            return run_locked(campaign, cmd)
        from evalkit.params import load_params

        params = load_params(campaign)  # fail early, naming the file and key
        if args.command in ("check", "clean", "run"):
            for key, raw in params.raw_paths().items():  # before any notebook starts: a FIFO would block it
                paths.require_regular_file(raw, what=f"raw file {raw.name} ({key})")
        if args.command == "check":  # the params against the form too, without reading any export
            from evalkit.cleaning import check_params_against_codebook

            check_params_against_codebook(params)
            return 0
        if args.command == "fieldwork":  # partial exports: a wave not exported yet is skipped, not an error
            for key, raw in params.raw_paths().items():
                if raw.exists() or raw.is_symlink():
                    paths.require_regular_file(raw, what=f"raw file {raw.name} ({key})")
            from evalkit.fieldwork_page import build_fieldwork

            with campaign_lock(campaign):
                out = build_fieldwork(params)
            print(f"Fieldwork checks: {out.relative_to(paths.project_root())} (and fieldwork.csv)")
            return 0
        from evalkit import pipeline

        lang = getattr(args, "lang", None)
        if lang:
            from evalkit.report.i18n import check_language

            lang = check_language(lang)
        # One lock per campaign; a report in another language has its own (for the evaluate and report
        # steps), so that make -j2 reports builds a campaign's languages side by side.
        lock_name = f"{campaign}.{lang}" if lang and args.command in ("evaluate", "report") else campaign
        with contextlib.ExitStack() as held:
            held.enter_context(campaign_lock(lock_name))
            if lang and args.command == "run":
                held.enter_context(campaign_lock(f"{campaign}.{lang}"))
            if args.command in ("clean", "run"):
                pipeline.run_clean(campaign)
            if args.command in ("evaluate", "run"):
                pipeline.run_evaluate(campaign, language=lang)
            if args.command == "plan":
                out = pipeline.run_plan(campaign)
                print(f"Plan: {out.relative_to(paths.project_root())}")
            if args.command in ("report", "run"):
                if "html" in args.formats or args.code:
                    out = pipeline.run_report(campaign, include_code=args.code, language=lang)
                    print(f"Report: {out.relative_to(paths.project_root())}")
                for fmt in (f for f in args.formats if f != "html"):
                    out = pipeline.run_copy(campaign, fmt, language=lang)
                    print(f"Report: {out.relative_to(paths.project_root())}")
        return 0
    except EvalkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted. Outputs published before the interrupt are kept; nothing half-written was published.",
              file=sys.stderr)
        return 130
