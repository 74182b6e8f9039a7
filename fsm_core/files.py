"""Files the product writes: private temporaries, and outputs that replace their target whole.

Two rules, kept here once for every writer (exports, reject files, acts, labels, passports,
business cards, attachments):

* **Temporaries are private and do not outlive their process.** Every temporary file fsm
  makes (an import's spool of a pipe, an export's spool for standard output, the rejected
  rows, openpyxl's sheet files) goes into one folder per process,
  ``<temp>/fsm-<uid>/<pid>-<start>`` (``<temp>`` is :func:`tempfile.gettempdir`, so
  ``TMPDIR`` moves it; ``<start>`` is the process's start time, so a reused pid is told
  apart), created 0700 inside a 0700 folder of the user's, files 0600. The folder is removed
  when the process exits (normally or by Ctrl-C); the folders of processes that are gone
  (``kill -9``, a power cut) are removed by the next fsm that starts.
* **An output replaces its target in one step.** :func:`replacing` writes a private
  temporary file beside the target (``.NAME.xxxxxxxx.part``; beside it, because a rename
  only replaces in one step within one file system) and renames it over the target when
  everything was written: a reader never sees half a file under the final name, a failed
  write leaves the previous file, and a target that is a symbolic link is replaced itself —
  the file it pointed to is never opened, let alone overwritten. The new file gets the mode
  the old one had (or the usual ``0666 & ~umask``). The process's folder lists the
  ``.part`` files it made, so the next fsm removes those of a killed process too.

Devices and pipes (``-o /dev/stdout``, a named pipe) are written into: renaming over them
would replace the node, not feed the reader.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, ParamSpec, TypeVar

from fsm_core.errors import InvalidInput

__all__ = [
    "Output",
    "output_stream",
    "private_dir",
    "process_tag",
    "replacing",
    "sweep",
    "tag_gone",
    "tempfiles_as_default",
    "writes_output",
]

Output = str | os.PathLike[str] | IO[bytes]

_PARTS_LIST = "parts"  # in a process's folder: the .part files it made beside targets
_PART_NAME = re.compile(r"\A\..*\.[0-9a-f]{8}\.part\Z", re.DOTALL)
_SQLITE_COMPANIONS = (b"-wal", b"-shm", b"-journal")  # beside a .part opened as a database
_STREAMS = ("/dev/stdout", "/dev/stderr")
_STREAM_PREFIXES = ("/dev/fd/", "/proc/")  # /dev/fd/N, /proc/self/fd/N

_lock = threading.RLock()
_folder: Path | None = None
_folder_pid = 0
_route_depth = 0
_route_saved: str | None = None

P = ParamSpec("P")
R = TypeVar("R")


# --- who we are --------------------------------------------------------------------------


def _uid() -> str:
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        return str(getuid())
    import getpass

    return re.sub(r"[^A-Za-z0-9_-]", "_", getpass.getuser())


def _start_of(pid: int) -> str | None:
    """The process's start time (clock ticks since boot) on Linux, else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else None  # field 22 of stat(5)


def _owner_alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    except OSError:
        return True  # cannot tell: keep its folder
    if start == "0":
        return True
    now = _start_of(pid)
    return now is None or now == start


def process_tag() -> str:
    """This process as ``<pid>-<start>`` (its start time, so that a reused pid is told
    apart): for naming something outside the file system that must not outlive it."""
    pid = os.getpid()
    return f"{pid}-{_start_of(pid) or '0'}"


def tag_gone(tag: str) -> bool:
    """Whether the process :func:`process_tag` named is gone (on this machine)."""
    pid_text, _, start = tag.partition("-")
    if not pid_text.isdigit() or not start.isalnum():
        return False
    return not _owner_alive(int(pid_text), start)


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # read once, at import, before any thread writes a file
    os.umask(mask)
    return mask


_UMASK = _umask()


# --- the process's private folder --------------------------------------------------------


def _base() -> Path | None:
    """``<temp>/fsm-<uid>``, 0700 and ours; None when something else holds that name."""
    base = Path(tempfile.gettempdir()) / f"fsm-{_uid()}"
    with contextlib.suppress(FileExistsError):
        os.mkdir(base, 0o700)
    try:
        st = os.lstat(base)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return None  # another user's, or a link planted in a shared /tmp: not ours to use
    if st.st_mode & 0o077:
        os.chmod(base, 0o700)
    return base


def private_dir() -> Path:
    """This process's private folder for temporaries (created 0700 on first use, removed
    at exit); pass it as ``dir=`` to :mod:`tempfile`, whose files are 0600."""
    global _folder, _folder_pid
    with _lock:
        pid = os.getpid()
        if _folder is not None and _folder_pid == pid and _folder.is_dir():
            return _folder
        base = _base()
        if base is None:
            folder = Path(tempfile.mkdtemp(prefix=f"fsm-{_uid()}-{pid}-"))
        else:
            sweep(base)
            folder = base / process_tag()
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o700)
            st = os.lstat(folder)
            if not stat.S_ISDIR(st.st_mode):
                folder = Path(tempfile.mkdtemp(prefix=f"{pid}-", dir=base))
        first = _folder_pid != pid
        _folder, _folder_pid = folder, pid
        if first:
            atexit.register(_clean_up, folder, pid)
        return folder


def _clean_up(folder: Path, pid: int) -> None:
    """At exit: remove this process's folder and any .part file it left beside a target."""
    if os.getpid() != pid:  # a forked child exiting: the folder is its parent's
        return
    _remove_folder(folder)


def _remove_folder(folder: Path) -> None:
    for part in _listed_parts(folder):
        _remove_part(part)
    shutil.rmtree(folder, ignore_errors=True)


def _listed_parts(folder: Path) -> list[bytes]:
    try:
        with open(folder / _PARTS_LIST, "rb") as f:
            return [p for p in f.read().split(b"\0") if p]
    except OSError:
        return []


def _remove_part(path: bytes) -> None:
    """Remove a listed .part file: only a regular file of ours with a .part name; and
    the files SQLite keeps beside one that was opened as a database (a restore or a copy
    builds its database in a .part file), which a killed process leaves too."""
    if not _PART_NAME.match(os.fsdecode(os.path.basename(path))):
        return
    for name in (path, *(path + suffix for suffix in _SQLITE_COMPANIONS)):
        try:
            st = os.lstat(name)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            continue
        with contextlib.suppress(OSError):
            os.unlink(name)


def sweep(base: Path | None = None) -> int:
    """Remove the folders (and listed .part files) of fsm processes that are gone.

    Cheap when there is nothing to do (one directory listing); called when a process
    makes its own folder and when the ``fsm`` command starts. Returns how many went.
    """
    if base is None:
        base = Path(tempfile.gettempdir()) / f"fsm-{_uid()}"
        try:
            st = os.lstat(base)
        except OSError:
            return 0
        if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            return 0
    removed = 0
    try:
        entries = list(os.scandir(base))
    except OSError:
        return 0
    for entry in entries:
        pid_text, sep, start = entry.name.partition("-")
        if not sep or not pid_text.isdigit() or not start.isalnum():
            continue
        pid = int(pid_text)
        if pid == os.getpid() or _owner_alive(pid, start):
            continue
        if entry.is_dir(follow_symlinks=False):
            _remove_folder(Path(entry.path))
            removed += 1
    return removed


@contextlib.contextmanager
def tempfiles_as_default() -> Iterator[Path]:
    """While inside, :mod:`tempfile`'s default folder is this process's private folder,
    for a library that makes temporaries without a ``dir=`` (openpyxl's write-only sheets).
    Nested and threaded uses share it; the previous default comes back after the last."""
    global _route_depth, _route_saved
    folder = private_dir()
    with _lock:
        if _route_depth == 0:
            _route_saved = tempfile.tempdir
            tempfile.tempdir = os.fspath(folder)
        _route_depth += 1
    try:
        yield folder
    finally:
        with _lock:
            _route_depth -= 1
            if _route_depth == 0:
                tempfile.tempdir = _route_saved


# --- outputs that replace their target ---------------------------------------------------


def _is_stream(target: str) -> bool:
    """A device, a pipe or a socket (or /dev/stdout and the like): written into."""
    if target in _STREAMS or target.startswith(_STREAM_PREFIXES):
        return True
    try:
        st = os.lstat(target)
    except OSError:
        return False
    return not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode))


def _mode_for(target: str) -> int:
    """The permissions the new file gets: those of the regular file it replaces (never
    of a link's target), else what a new file gets under the umask."""
    try:
        st = os.lstat(target)
    except OSError:
        return 0o666 & ~_UMASK
    if stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode) & 0o777
    return 0o666 & ~_UMASK


def _cannot(name: str, directory: str, exc: OSError) -> InvalidInput:
    if isinstance(exc, FileNotFoundError):
        return InvalidInput(f"{name}: no such directory {directory!r}")
    if isinstance(exc, PermissionError):
        return InvalidInput(f"{name}: permission denied (writing in {directory!r})")
    return InvalidInput(f"{name}: cannot write: {exc.strerror or exc}")


def open_part(directory: str, base: str, *, name: str | None = None) -> tuple[BinaryIO, str]:
    """A new private (0600) file ``.BASE.xxxxxxxx.part`` in ``directory``, listed in this
    process's folder so that it is removed if the process dies before it is renamed or
    removed. Returns the open file and its path."""
    partial = os.path.join(directory, f".{base}.{uuid.uuid4().hex[:8]}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        listing = private_dir() / _PARTS_LIST
        fd = os.open(listing, (flags & ~os.O_EXCL) | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as record:
            record.write(os.fsencode(partial) + b"\0")
    except OSError:
        pass  # without the record only a kill -9 leaves it behind
    try:
        fd = os.open(partial, flags, 0o600)
    except OSError as exc:
        raise _cannot(name or os.path.join(directory, base), directory, exc) from None
    return os.fdopen(fd, "wb"), partial


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content to; it replaces ``path`` (a symbolic
    link itself, never its target) only when the block ends without an exception, and is
    removed otherwise. A device or pipe is written into directly."""
    name = os.fspath(path)
    if not name.strip():
        raise InvalidInput(f"{name!r}: no file name to write to", field="output")
    target = os.path.abspath(name)
    if _is_stream(target):
        try:
            device = open(target, "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InvalidInput(f"{name}: cannot write: {exc.strerror or exc}") from None
        with device:
            yield device
        return
    if os.path.isdir(target):
        raise InvalidInput(f"{name}: is a directory")
    directory, base = os.path.split(target)
    mode = _mode_for(target)
    f, partial = open_part(directory, base, name=name)
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)
            else:
                os.chmod(partial, mode)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


@contextlib.contextmanager
def output_stream(out: Output) -> Iterator[IO[bytes]]:
    """``out`` as a binary stream: a path through :func:`replacing`, a stream as it is."""
    if isinstance(out, str | os.PathLike):
        with replacing(out) as f:
            yield f
    else:
        yield out


def stream_of(out: Output) -> IO[bytes]:
    """Inside a function wrapped by :func:`writes_output`: its ``out``, always a stream."""
    if isinstance(out, str | os.PathLike):
        raise TypeError("a document writer was called without @writes_output")
    return out


def writes_output(func: Callable[P, R]) -> Callable[P, R]:
    """For a function that takes ``out=`` (a path or a binary stream): a path is written
    through :func:`replacing`, so the function only ever sees a stream."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        out: Any = kwargs.pop("out")
        with output_stream(out) as stream:
            return func(*args, out=stream, **kwargs)  # type: ignore[arg-type]

    return wrapper
