"""``fsm db backup`` and ``fsm db restore`` on both back-ends: a round trip keeps every row
and attachment, a backup taken while another connection writes is one moment, and a
restore refuses what it must (a non-empty target, a changed archive, a newer schema)
without touching the target."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fsm_core import backup as bk
from fsm_core.config import get_settings
from fsm_core.db import Database
from fsm_core.errors import FsmError
from tests.cli_runner import invoke

SAMPLE = "SELECT id, number, version FROM orders ORDER BY id"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PostgreSQL database keeps its attachments under FSM_DATA_DIR: one per test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("FSM_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture
def target(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a database that does not exist yet, on ``db_url``'s back-end."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'fsm.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"{server.prefix}_r{uuid.uuid4().hex[:8]}"
    try:
        yield server.url_of(name)
    finally:
        server.drop(name)


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(make_url(url).set(drivername=_driver(url)))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _driver(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql+psycopg"


def attach(db_url: str, payload: bytes, tmp_path: Path) -> str:
    from fsm_core.attachments import store

    source = tmp_path / "photo.jpg"
    source.write_bytes(payload)
    database = Database(db_url)
    try:
        with database.transaction() as session:
            return store(session, source).sha256
    finally:
        database.dispose()


def make_backup(db_url: str, out: Path) -> bk.BackupResult:
    database = Database(db_url)
    try:
        return bk.backup(database=database, out=out, actor="Tester")
    finally:
        database.dispose()


def test_a_round_trip_keeps_every_row_and_attachment(db_url, with_demo, target, tmp_path):
    sha = attach(db_url, b"\xff\xd8 a photo of the meter", tmp_path)
    archive = tmp_path / "out" / "fsm.tar"
    archive.parent.mkdir()
    made = make_backup(db_url, archive)

    assert os.stat(archive).st_mode & 0o777 == 0o600
    manifest = made.manifest
    assert manifest["created_by"] == "Tester"
    assert manifest["schema_revision"] == Database(db_url).current_revision()
    assert manifest["counts"]["orders"] > 0
    assert manifest["counts"]["attachment"] == 1
    assert f"attachments/{sha}" in manifest["members"]
    assert os.listdir(archive.parent) == ["fsm.tar"]  # no temporary left beside it

    done = bk.restore(archive=archive, into_url=target)

    assert done.counts == manifest["counts"]
    for table, n in manifest["counts"].items():
        assert rows(target, f'SELECT count(*) FROM "{table}"') == [(n,)], table
    assert rows(target, SAMPLE) == rows(db_url, SAMPLE)
    from fsm_core.attachments import store_folder_of

    restored = store_folder_of(make_url(target).set(drivername=_driver(target))) / sha
    assert restored.read_bytes() == b"\xff\xd8 a photo of the meter"
    # and the product opens it as its own
    assert invoke(target, "db", "status", "--json").stdout.count('"up_to_date": true') == 1


def test_a_backup_taken_while_another_connection_writes_is_one_moment(db_url, target, tmp_path):
    """A writer adds a row to two tables in each transaction; in the restored copy the two
    tables have as many rows as each other, and the writer was never shut out."""
    engine = create_engine(make_url(db_url).set(drivername=_driver(db_url)))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE pair_a (n integer)"))
        conn.execute(text("CREATE TABLE pair_b (n integer)"))
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO pair_a VALUES (:n)"), {"n": n})
                    conn.execute(text("INSERT INTO pair_b VALUES (:n)"), {"n": n})
                n += 1
                written.append(n)
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.005)
        before = len(written)
        made = make_backup(db_url, tmp_path / "busy.tar")
        while len(written) < before + 20:  # the writer goes on after the backup too
            threading.Event().wait(0.005)
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert errors == []
    counts = made.manifest["counts"]
    assert counts["pair_a"] == counts["pair_b"] > 0
    bk.restore(archive=tmp_path / "busy.tar", into_url=target)
    assert rows(target, "SELECT count(*) FROM pair_a") == rows(
        target, "SELECT count(*) FROM pair_b"
    )
    assert rows(target, "SELECT count(*) FROM pair_a") == [(counts["pair_a"],)]


def test_a_non_empty_target_is_refused_unless_forced(db_url, with_demo, tmp_path):
    archive = tmp_path / "fsm.tar"
    make_backup(db_url, archive)
    before = rows(db_url, SAMPLE)
    with pytest.raises(FsmError, match=r"is not empty \(\d+ tables, \d+ rows\)"):
        bk.restore(archive=archive, into_url=db_url)
    done = bk.restore(archive=archive, into_url=db_url, force=True)
    assert rows(db_url, SAMPLE) == before
    assert done.counts["orders"] == len(before)


def flip_a_byte(archive: Path, member: str) -> None:
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member).offset_data
    with open(archive, "r+b") as f:
        f.seek(offset + 100)
        byte = f.read(1)
        f.seek(offset + 100)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_a_changed_archive_is_refused_and_the_target_untouched(db_url, with_demo, target, tmp_path):
    archive = tmp_path / "fsm.tar"
    made = make_backup(db_url, archive)
    member = next(m for m in made.manifest["members"] if m.startswith("data/"))
    flip_a_byte(archive, member)
    sealed = hashlib.sha256(archive.read_bytes()).hexdigest()

    with pytest.raises(FsmError, match=f"checksum mismatch in {member}"):
        bk.restore(archive=archive, into_url=target)
    with pytest.raises(FsmError, match=f"checksum mismatch in {member}"):
        bk.restore(archive=archive, into_url=target, verify=True)

    assert hashlib.sha256(archive.read_bytes()).hexdigest() == sealed  # never written
    if target.startswith("sqlite"):
        assert not Path(make_url(target).database or "").parent.exists()
    else:
        assert rows(db_url.rsplit("/", 1)[0] + "/postgres", _exists(target)) == []


def _exists(url: str) -> str:
    return f"SELECT 1 FROM pg_database WHERE datname = '{make_url(url).database}'"


def test_verify_restores_into_a_throwaway_database_and_changes_nothing(
    db_url, with_demo, target, tmp_path
):
    archive = tmp_path / "fsm.tar"
    made = make_backup(db_url, archive)
    before = rows(db_url, SAMPLE)
    files = sorted(p.name for p in tmp_path.iterdir())
    done = bk.restore(archive=archive, into_url=db_url, verify=True)  # a full target too
    assert done.verified_only
    assert done.counts == made.manifest["counts"]
    assert rows(db_url, SAMPLE) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # nothing left beside it
    if not db_url.startswith("sqlite"):
        assert (
            rows(db_url, "SELECT datname FROM pg_database WHERE datname LIKE 'fsm_verify%'") == []
        )


def test_an_older_backup_is_upgraded_on_restore(request, db_url, target, tmp_path):
    from fsm_core.migrations import HEAD

    if db_url.startswith("sqlite"):
        old = f"sqlite:///{tmp_path / 'old' / 'fsm.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = f"{server.prefix}_o{uuid.uuid4().hex[:8]}"
        old = server.create(name)
        request.addfinalizer(lambda: server.drop(name))
    database = Database(old)
    database.upgrade("0010")
    database.dispose()
    made = make_backup(old, tmp_path / "old.tar")
    assert made.manifest["schema_revision"] == "0010"

    done = bk.restore(archive=tmp_path / "old.tar", into_url=target)

    assert done.upgraded
    assert done.revision == HEAD
    assert rows(target, "SELECT version_num FROM alembic_version") == [(HEAD,)]


def test_a_backup_from_a_newer_fsm_is_refused(db_url, target, tmp_path):
    archive = tmp_path / "fsm.tar"
    make_backup(db_url, archive)
    # rewrite the manifest as a newer fsm would have written it
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    manifest["schema_revision"] = "9999"
    members["manifest.json"] = json.dumps(manifest).encode()
    newer = tmp_path / "newer.tar"
    with tarfile.open(newer, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            import io

            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(FsmError, match="schema revision 9999, newer than this fsm knows"):
        bk.restore(archive=newer, into_url=target)


def test_the_command_line_says_what_is_wrong_in_one_line(db_url, target, tmp_path):
    archive = tmp_path / "fsm.tar"
    done = invoke(db_url, "db", "backup", str(archive), "--json")
    assert json.loads(done.stdout)["manifest"]["backend"] in ("sqlite", "postgresql")

    def error(*args: str) -> str:
        result = invoke(db_url, "db", *args, code=1)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: "), result.stderr
        return lines[0]

    empty = f"sqlite:///{tmp_path / 'none' / 'fsm.db'}"
    result = invoke(empty, "db", "backup", str(tmp_path / "e.tar"), code=1)
    assert "is empty: there is nothing to back up" in result.stderr
    assert invoke(empty, "db", "status", "--json").stdout.count('"revision": null') == 1
    assert "no such file" in error("restore", str(tmp_path / "none.tar"), "--into", target)
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    assert "not an fsm backup archive" in error(
        "restore", str(tmp_path / "junk.tar"), "--into", target
    )
    assert "is not empty" in error("restore", str(archive), "--into", db_url)
    if db_url.startswith("sqlite"):
        nowhere = "sqlite:////proc/1/nowhere/fsm.db"
        assert "cannot create the folder" in error("restore", str(archive), "--into", nowhere)
        pg = "postgresql://nobody@127.0.0.1/none"
        assert "a SQLite backup restores into SQLite" in error(
            "restore", str(archive), "--into", pg
        )
    else:
        assert "pg_dump is not on the PATH" in error_without_pg_tools(db_url, tmp_path)
    result = invoke(db_url, "db", "restore", str(archive), "--into", target, "--verify", "--json")
    assert json.loads(result.stdout)["verified_only"] is True


def error_without_pg_tools(db_url: str, tmp_path: Path) -> str:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = invoke(
        db_url, "db", "backup", str(tmp_path / "x.tar"), code=1, env={"PATH": str(empty)}
    )
    assert "apt-get install postgresql-client" in result.stderr
    return result.stderr.strip()


def test_a_killed_backup_leaves_no_file_under_its_final_name(
    db_url, tmp_path, data_dir, monkeypatch
):
    """SIGKILL while the archive is being written (its .part file exists): the final name
    never appears, and the next fsm removes the .part file."""
    monkeypatch.setenv("FSM_ATTACHMENT_MAX_BYTES", str(64 * 1024 * 1024))
    big = os.urandom(48 * 1024 * 1024)
    attach(db_url, big, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "FSM_DATA_DIR": str(data_dir), "TMPDIR": str(tmp_path)}
    command = [sys.executable, "-m", "fsm_cli", "--db", db_url, "db", "backup", str(out / "a.tar")]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None and not any(p.name.endswith(".part") for p in out.iterdir()):
            pass
        assert proc.poll() is None, "the backup ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "a.tar").exists()
    # the next fsm sweeps the killed one's .part, and its own backup completes
    subprocess.run([*command[:-1], str(out / "b.tar")], env=env, check=True, capture_output=True)
    assert sorted(p.name for p in out.iterdir()) == ["b.tar"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the folder's rule, not the data
def test_keep_leaves_the_newest_of_each_day_week_and_month(db_url, tmp_path):
    from datetime import UTC, datetime

    from fsm_core import clock

    database = Database(db_url)
    folder = tmp_path / "backups"
    folder.mkdir()
    moments = {
        "thu": datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        "wed-late": datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
        "wed-early": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "fri-before": datetime(2026, 11, 20, 12, 0, tzinfo=UTC),  # ISO week 47
        "mon-before": datetime(2026, 11, 16, 12, 0, tzinfo=UTC),  # week 47 too, older
        "nov-10": datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
        "oct-30": datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
        "oct-05": datetime(2026, 10, 5, 12, 0, tzinfo=UTC),
        "sep-15": datetime(2026, 9, 15, 12, 0, tzinfo=UTC),
    }
    for name, moment in moments.items():
        with clock.frozen(moment):
            bk.backup(database=database, out=folder / f"{name}.tar", actor="t")
    with tarfile.open(folder / "not-ours.tar", "w") as tar:  # someone else's archive
        tar.add(__file__, arcname="x.py")
    (folder / "notes.txt").write_text("keep me")
    invoke(db_url, "db", "backup", str(folder / "now.tar"), "--keep", "2d,2w,3m")
    left = sorted(p.name for p in folder.iterdir())
    # the archive just written stays; days: 26.11's newest (thu) and 25.11's (wed-late);
    # weeks: this one's, and week 47's newest (fri-before); months: November's, October's
    # newest (oct-30), September's
    assert left == sorted(
        [
            "now.tar",
            "thu.tar",
            "wed-late.tar",
            "fri-before.tar",
            "oct-30.tar",
            "sep-15.tar",
            "not-ours.tar",
            "notes.txt",
        ]
    )
    refused = invoke(db_url, "db", "backup", str(folder / "x.tar"), "--keep", "7 days", code=1)
    assert "'7 days' is not a count and a unit" in refused.stderr
    assert not (folder / "x.tar").exists()


# A restore (argv[2:] are fsm's arguments) killed the moment its database is in place:
# the SQLite file renamed to the target (argv[1]), or pg_restore's transaction committed.
KILLED_WHEN_IN_PLACE = """
import os, signal, subprocess, sys
target = sys.argv[1]
real_replace, real_run = os.replace, subprocess.run

def replace(src, dst, *args, **kwargs):
    real_replace(src, dst, *args, **kwargs)
    if os.fspath(dst) == target:
        os.kill(os.getpid(), signal.SIGKILL)

def run(args, *more, **kwargs):
    done = real_run(args, *more, **kwargs)
    if os.path.basename(str(args[0])) == "pg_restore" and "--single-transaction" in args:
        os.kill(os.getpid(), signal.SIGKILL)
    return done

os.replace, subprocess.run = replace, run
from fsm_cli.launch import main
sys.argv = ["fsm", *sys.argv[2:]]
main()
"""


def test_a_restore_killed_when_its_database_is_in_place_has_every_attachment(
    db_url, with_demo, target, tmp_path, data_dir
):
    """The attachments take their names before the database that names them: a restore
    killed the moment its database is in place leaves no row without its file."""
    from fsm_core.attachments import store_folder_of

    sha = attach(db_url, os.urandom(300_000), tmp_path)
    archive = tmp_path / "fsm.tar"
    make_backup(db_url, archive)
    into = make_url(target).set(drivername=_driver(target))
    final = str(Path(into.database or "").resolve()) if target.startswith("sqlite") else ""
    env = {**os.environ, "FSM_DATA_DIR": str(data_dir), "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WHEN_IN_PLACE, final, "--db", db_url,
         "db", "restore", str(archive), "--into", target],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert rows(target, "SELECT sha256 FROM attachment") == [(sha,)]
    assert (store_folder_of(into) / sha).is_file()
    assert invoke(target, "db", "status", "--json").stdout.count('"up_to_date": true') == 1


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_throwaway_database_of_a_killed_verify_is_dropped_by_the_next_restore(
    db_url, with_demo, tmp_path, data_dir
):
    archive = tmp_path / "fsm.tar"
    make_backup(db_url, archive)
    env = {**os.environ, "FSM_DATA_DIR": str(data_dir), "TMPDIR": str(tmp_path)}
    killed = subprocess.Popen(
        [sys.executable, "-c", KILLED_WHEN_IN_PLACE, "", "--db", db_url,
         "db", "restore", str(archive), "--into", db_url, "--verify"],
        env=env, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, stderr
    left = (
        f"SELECT datname FROM pg_database WHERE datname LIKE 'fsm\\_verify\\_%\\_{killed.pid}\\_%'"
    )
    assert len(rows(db_url, left)) == 1  # killed before it could drop it

    done = bk.restore(archive=archive, into_url=db_url, verify=True)

    assert done.verified_only
    assert rows(db_url, left) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the words, not the data
def test_backup_restore_and_copy_speak_russian(db_url, with_demo, target, tmp_path):
    archive = tmp_path / "fsm.tar"
    made = invoke(db_url, "db", "backup", str(archive), lang="ru")
    assert "Резервная копия" in made.stderr
    assert "вложений: 0) записана в" in made.stderr
    refused = invoke(db_url, "db", "restore", str(archive), "--into", db_url, lang="ru", code=1)
    assert refused.stderr.startswith("Error: ")
    assert "не пуста (таблиц: " in refused.stderr
    assert "ничего не восстановлено (восстанавливайте в пустую базу" in refused.stderr
    checked = invoke(db_url, "db", "restore", str(archive), "--into", target, "--verify", lang="ru")
    assert "контрольные суммы сходятся" in checked.stderr
    assert "ничего не изменено" in checked.stderr
    restored = invoke(db_url, "db", "restore", str(archive), "--into", target, lang="ru")
    assert f"восстановлен в {Path(make_url(target).database or '')}" in restored.stderr
    again = invoke(db_url, "db", "copy", "--to", target, lang="ru", code=1)
    assert "не пуста (таблиц: " in again.stderr
    assert "ничего не скопировано (копируйте в новую, пустую базу)" in again.stderr
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar" * 100)
    refused = invoke(db_url, "db", "restore", str(junk), "--into", target, lang="ru", code=1)
    assert "это не архив резервной копии fsm" in refused.stderr
    refused = invoke(db_url, "db", "backup", str(tmp_path), lang="ru", code=1)
    assert "это папка; укажите имя файла архива" in refused.stderr


@pytest.mark.postgres
def test_libpq_options_with_spaces_reach_pg_dump_and_pg_restore_whole(pg_db: Database) -> None:
    """The connection string handed to pg_dump and pg_restore keeps a URL's libpq
    ``options`` as they are: SQLAlchemy's URL text wrote their space as ``+``, which
    libpq read as part of the parameter's name ("+statement_timeout"), and the backup
    failed."""
    url = make_url(pg_db.url).update_query_dict(
        {"options": "-c statement_timeout=4321", "application_name": "it's \\x"}
    )
    dsn, env = bk.libpq_connection(url)
    shown = subprocess.run(
        ["psql", "-d", dsn, "-Atc", "SHOW statement_timeout", "-c", "SHOW application_name"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == ["4321ms", "it's \\x"]
