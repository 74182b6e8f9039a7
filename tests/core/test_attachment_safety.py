"""The attachment store takes only regular files, never through a link, stores any file
name, and never holds a file without its row (on SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fsm_core import attachments
from fsm_core.errors import InvalidInput
from fsm_core.models import Attachment
from fsm_core.services import execution

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and names")

PHOTO = b"\xff\xd8\xff\xe0" + b"photo" * 100


@pytest.fixture
def order(db, world):
    return world.order(object_id=world.ac.id)


def _rows(db) -> int:
    with db.reader() as s:
        return s.execute(select(func.count()).select_from(Attachment)).scalar_one()


def _stored_files(db) -> list[str]:
    with db.reader() as s:
        folder = attachments.store_folder(s)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _attach(db, order, path: str | Path) -> Attachment:
    with db.transaction() as s:
        link = execution.attach(session=s, order_id=order.id, path=path, actor="t")
        return s.get(Attachment, link.attachment_id)


def test_a_link_is_refused_by_name_and_nothing_is_read_or_stored(db, order, tmp_path):
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$salt$hash:19000:0:99999:7:::\n")
    link = tmp_path / "photo.jpg"
    link.symlink_to(secret)
    with pytest.raises(InvalidInput) as refused:
        _attach(db, order, link)
    message = refused.value.one_line()
    assert "photo.jpg: is a symbolic link" in message
    assert "\n" not in message
    assert _rows(db) == 0
    assert _stored_files(db) == []


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_only_a_regular_file_is_attached(db, order, tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe.jpg"
        os.mkfifo(path)  # opening it must not wait for a writer
    elif kind == "folder":
        path = tmp_path / "photos"
        path.mkdir()
    else:
        path = Path("/dev/zero")  # an endless "file"
    with pytest.raises(InvalidInput, match="only a regular file can be attached"):
        _attach(db, order, path)
    assert _rows(db) == 0
    assert _stored_files(db) == []


def test_a_name_that_is_not_utf8_is_stored_as_text(db, order, tmp_path):
    name = "Фото".encode("cp1251") + b" 1.jpg"  # from an old Windows archive
    path = os.path.join(os.fsencode(tmp_path), name)
    with open(path, "wb") as f:
        f.write(PHOTO)
    stored = _attach(db, order, os.fsdecode(path))
    assert stored.original_name == "\ufffd\ufffd\ufffd\ufffd 1.jpg"
    assert _stored_files(db) == [stored.sha256]
    with db.reader() as s:
        assert attachments.read_bytes(s, stored) == PHOTO


def test_a_control_character_in_a_name_is_stored_visibly(db, order, tmp_path):
    path = tmp_path / "фото\x1b[2J.jpg"
    path.write_bytes(PHOTO)
    stored = _attach(db, order, path)
    assert "\x1b" not in stored.original_name
    assert stored.original_name.startswith("фото")


def test_a_failed_transaction_leaves_no_file_in_the_store(db, order, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(PHOTO)

    def fail_after_storing() -> None:
        with db.transaction() as s:
            link = execution.attach(session=s, order_id=order.id, path=photo, actor="t")
            stored = s.get(Attachment, link.attachment_id)
            assert attachments.read_bytes(s, stored) == PHOTO  # readable in its transaction
            raise RuntimeError("the action failed after the file was stored")

    with pytest.raises(RuntimeError):
        fail_after_storing()
    assert _rows(db) == 0
    assert _stored_files(db) == []
    again = _attach(db, order, photo)  # and a later attempt stores it whole
    assert _stored_files(db) == [again.sha256]
    with db.reader() as s:
        assert attachments.read_bytes(s, again) == PHOTO


def test_copying_out_replaces_a_link_and_never_writes_through_it(db, order, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(PHOTO)
    stored = _attach(db, order, photo)
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    link = tmp_path / "download.jpg"
    link.symlink_to(victim)
    with db.reader() as s:
        attachments.copy_out(s, stored, link)
    assert victim.read_bytes() == b"keep"
    assert not link.is_symlink()
    assert link.read_bytes() == PHOTO


def test_a_folder_link_in_the_path_is_refused_too(db, order, tmp_path):
    secrets = tmp_path / "etc"
    secrets.mkdir()
    (secrets / "shadow").write_bytes(b"root:$6$salt$hash:19000:0:99999:7:::\n")
    unpacked = tmp_path / "archive"
    unpacked.mkdir()
    (unpacked / "docs").symlink_to(secrets)  # as an unpacked archive can hold
    with pytest.raises(InvalidInput, match="goes through the symbolic link") as refused:
        _attach(db, order, unpacked / "docs" / "shadow")
    assert "archive/docs" in refused.value.one_line()
    with pytest.raises(InvalidInput, match="goes through the symbolic link"):
        _attach(db, order, unpacked / "docs" / ".." / "etc" / "shadow")  # the kernel way
    assert _rows(db) == 0
    assert _stored_files(db) == []
    photo = unpacked / "photo.jpg"  # '..' without a link is just a path
    photo.write_bytes(PHOTO)
    _attach(db, order, unpacked / ".." / "archive" / "photo.jpg")
    assert _rows(db) == 1
