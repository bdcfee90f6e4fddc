"""Command line: ``python -m evalkit.synth --campaign together --out data/raw/together``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from evalkit.errors import EvalkitError
from evalkit.synth import CAMPAIGNS, SEED, generate_all, generate_campaign


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m evalkit.synth",
        description="Write deterministic synthetic raw exports (XLSForm codebook, Kobo baseline/endline "
                    "exports, reach.csv) calibrated to the published figures. The same seed gives the "
                    "same bytes; without options other than --campaign/--all it reproduces data/raw/.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--campaign", choices=CAMPAIGNS, help="one campaign stage")
    which.add_argument("--all", action="store_true", help="every stage, into data/raw/<campaign>/")
    p.add_argument("--out", type=Path, help="output folder (default data/raw/<campaign>/; with --all, the folder "
                                            "that gets one sub-folder per campaign, default data/raw/)")
    p.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED}, the committed data)")
    p.add_argument("--respondents-per-wave", type=int, metavar="N",
                   help="scale mode for benchmarks: about N clean respondents per wave with the same mess "
                        "proportions; calibration is approximate. Both waves are written as CSV "
                        "(endline.csv instead of endline.xlsx: XLSX at a million rows is impractical), so "
                        "a benchmark copies the params file and sets raw.endline.file: endline.csv.")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the generator; return the exit code."""
    args = _parser().parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.all:
            if args.respondents_per_wave is not None:
                raise EvalkitError("--respondents-per-wave needs --campaign (one stage) and --out.")
            files = generate_all(args.out, seed=args.seed)
        else:
            files = generate_campaign(args.campaign, args.out, seed=args.seed,
                                      respondents_per_wave=args.respondents_per_wave)
    except EvalkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for f in files:
        print(f"wrote {f} ({f.stat().st_size:,} bytes)")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
