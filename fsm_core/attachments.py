"""The attachment store: photos, scans and signature images, kept by content.

Files are copied into an ``attachments/`` folder next to the SQLite database (or under
``FSM_DATA_DIR`` for a server database), named by the SHA-256 of their bytes, so the same
photo attached twice is stored once and a name can never point outside the folder: no
path the user gives is ever joined to it, only the hash we computed. A size limit keeps a
mistaken video out. The row in ``attachment`` records what the user called the file (as
displayable text, whatever bytes the name had).

Only regular files are attached, opened without following a symbolic link (a link to
``/etc/shadow`` is refused by name, never read), and a stored file gets its name in the
store only when the transaction that wrote its row commits.

Used by execution (photos, the customer's signature) and by chats (message attachments).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mimetypes
import os
import shutil
import stat
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import event, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from fsm_core.errors import InvalidInput, NotFound
from fsm_core.files import open_part, replacing
from fsm_core.models.attachments import Attachment
from fsm_core.values import terminal_safe

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024


def store_folder(session: Session) -> Path:
    """Where this database keeps its attachments."""
    # the bind may be an Engine or a Connection
    return store_folder_of(session.get_bind().engine.url)


def store_folder_of(url: URL) -> Path:
    """Where the database at ``url`` keeps its attachments (backups and restores too)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).expanduser().resolve().parent / "attachments"
    from fsm_core.config import get_settings

    return get_settings().data_dir / "attachments" / (url.database or "default")


def max_bytes() -> int:
    value = os.environ.get("FSM_ATTACHMENT_MAX_BYTES")
    if not value:
        return DEFAULT_MAX_BYTES
    try:
        return max(1, int(value))
    except ValueError:
        raise InvalidInput(f"FSM_ATTACHMENT_MAX_BYTES={value!r} is not a number of bytes") from None


def display_name(name: str) -> str:
    """A file name as text that can be stored and shown: bytes that are not UTF-8 (a name
    from an old archive or another system, which Python carries as lone surrogates) become
    U+FFFD, and control characters a visible sign (:func:`fsm_core.values.terminal_safe`);
    at most 255 characters."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogatepass")
    text = terminal_safe(raw.decode("utf-8", "replace"))
    return text.strip()[:255] or "attachment"


def _foreign_link(given: str) -> str | None:
    """The first symbolic link among the folders of ``given``, resolved as the kernel
    does, other than the system's own links right under ``/`` (``/tmp`` ->
    ``/private/tmp`` on macOS, ``/home`` on another disk); None when there is none.

    Who owns a link says nothing when fsm runs as root, and an archive unpacked into a
    folder can hold ``docs`` -> ``/etc``: such a path is refused, not followed."""
    folder, _ = os.path.split(os.path.join(os.getcwd(), given))
    current = os.sep
    for part in folder.split(os.sep):
        if part in ("", "."):
            continue
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        try:
            st = os.lstat(candidate)
        except OSError:
            return None  # the open below names what is missing
        if stat.S_ISLNK(st.st_mode):
            if current != os.sep:
                return candidate
            current = os.path.realpath(candidate)
        else:
            current = candidate
    return None


def _open_regular(source: str | os.PathLike[str]) -> tuple[BinaryIO, os.stat_result, str]:
    """The file at ``source`` opened for reading, only if it is a regular file reached
    without a symbolic link (a link to /etc/shadow is never read). Returns the file, its
    status and its shown name."""
    given = os.fspath(source)
    shown = display_name(given)
    try:
        before = os.lstat(given)
    except FileNotFoundError:
        raise InvalidInput(f"{shown}: no such file") from None
    except OSError as exc:
        raise InvalidInput(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISLNK(before.st_mode):
        raise InvalidInput(
            f"{shown}: is a symbolic link; only a regular file is attached, never what a "
            "link points to"
        )
    link = _foreign_link(given)
    if link is not None:
        raise InvalidInput(
            f"{shown}: the path goes through the symbolic link {display_name(link)!r}; "
            "only a file reached without a link is attached",
            hint="attach the file from the folder it really is in",
        )
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(given, flags)
    except FileNotFoundError:
        raise InvalidInput(f"{shown}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link since the look above
            raise InvalidInput(
                f"{shown}: is a symbolic link; only a regular file is attached"
            ) from None
        raise InvalidInput(f"{shown}: cannot read: {exc.strerror or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise InvalidInput(f"{shown}: is {kind}; only a regular file can be attached")
    f = os.fdopen(fd, "rb")
    try:
        resolved = os.path.realpath(given)
        try:
            same = os.stat(resolved)
        except OSError:
            same = None
        if same is None or (same.st_dev, same.st_ino) != (st.st_dev, st.st_ino):
            raise InvalidInput(
                f"{shown}: changed while it was opened (it resolves to "
                f"{display_name(resolved)!r}); attach it again"
            )
    except BaseException:
        f.close()
        raise
    return f, st, shown


def store(
    session: Session, source: str | os.PathLike[str], *, name: str | None = None
) -> Attachment:
    """Copy the file at ``source`` into the store (in the caller's transaction); returns
    its row. The same content stored twice is one file and one row.

    Only a regular file is read, opened without following a symbolic link. The copy is a
    private temporary file in the store until the caller's transaction commits; only then
    does it take its name (the hash), and if the transaction is rolled back it is removed:
    the store never holds a file without its row.
    """
    limit = max_bytes()
    src, status, shown = _open_regular(source)
    with src:
        original = display_name(name if name is not None else os.path.basename(shown))
        if status.st_size > limit:
            raise InvalidInput(
                f"{original}: {status.st_size / 1048576:.1f} MB is more than the "
                f"{limit / 1048576:.0f} MB an attachment may have"
            )
        folder = store_folder(session)
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"{folder}: cannot create the attachment store: {exc}") from None
        digest = hashlib.sha256()
        tmp, partial = open_part(os.fspath(folder), "incoming")
        try:
            with tmp:
                copied = 0
                while chunk := src.read(_CHUNK):
                    copied += len(chunk)
                    if copied > limit:  # grew while we read it
                        raise InvalidInput(f"{original}: larger than {limit} bytes")
                    digest.update(chunk)
                    tmp.write(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
    sha = digest.hexdigest()
    pending = _pending(session)
    if (folder / sha).exists() or sha in pending:
        os.unlink(partial)
    else:
        pending[sha] = (partial, folder / sha)
    existing = session.execute(
        select(Attachment).where(Attachment.sha256 == sha)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    media_type = mimetypes.guess_type(original)[0] or "application/octet-stream"
    row = Attachment(sha256=sha, size=copied, original_name=original, media_type=media_type)
    session.add(row)
    session.flush()
    return row


_PENDING = "fsm_pending_attachments"


def _pending(session: Session) -> dict[str, tuple[str, Path]]:
    """The files this session stored and its transaction has not committed yet."""
    pending: dict[str, tuple[str, Path]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = {}
        event.listen(session, "after_commit", _publish)
        event.listen(session, "after_transaction_end", _discard)
    return pending


def _publish(session: Session) -> None:
    """The rows are committed: the files take their names in the store."""
    pending: dict[str, tuple[str, Path]] = session.info.get(_PENDING, {})
    for partial, target in pending.values():
        try:
            os.replace(partial, target)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(partial)
    pending.clear()


def _discard(session: Session, transaction: SessionTransaction) -> None:
    """A transaction ended without a commit (rolled back, closed): its files go."""
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    pending: dict[str, tuple[str, Path]] = session.info.get(_PENDING, {})
    for partial, _target in pending.values():
        with contextlib.suppress(OSError):
            os.unlink(partial)
    pending.clear()


def path_of(session: Session, attachment: Attachment) -> Path:
    """The stored file of ``attachment`` (its name is our hash, never the user's); in the
    transaction that stored it, the copy that is not yet published."""
    waiting = session.info.get(_PENDING, {}).get(attachment.sha256)
    if waiting is not None:
        return Path(waiting[0])
    path = store_folder(session) / attachment.sha256
    if not path.is_file():
        raise NotFound("attachment file", attachment.original_name)
    return path


def read_bytes(session: Session, attachment: Attachment) -> bytes:
    return path_of(session, attachment).read_bytes()


def copy_out(session: Session, attachment: Attachment, target: str | os.PathLike[str]) -> Path:
    """Copy a stored file out, e.g. for ``fsm chat attachment ID -o DIR``: into a folder
    under its original name, or to a file; it replaces what was there whole (a link
    itself, never the file it points to)."""
    destination = Path(target)
    if destination.is_dir():
        base = os.path.basename(attachment.original_name.replace("\\", "/"))
        destination = destination / (base if base not in ("", ".", "..") else attachment.sha256)
    with path_of(session, attachment).open("rb") as src, replacing(destination) as out:
        shutil.copyfileobj(src, out)
    return destination
