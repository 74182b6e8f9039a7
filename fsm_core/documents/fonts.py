"""The documents' typeface: DejaVu Sans, shipped inside the package.

Acts and labels are in Russian; a fresh machine (a container, a CI runner) may have no
system fonts at all, and reportlab's built-in fonts have no Cyrillic. So the package
carries DejaVu Sans regular and bold (Bitstream Vera licence, see LICENSE-DejaVu.txt), and
reportlab embeds only the glyphs each document uses.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR = "FsmSans"
BOLD = "FsmSans-Bold"


@cache
def register_fonts() -> tuple[str, str]:
    """Register the fonts with reportlab once; returns (regular, bold) font names."""
    from reportlab import rl_config
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # Binary (not ASCII85) streams: valid PDF, and ~20 % faster, since reportlab's A85
    # encoder is pure Python here. Every document of ours registers its fonts first.
    rl_config.useA85 = 0

    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    addMapping(REGULAR, 0, 0, REGULAR)
    addMapping(REGULAR, 1, 0, BOLD)
    addMapping(REGULAR, 0, 1, REGULAR)
    addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
