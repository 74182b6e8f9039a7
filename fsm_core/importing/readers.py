"""Reading import files: CSV/TSV, JSON lines and .xlsx, from a path or standard input.

``open_source`` hides everything about bytes from the import engine: the format (by extension,
by ``fmt``, or sniffed from the first bytes of a pipe), the encoding (UTF-8 with or without a
BOM, or Windows-1251, which is what Russian Excel writes), the delimiter (``,`` ``;`` or tab,
sniffed from the first lines) and the sheet. What comes out is a list of headers and a stream
of ``SourceRow``s, each carrying the line it started on, so that every later error can say
``FILE:LINE: ...``.

Design constraints, and why the code looks the way it does:

* Streaming. Nothing here holds more than one record (plus a 64 KB buffer, or openpyxl's
  shared-string table for .xlsx), because CI jobs pipe a million rows through ``fsm import``.
* Speed. Reading is a small slice of an import's time budget (about 0.3 s of 3 s for 100,000
  rows), so the CSV loop is the stdlib ``csv`` reader over an iterator of decoded lines built
  from C-level pieces (``map``, ``str``/``codecs.charmap_decode``), and a row is a ``dict(zip())``
  with no per-row function layers. Lines are decoded one by one (rather than by a
  ``TextIOWrapper`` in 8 KB chunks) so that an undecodable byte is reported on its exact line.
* Errors. Everything a user can get wrong raises ``InvalidInput`` with a one-line message that
  starts ``NAME:LINE: `` (or ``NAME: `` when no line applies) and, where there is one, a hint
  of the fix. A traceback on bad input is a bug.

Detection, in order: an old .xls (OLE2) file is refused with a hint; a zip is .xlsx even when
named .csv (users rename files); then ``fmt``, the extension, or the first bytes. Encoding: a
UTF-8 BOM means UTF-8; a UTF-16 BOM (Excel's "Unicode text") UTF-16; a first 64 KB that
decodes as UTF-8 means UTF-8; otherwise Windows-1251 -- unless most non-ASCII bytes of the
sample are UTF-8 Cyrillic letters, i.e. a UTF-8 file with a stray byte, which is read as
UTF-8 so that the stray byte is an error on its line instead of the whole file turning into
mojibake without one.

Format-specific decisions:

* CSV/TSV: values are ``str`` (``''`` for empty). A record's ``line`` is the physical line it
  starts on, even when quoted values span lines. Blank lines and rows whose cells are all
  empty (Excel writes ``;;;`` for them) are skipped. Fewer cells than headers: the missing
  ones are ``''``. More cells: an error, unless the extra cells are all empty (Excel adds
  trailing delimiters after a formatted but empty column). Trailing empty header cells are
  dropped for the same reason; an empty header in the middle is an error.
* JSON lines: each non-blank line is one JSON object; values are what ``json`` gives (``str``,
  ``int``, ``float``, ``bool``, ``None``; nested lists/objects are passed through for the
  engine to reject; floats are binary, so money wants ``Decimal(str(value))``, never
  ``Decimal(value)``). ``headers`` starts as the keys of the first object (as they are, not
  stripped), and keys first seen in later objects are appended as rows are read, so
  ``headers`` is complete only once ``rows()`` is exhausted. A key an object does not have
  is *absent* from its ``values`` (not ``None``), so the engine can tell "not given" from
  "null". ``NaN``/``Infinity`` are rejected as invalid JSON.
* .xlsx: python-calamine (Rust's calamine) parses the chosen sheet whole, about six times
  faster than openpyxl, and holds it in memory (the one exception to streaming: ~60 bytes a
  cell); its cells are given as openpyxl's read-only mode gave them, which stays the reader
  of a workbook that holds error cells (#N/A: calamine reads them as empty). Values keep
  their Excel types (``datetime`` for date
  cells, ``int``/``float`` for numbers, ``bool``, ``str``, ``time``), empty cells are
  ``None`` (Excel has no empty text: an empty string written to a cell reads back as
  ``None``). The header row is the first non-empty row, ``line`` is the sheet row number;
  ``Source.sheet`` names the sheet read. Rows and header cells beyond the last non-empty
  header follow the CSV rules above. A zip cannot be read from a pipe, so standard input is
  spooled to a temporary file first.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import io
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import warnings
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice, repeat
from operator import itemgetter
from typing import Any, BinaryIO

from fsm_core.errors import InvalidInput
from fsm_core.files import private_dir
from fsm_core.tabular.cells import fmt_for_path, unquote_formula, xlsx_unescape

__all__ = [
    "FORMATS",
    "STDIN_NAME",
    "Source",
    "SourceRow",
    "excel_serial_to_datetime",
    "fmt_for_path",
    "open_source",
]

FORMATS = ("csv", "tsv", "nl", "xlsx")
STDIN_NAME = "<stdin>"

_ENCODING_ALIASES = {"1251": "cp1251", "win1251": "cp1251", "win-1251": "cp1251"}
_SNIFF_DELIMITERS = (";", ",", "\t")  # order breaks ties: Russian Excel writes ";"
_SNIFF_RECORDS = 50

# How much of the input is read up front to detect the format, the encoding and the
# delimiter; also the read buffer size and the progress-report granularity.
SAMPLE_SIZE = 64 * 1024
_BUFFER_SIZE = 64 * 1024
_PROGRESS_STEP = 64 * 1024

# A cell may be long (a pasted log, a 10 MB description): it is read, and refused at its
# row by its column's length, so that --skip-invalid takes the other rows. Only beyond
# this many characters (the csv module's default is 131,072) is the file given up: a
# double quote left open would otherwise take the rest of it in.
CELL_LIMIT = 32 * 1024 * 1024
# A cell this long that spans lines is a double quote left open that took in the lines
# after it (until the file's end, where the csv module gives up without a word): the file
# is refused there, as the csv module's own limit used to. One this long on one line is
# a long cell, refused at its row.
_OPEN_QUOTE_CELL = 128 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls (and .doc) files
_ASCII_PROBE = '\r\n\t ,;"{}:0aZ'
_ASCII_BYTES = bytes(range(128))
_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One record of the input.

    ``line`` is 1-based: the physical line a CSV/TSV record starts on, the line of a JSON
    object, or the sheet row number in .xlsx. ``values`` maps header -> value (see the
    module docstring for the value types of each format).
    """

    line: int
    values: dict[str, Any]


# the slots' descriptors, which mypy takes for the instance attributes' types
_SET_LINE = SourceRow.line.__set__  # type: ignore[attr-defined, misc]
_SET_VALUES = SourceRow.values.__set__  # type: ignore[attr-defined, misc]

ProgressCallback = Callable[[int], None]


class BrokenOff(InvalidInput):
    """The file cannot be read past a record; ``batch`` is that record's batch when the
    rows are read as ``shared_rows`` (so that the reader of another share knows where)."""

    def __init__(self, cause: InvalidInput, batch: int) -> None:
        super().__init__(cause.message, hint=cause.hint)
        self.batch = batch


class Source(ABC):
    """An opened input: its headers, how it was read, and a stream of rows.

    Use it as a context manager (or call ``close``). ``rows()`` can be iterated once: the
    source is a stream, not a list.
    """

    name: str
    format: str
    encoding: str | None
    delimiter: str | None
    headers: list[str]
    header_line: int | None
    total_bytes: int | None

    def __init__(self, *, name: str, fmt: str, total_bytes: int | None) -> None:
        self.name = name
        self.format = fmt
        self.encoding = None
        #: the encoding was guessed from bytes that read implausibly in it (see
        #: :func:`encoding_doubt`); ``encoding_notice`` says so, ``other_encodings``
        #: lists the ones that read the sample better
        self.encoding_doubtful = False
        self.other_encodings: tuple[str, ...] = ()
        #: the encoding is the fallback guess (Windows-1251), not given, marked or checked
        self.encoding_guessed = False
        self.delimiter = None
        self.headers = []
        self.header_line = None
        self.total_bytes = total_bytes
        self.path: str | None = None  # a file that can be opened again (not standard input)
        self.progress: ProgressCallback | None = None
        self._closers: list[Callable[[], object]] = []
        self._started = False

    # whether several processes can each read their share (see shared_rows)
    shareable = False

    @property
    def encoding_notice(self) -> str | None:
        """One line for the user when the encoding is a doubtful guess, else None."""
        if not self.encoding_doubtful:
            return None
        return (
            f"{self.name}: read as {self.encoding}, a guess: its text does not read like "
            f"Russian in it; if it looks wrong, give the encoding: {encoding_hint(self)}"
        )

    def rows(self) -> Iterator[SourceRow]:
        """Stream the data rows (the header is not one of them)."""
        self._begin()
        return self._iter_rows()

    def shared_rows(self, part: int, parts: int, size: int) -> Iterator[tuple[int, SourceRow]]:
        """This process's share of the rows when ``parts`` processes read the same file
        (the source's ``path``): batch ``k`` (data rows ``k * size`` to ``(k + 1) * size -
        1``) is the share of part ``k % parts``. Yields (batch number, row). A failure to
        read is a :class:`BrokenOff` naming the batch where it happened. Only for a
        ``shareable`` source."""
        if not self.shareable:
            raise RuntimeError(f"{self.name}: a {self.format} source cannot be read in shares")
        self._begin()
        return self._iter_shared(part, parts, size)

    def for_worker(self, progress: ProgressCallback | None) -> Source:
        """The source a forked worker process reads its share from (see ``shared_rows``),
        reporting to ``progress``: by default the same file opened again, read the same
        way."""
        assert self.path is not None
        return open_source(
            self.path,
            fmt=self.format,
            encoding=self.encoding,
            delimiter=self.delimiter,
            progress=progress,
            raw=not getattr(self, "unquote", True),
        )

    def _begin(self) -> None:
        if self._started:
            raise RuntimeError(f"{self.name}: rows() was already called; a source is read once")
        self._started = True

    @abstractmethod
    def _iter_rows(self) -> Iterator[SourceRow]:
        """The rows of this format (each reader defines it)."""

    def _iter_shared(self, part: int, parts: int, size: int) -> Iterator[tuple[int, SourceRow]]:
        """A share of the rows: only the formats that are ``shareable`` have one; the
        engine asks no other (a call here is a bug in the engine, not bad input)."""
        raise TypeError(f"{type(self).__name__} cannot be read in shares")

    def close(self) -> None:
        """Close what this source opened (never the caller's standard input)."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name!r} format={self.format} "
            f"encoding={self.encoding} delimiter={self.delimiter!r} headers={self.headers!r}>"
        )


def encoding_hint(source: Source) -> str:
    """``--encoding koi8-r`` when one encoding reads the file better, else a choice."""
    if source.other_encodings:
        return " or ".join(f"--encoding {e}" for e in source.other_encodings)
    return "--encoding utf-8, --encoding latin-1, --encoding koi8-r..."


def open_source(
    path: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    stdin: BinaryIO | None = None,
    progress: ProgressCallback | None = None,
    spool_over: int | None = None,
    raw: bool = False,
) -> Source:
    """Open ``path`` (``"-"`` for standard input) for reading rows.

    ``fmt`` is one of ``FORMATS``; without it the extension decides, and when it does not
    (standard input, an unknown extension) the first bytes do: a zip is .xlsx, ``{`` starts
    JSON lines, anything else is CSV with a sniffed delimiter. ``encoding`` and ``delimiter``
    override detection; ``sheet`` picks an .xlsx sheet by name. ``progress`` is called with
    the number of bytes consumed so far, about every 64 KB and once at the end, and only for
    regular files (a pipe has no size to measure progress against). ``spool_over``: standard
    input longer than this many bytes is first copied to a temporary file (removed on
    ``close``), which other processes can read too (the source's ``path``).
    ``raw``: a CSV/TSV cell is taken as it is; by default the ``'`` that ``fsm export``
    puts before a text Excel would run as a formula (see :func:`unquote_formula`) is
    taken off again.
    """
    fmt = _check_format(fmt)
    fmt_given = fmt is not None
    delimiter = _check_delimiter(delimiter)
    codec = _check_encoding(encoding)
    stream: BinaryIO
    spooled: str | None = None
    if path == "-":
        name = STDIN_NAME
        stream = stdin if stdin is not None else sys.stdin.buffer
        owned = False
        total: int | None = None
        if spool_over is not None:
            stream, spooled = _spool(stream, spool_over)
            if spooled is not None:
                stream, total = _open_file(spooled)
                owned = True
    else:
        name = path
        stream, total = _open_file(path)
        owned = True
        if fmt is None:
            fmt = fmt_for_path(path)
    if total is None:
        progress = None
    try:
        sample = _read_sample(stream)
        at_eof = len(sample) < SAMPLE_SIZE
        if sample.startswith(_OLE2_MAGIC):
            raise InvalidInput(
                f"{name}: this is an old Excel .xls workbook, which cannot be read",
                hint="open it in Excel and save it as .xlsx (Excel Workbook) or CSV UTF-8",
            )
        if sample.startswith(_ZIP_MAGIC) and fmt != "xlsx":
            if fmt_given:
                raise InvalidInput(
                    f"{name}: this is an Excel workbook, not {fmt} text",
                    hint="use --format xlsx",
                )
            fmt = "xlsx"  # a workbook renamed to .csv, as users do
        if fmt is None:
            fmt = _sniff_format(sample)
        source: Source
        if fmt == "xlsx":
            source = _open_xlsx(name, stream, owned, sample, total, sheet, progress)
        else:
            text = _TextInput(name, stream, owned, sample, at_eof, codec, progress)
            if fmt == "nl":
                source = _JsonLinesSource(name, text, total)
            else:
                if delimiter is None and fmt == "tsv":
                    delimiter = "\t"
                source = _DelimitedSource(name, fmt, text, total, delimiter, sample, at_eof)
                source.unquote = not raw
    except BaseException:
        if owned:
            stream.close()
        if spooled is not None:
            os.unlink(spooled)
        raise
    source.path = spooled if path == "-" else path
    source.progress = progress
    if spooled is not None:
        source._closers.insert(0, lambda: os.unlink(spooled))  # runs last: after the file
    return source


def _spool(stream: BinaryIO, limit: int) -> tuple[BinaryIO, str | None]:
    """Standard input as a stream to read from: in memory if it ends within ``limit``
    bytes, else copied whole to a temporary file whose path is returned too."""
    head = bytearray()
    while len(head) <= limit:
        chunk = stream.read(_BUFFER_SIZE)
        if not chunk:
            return io.BytesIO(bytes(head)), None
        head += chunk
    with tempfile.NamedTemporaryFile(
        "wb", prefix="import-", dir=private_dir(), delete=False
    ) as spool:
        try:
            spool.write(head)
            shutil.copyfileobj(stream, spool, _BUFFER_SIZE)
        except BaseException:
            os.unlink(spool.name)
            raise
    return io.BytesIO(), spool.name


# --- argument checks -------------------------------------------------------------------


def _check_format(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", hint="use one of: " + ", ".join(FORMATS))
    return fmt


def _check_delimiter(delimiter: str | None) -> str | None:
    """One character; ``\\t`` (as a shell passes it) and ``tab`` mean a tab."""
    if delimiter is None:
        return None
    if delimiter in ("\\t", "tab", "TAB"):
        return "\t"
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise InvalidInput(
            f"the delimiter must be one character other than a quote, not {delimiter!r}",
            hint="e.g. --delimiter ';' or --delimiter tab",
        )
    return delimiter


def _check_encoding(encoding: str | None) -> str | None:
    """The codec's canonical name (``windows-1251`` -> ``cp1251``), or None to detect."""
    if encoding is None:
        return None
    try:
        return codecs.lookup(_ENCODING_ALIASES.get(encoding.lower(), encoding)).name
    except LookupError:
        raise InvalidInput(
            f"unknown encoding {encoding!r}", hint="e.g. --encoding utf-8 or --encoding cp1251"
        ) from None


def _open_file(path: str) -> tuple[BinaryIO, int | None]:
    """The file opened unbuffered (buffering is added above it) and its size, if regular."""
    try:
        f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the Source
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InvalidInput(f"{path}: permission denied") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot open: {exc.strerror or exc}") from None
    st = os.fstat(f.fileno())
    if stat.S_ISDIR(st.st_mode):  # some platforms open directories
        f.close()
        raise InvalidInput(f"{path}: is a directory, not a file")
    return f, (st.st_size if stat.S_ISREG(st.st_mode) else None)


def _read_sample(stream: BinaryIO) -> bytes:
    """Up to SAMPLE_SIZE bytes; shorter only at end of input (pipes deliver in pieces)."""
    parts: list[bytes] = []
    size = 0
    while size < SAMPLE_SIZE:
        chunk = stream.read(SAMPLE_SIZE - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _sniff_format(sample: bytes) -> str:
    if sample.startswith(_ZIP_MAGIC):
        return "xlsx"
    if sample.lstrip(b" \t\r\n").removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")[:1] == b"{":
        return "nl"
    return "csv"


# --- bytes to lines of text ------------------------------------------------------------


class _ReplayRaw(io.RawIOBase):
    """The input again from its first byte: the sample already read, then the rest.

    It is the one place every byte passes through, so it also counts them for the progress
    callback (called at most every _PROGRESS_STEP bytes, and once at end of input).
    """

    def __init__(
        self, prefix: bytes, stream: BinaryIO, *, owned: bool, progress: ProgressCallback | None
    ) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._offset = 0
        self._stream = stream
        self._owned = owned
        self._progress = progress
        self._consumed = 0
        self._reported = -1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._offset < len(self._prefix):
            n = min(len(buffer), len(self._prefix) - self._offset)
            buffer[:n] = self._prefix[self._offset : self._offset + n]
            self._offset += n
        else:
            readinto = getattr(self._stream, "readinto", None)
            if readinto is not None:
                n = readinto(buffer) or 0
            else:  # a minimal stream object with read() only
                data = self._stream.read(len(buffer))
                n = len(data)
                buffer[:n] = data
        self._consumed += n
        progress = self._progress
        if progress is not None and (
            (n == 0 and self._consumed != self._reported)
            or self._consumed - self._reported >= _PROGRESS_STEP
        ):
            self._reported = self._consumed
            progress(self._consumed)
        return n

    def close(self) -> None:
        if not self.closed and self._owned:
            self._stream.close()
        super().close()


class _TextInput:
    """Decoded lines of a text input, plus what is needed to report a decoding error.

    ``lines`` yields ``str`` lines with their line endings, which is what the csv module
    wants (the equivalent of ``newline=""``). For encodings where a ``\\n`` byte is always a
    line feed (UTF-8, Windows-1251 and every other ASCII-compatible one) the binary lines are
    decoded one by one, so a bad byte's line is exact. UTF-16 and files with old-Mac ``\\r``
    line ends go through ``TextIOWrapper``, where a bad byte is only located to a chunk.
    """

    def __init__(
        self,
        name: str,
        stream: BinaryIO,
        owned: bool,
        sample: bytes,
        at_eof: bool,
        codec: str | None,
        progress: ProgressCallback | None,
    ) -> None:
        self.name = name
        bom = sample.startswith(codecs.BOM_UTF8)
        self.doubtful = self.guessed = False
        self.other_encodings: tuple[str, ...] = ()
        if codec is None:
            codec = _detect_encoding(sample, at_eof)
            if codec == "cp1251":
                self.guessed = True
                self.doubtful, self.other_encodings = encoding_doubt(sample, codec)
        elif codec == "utf-8" and bom:
            codec = "utf-8-sig"  # a BOM is never data; keep it out of the first header
        self.encoding = codec
        raw = _ReplayRaw(sample, stream, owned=owned, progress=progress)
        binary = io.BufferedReader(raw, buffer_size=_BUFFER_SIZE)
        self.close = binary.close
        ascii_compatible = _is_ascii_compatible(codec)
        old_mac = b"\r" in sample and b"\n" not in sample
        self.exact_lines = ascii_compatible and not old_mac
        if not self.exact_lines:
            self.lines: Iterator[str] = io.TextIOWrapper(binary, encoding=codec, newline="")
            return
        if codec in ("utf-8", "utf-8-sig"):
            if bom:
                binary.read(len(codecs.BOM_UTF8))
            self.lines = map(str, binary, repeat("utf-8"))
            return
        table = _charmap_table(codec)
        if table is not None:
            # Single-byte code pages (cp1251, koi8-r, ...): the C charmap decoder directly,
            # as fast as TextIOWrapper, where str(line, "cp1251") goes through a Python call.
            decoded = map(codecs.charmap_decode, binary, repeat("strict"), repeat(table))
            self.lines = map(itemgetter(0), decoded)
        else:
            self.lines = map(str, binary, repeat(codec))

    def decode_error(self, line: int, exc: UnicodeDecodeError) -> InvalidInput:
        bad = exc.object[exc.start : exc.start + 1]
        byte = f"byte 0x{bad.hex()}" if bad else "a truncated character"
        where = "" if self.exact_lines else " (on this line or a little after it)"
        if self.encoding.startswith("utf-8"):
            hint = "the file is not all UTF-8; if Excel wrote it, try --encoding cp1251"
        else:
            hint = "try --encoding utf-8, or re-save the file as CSV UTF-8"
        return InvalidInput(
            f"{self.name}:{line}: {byte}{where} cannot be read as {self.encoding}", hint=hint
        )


def _detect_encoding(sample: bytes, at_eof: bool) -> str:
    """UTF-8 (with or without BOM) if the sample decodes as such, else Windows-1251.

    The incremental decoder with ``final=False`` accepts a multi-byte character cut at the
    sample's end. Plain ASCII counts as UTF-8, so a file whose first 64 KB are ASCII and
    whose later bytes are cp1251 is reported line-exactly when the first such byte comes.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_eof)
    except UnicodeDecodeError:
        # A UTF-8 file with a stray byte (a cp1251 paste) is still UTF-8: reading it as
        # cp1251 would turn every letter into mojibake without an error, while UTF-8 reports
        # the stray byte's line. In real cp1251 text, "Р"/"С" (0xD0/0xD1) followed by a UTF-8
        # continuation byte (0x80-0xBF: punctuation, Ё, №) is rare; in Russian UTF-8 it is
        # nearly every non-ASCII byte.
        non_ascii = len(sample) - len(sample.translate(None, _ASCII_BYTES))
        pairs = len(_UTF8_CYRILLIC.findall(sample))
        return "utf-8" if 4 * pairs > non_ascii else "cp1251"
    return "utf-8"


# Encodings a single-byte file that is not Windows-1251 is likely in, and whether their
# letters outside ASCII are Cyrillic (else they are Latin letters with accents).
ALTERNATIVES = {"koi8-r": True, "cp866": True, "latin-1": False}
_WORD = re.compile(r"[^\W\d_]+")


def _oddness(text: str, *, cyrillic: bool) -> tuple[int, int, float]:
    """How implausibly ``text`` reads: (words with a letter beyond ASCII, odd ones among
    them, the share of characters beyond ASCII that are letters). A word is odd when its
    capitals are neither first, all or none (``ъБЛБЪЮЙЛ``: KOI8-R read as Windows-1251),
    or when its letters are of two scripts: Cyrillic among Latin ones (``Cafй``: Latin-1
    read as Windows-1251), or, in a Latin encoding, more accented letters than plain ones
    (``Çàêàç``)."""
    words = odd = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        words += 1
        wide = sum(not c.isascii() for c in word)
        cased = word.islower() or word.isupper() or word.istitle()
        mixed = wide < len(word) if cyrillic else 2 * wide > len(word) > 1
        odd += not cased or mixed
    beyond = [c for c in text if not c.isascii()]
    letters = sum(c.isalpha() for c in beyond) / len(beyond) if beyond else 1.0
    return words, odd, letters


def _plausible(words: int, odd: int, letters: float) -> bool:
    """Nearly every word plausible, and what is beyond ASCII mostly letters (not the box
    drawing that KOI8-R's letters are in CP866)."""
    return 20 * odd <= words and 4 * letters >= 3


def encoding_doubt(sample: bytes, codec: str) -> tuple[bool, tuple[str, ...]]:
    """Whether ``sample`` reads implausibly in ``codec`` (a guess), and which of the usual
    other single-byte encodings read it plausibly (best first)."""
    if _plausible(*_oddness(sample.decode(codec, "replace"), cyrillic=True)):
        return False, ()
    better: list[tuple[float, float, str]] = []
    for other, cyrillic in ALTERNATIVES.items():
        words, odd, letters = _oddness(sample.decode(other, "replace"), cyrillic=cyrillic)
        if _plausible(words, odd, letters):
            better.append((odd / words if words else 0.0, -letters, other))
    return True, tuple(name for *_, name in sorted(better))


def _is_ascii_compatible(codec: str) -> bool:
    if codec == "utf-8-sig":
        return True  # its encoder adds a BOM, which the probe below would take for a mismatch
    try:
        return codecs.lookup(codec).encode(_ASCII_PROBE)[0] == _ASCII_PROBE.encode("ascii")
    except UnicodeError:
        return False


def _charmap_table(codec: str) -> str | None:
    try:
        module = importlib.import_module(f"encodings.{codec.replace('-', '_')}")
    except ImportError:
        return None
    table = getattr(module, "decoding_table", None)
    return table if isinstance(table, str) else None


# --- headers -----------------------------------------------------------------------------


def _clean_headers(raw: list[str], name: str, line: int) -> list[str]:
    """Stripped headers without trailing empty ones; an empty or repeated one is an error."""
    headers = [h.replace("\ufeff", "").strip() for h in raw]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise InvalidInput(f"{name}:{line}: the header row is empty")
    empty = [str(i) for i, h in enumerate(headers, 1) if not h]
    if empty:
        which = "columns " + ", ".join(empty) if len(empty) > 1 else "column " + empty[0]
        raise InvalidInput(
            f"{name}:{line}: {which} of the header row {'have' if len(empty) > 1 else 'has'} "
            "no name",
            hint="name every column of the header row, or delete the empty ones",
        )
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(headers, 1):
        positions.setdefault(h, []).append(i)
    repeated = [
        f"{h!r} (columns {', '.join(map(str, cols[:-1]))} and {cols[-1]})"
        for h, cols in positions.items()
        if len(cols) > 1
    ]
    if repeated:
        raise InvalidInput(
            f"{name}:{line}: duplicate column header {'; '.join(repeated)}",
            hint="every column needs a name of its own",
        )
    return headers


def _too_many(name: str, line: int, cells: list[Any] | tuple[Any, ...], n: int) -> InvalidInput:
    used = len(cells)
    while used and (cells[used - 1] is None or cells[used - 1] == ""):
        used -= 1
    return InvalidInput(
        f"{name}:{line}: {used} values but {n} column{'' if n == 1 else 's'}",
        hint="a value that contains the delimiter must be in double quotes",
    )


# --- CSV / TSV -----------------------------------------------------------------------------


def _sniff_delimiter(sample: bytes, at_eof: bool, encoding: str) -> str:
    """The candidate that splits the first records most consistently into >= 2 columns.

    Each of ``;`` ``,`` tab is tried with the real csv parser (so quoted values with commas
    or newlines do not count), scored by the share of records with as many cells as the
    header, then by the header's width, then by the order above. A file that no candidate
    splits is one column wide and the delimiter does not matter: ``,``.
    """
    text = codecs.getincrementaldecoder(encoding)("replace").decode(sample, final=at_eof)
    text = text.lstrip("\ufeff")
    if not at_eof and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # no half record at the cut
    best: tuple[float, int, int] | None = None
    chosen = ","
    for rank, candidate in enumerate(_SNIFF_DELIMITERS):
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=candidate)
            records = [r for r in islice(reader, _SNIFF_RECORDS * 2) if any(r)][:_SNIFF_RECORDS]
        except csv.Error:
            continue
        if not at_eof and len(records) > 2:
            records.pop()  # may be a quoted value cut by the sample
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        body = records[1:]
        share = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (share, width, -rank)
        if best is None or score > best:
            best, chosen = score, candidate
    return chosen


_CELL_SEPARATOR = "\x1f"


class _DelimitedSource(Source):
    def __init__(
        self,
        name: str,
        fmt: str,
        text: _TextInput,
        total: int | None,
        delimiter: str | None,
        sample: bytes,
        at_eof: bool,
    ) -> None:
        super().__init__(name=name, fmt=fmt, total_bytes=total)
        self._closers.append(text.close)
        self._text = text
        self.unquote = True
        self.encoding = text.encoding
        self.encoding_doubtful = text.doubtful
        self.encoding_guessed = text.guessed
        self.other_encodings = text.other_encodings
        if delimiter is None:
            delimiter = _sniff_delimiter(sample, at_eof, text.encoding)
        self.delimiter = delimiter
        if csv.field_size_limit() < CELL_LIMIT:
            csv.field_size_limit(CELL_LIMIT)
        self._reader = csv.reader(text.lines, delimiter=delimiter, quotechar='"', doublequote=True)
        header: list[str] | None = None
        line = last = 0
        try:
            for cells in self._reader:
                line, last = last + 1, self._reader.line_num
                if any(cells):
                    header = cells
                    break
        except UnicodeDecodeError as exc:
            raise text.decode_error(self._reader.line_num + 1, exc) from None
        except csv.Error as exc:
            raise self._csv_error(last + 1, exc) from None
        if header is None:
            raise InvalidInput(f"{name}: the file is empty (no header row)")
        self.header_line = line
        self.headers = _clean_headers(header, name, line)

    def _open_quote(self, start: int, last: int) -> InvalidInput:
        return InvalidInput(
            f"{self.name}:{start}: malformed CSV: a quoted cell runs on to line {last}",
            hint="check for an unclosed double quote in or before this line",
        )

    def _csv_error(self, line: int, exc: csv.Error) -> InvalidInput:
        if "field larger than field limit" in str(exc):
            return InvalidInput(
                f"{self.name}:{line}: a cell is longer than {CELL_LIMIT} characters",
                hint="a double quote left open in or before this line takes in the rest "
                "of the file",
            )
        return InvalidInput(
            f"{self.name}:{line}: malformed CSV: {exc}",
            hint="check for an unclosed double quote in or before this line",
        )

    shareable = True

    def _iter_shared(self, part: int, parts: int, size: int) -> Iterator[tuple[int, SourceRow]]:
        # the other parts' records are parsed (a record may span lines), not made into rows
        return self._iter_rows((part, parts, size))

    def _iter_rows(self, share: tuple[int, int, int] | None = None) -> Iterator[Any]:
        reader = self._reader
        headers = self.headers
        n = len(headers)
        name = self.name
        row = SourceRow
        # The frozen dataclass's __init__ (two object.__setattr__ calls) is a tenth of the
        # reader's time; filling the slots directly is the same object, built ~20% faster.
        new, set_line, set_values = object.__new__, _SET_LINE, _SET_VALUES
        part, parts, size = share or (0, 1, 1)
        index = -1
        last = reader.line_num
        unquote = self.unquote
        join, mark = _CELL_SEPARATOR.join, _CELL_SEPARATOR + "'"

        def broken(error: InvalidInput) -> InvalidInput:
            # shared: say in which batch the file broke off (the record after ``index``)
            return error if share is None else BrokenOff(error, (index + 1) // size)

        try:
            for cells in reader:
                start = last + 1
                last = reader.line_num
                if last != start and max(map(len, cells)) > _OPEN_QUOTE_CELL:
                    raise broken(self._open_quote(start, last))
                if unquote and mark in join(("", *cells)):  # one C-level scan per record
                    cells = [unquote_formula(c) for c in cells]
                if len(cells) == n and cells[0]:  # the common case, kept cheap
                    if share is not None:
                        index += 1
                        if (index // size) % parts != part:
                            continue
                    record = new(row)
                    set_line(record, start)
                    # lengths were just compared; zip(strict=True) would cost 10% more
                    set_values(record, dict(zip(headers, cells)))  # noqa: B905
                    yield record if share is None else (index // size, record)
                    continue
                if not any(cells):
                    continue  # a blank line, or ;;; for an empty Excel row
                if len(cells) < n:
                    cells += [""] * (n - len(cells))
                elif len(cells) > n:
                    if any(cells[n:]):
                        raise broken(_too_many(name, start, cells, n))
                    del cells[n:]
                if share is not None:
                    index += 1
                    if (index // size) % parts != part:
                        continue
                record = row(start, dict(zip(headers, cells)))  # noqa: B905 - same length now
                yield record if share is None else (index // size, record)
        except UnicodeDecodeError as exc:
            raise broken(self._text.decode_error(reader.line_num + 1, exc)) from None
        except csv.Error as exc:
            raise broken(self._csv_error(last + 1, exc)) from None


# --- JSON lines ------------------------------------------------------------------------


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


_json_loads = json.JSONDecoder(parse_constant=_reject_constant).decode


class _JsonLinesSource(Source):
    def __init__(self, name: str, text: _TextInput, total: int | None) -> None:
        super().__init__(name=name, fmt="nl", total_bytes=total)
        self._closers.append(text.close)
        self._text = text
        self.encoding = text.encoding
        self.encoding_doubtful = text.doubtful
        self.encoding_guessed = text.guessed
        self.other_encodings = text.other_encodings
        self._lines = enumerate(text.lines, 1)
        self._lineno = 0
        self._objects_iter = self._objects()
        self._first = next(self._objects_iter, None)
        if self._first is None:
            raise InvalidInput(f"{name}: no JSON objects (the input is empty)")
        self.header_line = self._first.line
        self.headers = list(self._first.values)

    def _objects(self) -> Iterator[SourceRow]:
        name = self.name
        loads = _json_loads
        row = SourceRow
        try:
            for lineno, text in self._lines:
                self._lineno = lineno
                if text.isspace() or not text:
                    continue
                try:
                    obj = loads(text)
                except ValueError as exc:
                    raise _not_json(name, lineno, exc) from None
                if type(obj) is not dict:
                    raise _not_an_object(name, lineno, obj)
                yield row(lineno, obj)
        except UnicodeDecodeError as exc:
            raise self._text.decode_error(self._lineno + 1, exc) from None

    shareable = True

    def _iter_shared(self, part: int, parts: int, size: int) -> Iterator[tuple[int, SourceRow]]:
        """An object is one line, so the other parts' lines are only counted, not parsed (a
        broken one is its owner's to find). The headers are not extended by later objects'
        keys here."""
        first, self._first = self._first, None
        if first is not None and part == 0:
            yield 0, first
        index = 0
        name, loads, row = self.name, _json_loads, SourceRow
        try:
            for lineno, text in self._lines:
                self._lineno = lineno
                if text.isspace() or not text:
                    continue
                index += 1
                if (index // size) % parts != part:
                    continue
                try:
                    obj = loads(text)
                except ValueError as exc:
                    raise BrokenOff(_not_json(name, lineno, exc), index // size) from None
                if type(obj) is not dict:
                    raise BrokenOff(_not_an_object(name, lineno, obj), index // size)
                yield index // size, row(lineno, obj)
        except UnicodeDecodeError as exc:
            error = self._text.decode_error(self._lineno + 1, exc)
            raise BrokenOff(error, (index + 1) // size) from None

    def _iter_rows(self) -> Iterator[SourceRow]:
        first = self._first
        if first is None:  # pragma: no cover - the constructor refused an empty input
            return
        self._first = None
        headers = self.headers
        known = set(headers)
        yield first
        for source_row in self._objects_iter:
            values = source_row.values
            if not known.issuperset(values):
                for key in values:
                    if key not in known:
                        known.add(key)
                        headers.append(key)
            yield source_row


def _not_json(name: str, lineno: int, exc: ValueError) -> InvalidInput:
    detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
    return InvalidInput(
        f"{name}:{lineno}: not a JSON object: {detail}",
        hint="JSON lines need one complete {...} object on each line",
    )


def _not_an_object(name: str, lineno: int, value: object) -> InvalidInput:
    return InvalidInput(
        f"{name}:{lineno}: not a JSON object but {_json_kind(value)}",
        hint="JSON lines need one {...} object on each line; a JSON array file is not JSON lines",
    )


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


# --- xlsx ----------------------------------------------------------------------------------

_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    EOFError,
    OSError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
)


class _ProgressFile:
    """A seekable file for zipfile that reports the furthest offset read as progress.

    Only reads made while rows are iterated count (opening the workbook jumps to the zip's
    central directory at the end, which would show 100% at once); the sheet XML is read
    front to back, so the furthest offset is a fair measure of how far the import is.
    """

    def __init__(self, f: BinaryIO, progress: ProgressCallback, total: int) -> None:
        self._f = f
        self._progress = progress
        self._total = total
        self.counting = False
        self._reported = 0

    def read(self, size: int = -1) -> bytes:
        data = self._f.read(size)
        if self.counting:
            position = self._f.tell()
            if position - self._reported >= _PROGRESS_STEP and position < self._total:
                self._reported = position
                self._progress(position)
        return data

    def finish(self) -> None:
        if self._reported != self._total:
            self._reported = self._total
            self._progress(self._total)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._f.close()


def _open_xlsx(
    name: str,
    stream: BinaryIO,
    owned: bool,
    sample: bytes,
    total: int | None,
    sheet: str | None,
    progress: ProgressCallback | None,
) -> Source:
    if owned and stream.seekable():
        stream.seek(0)
        f: Any = io.BufferedReader(stream, buffer_size=_BUFFER_SIZE)
    else:
        # A zip's directory is at its end: a pipe must be spooled to disk before reading.
        f = tempfile.TemporaryFile(dir=private_dir())  # noqa: SIM115 - closed by the Source
        try:
            f.write(sample)
            shutil.copyfileobj(stream, f, _BUFFER_SIZE)
            f.seek(0)
        except BaseException:
            f.close()
            raise
        if owned:
            stream.close()
    try:
        if _has_error_cells(f):
            # python-calamine reads an error cell (#N/A, #DIV/0!) as an empty one, which
            # would quietly empty an optional field; openpyxl keeps its text, so that the
            # cell is refused as it always was (rare: such a workbook is read slower)
            f.seek(0)
            if progress is not None and total:
                f = _ProgressFile(f, progress, total)
            return _OpenpyxlSource(name, f, total, sheet)
        f.seek(0)
        return _CalamineSource(name, f, total, sheet)
    except BaseException:
        f.close()
        raise


_ERROR_CELL = re.compile(rb"<c\s[^>]*\bt=[\"']e[\"']")
_SCAN_CHUNK = 1 << 20


def _has_error_cells(f: Any) -> bool:
    """Whether a worksheet of the workbook holds an error cell (``t="e"``): the
    worksheets' XML is scanned as it is unzipped (about a tenth of reading the workbook)."""
    try:
        with zipfile.ZipFile(f) as archive:
            for info in archive.infolist():
                if not info.filename.startswith("xl/worksheets/") or not info.filename.endswith(
                    ".xml"
                ):
                    continue
                tail = b""
                with archive.open(info) as member:
                    while chunk := member.read(_SCAN_CHUNK):
                        data = tail + chunk
                        if (b't="e"' in data or b"t='e'" in data) and _ERROR_CELL.search(data):
                            return True
                        tail = chunk[-256:]
    except _XLSX_ERRORS:
        return False  # not a readable zip: the reader says so in its own words
    return False


class _CalamineSource(Source):
    """A workbook read with python-calamine (Rust's calamine): the chosen sheet is parsed
    whole when the source opens, about six times faster than openpyxl's cell by cell, and
    held in memory (Rust values: some 60 bytes a cell). Its cells are given as openpyxl
    gives them, so that a workbook reads the same either way: an empty cell is ``None``, a
    whole number ``int``, a date cell ``datetime`` (calamine says ``date`` at midnight).

    Rows can be read in shares (``shareable``): an import's worker processes, forked after
    the sheet was parsed, each take their share of the parsed rows (see ``for_worker``)."""

    shareable = True

    def __init__(self, name: str, f: Any, total: int | None, sheet: str | None) -> None:
        super().__init__(name=name, fmt="xlsx", total_bytes=total)
        from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

        self._closers.append(f.close)
        try:
            workbook = CalamineWorkbook.from_filelike(f)
        except (CalamineError, *_XLSX_ERRORS) as exc:
            raise InvalidInput(
                f"{name}: not a readable .xlsx workbook ({_describe(exc)})",
                hint="open it in Excel and save it as .xlsx, or export CSV UTF-8",
            ) from None
        self._closers.append(workbook.close)
        sheets = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if sheet is None:
            if not sheets:
                raise InvalidInput(f"{name}: the workbook has no worksheets")
            chosen = sheets[0]
        else:
            matches = [s for s in sheets if s == sheet] or [
                s for s in sheets if s.strip().casefold() == sheet.casefold()
            ]
            if len(matches) != 1:
                listed = ", ".join(repr(s) for s in sheets) or "none"
                raise InvalidInput(f"{name}: no sheet named {sheet!r} (sheets: {listed})")
            chosen = matches[0]
        self.sheet = chosen
        try:
            data = workbook.get_sheet_by_name(chosen)
        except (CalamineError, *_XLSX_ERRORS) as exc:
            raise InvalidInput(
                f"{name}: the workbook is damaged ({_describe(exc)})",
                hint="open it in Excel and save it again",
            ) from None
        start = data.start
        # calamine's rows count from the sheet's first row but its cells from the first
        # used column: the columns before it are put back, so that cells stay under their
        # headers as openpyxl has them
        self._pad: list[Any] = [""] * start[1] if start is not None else []
        self._height = (data.end[0] + 1) if data.end is not None else 0
        self._rows = enumerate(data.iter_rows(), 1)
        header: list[Any] | None = None
        line = 0
        for number, values in self._rows:
            if values.count("") != len(values):
                header, line = self._pad + values, number
                break
        if header is None:
            raise InvalidInput(f"{name}: sheet {self.sheet!r} is empty (no header row)")
        self.header_line = line
        self.headers = _clean_headers([_header_text(v) for v in _as_openpyxl(header)], name, line)

    def for_worker(self, progress: ProgressCallback | None) -> Source:
        """This source as a forked worker process reads its share: the parsed sheet it
        inherited, not the file parsed again."""
        self.progress = progress
        return self

    def _iter_shared(self, part: int, parts: int, size: int) -> Iterator[tuple[int, SourceRow]]:
        return self._iter_rows((part, parts, size))

    def _iter_rows(self, share: tuple[int, int, int] | None = None) -> Iterator[Any]:
        headers = self.headers
        n = len(headers)
        name = self.name
        row = SourceRow
        pad = self._pad
        part, parts, size = share or (0, 1, 1)
        index = -1
        total = self.total_bytes or 0
        progress = self.progress if total else None
        height = self._height or 1
        # about every 64 KB of the file, as the rows go by (the sheet is parsed already)
        step = max(1, height * _PROGRESS_STEP // total) if total else 0
        line = self.header_line or 0
        for line, values in self._rows:
            if progress is not None and line % step == 0:
                progress(min(total - 1, total * line // height))
            if values.count("") == len(values):
                continue  # an empty row
            if share is not None:
                index += 1
                if (index // size) % parts != part:
                    continue
            if pad:
                values = pad + values
            width = len(values)
            if width > n:
                if values[n:].count("") != width - n:
                    error = _too_many(name, line, _as_openpyxl(values), n)
                    raise error if share is None else BrokenOff(error, index // size)
                del values[n:]
            elif width < n:
                values += [""] * (n - width)
            record = row(line, dict(zip(headers, _as_openpyxl(values), strict=True)))
            yield record if share is None else (index // size, record)
        if progress is not None:
            progress(total)


_INT_FLOATS = 1e15  # beyond Excel's 15 digits a number is written 1.2E+16: a float to openpyxl


def _as_openpyxl(values: list[Any]) -> list[Any]:
    """A calamine row's cells (changed in place) as openpyxl gives them: ``None`` for an
    empty cell, ``int`` for a whole number, ``datetime`` for a date."""
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str:
            if not value:
                values[i] = None
        elif kind is float:
            if value.is_integer() and -_INT_FLOATS < value < _INT_FLOATS:
                values[i] = int(value)
        elif kind is date:
            values[i] = datetime(value.year, value.month, value.day)
    return values


class _OpenpyxlSource(Source):
    """A workbook read with openpyxl: only one that holds error cells (see _open_xlsx)."""

    def __init__(self, name: str, f: Any, total: int | None, sheet: str | None) -> None:
        super().__init__(name=name, fmt="xlsx", total_bytes=total)
        from openpyxl import load_workbook  # ~80 ms to import: only when a workbook is read

        self._f = f
        self._closers.append(f.close)
        try:
            with warnings.catch_warnings():
                # "no default style", "extension not supported": noise for an importer
                warnings.simplefilter("ignore")
                workbook = load_workbook(f, read_only=True, data_only=True)
        except _XLSX_ERRORS as exc:
            raise InvalidInput(
                f"{name}: not a readable .xlsx workbook ({_describe(exc)})",
                hint="open it in Excel and save it as .xlsx, or export CSV UTF-8",
            ) from None
        self._closers.append(workbook.close)
        sheets = [ws.title for ws in workbook.worksheets]
        if sheet is None:
            if not sheets:
                raise InvalidInput(f"{name}: the workbook has no worksheets")
            worksheet = workbook.worksheets[0]
        else:
            matches = [ws for ws in workbook.worksheets if ws.title == sheet] or [
                ws for ws in workbook.worksheets if ws.title.strip().casefold() == sheet.casefold()
            ]
            if len(matches) != 1:
                listed = ", ".join(repr(s) for s in sheets) or "none"
                raise InvalidInput(f"{name}: no sheet named {sheet!r} (sheets: {listed})")
            worksheet = matches[0]
        self.sheet = worksheet.title
        # The <dimension> a writer records can be wrong; with it, openpyxl would silently
        # cut cells beyond it. Without it every row is as long as its last cell.
        worksheet.reset_dimensions()
        self._rows = enumerate(worksheet.iter_rows(min_row=1, values_only=True), 1)
        header: tuple[Any, ...] | None = None
        line = 0
        try:
            for number, values in self._rows:
                if not _blank(values):
                    header, line = values, number
                    break
                line = number
        except _XLSX_ERRORS as exc:
            raise self._corrupt(line + 1, exc) from None
        if header is None:
            raise InvalidInput(f"{name}: sheet {self.sheet!r} is empty (no header row)")
        self.header_line = line
        self.headers = _clean_headers([_header_text(v) for v in header], name, line)

    def _corrupt(self, line: int, exc: BaseException) -> InvalidInput:
        return InvalidInput(
            f"{self.name}:{line}: the workbook is damaged ({_describe(exc)})",
            hint="open it in Excel and save it again",
        )

    def _iter_rows(self) -> Iterator[SourceRow]:
        headers = self.headers
        n = len(headers)
        name = self.name
        row = SourceRow
        progress_file = self._f if isinstance(self._f, _ProgressFile) else None
        if progress_file is not None:
            progress_file.counting = True
        line = self.header_line or 0
        try:
            for line, values in self._rows:
                if _blank(values):
                    continue
                if any(type(v) is str and "_x" in v for v in values):
                    values = tuple(xlsx_unescape(v) if type(v) is str else v for v in values)
                width = len(values)
                if width == n:
                    yield row(line, dict(zip(headers, values, strict=True)))
                elif width < n:
                    yield row(line, dict(zip(headers, values + (None,) * (n - width), strict=True)))
                else:
                    if not _blank(values[n:]):
                        raise _too_many(name, line, values, n)
                    yield row(line, dict(zip(headers, values[:n], strict=True)))
        except InvalidInput:
            raise  # a ValueError too: not to be taken for a damaged file below
        except _XLSX_ERRORS as exc:
            raise self._corrupt(line + 1, exc) from None
        if progress_file is not None:
            progress_file.finish()


def _blank(values: tuple[Any, ...]) -> bool:
    return all(value is None or value == "" for value in values)


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a year typed as a header: 2024, not 2024.0
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- Excel serial dates ------------------------------------------------------------------

_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_LAST = 2958466  # 10000-01-01, one past Excel's last day
_MS_PER_DAY = 86_400_000


def excel_serial_to_datetime(value: float) -> datetime:
    """The naive datetime an Excel serial number (1900 date system) stands for.

    A number arrives in a date column when a cell lost its date format, or from a CSV
    written by a program that did not format it. Excel counts 1900-02-29, which did not
    exist (Lotus 1-2-3's bug, kept for compatibility): serials from 61 on are days since
    1899-12-30, serials below 60 are one day later than that arithmetic gives (1 is
    1900-01-01; 0 is Excel's "1900-01-00", i.e. 1899-12-31), and 60 itself is refused.
    The fraction is the time of day, rounded to the millisecond as Excel stores it (so
    0.6111111 is 14:40:00, not 14:39:59.999999).
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{value!r} is not an Excel date serial number")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number < _EXCEL_LAST:
        raise InvalidInput(
            f"{value!r} is not an Excel date serial number (it must be from 0 to {_EXCEL_LAST})"
        )
    if 60 <= number < 61:
        raise InvalidInput(
            f"Excel date serial {value!r} is 29.02.1900, a day that does not exist",
            hint="Excel counts 1900 as a leap year; correct the date in the sheet",
        )
    milliseconds = round(number * _MS_PER_DAY)
    if number < 60:
        milliseconds += _MS_PER_DAY
    return _EXCEL_EPOCH + timedelta(milliseconds=milliseconds)
