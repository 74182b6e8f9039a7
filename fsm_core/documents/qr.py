"""QR codes drawn as vector shapes on a reportlab canvas.

A QR code printed from a scaled bitmap blurs or gains uneven module widths depending on the
printer's resolution; drawn as rectangles it is sharp at any size on any printer. Segno gives
the module matrix; this module turns each row's runs of dark modules into rectangles, merges a
run with the identical runs in the rows below it, and writes all of them as one filled path in
module units (a scale transform does the sizing). That keeps the PDF small (integer
coordinates, a few hundred short operators per code) and fast to write and to rasterise, and,
being one path filled at once, it leaves no hairline seams between adjacent rectangles.

Error correction. Labels stick to air conditioners, boilers and switchboards, where they get
scuffed, splashed and half covered by dirt; level Q restores up to 25 % of damaged codewords,
against 15 % for M, and a 44-character passport link still fits version 4 (33 modules) at Q.
Level H (30 %) would push the same link to version 5 for little more safety. Segno's
``boost_error`` is left on, so when the chosen version has room for H anyway, H is used.

Masks. Choosing the best of the eight masks (the standard's penalty evaluation) costs segno
about five times as much as encoding with a fixed one, and dominates the time of a label
sheet. A fixed mask only risks a pattern that some decoder dislikes; for our links (random
tokens behind a fixed prefix) mask 7 has the lowest mean penalty of the eight, and the tests
and ``bench/labels.py`` decode every code drawn with it. So label sheets use
``LABEL_MASK``; single documents (passport, business cards) keep the automatic choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

ErrorLevel = Literal["l", "m", "q", "h", "L", "M", "Q", "H"]

DEFAULT_ERROR: ErrorLevel = "q"
"""Error correction for everything we print: see the module's docstring."""

QUIET_ZONE = 4
"""Light modules around the symbol, as ISO/IEC 18004 requires for reliable decoding."""

LABEL_MASK = 7
"""The fixed mask label sheets use (lowest mean penalty on our links; decoded at 100 %)."""

_DARK_RUN = re.compile(rb"[^\x00]+")


@dataclass(frozen=True)
class QrInfo:
    """What was drawn: for callers that check printability (module size) or report it."""

    version: int
    error: str
    mask: int
    modules: int
    """Width of the symbol in modules, quiet zone excluded."""
    module_size: float
    """Width of one module in points."""


def make_qr(data: str, *, error: ErrorLevel = DEFAULT_ERROR, mask: int | None = None) -> Any:
    """Encode ``data`` with segno (a ``segno.QRCode``), always as UTF-8 bytes.

    Segno's own default for text that is not Latin-1 tries Shift_JIS before UTF-8, and
    Shift_JIS happens to contain Cyrillic: a Russian vCard would be encoded as Shift_JIS and
    read as gibberish by every phone. So non-ASCII text is pinned to byte mode in UTF-8;
    ASCII (our links) is left to segno, which picks the most compact mode.
    """
    import segno

    if data.isascii():
        return segno.make_qr(data, error=error, mask=mask)
    return segno.make_qr(data, error=error, mask=mask, mode="byte", encoding="utf-8")


def dark_rectangles(matrix: Sequence[bytes | bytearray]) -> list[tuple[int, int, int, int]]:
    """The dark modules of ``matrix`` as rectangles ``(column, row, width, height)``.

    Rows are numbered from the top, as in the matrix. Each row's maximal runs of dark
    modules become rectangles; a run that repeats, same start and width, in the next rows
    grows downwards instead of starting a new rectangle (the finder patterns' sides, the
    timing patterns' neighbours). Every dark module is covered exactly once.
    """
    done: list[tuple[int, int, int, int]] = []
    open_runs: dict[tuple[int, int], int] = {}  # (column, width) -> first row
    for row_number, row in enumerate(matrix):
        runs = [(m.start(), m.end() - m.start()) for m in _DARK_RUN.finditer(bytes(row))]
        current = set(runs)
        for run, first in list(open_runs.items()):
            if run not in current:
                done.append((run[0], first, run[1], row_number - first))
                del open_runs[run]
        for run in runs:
            open_runs.setdefault(run, row_number)
    end = len(matrix)
    done.extend((run[0], first, run[1], end - first) for run, first in open_runs.items())
    return done


def draw_qr(
    canvas: Any,
    data: str,
    *,
    x: float,
    y: float,
    size: float,
    error: ErrorLevel = DEFAULT_ERROR,
    quiet_zone: int = QUIET_ZONE,
    mask: int | None = None,
) -> QrInfo:
    """Draw ``data`` as a QR code in the square at (``x``, ``y``) (its lower-left corner, in
    points) with side ``size``, quiet zone included.

    The quiet zone is left unpainted (labels and pages are white); the caller keeps text
    and lines out of the square. ``mask`` None lets segno choose the best mask (slower,
    see the module's docstring); 0-7 fixes it.
    """
    qr = make_qr(data, error=error, mask=mask)
    matrix = qr.matrix
    n = len(matrix)
    module = size / (n + 2 * quiet_zone)
    # In module units with the origin at the symbol's top-left corner and y pointing
    # down, a module (column c, row r) is the unit square at (c, r): integer operators.
    ops = [f"{c} {r} {w} {h} re" for c, r, w, h in dark_rectangles(matrix)]
    canvas.saveState()
    canvas.transform(module, 0, 0, -module, x + quiet_zone * module, y + size - quiet_zone * module)
    canvas.setFillGray(0)
    canvas.addLiteral("\n".join(ops) + "\nf")
    canvas.restoreState()
    return QrInfo(
        version=qr.version,
        error=qr.error,
        mask=qr.mask,
        modules=n,
        module_size=module,
    )
