"""The attachment store: photos, scans and signature images, kept by content.

Files are copied into an ``attachments/`` folder next to the SQLite database (or under
``FSM_DATA_DIR`` for a server database), named by the SHA-256 of their bytes, so the same
photo attached twice is stored once and a name can never point outside the folder: no
path the user gives is ever joined to it, only the hash we computed. A size limit keeps a
mistaken video out. The row in ``attachment`` records what the user called the file.

Used by execution (photos, the customer's signature) and by chats (message attachments).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from fsm_core.errors import InvalidInput, NotFound
from fsm_core.models.attachments import Attachment

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024


def store_folder(session: Session) -> Path:
    """Where this database keeps its attachments."""
    url = session.get_bind().engine.url  # the bind may be an Engine or a Connection
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


def store(
    session: Session, source: str | os.PathLike[str], *, name: str | None = None
) -> Attachment:
    """Copy the file at ``source`` into the store (in the caller's transaction); returns
    its row. The same content stored twice is one file and one row."""
    path = Path(source)
    if not path.is_file():
        raise InvalidInput(f"{source}: no such file")
    limit = max_bytes()
    size = path.stat().st_size
    if size > limit:
        raise InvalidInput(
            f"{path.name}: {size / 1048576:.1f} MB is more than the {limit / 1048576:.0f} MB "
            "an attachment may have"
        )
    folder = store_folder(session)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with path.open("rb") as src, tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
        try:
            copied = 0
            while chunk := src.read(_CHUNK):
                copied += len(chunk)
                if copied > limit:  # grew while we read it
                    raise InvalidInput(f"{path.name}: larger than {limit} bytes")
                digest.update(chunk)
                tmp.write(chunk)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    sha = digest.hexdigest()
    target = folder / sha
    if target.exists():
        os.unlink(tmp.name)
    else:
        os.replace(tmp.name, target)
    existing = session.execute(
        select(Attachment).where(Attachment.sha256 == sha)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    original = (name or path.name)[:255]
    media_type = mimetypes.guess_type(original)[0] or "application/octet-stream"
    row = Attachment(sha256=sha, size=copied, original_name=original, media_type=media_type)
    session.add(row)
    session.flush()
    return row


def path_of(session: Session, attachment: Attachment) -> Path:
    """The stored file of ``attachment`` (its name is our hash, never the user's)."""
    path = store_folder(session) / attachment.sha256
    if not path.is_file():
        raise NotFound("attachment file", attachment.original_name)
    return path


def read_bytes(session: Session, attachment: Attachment) -> bytes:
    return path_of(session, attachment).read_bytes()


def copy_out(session: Session, attachment: Attachment, target: str | os.PathLike[str]) -> Path:
    """Copy a stored file out, e.g. for ``fsm work attachments --save DIR``."""
    destination = Path(target)
    if destination.is_dir():
        destination = destination / Path(attachment.original_name).name
    shutil.copyfile(path_of(session, attachment), destination)
    return destination
