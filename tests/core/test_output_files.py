"""Every file fsm writes replaces its target in one step, and a link is replaced, never
followed: ``-o link.pdf`` where link.pdf points to another file leaves that file alone."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fsm_core import files
from fsm_core.documents.act import render_act, render_acts
from fsm_core.documents.labels import LabelData, render_labels
from fsm_core.documents.passport import PassportData, render_passport
from fsm_core.documents.vcard import Contact, render_cards, save_card_png
from fsm_core.errors import InvalidInput
from fsm_core.tabular.writers import write_rows
from tests.documents.test_act import make_act

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and modes")

TZ = ZoneInfo("Europe/Moscow")
LABEL = LabelData(
    url="https://service.example.ru/p/abc",
    title="Кондиционер LG S12EQ",
    customer="ООО «СМ-Трейд»",
    address="Невский пр., 114",
    inventory_number="СМТ-000114",
    company_phone="+7 812 555-12-34",
)
CARD = Contact(full_name="Иванов Кирилл Петрович", position="Инженер", phones=("+78125551234",))

WRITERS: dict[str, tuple[Callable[[Path], Any], bytes]] = {
    "act": (lambda p: render_act(make_act(), out=p, tz=TZ), b"%PDF"),
    "acts": (lambda p: render_acts([make_act(), make_act()], out=p, tz=TZ), b"%PDF"),
    "labels": (lambda p: render_labels([LABEL], out=p), b"%PDF"),
    "passport": (
        lambda p: render_passport(PassportData(url=LABEL.url, name="ДГУ"), out=p, tz=TZ),
        b"%PDF",
    ),
    "cards": (lambda p: render_cards([CARD], out=p), b"%PDF"),
    "card-png": (lambda p: save_card_png(CARD, p), b"\x89PNG"),
    "csv": (lambda p: write_rows([{"a": "1"}], headers=["a"], fmt="csv", out=str(p)), b"a\r\n"),
    "xlsx": (lambda p: write_rows([{"a": "1"}], headers=["a"], fmt="xlsx", out=str(p)), b"PK"),
}


@pytest.mark.parametrize("kind", WRITERS)
def test_a_link_is_replaced_and_the_file_it_points_to_is_left_alone(tmp_path, kind):
    write, magic = WRITERS[kind]
    victim = tmp_path / "secret.txt"
    victim.write_bytes(b"precious")
    link = tmp_path / "out.file"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.file"
    dangling.symlink_to(tmp_path / "created-through-the-link")
    write(link)
    write(dangling)
    assert victim.read_bytes() == b"precious"
    assert not (tmp_path / "created-through-the-link").exists()
    for path in (link, dangling):
        assert not path.is_symlink()
        assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling.file",
        "out.file",
        "secret.txt",
    ]


def test_a_failed_write_leaves_the_previous_file_whole_and_no_part(tmp_path):
    target = tmp_path / "labels.pdf"
    target.write_bytes(b"the previous sheet")

    def fail(done: int, total: int) -> None:
        raise RuntimeError("the printer caught fire")

    with pytest.raises(RuntimeError):
        render_labels([LABEL] * 30, out=target, progress=fail)

    def interrupted() -> None:
        with files.replacing(target) as f:
            f.write(b"half")
            raise KeyboardInterrupt  # Ctrl-C in the middle

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert target.read_bytes() == b"the previous sheet"
    assert [p.name for p in tmp_path.iterdir()] == ["labels.pdf"]


def test_the_new_file_keeps_the_old_ones_mode_and_is_private_until_renamed(tmp_path):
    old = tmp_path / "kept.pdf"
    old.write_bytes(b"old")
    old.chmod(0o600)
    with files.replacing(old) as f:
        (part,) = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
        f.write(b"new")
    assert old.read_bytes() == b"new"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.pdf"
    with files.replacing(fresh) as f:
        f.write(b"x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~files._UMASK


def test_a_pipe_is_written_into_and_a_folder_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with files.replacing(fifo) as f:
            f.write(b"streamed")
        assert os.read(reader, 100) == b"streamed"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(InvalidInput, match="is a directory"):
        render_labels([LABEL], out=tmp_path)
    with pytest.raises(InvalidInput, match="no such directory"):
        render_labels([LABEL], out=tmp_path / "nowhere" / "labels.pdf")
