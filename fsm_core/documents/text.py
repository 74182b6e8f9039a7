"""Laying text out in a width: one wrapping algorithm for every document (acts, labels,
passports), measured in a registered font with reportlab's own metrics.

Lines break at ordinary spaces and at the text's own line breaks; a no-break space holds
("22 914,00 ₽", "№ 15"). With ``glue`` the words Russian typesetting keeps together are
held too, while they fit a line: an abbreviation and what it abbreviates ("ул. Савушкина",
"д. 141"), "№" and its number, a one- or two-letter preposition and the next word, a short
number and the word before it ("пр., 114"). A word wider than a whole line (a model code,
an e-mail address) is cut where it must, preferably after a hyphen, slash, dot or
underscore or before an "@". With ``max_lines`` what does not fit the last line is
shortened with "…". Every line returned is at most ``width`` wide.
"""

from __future__ import annotations

import re
from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import stringWidth

ELLIPSIS = "…"
GLUE = "\u00a0"
_SHORT_NUMBER = re.compile(r"\d{1,4}[»)\".,;:]*")


@lru_cache(maxsize=16384)
def width_of(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points (cached: the same names come back page after page)."""
    return stringWidth(text, font, size)


def _longest_fitting(text: str, font: str, size: float, width: float, suffix: str) -> int:
    """Length of the longest prefix of ``text`` that, right-stripped and followed by
    ``suffix``, is at most ``width`` wide (0 when none is). Binary search: widths grow with
    the prefix."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if width_of(text[:mid].rstrip() + suffix, font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def shorten(text: str, *, font: str, size: float, width: float) -> str:
    """``text`` itself when it fits ``width`` points, else its longest start that fits with
    "…" after it (trailing spaces and punctuation dropped before the "…"); "" when not even
    the "…" fits."""
    if width_of(text, font, size) <= width:
        return text
    n = _longest_fitting(text, font, size, width, ELLIPSIS)
    head = text[:n].rstrip(' ,;:.-–—(«"')
    if not head:
        return ELLIPSIS if width_of(ELLIPSIS, font, size) <= width else ""
    return head + ELLIPSIS


def _break_point(word: str, n: int) -> int:
    """Where to cut a ``word`` whose first ``n`` characters fit: after a hyphen, slash,
    dot or underscore, or before an "@", the last one that leaves at least a third of what
    fits on the line ("Дизель-" / "генератор" rather than "Дизель-генерато" / "р"); else
    simply after ``n`` characters."""
    for position in range(n, max(n // 3, 1), -1):
        if word[position - 1] in "-/._" or word[position] == "@":
            return position
    return n


def _glued(words: list[str]) -> list[str]:
    """The words, those Russian typesetting keeps together joined by a no-break space."""
    units: list[str] = []
    glue_next = False
    for word in words:
        if units and (glue_next or _SHORT_NUMBER.fullmatch(word)):
            units[-1] += GLUE + word
        else:
            units.append(word)
        core = word.rstrip(".")
        glue_next = word == "№" or (
            core.isalpha()
            and (len(word) <= 2 or (word.endswith(".") and len(core) <= 4 and word != core))
        )
    return units


@lru_cache(maxsize=8192)
def wrap(
    text: str,
    *,
    font: str,
    size: float,
    width: float,
    max_lines: int | None = None,
    glue: bool = False,
) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``width`` (see the module's docstring).
    Cached: the same material names and addresses come back act after act."""
    if "\n" not in text and "\r" not in text:
        # runs of spaces read as one, as they do when the text is broken into lines
        single = " ".join(w for w in text.replace("\t", " ").split(" ") if w)
        if width_of(single, font, size) <= width:
            return (single,)
    lines: list[str] = []
    paragraphs = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, paragraph in enumerate(paragraphs):
        words = [w for w in paragraph.replace("\t", " ").split(" ") if w]
        units = _glued(words) if glue else words
        last_paragraph = index == len(paragraphs) - 1
        lines.extend(_paragraph(units, font, size, width, max_lines, len(lines), last_paragraph))
        if max_lines is not None and len(lines) >= max_lines:
            if not last_paragraph and lines:  # more text than lines: say so on the last one
                lines[-1] = shorten(lines[-1] + " " + ELLIPSIS, font=font, size=size, width=width)
            break
    return tuple(lines)


def _paragraph(
    units: list[str],
    font: str,
    size: float,
    width: float,
    max_lines: int | None,
    before: int,
    last_paragraph: bool,
) -> list[str]:
    lines: list[str] = []
    if not units:
        return [""]
    while units:
        if max_lines is not None and before + len(lines) == max_lines - 1:
            rest = " ".join(units).replace(GLUE, " ")
            line = shorten(rest, font=font, size=size, width=width)
            if line:
                lines.append(line)
            break
        first = units[0].replace(GLUE, " ")
        if width_of(first, font, size) > width:
            if GLUE in units[0]:  # too long to keep together: wrap it as plain words
                units[0:1] = units[0].split(GLUE)
                continue
            n = _break_point(first, _longest_fitting(first, font, size, width, ""))
            if n == 0:
                break
            lines.append(first[:n])
            units[0:1] = [first[n:]] if first[n:] else []
            continue
        line, taken = first, 1
        while taken < len(units):
            longer = f"{line} {units[taken].replace(GLUE, ' ')}"
            if width_of(longer, font, size) > width:
                break
            line = longer
            taken += 1
        lines.append(line)
        del units[:taken]
    return lines
