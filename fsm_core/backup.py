"""Backups that restore: ``fsm db backup`` and ``fsm db restore``.

An archive is one uncompressed **tar** file (not a zip): the standard library writes and
reads it as a stream, member by member, with no size limits to work around (zip needs
ZIP64 past 4 GB) and nothing to decompress — the PostgreSQL dump is already compressed
(``pg_dump -Fc``) and photos are JPEGs. It holds:

* ``data/fsm.db`` (SQLite: a copy made with SQLite's online backup API, in one step, so it
  is one consistent moment of the database while others keep writing: in WAL mode a
  reader neither blocks writers nor waits for them) or ``data/fsm.pgdump`` (PostgreSQL:
  ``pg_dump -Fc`` of a snapshot the counts were taken in too);
* ``attachments/<sha256>``: every file of the attachment store (files are named by their
  hash and only ever added, and one gets its name when its row commits, so every row of
  the snapshot has its file);
* ``manifest.json``, last: the product version, schema revision, back-end, created at
  (UTC) and by whom, the number of rows of every table, and the SHA-256 and size of every
  other member. An archive cut short has no manifest and is refused as incomplete.

The archive is written to a private (0600) ``.NAME.xxxxxxxx.part`` beside the target and
renamed when complete: no half-written archive ever has the final name.

A restore reads the archive only, once: every member is checked against its checksum as
it is unpacked into private files (the SQLite database beside the target, the PostgreSQL
dump in a private folder, the attachments in the target's store), and nothing takes a
final name until all of them are checked. Then the database is checked (SQLite's
integrity check, the counts against the manifest) and an older schema upgraded, and the
target is changed in the order a crash can interrupt anywhere: first the attachments take
their names (files named by their content, which nothing refers to yet), then the
database that names them — an SQLite file renamed into place, or ``pg_restore
--single-transaction``, which dies with fsm if fsm is killed. A restore stopped at any
moment leaves the target database as it was (at most some of the archive's attachment
files in its store, which a rerun uses), and the rerun works. Two steps on PostgreSQL are
not one transaction with the rest: ``--force`` empties the target before ``pg_restore``
(stopped between, the target is left empty), and an archive older than this fsm is
upgraded after ``pg_restore`` commits (stopped between, the target is the archive at its
own revision, which ``fsm db upgrade`` brings up to date).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from fsm_core import clock, pg_access
from fsm_core.db import Database, normalize_url
from fsm_core.errors import DatabaseUnavailable, FsmError, InvalidInput, SchemaOutOfDate
from fsm_core.files import open_part, private_dir, process_tag, tag_gone

FORMAT = "fsm-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "data/fsm.db"
PG_MEMBER = "data/fsm.pgdump"
_ATTACHMENT = re.compile(r"\Aattachments/[0-9a-f]{64}\Z")
_CHUNK = 1024 * 1024
INSTALL_PG_CLIENT = "install the PostgreSQL client tools: apt-get install postgresql-client"


class BackupError(FsmError):
    """A backup cannot be made, or an archive cannot be restored."""


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]


@dataclass
class RestoreResult:
    target: str
    backend: str
    archive_revision: str
    revision: str
    counts: dict[str, int]
    attachments: int
    integrity: str
    verified_only: bool
    upgraded: bool = False
    notes: list[str] = field(default_factory=list)


# --- backup ------------------------------------------------------------------------------


def product_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fsm")
    except PackageNotFoundError:
        return "unknown"


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(name) for (name,) in rows]


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        for name in _sqlite_tables(conn)
    }


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    if "alembic_version" not in _sqlite_tables(conn):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _pg_counts(conn: Any) -> dict[str, int]:
    names = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ).scalars()
    return {
        name: int(conn.execute(text(f'SELECT count(*) FROM public."{name}"')).scalar_one())
        for name in list(names)
    }


def libpq_connection(url: URL) -> tuple[str, dict[str, str]]:
    """``url`` as libpq's keyword/value connection string, and the environment carrying
    its password: a password never goes on a command line, where ``ps`` shows it.

    Keywords, not a URL: SQLAlchemy writes a space in a query value as ``+``, which libpq
    does not read back as a space (``?options=-c statement_timeout=0`` reached pg_dump as
    the parameter "+statement_timeout"). The URL's query parameters are libpq's own, as
    psycopg passes them on too."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    given: dict[str, object] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
    }
    for key, value in url.query.items():
        given[key] = value[-1] if isinstance(value, tuple) else value
    words = [f"{key}={_libpq_value(str(v))}" for key, v in given.items() if v not in (None, "")]
    return " ".join(words), env


def _libpq_value(value: str) -> str:
    """A value quoted as a libpq connection string wants it (in single quotes, with
    backslashes and quotes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on the PATH: a PostgreSQL backup needs it",
            hint=INSTALL_PG_CLIENT,
            ru=f"{name} не найден в PATH: он нужен для резервной копии PostgreSQL",
            hint_ru="установите клиент PostgreSQL: apt-get install postgresql-client",
        )
    return found


def _run_tool(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run a PostgreSQL client tool to its end. On Linux it dies with this process: a
    ``pg_restore`` that outlived an fsm killed mid-way would go on and commit the
    restore behind the user's back (and the next restore's), a ``pg_dump`` would dump
    for no one."""
    return subprocess.run(
        args, env=env, capture_output=True, check=False, preexec_fn=_dies_with_parent()
    )


_PR_SET_PDEATHSIG = 1


def _dies_with_parent() -> Any:
    """For ``preexec_fn``: the child gets SIGKILL when this process ends (Linux's
    ``prctl(PR_SET_PDEATHSIG)``); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return arm


def _tool_major(tool: str) -> int:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(match[1]) if match else 0


def _check_pg_client(tool: str, conn: Any) -> None:
    server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    client = _tool_major(tool)
    if client < server:
        raise BackupError(
            f"{os.path.basename(tool)} {client} cannot work with PostgreSQL server {server}: "
            f"the client tools must be version {server} or newer",
            hint=INSTALL_PG_CLIENT.replace("postgresql-client", f"postgresql-client-{server}"),
            ru=f"{os.path.basename(tool)} {client} не работает с сервером PostgreSQL {server}: "
            f"нужен клиент версии {server} или новее",
            hint_ru=f"установите клиент PostgreSQL: apt-get install postgresql-client-{server}",
        )


def _first_line(stderr: str | bytes) -> str:
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def refuse_empty(database: Database) -> None:
    """A database with no schema has nothing to back up (and none is created for it)."""
    if database.current_revision() is None:
        raise BackupError(
            f"{database.display_url} is empty: there is nothing to back up",
            ru=f"{database.display_url} пуста: копировать нечего",
        )


def backup(*, database: Database, out: str | os.PathLike[str], actor: str) -> BackupResult:
    """Write one archive of ``database`` (data, attachments, manifest) to ``out``."""
    from fsm_core.access import demand

    target = Path(os.path.abspath(os.fspath(out)))
    if target.is_dir():
        raise InvalidInput(
            f"{out}: is a directory; give the archive's file name",
            ru=f"{out} — это папка; укажите имя файла архива",
        )
    if not target.parent.is_dir():
        raise InvalidInput(
            f"{out}: no such directory {str(target.parent)!r}",
            ru=f"{out}: нет папки {str(target.parent)!r}",
        )
    url = database.engine.url
    refuse_empty(database)
    demand(database.principal, "database.admin")  # who acts, asked of a database in use
    work = Path(tempfile.mkdtemp(prefix="backup-", dir=private_dir()))
    try:
        if database.is_sqlite:
            data, member, counts, revision, extra = _sqlite_snapshot(url, work)
        else:
            data, member, counts, revision, extra = _pg_snapshot(database, work)
        from fsm_core.attachments import store_folder_of

        members: dict[str, dict[str, Any]] = {}
        f, partial = open_part(str(target.parent), target.name, name=os.fspath(out))
        try:
            with f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.copybufsize = _CHUNK  # type: ignore[attr-defined]  # (16 KB by default)
                members[member] = _add_file(tar, member, data)
                store = store_folder_of(url)
                if store.is_dir():
                    for entry in sorted(store.iterdir()):
                        if entry.is_file() and _ATTACHMENT.match(f"attachments/{entry.name}"):
                            name = f"attachments/{entry.name}"
                            members[name] = _add_file(tar, name, entry)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "product": "fsm",
                    "product_version": product_version(),
                    "schema_revision": revision,
                    "backend": "sqlite" if database.is_sqlite else "postgresql",
                    "created_at": clock.now().astimezone(UTC).isoformat(timespec="seconds"),
                    "created_by": actor,
                    "database": database.display_url,
                    "counts": counts,
                    "attachments": sum(1 for m in members if m.startswith("attachments/")),
                    "members": members,
                    **extra,
                }
                blob = json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(blob)
                info.mode = 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                tar.addfile(info, _BytesReader(blob))
            _fsync_file(partial)  # ``with f`` closed it: reopened to flush it to the disk
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(path=target, size=target.stat().st_size, manifest=manifest)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else self._pos + n
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    """Add the file at ``path`` as ``name``, hashed as it is copied (read once)."""
    with open(path, "rb") as src:
        status = os.fstat(src.fileno())
        info = tarfile.TarInfo(name)
        info.size = status.st_size
        info.mode = 0o600
        info.mtime = int(status.st_mtime)
        reader = _Hashing(src)
        tar.addfile(info, reader)  # reads exactly info.size bytes, or raises
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


class _Hashing:
    """A file read through: what is read is hashed on the way."""

    def __init__(self, src: IO[bytes]) -> None:
        self._src = src
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        chunk = self._src.read(n)
        self.digest.update(chunk)
        return chunk


def _sqlite_snapshot(url: URL, work: Path) -> tuple[Path, str, dict[str, int], str, dict[str, Any]]:
    """A consistent copy of the SQLite database, made with the online backup API in one
    step (one read transaction: writers in WAL mode go on meanwhile)."""
    source_path = Path(url.database or "").expanduser()
    copy = work / "fsm.db"
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        source.execute("PRAGMA busy_timeout=15000")
        dest = sqlite3.connect(copy)
        try:
            source.backup(dest)  # pages=-1: all of it in one step, one moment
            dest.execute("PRAGMA journal_mode=DELETE")
            counts = _sqlite_counts(dest)
            revision = _sqlite_revision(dest)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise BackupError(
            f"cannot back up {source_path}: {exc}",
            ru=f"не удалось сделать резервную копию {source_path}: {exc}",
        ) from None
    finally:
        source.close()
    if revision is None:
        raise BackupError(
            f"{source_path} has no schema: there is nothing to back up",
            ru=f"в {source_path} нет схемы: копировать нечего",
        )
    return copy, SQLITE_MEMBER, counts, revision, {}


def _pg_snapshot(
    database: Database, work: Path
) -> tuple[Path, str, dict[str, int], str, dict[str, Any]]:
    """``pg_dump -Fc`` of one snapshot, exported from the transaction the counts and the
    revision are read in, so the manifest describes exactly what was dumped."""
    tool = _pg_tool("pg_dump")
    dump = work / "fsm.pgdump"
    dsn, env = libpq_connection(database.engine.url)
    with database.engine.connect() as probe:
        _check_pg_client(tool, probe)
    snapshot_reader = database.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with snapshot_reader as conn, conn.begin():
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _pg_counts(conn)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        # --enable-row-security: an admin's own login is under row-level security (a
        # policy that shows it every row), which pg_dump otherwise refuses to dump through
        done = _run_tool(
            [tool, "-Fc", "--no-owner", "--enable-row-security", f"--snapshot={snapshot}",
             "-f", str(dump), "-d", dsn],
            env,
        )  # fmt: skip
    if done.returncode != 0:
        raise BackupError(
            f"pg_dump failed: {_first_line(done.stderr)}",
            ru=f"pg_dump не смог выгрузить базу: {_first_line(done.stderr)}",
        )
    return dump, PG_MEMBER, counts, str(revision), {"pg_dump_version": _tool_major(tool)}


# --- reading an archive ------------------------------------------------------------------


@contextlib.contextmanager
def _open_archive(archive: Path) -> Iterator[tarfile.TarFile]:
    if not archive.exists():
        raise InvalidInput(f"{archive}: no such file", ru=f"{archive}: нет такого файла")
    if not archive.is_file():
        raise InvalidInput(f"{archive}: not a file", ru=f"{archive}: это не файл")
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError) as exc:
        raise _not_an_archive(archive, f" ({exc})") from None
    with tar:
        yield tar


def read_manifest(archive: str | os.PathLike[str]) -> dict[str, Any]:
    """The archive's manifest, checked for form (not yet its checksums)."""
    path = Path(archive)
    with _open_archive(path) as tar:
        return _manifest(tar, path)


def _manifest(tar: tarfile.TarFile, path: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        stream = tar.extractfile(member)
        if stream is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(stream.read().decode("utf-8"))
    except KeyError:
        raise BackupError(
            f"{path}: no {MANIFEST} in it: not an fsm backup, or one cut short",
            ru=f"{path}: в нём нет {MANIFEST}: это не резервная копия fsm или она оборвана",
        ) from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _not_an_archive(path, f" ({exc})") from None
    except (UnicodeDecodeError, ValueError):
        raise BackupError(
            f"{path}: its {MANIFEST} is not valid JSON",
            ru=f"{path}: его {MANIFEST} — не правильный JSON",
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _not_an_archive(path, " (no fsm manifest)", " (нет описи fsm)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path}: backup format {manifest.get('format_version')!r} is not one this fsm "
            f"reads ({FORMAT_VERSION})",
            hint="restore it with the version of fsm that made it",
            ru=f"{path}: формат копии {manifest.get('format_version')!r} эта версия fsm не "
            f"читает (она читает {FORMAT_VERSION})",
            hint_ru="восстановите её той версией fsm, которая её сделала",
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not isinstance(manifest.get("counts"), dict):
        raise BackupError(
            f"{path}: its {MANIFEST} lists no members or counts",
            ru=f"{path}: в его {MANIFEST} нет списка файлов или числа строк",
        )
    return manifest


def _copy_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, sink: IO[bytes] | None
) -> tuple[str, int]:
    stream = tar.extractfile(member)
    if stream is None:
        raise BackupError(
            f"{member.name}: not a regular file in the archive",
            ru=f"{member.name} в архиве — не обычный файл",
        )
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


def verify_archive(archive: str | os.PathLike[str]) -> dict[str, Any]:
    """Check every member against the manifest's SHA-256 and size (reading only); the
    manifest, or :class:`BackupError` naming the first member that differs."""
    path = Path(archive)
    manifest = read_manifest(path)
    _unpack(path, manifest, data=None, store=None)
    return manifest


@dataclass
class _Unpacked:
    """What :func:`_unpack` wrote: attachment files under a private name in the store
    (``.NAME.xxxxxxxx.part``, each whole and checked), to be renamed to their name."""

    staged: list[tuple[str, Path]] = field(default_factory=list)
    attachments: int = 0

    def publish(self) -> list[Path]:
        """Make the staged files durable, then rename them to their names; returns
        those that are new. (Synced here, not as each was written: meanwhile the system
        wrote them out while the archive was read and the database checked, and this
        waits only for the rest.)"""
        for partial, _ in self.staged:
            _fsync_file(partial)
        published = []
        for partial, final in self.staged:
            os.replace(partial, final)
            published.append(final)
        if self.staged:
            _fsync_dir(self.staged[0][1].parent)
        self.staged = []
        return published

    def discard(self) -> None:
        for partial, _ in self.staged:
            with contextlib.suppress(OSError):
                os.unlink(partial)
        self.staged = []


def _unpack(
    path: Path, manifest: dict[str, Any], *, data: IO[bytes] | None, store: Path | None
) -> _Unpacked:
    """Read the archive once: every member is checked against the manifest (SHA-256 and
    size; an attachment's name is its hash too) as it is copied — the database's member
    into ``data``, the attachments the ``store`` lacks into private files there — and a
    member that differs, is missing or is not listed is refused. Nothing under a final
    name is written: on a refusal the private files go, and the caller removes ``data``.
    """
    expected: dict[str, dict[str, Any]] = manifest["members"]
    seen: set[str] = set()
    unpacked = _Unpacked()
    try:
        with _open_archive(path) as tar:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in expected or member.name in seen:
                    raise BackupError(
                        f"{path}: member {member.name} is not in the manifest",
                        ru=f"{path}: файла {member.name} нет в описи архива",
                    )
                if not member.isreg():
                    raise BackupError(
                        f"{path}: member {member.name} is not a regular file",
                        ru=f"{path}: {member.name} в архиве — не обычный файл",
                    )
                sink, partial = _sink_for(member.name, data, store, unpacked)
                try:
                    sha, size = _copy_member(tar, member, sink)
                finally:
                    if partial is not None and sink is not None:
                        sink.close()
                want = expected[member.name]
                attachment = member.name.startswith("attachments/")
                if (
                    sha != want.get("sha256")
                    or size != want.get("size")
                    or (attachment and sha != member.name.split("/")[1])
                ):
                    raise BackupError(
                        f"{path}: checksum mismatch in {member.name}: the archive was changed "
                        "or damaged; nothing was restored",
                        ru=f"{path}: контрольная сумма {member.name} не сходится: архив "
                        "изменён или повреждён; ничего не восстановлено",
                    )
                unpacked.attachments += attachment
                seen.add(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        unpacked.discard()
        raise BackupError(
            f"{path}: damaged archive ({exc})", ru=f"{path}: архив повреждён ({exc})"
        ) from None
    except BaseException:
        unpacked.discard()
        raise
    missing = sorted(set(expected) - seen)
    if missing:
        unpacked.discard()
        raise BackupError(
            f"{path}: member {missing[0]} is missing from the archive",
            ru=f"{path}: в архиве нет файла {missing[0]}",
        )
    return unpacked


def _sink_for(
    name: str, data: IO[bytes] | None, store: Path | None, unpacked: _Unpacked
) -> tuple[IO[bytes] | None, str | None]:
    """Where a member is copied: the database's into ``data``; an attachment the store
    lacks into a new private file there (returned with its path); anything else nowhere
    (only checked)."""
    if name in (SQLITE_MEMBER, PG_MEMBER):
        return data, None
    if store is None or not _ATTACHMENT.match(name):
        return None, None
    final = store / name.split("/")[1]
    if final.exists():
        return None, None
    f, partial = open_part(str(store), final.name)
    unpacked.staged.append((partial, final))
    return f, partial


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (where the system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- restore -----------------------------------------------------------------------------


def restore(
    *,
    archive: str | os.PathLike[str],
    into_url: str,
    force: bool = False,
    verify: bool = False,
) -> RestoreResult:
    """Restore ``archive`` into the database at ``into_url`` (``verify``: into a throwaway
    database instead, changing nothing, and report)."""
    from fsm_core.migrations import HEAD, is_known_revision

    path = Path(archive)
    url = normalize_url(into_url)
    target_backend = "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"
    manifest = read_manifest(path)
    backend = manifest.get("backend")
    if backend == "sqlite" and target_backend != "sqlite":
        raise BackupError(
            "a SQLite backup restores into SQLite",
            hint="to move to PostgreSQL: fsm db copy --to postgresql+psycopg://...",
            ru="копия SQLite восстанавливается в SQLite",
            hint_ru="переезд на PostgreSQL: fsm db copy --to postgresql+psycopg://...",
        )
    if backend == "postgresql" and target_backend != "postgresql":
        raise BackupError(
            "a PostgreSQL backup restores into PostgreSQL",
            ru="копия PostgreSQL восстанавливается в PostgreSQL",
        )
    revision = str(manifest.get("schema_revision"))
    if not is_known_revision(revision):
        raise SchemaOutOfDate(
            f"{path}: the backup is at schema revision {revision}, newer than this fsm "
            f"knows (up to {HEAD})",
            hint="restore it with the version of fsm that made it, or a newer one",
            ru=f"{path}: копия в редакции схемы {revision}, более новой, чем знает эта "
            f"версия fsm (до {HEAD})",
            hint_ru="восстановите её той версией fsm, которая её сделала, или более новой",
        )
    if target_backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise InvalidInput(
            f"{into_url}: give a file: sqlite:///PATH",
            ru=f"{into_url}: укажите файл: sqlite:///ПУТЬ",
        )
    if not verify:
        _refuse_non_empty(url, force=force)
    # every member is checked as it is unpacked, and nothing takes a final name before
    if target_backend == "sqlite":
        return _restore_sqlite(path, manifest, url, verify=verify)
    return _restore_pg(path, manifest, url, verify=verify, force=force)


def _not_an_archive(path: Path, why: str, why_ru: str | None = None) -> BackupError:
    return BackupError(
        f"{path}: not an fsm backup archive{why}",
        ru=f"{path}: это не архив резервной копии fsm{why if why_ru is None else why_ru}",
    )


def _refuse_non_empty(url: URL, *, force: bool) -> None:
    found = what_is_there(url)
    if found and not force:
        shown = url.render_as_string(hide_password=True)
        raise BackupError(
            f"{shown} is not empty ({found}); nothing was restored",
            hint="restore into an empty database, or add --force to replace it",
            ru=f"{shown} не пуста ({in_russian(found)}); ничего не восстановлено",
            hint_ru="восстанавливайте в пустую базу или добавьте --force, чтобы заменить её",
        )


_HOLDS = re.compile(r"(\d+) tables, (\d+) rows")


def in_russian(found: str) -> str:
    """What :func:`what_is_there` said, in Russian."""
    holds = _HOLDS.fullmatch(found)
    if holds is None:
        return found.replace(" is not an SQLite database: ", " — не база SQLite: ")
    return f"таблиц: {holds[1]}, строк: {holds[2]}"


def what_is_there(url: URL) -> str | None:
    """What a database that should be empty holds ("12 tables, 340 rows"), or None when
    it holds nothing (or does not exist yet): restores and copies refuse the former."""
    if url.get_backend_name() == "sqlite":
        file = Path(url.database or "").expanduser()
        if not file.exists() or file.stat().st_size == 0:
            return None
        try:
            conn = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
            try:
                tables = _sqlite_tables(conn)
                rows = sum(_sqlite_counts(conn).values())
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return f"{file} is not an SQLite database: {exc}"
        return f"{len(tables)} tables, {rows} rows" if tables else None
    engine = create_engine(url)
    try:
        with engine.connect() as pg:
            counts = _pg_counts(pg)
    except Exception as exc:  # a database that does not exist yet is empty
        if "does not exist" in str(exc):
            return None
        shown = url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(
            f"cannot open {shown}: {_first_line(str(exc))}",
            ru=f"не удаётся открыть {shown}: {_first_line(str(exc))}",
        ) from None
    finally:
        engine.dispose()
    return f"{len(counts)} tables, {sum(counts.values())} rows" if counts else None


def _check_counts(manifest: dict[str, Any], counts: dict[str, int], where: str) -> None:
    expected: dict[str, int] = manifest["counts"]
    for table, n in expected.items():
        if counts.get(table) != n:
            raise BackupError(
                f"{where}: table {table} has {counts.get(table)} rows after the restore, "
                f"the backup had {n}",
                ru=f"{where}: в таблице {table} после восстановления строк: "
                f"{counts.get(table)}, а в копии было {n}",
            )


def _restore_sqlite(
    path: Path, manifest: dict[str, Any], url: URL, *, verify: bool
) -> RestoreResult:
    """The database is unpacked into a private file beside the target (the attachments
    into private files in its store), checked, upgraded if older, and only then put in
    place: first the attachments, then the database that names them, by one rename. A
    restore stopped anywhere before leaves the target as it was."""
    from fsm_core.attachments import store_folder_of
    from fsm_core.migrations import HEAD

    target = Path(url.database or "").expanduser().resolve()
    store = None if verify else store_folder_of(url)
    made = [] if store is None else _make_dirs(store)
    if not verify:
        made += _make_dirs(target.parent)
    folder = private_dir() if verify else target.parent
    f, partial = open_part(str(folder), target.name)
    unpacked: _Unpacked | None = None
    published: list[Path] = []
    upgraded = False
    try:
        with f:
            unpacked = _unpack(path, manifest, data=f, store=store)
        integrity = _check_sqlite(partial, manifest, path, target)
        if manifest["schema_revision"] != HEAD:
            restored = Database(f"sqlite:///{partial}")
            try:
                restored.upgrade()
                with restored.engine.connect() as c:
                    c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                restored.dispose()
            upgraded = True
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{partial}{suffix}")
        if verify:
            os.unlink(partial)
        else:
            published = unpacked.publish()
            _fsync_file(partial)
            _replace_sqlite(partial, target)
    except BaseException:
        if unpacked is not None:
            unpacked.discard()
        _remove_files(published)
        for name in (partial, f"{partial}-wal", f"{partial}-shm"):
            with contextlib.suppress(OSError):
                os.unlink(name)
        _remove_dirs(made)
        raise
    return RestoreResult(
        target=str(target),
        backend="sqlite",
        archive_revision=str(manifest["schema_revision"]),
        revision=HEAD if upgraded else str(manifest["schema_revision"]),
        counts=dict(manifest["counts"]),
        attachments=unpacked.attachments,
        integrity=integrity,
        verified_only=verify,
        upgraded=upgraded,
    )


def _check_sqlite(partial: str, manifest: dict[str, Any], path: Path, target: Path) -> str:
    """SQLite's integrity check and the counts of the unpacked database."""
    conn = sqlite3.connect(partial)
    try:
        integrity = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        if integrity != "ok":
            raise BackupError(
                f"{path}: the restored database fails its check: {integrity}",
                ru=f"{path}: восстановленная база не проходит проверку: {integrity}",
            )
        _check_counts(manifest, _sqlite_counts(conn), str(target))
    finally:
        conn.close()
    return integrity


def _replace_sqlite(partial: str, target: Path) -> None:
    """Rename the restored database over ``target``. The file replaced (--force) first
    has its log folded in and removed: a stale ``-wal`` would be read as the new file's
    log, and a restore stopped before the rename must leave the old file whole."""
    if target.exists():
        with contextlib.suppress(sqlite3.Error):
            old = sqlite3.connect(target)
            try:
                old.execute("PRAGMA busy_timeout=15000")
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                old.close()
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{target}{suffix}")
    os.replace(partial, target)
    _fsync_dir(target.parent)


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and the missing folders above it (0700); those made, deepest
    first, for :func:`_remove_dirs` when the restore fails."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            _remove_dirs(missing)
            raise InvalidInput(
                f"{folder}: cannot create the folder: {exc.strerror or exc}",
                ru=f"{folder}: не удаётся создать папку: {exc.strerror or exc}",
            ) from None
    return missing


def _remove_dirs(made: list[Path]) -> None:
    for path in made:
        with contextlib.suppress(OSError):
            path.rmdir()  # only if empty: never what someone put there meanwhile


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _pg_admin(url: URL) -> Any:
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


_THROWAWAY = "fsm_verify_"


def _host() -> str:
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _throwaway_name() -> str:
    """The name of a --verify run's throwaway database: ``fsm_verify_`` + this machine
    (a hash of its name) + this process (pid, start) + a random part, so that the next
    restore on this machine can tell one whose process was killed before dropping it."""
    return f"{_THROWAWAY}{_host()}_{process_tag().replace('-', '_')}_{uuid.uuid4().hex[:6]}"


def _drop_abandoned(admin: Any) -> None:
    """Drop the throwaway databases of --verify runs on this machine whose process is
    gone (killed before it could drop its own); others' are left alone."""
    prefix = f"{_THROWAWAY}{_host()}_"
    names = admin.execute(
        text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"), {"p": prefix}
    ).scalars()
    for name in list(names):
        parts = name[len(prefix) :].split("_")
        if len(parts) == 3 and tag_gone(f"{parts[0]}-{parts[1]}"):
            with contextlib.suppress(SQLAlchemyError):  # another's, or gone meanwhile
                admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                pg_access.drop_group_roles(admin, name)  # roles outlive their database


def _without_policies(contents: bytes) -> bytes:
    """A ``pg_restore -l`` listing with its row-level security policies left out."""
    return b"".join(line for line in contents.splitlines(keepends=True) if b" POLICY " not in line)


def _grant_groups(url: URL) -> None:
    """The restored database's own group roles, privileges and row-level security
    policies (created where the restoring login may create roles; see
    fsm_core/pg_access.py)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            pg_access.apply(conn)
    finally:
        engine.dispose()


def _restore_pg(
    path: Path, manifest: dict[str, Any], url: URL, *, verify: bool, force: bool
) -> RestoreResult:
    """The dump is unpacked into a private file and the attachments into private files
    in the store, all checked; then the attachments take their names, and
    ``pg_restore --single-transaction`` fills the target in one transaction (killed with
    this process if it dies first), counts checked."""
    from fsm_core.attachments import store_folder_of
    from fsm_core.migrations import HEAD

    tool = _pg_tool("pg_restore")
    into = url
    admin = _pg_admin(url)
    throwaway: str | None = None
    upgraded = False
    store = None if verify else store_folder_of(url)
    made = [] if store is None else _make_dirs(store)
    unpacked: _Unpacked | None = None
    published: list[Path] = []
    work = Path(tempfile.mkdtemp(prefix="restore-", dir=private_dir()))
    try:
        with admin.connect() as conn:
            _check_pg_client(tool, conn)
        dump = work / "fsm.pgdump"
        with open(dump, "wb") as f:
            unpacked = _unpack(path, manifest, data=f, store=store)
        with admin.connect() as conn:
            _drop_abandoned(conn)
            if verify:
                throwaway = _throwaway_name()
                conn.exec_driver_sql(f'CREATE DATABASE "{throwaway}"')
                into = url.set(database=throwaway)
            elif not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            ).first():
                conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        if force and not verify:
            engine = create_engine(into)
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                    conn.exec_driver_sql("CREATE SCHEMA public")
            finally:
                engine.dispose()
        published = unpacked.publish()  # before the rows that name them
        dsn, env = libpq_connection(into)
        # without the row-level security policies: they name the group roles of the
        # database dumped (fsm_<its name>_<role>), which the target's server may not have;
        # the target's own are granted below (fsm_core/pg_access.py)
        listed = _run_tool([tool, "-l", str(dump)], env)
        contents = work / "contents.list"
        contents.write_bytes(_without_policies(listed.stdout))
        done = listed if listed.returncode != 0 else _run_tool(
            [tool, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
             "-L", str(contents), "-d", dsn, str(dump)],
            env,
        )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(
                f"pg_restore failed: {_first_line(done.stderr)}",
                ru=f"pg_restore не смог восстановить базу: {_first_line(done.stderr)}",
            )
        engine = create_engine(into)
        try:
            with engine.connect() as conn:
                _check_counts(manifest, _pg_counts(conn), into.render_as_string(True))
        finally:
            engine.dispose()
        if manifest["schema_revision"] != HEAD:
            restored = Database(into.render_as_string(hide_password=False))
            try:
                restored.upgrade()
            finally:
                restored.dispose()
            upgraded = True
        if not verify:
            _grant_groups(into)
    except BaseException:
        if unpacked is not None:
            unpacked.discard()
        _remove_files(published)
        _remove_dirs(made)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if throwaway is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{throwaway}" WITH (FORCE)')
                pg_access.drop_group_roles(conn, throwaway)
        admin.dispose()
    return RestoreResult(
        target=url.render_as_string(hide_password=True),
        backend="postgresql",
        archive_revision=str(manifest["schema_revision"]),
        revision=HEAD if upgraded else str(manifest["schema_revision"]),
        counts=dict(manifest["counts"]),
        attachments=unpacked.attachments,
        integrity="counts match",
        verified_only=verify,
        upgraded=upgraded,
    )


# --- keeping a folder of archives: the newest per day, week, month, year -------------------

_KEEP = re.compile(r"\s*(\d{1,4})\s*([dwmy])\s*")
_KEEP_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}
_KEEP_UNITS_RU = {"d": "дни", "w": "недели", "m": "месяцы", "y": "годы"}


def parse_keep(text: str) -> dict[str, int]:
    """``7d,4w,12m`` (days, weeks, months, years): how many of each to keep."""
    keep: dict[str, int] = {}
    for part in text.split(","):
        found = _KEEP.fullmatch(part.lower())
        if found is None:
            raise InvalidInput(
                f"--keep: {part.strip()!r} is not a count and a unit",
                field="keep",
                hint="e.g. 7d,4w,12m (days, weeks, months, years)",
                ru=f"--keep: {part.strip()!r} — не число с единицей",
                hint_ru="например 7d,4w,12m (дни, недели, месяцы, годы)",
            )
        unit = found.group(2)
        if unit in keep:
            raise InvalidInput(
                f"--keep: {_KEEP_UNITS[unit]} are given twice",
                field="keep",
                ru=f"--keep: {_KEEP_UNITS_RU[unit]} указаны дважды",
            )
        keep[unit] = int(found.group(1))
    return keep


def _bucket(unit: str, moment: datetime) -> tuple[int, ...]:
    if unit == "d":
        return (moment.year, moment.month, moment.day)
    if unit == "w":
        year, week, _ = moment.isocalendar()
        return (year, week)
    if unit == "m":
        return (moment.year, moment.month)
    return (moment.year,)


def prune_archives(
    folder: str | os.PathLike[str], keep: dict[str, int], *, protect: Path | None = None
) -> tuple[list[Path], list[Path]]:
    """Delete the fsm archives in ``folder`` that ``keep`` does not keep: for each unit,
    the newest archive of each of the latest N days (weeks, months, years) that have one
    (as restic's --keep-daily counts), by the time in their manifest (UTC). Files that are
    not fsm archives are never touched, nor ``protect`` (the one just written). Returns
    (kept, deleted)."""
    archives: list[tuple[datetime, Path]] = []
    for path in sorted(Path(folder).glob("*.tar")):
        try:
            manifest = read_manifest(path)
            created = datetime.fromisoformat(manifest["created_at"]).astimezone(UTC)
        except (FsmError, KeyError, TypeError, ValueError):
            continue  # not ours, or unreadable: left alone
        archives.append((created, path))
    archives.sort(key=lambda item: item[0], reverse=True)
    kept: set[Path] = {protect.resolve()} if protect is not None else set()
    for unit, count in keep.items():
        buckets: set[tuple[int, ...]] = set()
        for created, path in archives:
            bucket = _bucket(unit, created)
            if bucket in buckets:
                continue
            if len(buckets) >= count:
                break
            buckets.add(bucket)
            kept.add(path.resolve())
    deleted = [path for _, path in archives if path.resolve() not in kept]
    for path in deleted:
        path.unlink(missing_ok=True)
    return [path for _, path in archives if path.resolve() in kept], deleted
