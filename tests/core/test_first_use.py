"""First use, by many at once: ten processes starting on one empty database all succeed,
exactly one of them creates the schema and the others wait for it and go on; and the
schema's revision checks say what they mean (a newer fsm's database, an unknown target).

Real processes (subprocess), on SQLite and PostgreSQL: the schema lock is between
processes, and threads of one process would share what it must not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from fsm_core import migrations
from fsm_core.db import Database
from fsm_core.errors import InvalidInput, SchemaOutOfDate
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[2]

# each process waits for the same moment, then runs the fsm command line in-process
_AT_ONCE = """
import sys, time
at = float(sys.argv[1])
while time.time() < at:
    time.sleep(0.002)
from fsm_cli.launch import main
sys.argv = ["fsm", *sys.argv[2:]]
main()
"""


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path):
    """The URL of a database with nothing in it (no schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'fsm.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"{server.prefix}_first_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    url = server.create(name)
    try:
        yield url
    finally:
        server.drop(name)


def at_once(url: str, commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Run one fsm process per command on ``url``, all starting at one moment."""
    env = {**os.environ, "FSM_DATABASE_URL": url, "FSM_LANG": "en"}
    env.pop("FSM_USER", None)
    start = time.time() + 4.0  # every process has imported what it needs by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _AT_ONCE, str(start), *command],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_ten_processes_initialising_one_empty_database_at_once(empty_url):
    results = at_once(empty_url, [["init"]] * 10)
    failures = [r.stderr.strip() for r in results if r.returncode != 0]
    assert failures == []
    said = sorted(r.stderr.split(" ")[0] for r in results)  # confirmations go to stderr
    assert said == ["Created"] + ["Database"] * 9, [r.stderr for r in results]
    assert all("is up to date" in r.stderr for r in results if not r.stderr.startswith("Created"))
    database = Database(empty_url)
    try:
        assert database.current_revision() == migrations.HEAD
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM stage")).scalar() == 8
    finally:
        database.dispose()


def test_ten_commands_starting_on_an_empty_database_at_once(empty_url):
    """Ordinary commands create the schema on first use: all ten work."""
    commands = [["settings", "set", "company_name", "ООО Север"], ["stages", "list"]]
    commands += [["users", "create", f"user{i}", "--name", f"Диспетчер {i}"] for i in range(4)]
    commands += [["orders", "list", "--json"]] * 4
    results = at_once(empty_url, commands)
    failures = [r.stderr.strip() for r in results if r.returncode != 0]
    assert failures == []
    database = Database(empty_url)
    try:
        with database.reader() as session:
            name = session.execute(
                text("SELECT value FROM setting WHERE key = 'company_name'")
            ).scalar()
            logins = session.execute(text("SELECT login FROM app_user")).scalars().all()
        assert name == "ООО Север"
        assert {f"user{i}" for i in range(4)} <= set(logins)
    finally:
        database.dispose()


def test_a_newer_fsms_database_is_named_on_upgrade(db_url):
    """`fsm db upgrade` on a database a newer fsm upgraded: one line, no traceback."""
    database = Database(db_url)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0042'"))
    with pytest.raises(SchemaOutOfDate) as err:
        database.upgrade()
    database.dispose()
    assert err.value.one_line() == (
        f"the database is at schema revision 0042, which this fsm does not know (it knows "
        f"up to {migrations.HEAD}): a newer version of fsm upgraded it, and this one is older "
        "(upgrade fsm to the version that wrote it)"
    )
    env = {**os.environ, "FSM_DATABASE_URL": db_url, "FSM_LANG": "en"}
    result = subprocess.run(
        [sys.executable, "-m", "fsm_cli", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"Error: {err.value.one_line()}"]
    database = Database(db_url)
    assert database.current_revision() == "0042"  # untouched
    database.dispose()


def test_an_unknown_target_revision_is_refused(db_url):
    database = Database(db_url)
    try:
        with pytest.raises(InvalidInput, match="unknown schema revision 'abc'"):
            database.upgrade("abc")
        assert database.current_revision() == migrations.HEAD
    finally:
        database.dispose()
