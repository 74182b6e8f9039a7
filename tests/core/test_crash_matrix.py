"""Crash safety, proven (issue 18, section 5): the long commands, started as real
processes and killed with SIGKILL at random moments, leave the database exactly as it
was before or as it is after, no half-written output under its final name, no process,
temporary file or ``.part`` file behind them (a later ``fsm`` removes what a killed one
could not), and the next command works.

Each command runs on a copy of a prepared company (the demo one, plus objects to label
or photos to carry): once to its end — the reference: what "after" is, and how long the
command takes — then ``KILLS`` times killed at a moment drawn from a seeded generator
between the end of its start-up and the end of its reference run, spread over that span,
and then once more to its end. As a user would, each start after a kill is on what the
kill left (the same database while it is as before, the same output file or folder).
After each kill:

* the count of every table of the database written is the one before or the one after
  (SQLite's order search index, which a killed import may leave to be caught up by the
  next program, is checked once the database has been opened); on SQLite, ``PRAGMA
  integrity_check`` is ok;
* every output under its final name is whole (a PDF that ends, an archive whose
  checksums hold; attachment files named by their hash), and the archive restored from
  is never changed;
* no process of the killed command is left: a tool it ran (pg_restore would go on and
  commit the restore) at once, its forked import workers within seconds.

After the last run: the database is as after, and nothing is left: no file in the
temporary folder, no ``.part``, ``-wal``, ``-shm`` or ``-journal`` file anywhere.

Sizes are the issue's scaled down, so that the whole file takes about a minute per
back-end on two cores (most of it the commands' own start-ups), within the suite's 15
minutes: an import of ``IMPORT_ROWS`` rows (not 200,000) checked by two worker processes,
the demo's 29 acts of closed orders one PDF each (not 500), labels for 181 objects (not
1,000), and a backup, restore and copy of the demo company with 4 MB of photos. The
moments are what matter: the same commands and code paths, killed anywhere in them.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fsm_core import backup as bk
from fsm_core.config import get_settings
from fsm_core.db import Database

if TYPE_CHECKING:
    from tests.conftest import PgServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[2]
KILLS = 3
"""Kills per command and back-end."""
SEED = 18
IMPORT_ROWS = 6_000
LABEL_OBJECTS = 150
ATTACHMENTS = 4
ATTACHMENT_BYTES = 1024 * 1024
_STARTUP: list[float] = []
"""How long ``fsm`` takes to start and end doing nothing (measured once)."""
LEFTOVER = re.compile(r"(\.part|-wal|-shm|-journal)\Z")
SEARCH_INDEX = "order_search"


# --- the prepared company and its copies --------------------------------------------------


@dataclass
class Site:
    """The prepared database (``base``), its copies, and how commands are run on them."""

    root: Path
    base: str
    pg: PgServer | None = None
    databases: list[str] = field(default_factory=list)
    startup: float = 0.0

    @property
    def sqlite(self) -> bool:
        return self.base.startswith("sqlite")

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TMPDIR": str(self.tmp),
            "FSM_DATA_DIR": str(self.data_dir),
            "PYTHONPATH": str(ROOT),
            "FSM_LANG": "en",
        }

    def new_url(self, name: str) -> str:
        """A database that does not exist yet, on the site's back-end."""
        if self.sqlite:
            return f"sqlite:///{self.root / name / 'fsm.db'}"
        assert self.pg is not None
        db = f"{self.pg.prefix}_{name.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
        self.databases.append(db)
        return self.pg.url_of(db)

    def clone(self, name: str) -> str:
        """A copy of the prepared database, attachments included."""
        url = self.new_url(name)
        if self.sqlite:
            folder = Path(make_url(url).database or "").parent
            shutil.copytree(Path(make_url(self.base).database or "").parent, folder)
            return url
        assert self.pg is not None
        source, target = str(make_url(self.base).database), str(make_url(url).database)
        self.pg.create(target, template=source)
        store = self.data_dir / "attachments"
        if (store / source).is_dir():
            shutil.copytree(store / source, store / target)
        return url

    def prepare(self, *, objects: int = 0, photos: int = 0) -> None:
        prepare(self.base, self.root, objects=objects, photos=photos)

    def command(self, url: str, *args: str) -> list[str]:
        return [sys.executable, "-m", "fsm_cli", "--db", url, "--lang", "en", *args]

    def run(self, url: str, *args: str) -> float:
        """Run ``fsm ARGS`` on ``url`` to its end; its wall time."""
        started = time.monotonic()
        done = subprocess.run(
            self.command(url, *args), env=self.env(), cwd=self.root, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return time.monotonic() - started

    def kill_at(self, url: str, args: tuple[str, ...], moment: float) -> int | None:
        """Start ``fsm ARGS`` and SIGKILL it ``moment`` seconds later; its exit status
        (-9 when the kill landed). Afterwards none of its processes is left."""
        process = subprocess.Popen(
            self.command(url, *args), env=self.env(), cwd=self.root,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        try:
            process.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        stderr = process.stderr.read().decode() if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        assert process.returncode in (0, -signal.SIGKILL), (args, stderr)
        _no_process_left(process.pid, args)
        return process.returncode

    def close(self) -> None:
        for name in self.databases:
            assert self.pg is not None
            self.pg.drop(name)


def _no_process_left(group: int, args: tuple[str, ...]) -> None:
    """The killed command's processes (it led its own group) are gone: a tool it ran
    (pg_dump, pg_restore) at once — one that outlived it would go on writing the target
    after the kill — and its own forked workers within seconds (they stop at their next
    write to it)."""
    started = time.monotonic()
    while True:
        left = _members(group)
        if not left:
            return
        tools = [f"{pid} {name}" for pid, name in left if not name.startswith("python")]
        waited = time.monotonic() - started
        assert not (tools and waited > 0.5), f"{args}: outlived the kill: {tools}"
        assert waited < 10, f"{args}: processes of the killed command are left: {left}"
        time.sleep(0.05)


def _members(group: int) -> list[tuple[int, str]]:
    """The live processes of process group ``group``: (pid, command name)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        name = data[data.index(b"(") + 1 : data.rindex(b")")].decode(errors="replace")
        fields = data[data.rindex(b")") + 2 :].split()
        if int(fields[2]) == group and fields[0] != b"Z":  # pgrp; not a zombie
            found.append((int(entry), name))
    return found


def prepare(url: str, root: Path, *, objects: int = 0, photos: int = 0) -> None:
    """The demo company plus ``objects`` objects to label and ``photos`` photos of
    orders to carry."""
    from fsm_core.attachments import store
    from fsm_core.models.execution import OrderAttachment
    from fsm_core.services.objects import create_object

    rng = random.Random(SEED)
    database = Database(url)
    try:
        with database.transaction() as s:
            customer, parent = s.execute(
                text("SELECT customer_id, id FROM service_object ORDER BY id LIMIT 1")
            ).one()
            for i in range(objects):
                create_object(
                    session=s,
                    data={
                        "customer_id": customer,
                        "parent_id": parent,
                        "name": f"Кондиционер № {i + 1} (этаж {i % 9 + 1})",
                        "kind": "air conditioner",
                        "inventory_number": f"КР-{i:06d}",
                    },
                )
            order_ids = s.execute(text("SELECT id FROM orders ORDER BY id")).scalars().all()
            photo = root / "photo.jpg"
            for _ in range(photos):
                photo.write_bytes(b"\xff\xd8\xff\xe0" + rng.randbytes(ATTACHMENT_BYTES))
                row = store(s, photo)
                s.add(OrderAttachment(order_id=rng.choice(order_ids), attachment_id=row.id,
                                      added_by="tester"))  # fmt: skip
            photo.unlink(missing_ok=True)
        if database.is_sqlite:
            with database.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        database.dispose()


def orders_file(path: Path, rows: int) -> Path:
    """``rows`` new orders on the demo company's objects, as a back office sends them."""
    with (ROOT / "data" / "demo" / "objects.csv").open(encoding="utf-8") as fh:
        objects = list(csv.DictReader(fh))
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["external_id", "customer", "object", "description", "criticality"])
        for i in range(rows):
            obj = rng.choice(objects)
            writer.writerow(
                [
                    f"CR-{i:07d}",
                    obj["customer"],
                    obj["external_id"],
                    f"Заявка {i}: течёт вода из внутреннего блока, капает на витрину "
                    "в торговом зале у кассовой зоны",
                    rng.choice(["low", "normal", "high"]),
                ]
            )
    return path


@pytest.fixture
def site(
    request: pytest.FixtureRequest,
    db_url: str,
    with_demo: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.setenv("FSM_DATA_DIR", str(root / "data"))
    get_settings.cache_clear()
    pg = None
    base = db_url
    if db_url.startswith("sqlite"):  # the database and its attachments in a folder of theirs
        (root / "base").mkdir()
        shutil.move(make_url(db_url).database or "", root / "base" / "fsm.db")
        base = f"sqlite:///{root / 'base' / 'fsm.db'}"
    else:
        pg = request.getfixturevalue("pg_server")
    (root / "tmp").mkdir()
    found = Site(root=root, base=base, pg=pg)
    claimed = Database(base)
    try:  # as the first command on it does: the account claims the demo's admin
        from fsm_core.identity import establish

        establish(claimed)
    finally:
        claimed.dispose()
    if not _STARTUP:  # once per session: the same on every database
        _STARTUP.append(found.run(base, "db", "path"))
    found.startup = _STARTUP[0]
    try:
        yield found
    finally:
        found.close()
        get_settings.cache_clear()


# --- what a database holds, and what must not be left --------------------------------


def opened_as_the_next_program_would(url: str) -> None:
    """An SQLite import writes its orders ahead, hidden behind its batch until it publishes
    (fsm_core/import_batches.py); one killed midway leaves them in the file, seen by no
    reader, and the next program that opens the database deletes them. Counting rows is
    reading the file below every reader: open it first as that next program does."""
    database = Database(url)
    try:
        database.ensure_schema()
    finally:
        database.dispose()


def state(url: str) -> dict[str, int]:
    """The number of rows of every table (the search index's aside); {} for a database
    that does not exist or holds no table. On SQLite the integrity check must pass."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.exists() or path.stat().st_size == 0:
            return {}
        opened_as_the_next_program_would(url)
        engine = create_engine(parsed)
    else:
        engine = create_engine(parsed.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as conn:
            if parsed.get_backend_name() == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok", url
                names = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).scalars()
            else:
                names = conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).scalars()
            return {
                name: conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one()
                for name in sorted(names)
                if not name.startswith(SEARCH_INDEX)
            }
    except Exception as exc:
        if "does not exist" in str(exc):
            return {}
        raise
    finally:
        engine.dispose()


def search_index_caught_up(url: str) -> None:
    """SQLite's order text index holds every order and nothing is left pending."""
    if not url.startswith("sqlite"):
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            orders = conn.exec_driver_sql("SELECT count(*) FROM orders").scalar()
            indexed = conn.exec_driver_sql(f"SELECT count(*) FROM {SEARCH_INDEX}").scalar()
            pending = conn.exec_driver_sql(f"SELECT count(*) FROM {SEARCH_INDEX}_pending")
            assert (indexed, pending.scalar()) == (orders, 0), url
    finally:
        engine.dispose()


def nothing_left(site: Site) -> None:
    """No file in the temporary folder, and no .part, -wal, -shm or -journal file
    anywhere under the site: what a killed command left, the next one removed."""
    assert [p for p in site.tmp.rglob("*") if p.is_file()] == []
    left = [p for p in site.root.rglob("*") if LEFTOVER.search(p.name)]
    assert left == []


def whole_pdf(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-"), path
    assert b"%%EOF" in data[-64:], f"{path} is cut short"


def attachments_whole(store: Path) -> None:
    """Every file of an attachment store is whole: its name is its content's hash."""
    if not store.is_dir():
        return
    for entry in store.iterdir():
        if entry.is_file() and not LEFTOVER.search(entry.name):
            assert hashlib.sha256(entry.read_bytes()).hexdigest() == entry.name, entry


# --- the matrix --------------------------------------------------------------------------


@dataclass
class Trial:
    """One command of the matrix: the database it writes (``watched``), its arguments,
    the database it runs on (``--db``), and the check of what it must leave whole."""

    watched: str
    args: tuple[str, ...]
    on: str
    outputs: Callable[[], object] = lambda: None


def matrix(site: Site, name: str, make: Callable[[str], Trial]) -> None:
    """The reference run, then ``KILLS`` kills at seeded random moments, then the next
    command, each checked.

    As a user would, the command is started again after each kill, on what the kill
    left: the same copy (or output) while the database is as before, a new copy once a
    kill came after the commit (that one is then opened, as the next program would open
    it). The run after the last kill goes to its end and must reach "after"; it and the
    kills after the first are each the next command of the one before, and clear what it
    left."""
    reference = make(f"{name}-ref")
    before = state(reference.watched)
    took = site.run(reference.on, *reference.args)
    after = state(reference.watched)
    reference.outputs()
    if after:
        search_index_caught_up(reference.watched)
    nothing_left(site)
    backend = "sqlite" if site.sqlite else "postgresql"
    rng = random.Random(f"{SEED}-{name}-{backend}")
    start, end = min(site.startup, took * 0.5), took * 0.95
    killed = 0
    trial = make(f"{name}-0")
    k, tries = 0, KILLS
    while k < tries:
        moment = start + (end - start) * (k % KILLS + rng.random()) / KILLS
        started = time.monotonic()
        code = site.kill_at(trial.on, trial.args, moment)
        killed += code == -signal.SIGKILL
        if code != -signal.SIGKILL:
            # it ended before its kill: the host runs faster now than for the reference
            # run (a loaded CI machine varies); the next kills come within this run's time
            end = min(end, (time.monotonic() - started) * 0.95)
            start = min(start, end * 0.5)
        k += 1
        if k == tries and not killed and tries < 3 * KILLS:
            tries += 1  # no kill landed yet: one more
        now = state(trial.watched)
        assert now in (before, after), (
            f"{name} killed at {moment:.2f} s of {took:.2f} s: "
            f"{ {k: (before.get(k), v, after.get(k)) for k, v in now.items() if v not in (before.get(k), after.get(k))} }"
        )
        trial.outputs()
        if now != before:  # done before the kill: it opens, then on with a new copy
            opens(trial.watched)
            trial = make(f"{name}-{k + 1}")
    site.run(trial.on, *trial.args)
    assert state(trial.watched) == after, f"{name}: the run after the kills"
    trial.outputs()
    if after:
        search_index_caught_up(trial.watched)
    nothing_left(site)
    assert killed, f"{name}: every run ended before its kill"


def opens(url: str) -> None:
    """The database opens as the next program would open it (which also indexes what a
    killed import published for SQLite's search), and is as it was."""
    was = state(url)
    database = Database(url)
    try:
        with database.reader() as session:
            session.execute(text("SELECT count(*) FROM orders")).scalar_one()
    finally:
        database.dispose()
    search_index_caught_up(url)
    assert state(url) == was


def test_a_killed_import_leaves_the_database_before_or_after(site: Site) -> None:
    data = orders_file(site.root / "orders.csv", IMPORT_ROWS)

    def make(label: str) -> Trial:
        url = site.clone(label)
        return Trial(url, ("import", "orders", str(data), "-q", "--workers", "2"), url)

    matrix(site, "import", make)


def test_a_killed_act_batch_or_label_sheet_leaves_no_half_file(site: Site) -> None:
    site.prepare(objects=LABEL_OBJECTS)

    def acts(label: str) -> Trial:
        folder = site.root / label
        folder.mkdir()

        def whole() -> None:
            for path in folder.iterdir():
                assert not path.name.startswith("act-") or path.suffix == ".pdf", path
                if not LEFTOVER.search(path.name):
                    whole_pdf(path)

        args = ("act", "--stage", "closed", "--out-dir", str(folder))
        return Trial(site.base, args, site.base, whole)

    def labels(label: str) -> Trial:
        out = site.root / f"{label}.pdf"
        return Trial(
            site.base,
            ("labels", "objects", "-o", str(out)),
            site.base,
            lambda: whole_pdf(out) if out.exists() else None,
        )

    matrix(site, "acts", acts)
    matrix(site, "labels", labels)


def test_a_killed_backup_leaves_no_archive_or_a_whole_one(site: Site) -> None:
    site.prepare(photos=ATTACHMENTS)

    def make(label: str) -> Trial:
        out = site.root / f"{label}.tar"
        return Trial(
            site.base,
            ("db", "backup", str(out)),
            site.base,
            lambda: bk.verify_archive(out) if out.exists() else None,
        )

    matrix(site, "backup", make)


def test_a_killed_restore_leaves_the_target_empty_or_restored(site: Site) -> None:
    site.prepare(photos=ATTACHMENTS)
    archive = site.root / "company.tar"
    site.run(site.base, "db", "backup", str(archive))
    sealed = hashlib.sha256(archive.read_bytes()).hexdigest()

    def make(label: str) -> Trial:
        target = site.new_url(label)
        store = _store_of(site, target)

        def whole() -> None:
            attachments_whole(store)
            assert hashlib.sha256(archive.read_bytes()).hexdigest() == sealed  # never written

        return Trial(target, ("db", "restore", str(archive), "--into", target), site.base, whole)

    matrix(site, "restore", make)


def test_a_killed_copy_leaves_the_target_empty_or_a_whole_copy(site: Site) -> None:
    site.prepare(photos=ATTACHMENTS)

    def make(label: str) -> Trial:
        target = site.new_url(label)
        store = _store_of(site, target)
        return Trial(
            target, ("db", "copy", "--to", target), site.base, lambda: attachments_whole(store)
        )

    matrix(site, "copy", make)


def _store_of(site: Site, url: str) -> Path:
    parsed = make_url(url)
    if site.sqlite:
        return Path(parsed.database or "").parent / "attachments"
    return site.data_dir / "attachments" / str(parsed.database)
