"""Temporary files are private, in one folder per process, and do not outlive it.

The processes below are real ones, killed with SIGKILL (nothing of theirs runs after it)
or interrupted with SIGINT (Ctrl-C) in the middle of spooling a piped import and of
writing an export; a later ``fsm`` run must leave no trace of a killed one.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from fsm_core import files

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and modes")

ROOT = Path(__file__).resolve().parents[2]

# A process that spools a pipe (an import of standard input too large for memory) and
# says so once the spool exists; it blocks reading the rest, which never comes.
SPOOLING = textwrap.dedent(
    """
    import sys, threading, time
    from fsm_core.importing.readers import open_source
    open_source("-", fmt="csv", spool_over=16)
    """
)

# A process writing a workbook to argv[1] (openpyxl spools its sheet to a temporary file)
# that stops in the middle, after 500 rows, and says so.
EXPORTING = textwrap.dedent(
    """
    import signal, sys, time
    # Ctrl-C as at a terminal, even when the test runner was started in the background
    # (a shell's background job inherits SIGINT ignored, and so would this process)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from fsm_core.tabular.writers import write_rows
    def rows():
        for i in range(500):
            yield {"a": "строка %d" % i, "b": i}
        print("ready", flush=True)
        time.sleep(60)
        yield {"a": "never", "b": 0}
    write_rows(rows(), headers=["a", "b"], fmt=sys.argv[2], out=sys.argv[1])
    """
)


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir())


def _wait_for(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _later_run(tmp: Path, work: Path) -> None:
    """Another fsm command, run after the killed one is gone."""
    subprocess.run(
        [sys.executable, "-m", "fsm_cli", "--db", f"sqlite:///{work / 'x.db'}", "db", "path"],
        env=_env(tmp),
        cwd=work,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _assert_private(path: Path, tmp: Path) -> None:
    """Every folder from ``tmp`` down to ``path`` is the owner's only, the file too."""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in path.parents:
        if folder == tmp:
            break
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_killed_piped_import_leaves_no_copy_of_the_data(tmp_path, how):
    tmp, work = tmp_path / "tmp", tmp_path / "work"
    tmp.mkdir()
    work.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-c", SPOOLING],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp),
        cwd=work,
    )
    try:
        assert process.stdin is not None
        process.stdin.write(b"external_id,description\n" + b"X-1,secret customer data\n" * 4000)
        process.stdin.flush()
        spool = _wait_for(
            lambda: [p for p in _files_under(tmp) if p.name.startswith("import-")],
            "the spool file",
        )[0]
        _wait_for(lambda: spool.stat().st_size > 0, "the spool to fill")
        _assert_private(spool, tmp)
        process.send_signal(how)
        # Ctrl-C in a terminal interrupts the whole pipeline: the writer ends too. (A
        # read that has part of its buffer keeps waiting for the rest and raises the
        # KeyboardInterrupt only when it returns: CPython's BufferedReader.)
        process.stdin.close()
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if how == signal.SIGKILL:
        assert _files_under(tmp), "SIGKILL runs nothing: the copy is there until a later run"
        _later_run(tmp, work)
    assert _files_under(tmp) == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_killed_export_leaves_no_part_file_and_no_temporary(tmp_path, how, fmt):
    tmp, work = tmp_path / "tmp", tmp_path / "work"
    tmp.mkdir()
    work.mkdir()
    target = work / f"orders.{fmt}"
    target.write_bytes(b"the previous export")
    process = subprocess.Popen(
        [sys.executable, "-c", EXPORTING, str(target), fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(tmp),
        cwd=work,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n", process.stderr.read()  # type: ignore[union-attr]
        parts = [p for p in work.iterdir() if p.name.endswith(".part")]
        assert len(parts) == 1
        assert stat.S_IMODE(parts[0].stat().st_mode) == 0o600  # the customers' data
        if fmt == "xlsx":  # openpyxl's sheet, in the process's private folder
            (sheet,) = [p for p in _files_under(tmp) if p.name.startswith("openpyxl.")]
            _assert_private(sheet, tmp)
        process.send_signal(how)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if how == signal.SIGKILL:
        _later_run(tmp, work)
    assert sorted(p.name for p in work.iterdir() if p.name != "x.db") == [target.name]
    assert target.read_bytes() == b"the previous export"
    assert _files_under(tmp) == []


def test_temporaries_are_gone_after_a_normal_exit(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = textwrap.dedent(
        """
        import io, sys
        from fsm_core.importing.readers import open_source
        from fsm_core.tabular.writers import write_rows
        source = open_source("-", fmt="csv", spool_over=16,
                             stdin=io.BytesIO(b"a,b\\n" + b"1,2\\n" * 1000))
        rows = list(source.rows())
        write_rows([{"a": 1}], headers=["a"], fmt="xlsx", out=sys.argv[1])
        write_rows([{"a": 1}], headers=["a"], fmt="xlsx", out=sys.stdout.buffer)
        from fsm_core.files import private_dir
        print(private_dir(), file=sys.stderr)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out.xlsx")],
        env=_env(tmp),
        capture_output=True,
        check=True,
        timeout=60,
    )
    folder = Path(done.stderr.decode().strip().splitlines()[-1])
    assert folder.parent == tmp / f"fsm-{os.getuid()}"
    assert not folder.exists()
    assert _files_under(tmp) == []


# --- the folder, in this process ----------------------------------------------------------


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """This process's private folder as if it had not been made yet, under tmp_path."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(files, "_folder", None)
    monkeypatch.setattr(files, "_folder_pid", 0)
    return tmp


def test_the_private_folder_and_its_files_are_the_owners_only(fresh):
    folder = files.private_dir()
    assert folder.parent == fresh / f"fsm-{os.getuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert files.private_dir() == folder  # one per process
    with tempfile.NamedTemporaryFile(dir=folder) as f:
        assert stat.S_IMODE(os.stat(f.name).st_mode) == 0o600
    with files.tempfiles_as_default():
        assert tempfile.gettempdir() == str(folder)
    assert tempfile.gettempdir() == str(fresh)


def test_a_base_folder_planted_by_someone_else_is_not_used(fresh, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (fresh / f"fsm-{os.getuid()}").symlink_to(elsewhere)
    folder = files.private_dir()
    assert folder.parent == fresh
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert list(elsewhere.iterdir()) == []


def test_a_later_run_removes_what_gone_processes_left_and_nothing_else(fresh, tmp_path):
    base = fresh / f"fsm-{os.getuid()}"
    base.mkdir(mode=0o700)
    target_dir = tmp_path / "exports"
    target_dir.mkdir()
    part = target_dir / ".orders.csv.0123abcd.part"
    part.write_bytes(b"half an export")
    precious = target_dir / "orders.csv"
    precious.write_bytes(b"keep me")
    gone = base / "999999999-12345"  # no such pid
    gone.mkdir()
    (gone / "import-spool").write_bytes(b"customer data")
    (gone / "parts").write_bytes(bytes(part) + b"\0" + bytes(precious) + b"\0")
    parent = os.getppid()
    alive = base / f"{parent}-{files._start_of(parent) or '0'}"
    alive.mkdir()
    (alive / "spool").write_bytes(b"in use")
    reused = base / f"{parent}-1"  # the pid now belongs to another process
    reused.mkdir()
    assert files.sweep() == 2
    assert not gone.exists()
    assert not reused.exists()
    assert not part.exists()
    assert precious.read_bytes() == b"keep me"  # listed, but not a .part file
    assert (alive / "spool").read_bytes() == b"in use"


def test_a_later_run_removes_the_files_sqlite_kept_beside_a_gone_process_part(fresh, tmp_path):
    """A restore or a copy builds its SQLite database in a .part file; killed while it
    had it open, it leaves the database's -wal and -shm (or -journal) beside it."""
    base = fresh / f"fsm-{os.getuid()}"
    base.mkdir(mode=0o700)
    folder = tmp_path / "restored"
    folder.mkdir()
    part = folder / ".fsm.db.0123abcd.part"
    companions = [folder / f"{part.name}{suffix}" for suffix in ("-wal", "-shm", "-journal")]
    for path in (part, *companions):
        path.write_bytes(b"half a database")
    other = folder / "fsm.db-wal"  # a database's own log: not the killed process's
    other.write_bytes(b"keep me")
    gone = base / "999999999-12345"
    gone.mkdir()
    (gone / "parts").write_bytes(bytes(part) + b"\0")
    assert files.sweep() == 1
    assert sorted(p.name for p in folder.iterdir()) == ["fsm.db-wal"]
