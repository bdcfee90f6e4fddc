"""The report's embedded font: DejaVu Sans, subset to Latin and Cyrillic, as WOFF in the stylesheet.

Reports are read on machines we do not control, and a headless Chromium on
a server may have no font with Mongolian Cyrillic (Ө ө Ү ү). The stylesheet
therefore carries its own font: the DejaVu Sans regular and bold that ship
with matplotlib (the figures use the same family, drawn as paths), subset to
the characters a report uses so each report grows by tens of kilobytes, not
megabytes. DejaVu's licence (Bitstream Vera) allows embedding and
redistribution. The subset is deterministic: no timestamp is written.
"""

from __future__ import annotations

import base64
import functools
import io
from pathlib import Path

#: CSS family name of the embedded font.
FAMILY = "Evalkit Sans"

#: Unicode ranges kept: Basic Latin and Latin-1, Latin Extended-A, Cyrillic (with Mongolian Ө ө Ү ү),
#: general punctuation (dashes, quotes, ellipsis, narrow no-break space), arrows and the math signs used.
UNICODES = [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x400, 0x500), *range(0x2000, 0x2070), 0x20AE,
            *range(0x2190, 0x2195), 0x2212, 0x2248, 0x2260, 0x2264, 0x2265, 0x25A0, 0x25CF]


def _font_file(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def subset_woff(ttf: Path, unicodes: list[int] = UNICODES) -> bytes:
    """``ttf`` subset to ``unicodes`` as WOFF (zlib) bytes, the same bytes on every run."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(ttf), recalcTimestamp=False)
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["kern", "liga"]
    options.name_IDs = ["*"]  # keep the copyright and licence strings
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]  # FontForge's timestamps: not needed, and fontTools cannot subset them
    sub = subset.Subsetter(options=options)
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf, reorderTables=True)
    return buf.getvalue()


#: The committed subsets (``python -m evalkit.report.fonts`` rewrites them; a test checks they are current).
FONT_DIR = Path(__file__).resolve().parent / "templates" / "evalkit_report" / "fonts"
FONTS = (("400", "DejaVuSans.ttf", "evalkit-sans-regular.woff"), ("700", "DejaVuSans-Bold.ttf", "evalkit-sans-bold.woff"))


def write_subsets() -> list[Path]:
    """Regenerate the committed WOFF subsets from matplotlib's DejaVu Sans."""
    from evalkit.atomic import write_with

    FONT_DIR.mkdir(parents=True, exist_ok=True)
    out = []
    for _weight, source, target in FONTS:
        data = subset_woff(_font_file(source))
        write_with(FONT_DIR / target, lambda tmp, d=data: Path(tmp).write_bytes(d))
        out.append(FONT_DIR / target)
    return out


@functools.lru_cache(maxsize=1)
def font_face_css() -> str:
    """``@font-face`` rules (regular and bold) with the committed subsets inlined as ``data:`` URIs."""
    rules = []
    for weight, _source, target in FONTS:
        data = base64.b64encode((FONT_DIR / target).read_bytes()).decode("ascii")
        rules.append(f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: {weight}; '
                     f'font-display: block; src: url("data:font/woff;base64,{data}") format("woff"); }}')
    return "\n".join(rules) + "\n"


if __name__ == "__main__":  # pragma: no cover - maintainer command
    for p in write_subsets():
        print(p)
