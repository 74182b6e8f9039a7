"""Each person's own PostgreSQL login (issue 18, sections 1 and 2, PostgreSQL's half).

Users of every role are created through ``fsm users create ... --db-login
--password-stdin``; then each login connects with plain psycopg and tries what the product
forbids (someone else's order, the team chat, changing the audit trail), and runs the
product itself within its rights. Logins are the server's, not the database's: every name
is unique to its test (the suite runs in parallel) and dropped afterwards.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from fsm_core import pg_access
from fsm_core.access import Role
from tests.cli_runner import invoke

POSTGRES = [pytest.param("postgres", marks=pytest.mark.postgres)]

TECHNICIAN_ORDER = "26-0087"  # a new, unassigned order of the demo company
CUSTOMER = "ООО «Балтийская пекарня»"


@dataclass
class Cluster:
    """The test's database on the server, and the logins the test created."""

    url: str
    logins: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(make_url(self.url).database)

    def superuser(self) -> psycopg.Connection[Any]:
        return psycopg.connect(_conninfo(self.url), autocommit=True)

    def url_of(self, login: str, password: str) -> str:
        return (
            make_url(self.url)
            .set(username=login, password=password)
            .render_as_string(hide_password=False)
        )

    def connect(self, login: str, password: str) -> psycopg.Connection[Any]:
        return psycopg.connect(_conninfo(self.url_of(login, password)), autocommit=True)

    def url_on(self, database: str) -> str:
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    def one(self, query: str, *params: Any, on: str | None = None) -> Any:
        url = self.url_on(on) if on else self.url
        with psycopg.connect(_conninfo(url), autocommit=True) as conn:
            row = conn.execute(query, params).fetchone()
            return None if row is None else row[0]


def _conninfo(url: str) -> str:
    u = make_url(url)
    parts = {
        "host": u.host or "127.0.0.1",
        "port": u.port or 5432,
        "dbname": u.database,
        "user": u.username,
        "password": u.password,
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)


@pytest.fixture
def cluster(db_url: str, with_demo: None) -> Iterator[Cluster]:
    found = Cluster(db_url)
    try:
        yield found
    finally:
        _drop_logins(found)


def _drop_logins(found: Cluster) -> None:
    from psycopg import sql

    alive = found.one("SELECT 1 FROM pg_database WHERE datname = %s", found.name, on="postgres")
    with psycopg.connect(_conninfo(found.url if alive else found.url_on("postgres"))) as conn:
        conn.autocommit = True
        for login in found.logins:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone():
                continue
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (login,),
            )
            if alive:  # what the login owns or was granted in the test's database
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(login)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))


@pytest.fixture
def granted(cluster: Cluster) -> Cluster:
    """The test's database is a copy of a template: its owner grants its own group roles."""
    invoke(cluster.url, "db", "grants")
    return cluster


def unique(cluster: Cluster, role: str) -> str:
    login = f"t{uuid.uuid4().hex[:8]}_{role}"
    cluster.logins.append(login)
    return login


def create(cluster: Cluster, role: str, *extra: str, password: str = "", code: int = 0) -> Any:
    """``fsm users create`` with a login of its own and the password on stdin."""
    login = unique(cluster, role)
    password = password or f"pw-{uuid.uuid4().hex}"
    result = invoke(
        cluster.url,
        "users", "create", login, "--name", f"Test {login}", "--role", role, *extra,
        "--db-login", "--password-stdin",
        stdin=password + "\n",
        code=code,
    )  # fmt: skip
    return login, password, result


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored ``SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey`` is the
    verifier of ``password`` (RFC 5802)."""
    method, rest = verifier.split("$", 1)
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (
        method == "SCRAM-SHA-256"
        and hashlib.sha256(client_key).digest() == stored_key
        and hmac.new(salted, b"Server Key", hashlib.sha256).digest() == server_key
    )


def group_members(cluster: Cluster, login: str) -> set[str]:
    groups = {g: r.value for r, g in pg_access.group_roles(cluster.name).items()}
    with cluster.superuser() as conn:
        rows = conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
            (login,),
        ).fetchall()
    return {groups[r[0]] for r in rows if r[0] in groups}


@dataclass
class People:
    """One login of each role, with the password each was created with."""

    cluster: Cluster
    logins: dict[str, tuple[str, str]]
    company_id: int

    def connect(self, role: str) -> psycopg.Connection[Any]:
        return self.cluster.connect(*self.logins[role])

    def url(self, role: str) -> str:
        return self.cluster.url_of(*self.logins[role])


@pytest.fixture
def people(granted: Cluster) -> People:
    """An admin, a dispatcher, a storekeeper, a viewer, a technician (a new employee,
    assigned one order) and a customer (a new contact of the bakery), each with a login."""
    cluster = granted
    made: dict[str, tuple[str, str]] = {}
    for role in ("admin", "dispatcher", "storekeeper", "viewer"):
        login, password, _ = create(cluster, role)
        made[role] = (login, password)
    invoke(
        cluster.url, "employees", "create", "Тестов Тимур Игоревич", "--short-name", "Тестов Т. И."
    )
    login, password, _ = create(cluster, "technician", "--employee", "Тестов Т. И.")
    made["technician"] = (login, password)
    invoke(cluster.url, "orders", "assign", TECHNICIAN_ORDER, "Тестов Т. И.")
    invoke(cluster.url, "contacts", "create", CUSTOMER, "Пекарева Полина Петровна")
    login, password, _ = create(cluster, "customer", "--contact", "Пекарева Полина Петровна")
    made["customer"] = (login, password)
    company = cluster.one("SELECT id FROM company WHERE name = %s", CUSTOMER)
    return People(cluster, made, company)


# --- creating logins -----------------------------------------------------------------


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_a_login_is_created_with_its_password_and_its_groups(people: People) -> None:
    cluster = people.cluster
    for role, (login, password) in people.logins.items():
        verifier = cluster.one("SELECT rolpassword FROM pg_authid WHERE rolname = %s", login)
        assert verifier.startswith("SCRAM-SHA-256$")
        assert scram_matches(verifier, password), role
        assert not scram_matches(verifier, password + "x")
        assert group_members(cluster, login) == {role}
        flags = cluster.one(
            "SELECT ARRAY[rolcanlogin, rolsuper, rolcreaterole, rolcreatedb] FROM pg_roles"
            " WHERE rolname = %s",
            login,
        )
        assert flags == [True, False, False, False]
    users = json.loads(invoke(cluster.url, "users", "list", "--json").stdout)
    bound = {u["db_login"]: u for u in users if u["db_login"]}
    for role, (login, _) in people.logins.items():
        assert bound[login]["roles"] == [role]
    # the password was never on the command line nor printed
    out = invoke(cluster.url, "users", "list").stdout
    assert all(pw not in out for _, pw in people.logins.values())


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_a_copied_database_asks_for_its_own_group_roles(cluster: Cluster) -> None:
    # the test database is a copy of a template: its grants name the template's groups
    login, _, result = create(cluster, "viewer", code=1)
    assert "fsm db grants" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cluster.one("SELECT 1 FROM pg_roles WHERE rolname = %s", login) is None
    assert cluster.one("SELECT 1 FROM app_user WHERE login = %s", login) is None
    invoke(cluster.url, "db", "grants")
    groups = set(pg_access.group_roles(cluster.name).values())
    with cluster.superuser() as conn:
        holders = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT r.rolname FROM pg_class c, aclexplode(c.relacl) a"
                " JOIN pg_roles r ON r.oid = a.grantee"
                " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S')"
            )
        }
    # the template's groups hold nothing here any more; this database's own do
    assert holders - groups == {"postgres"}
    assert groups <= holders
    create(cluster, "viewer")
    # a group still holding privileges somewhere is kept (its database is not dropped)
    with cluster.superuser() as conn:
        assert pg_access.drop_group_roles(conn, cluster.name) == []
    assert all(cluster.one("SELECT 1 FROM pg_roles WHERE rolname = %s", g) for g in groups)


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_an_owner_who_may_not_create_roles_leaves_the_tables_as_they_were(
    cluster: Cluster,
) -> None:
    # a login bound before the group roles exist: nothing to be a member of yet
    bound = unique(cluster, "technician")
    with cluster.superuser() as conn:
        conn.execute(f'CREATE ROLE "{bound}" LOGIN')
    invoke(cluster.url, "users", "bind", "ivanov", "--db-login", bound)
    assert group_members(cluster, bound) == set()
    # the tables' owner (through membership) without CREATEROLE upgrades: no group roles
    # can be made, so no row-level security either (it would hide every row from them)
    owner = unique(cluster, "owner")
    with cluster.superuser() as conn:
        conn.execute(f'CREATE ROLE "{owner}" NOLOGIN NOCREATEROLE IN ROLE postgres')
        conn.execute(f'SET ROLE "{owner}"')
        applied = pg_access.apply(conn)
        conn.execute("RESET ROLE")
    assert sorted(applied.missing) == sorted(pg_access.group_roles(cluster.name).values())
    assert applied.created == []
    assert cluster.one("SELECT relrowsecurity FROM pg_class WHERE relname = 'orders'") is False
    # a superuser completes it: the groups, row-level security, and the bound login's group
    result = invoke(cluster.url, "db", "grants")
    assert "Created group roles" in result.stderr
    assert cluster.one("SELECT relrowsecurity FROM pg_class WHERE relname = 'orders'") is True
    assert group_members(cluster, bound) == {"technician"}


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_binding_an_existing_login_and_refusals(granted: Cluster) -> None:
    cluster = granted
    # --db-login alone binds an existing role, and refuses a missing one
    missing = unique(cluster, "viewer")
    result = invoke(
        cluster.url, "users", "create", missing, "--role", "viewer", "--db-login", code=1
    )
    assert "no PostgreSQL login matches" in result.stderr
    assert cluster.one("SELECT 1 FROM app_user WHERE login = %s", missing) is None
    existing = unique(cluster, "viewer")
    with cluster.superuser() as conn:
        conn.execute(f'CREATE ROLE "{existing}" LOGIN')
    invoke(cluster.url, "users", "create", existing, "--role", "viewer", "--db-login")
    assert group_members(cluster, existing) == {"viewer"}
    # creating a login that exists already is refused, changing nothing
    other = unique(cluster, "viewer")
    invoke(cluster.url, "users", "create", other, "--role", "viewer")
    dup = invoke(
        cluster.url, "users", "bind", other, "--db-login", existing, "--password-stdin",
        stdin="pw\n", code=1,
    )  # fmt: skip
    assert "already has a role" in dup.stderr
    assert cluster.one("SELECT db_login FROM app_user WHERE login = %s", other) is None
    # an empty password, and --password-stdin without --db-login
    empty = unique(cluster, "viewer")
    result = invoke(
        cluster.url, "users", "create", empty, "--role", "viewer", "--db-login",
        "--password-stdin", stdin="\n", code=1,
    )  # fmt: skip
    assert "password is empty" in result.stderr
    assert cluster.one("SELECT 1 FROM pg_roles WHERE rolname = %s", empty) is None
    assert cluster.one("SELECT 1 FROM app_user WHERE login = %s", empty) is None
    result = invoke(
        cluster.url, "users", "create", empty, "--role", "viewer", "--password-stdin",
        stdin="pw\n", code=1,
    )  # fmt: skip
    assert "--password-stdin goes with --db-login" in result.stderr


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_a_login_without_createrole_is_refused_in_one_line(people: People) -> None:
    cluster = people.cluster
    new = unique(cluster, "viewer")
    result = invoke(
        people.url("admin"), "users", "create", new, "--role", "viewer", "--db-login",
        "--password-stdin", stdin="secret\n", code=1,
    )  # fmt: skip
    assert "lacks CREATEROLE" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cluster.one("SELECT 1 FROM pg_roles WHERE rolname = %s", new) is None
    assert cluster.one("SELECT 1 FROM app_user WHERE login = %s", new) is None
    # the same admin, given CREATEROLE by a superuser, may
    with cluster.superuser() as conn:
        conn.execute(f'ALTER ROLE "{people.logins["admin"][0]}" CREATEROLE')
    invoke(
        people.url("admin"), "users", "create", new, "--role", "viewer", "--db-login",
        "--password-stdin", stdin="secret\n",
    )  # fmt: skip
    assert group_members(cluster, new) == {"viewer"}


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_roles_and_deactivation_keep_the_login_in_step(people: People) -> None:
    cluster = people.cluster
    login, _ = people.logins["dispatcher"]
    invoke(cluster.url, "users", "roles", login, "--add", "viewer", "--add", "storekeeper")
    assert group_members(cluster, login) == {"dispatcher", "viewer", "storekeeper"}
    invoke(cluster.url, "users", "roles", login, "--remove", "dispatcher", "--remove", "viewer")
    assert group_members(cluster, login) == {"storekeeper"}
    with people.connect("dispatcher") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE orders SET description = 'x' WHERE false")
    # a refused role change changes neither side
    invoke(cluster.url, "users", "roles", login, "--add", "customer", code=1)
    assert group_members(cluster, login) == {"storekeeper"}
    # deactivated: no groups, and the login cannot connect
    with people.connect("dispatcher") as open_session:
        invoke(cluster.url, "users", "deactivate", login)
        assert group_members(cluster, login) == set()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            open_session.execute("SELECT count(*) FROM orders")  # a session open meanwhile
    assert cluster.one("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", login) is False
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        people.connect("dispatcher")
    # made active again (no command does it yet; the service does): both come back
    from fsm_core.db import Database
    from fsm_core.services import users

    database = Database(cluster.url)
    try:
        with database.transaction() as session:
            user = users.find_user(session=session, name=login)
            assert user.id is not None
            users.set_active(session=session, user_id=user.id, active=True)
    finally:
        database.dispose()
    assert group_members(cluster, login) == {"storekeeper"}
    with people.connect("dispatcher") as conn:
        assert _count(conn, "SELECT count(*) FROM stock_item") > 0
    # audit rows record what happened to the login
    rows = cluster.one(
        "SELECT count(*) FROM audit_log WHERE entity = 'db_login' AND entity_key = %s", login
    )
    assert rows >= 4


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_database_logins_are_refused_on_sqlite(db_url: str) -> None:
    for args in (["--db-login", "--password-stdin"], ["--db-login"]):
        result = invoke(
            db_url, "users", "create", "nobody", "--role", "viewer", *args,
            stdin="secret\n", code=1,
        )  # fmt: skip
        assert result.stderr.startswith("Error: database logins (--db-login) are PostgreSQL's")
        assert len(result.stderr.strip().splitlines()) == 1
    assert "nobody" not in invoke(db_url, "users", "list").stdout
    result = invoke(
        db_url, "users", "bind", "dispatcher", "--db-login", "x", "--password-stdin",
        stdin="secret\n", code=1,
    )  # fmt: skip
    assert "PostgreSQL's" in result.stderr


# --- what each login may do in psql ---------------------------------------------------


def _count(conn: psycopg.Connection[Any], query: str, *params: Any) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_a_technician_sees_and_changes_only_their_orders(people: People) -> None:
    cluster = people.cluster
    total = cluster.one("SELECT count(*) FROM orders")
    mine = cluster.one("SELECT id FROM orders WHERE number = %s", TECHNICIAN_ORDER)
    other = cluster.one("SELECT id FROM orders WHERE number = '26-0090'")
    with people.connect("technician") as conn:
        assert [r[0] for r in conn.execute("SELECT number FROM orders")] == [TECHNICIAN_ORDER]
        assert _count(conn, "SELECT count(*) FROM orders WHERE id = %s", other) == 0
        # another's order: nothing to update, delete or read hanging off it
        assert (
            conn.execute(
                "UPDATE orders SET stage_code = stage_code WHERE id = %s", (other,)
            ).rowcount
            == 0
        )
        assert _count(conn, "SELECT count(*) FROM message WHERE order_id = %s", other) == 0
        assert _count(conn, "SELECT count(*) FROM order_history WHERE order_id = %s", other) == 0
        assert _count(conn, "SELECT count(*) FROM visit WHERE order_id <> %s", mine) == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM orders WHERE id = %s", (other,))
        # their own: the stage moves, the description (orders.edit) does not
        assert (
            conn.execute(
                "UPDATE orders SET stage_code = stage_code WHERE id = %s", (mine,)
            ).rowcount
            == 1
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE orders SET description = 'x' WHERE id = %s", (mine,))
        # no history or chat message smuggled onto another's order
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO order_history (order_id, at, actor, action)"
                " VALUES (%s, now(), 'x', 'note')",
                (other,),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO setting (key, value) VALUES ('x', 'y')")
    assert cluster.one("SELECT count(*) FROM orders") == total


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_a_customer_sees_their_company_and_the_customer_channel(people: People) -> None:
    cluster = people.cluster
    theirs = cluster.one("SELECT count(*) FROM orders WHERE customer_id = %s", people.company_id)
    assert theirs > 0
    other_company = cluster.one("SELECT id FROM company WHERE id <> %s LIMIT 1", people.company_id)
    with people.connect("customer") as conn:
        assert _count(conn, "SELECT count(*) FROM orders") == theirs
        assert (
            _count(conn, "SELECT count(*) FROM orders WHERE customer_id <> %s", people.company_id)
            == 0
        )
        assert _count(conn, "SELECT count(*) FROM message WHERE channel = 'team'") == 0
        assert [r[0] for r in conn.execute("SELECT id FROM company")] == [people.company_id]
        assert (
            _count(conn, "SELECT count(*) FROM contact WHERE company_id <> %s", people.company_id)
            == 0
        )
        for table in ("stock_item", "gps_device", "position", "work_pattern"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM {table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO orders (number, customer_id, description, criticality, stage_code,"
                " created_at, updated_at, source, created_by, version)"
                " VALUES ('x-1', %s, 'x', 'normal', 'new', now(), now(), 'manual', 'x', 1)",
                (other_company,),
            )
        # an order of their own company goes in
        conn.execute(
            "INSERT INTO orders (number, customer_id, description, criticality, stage_code,"
            " created_at, updated_at, source, created_by, version)"
            " VALUES ('x-2', %s, 'x', 'normal', 'new', now(), now(), 'manual', 'x', 1)",
            (people.company_id,),
        )
        assert _count(conn, "SELECT count(*) FROM orders") == theirs + 1
        # a team message on their own order cannot be written either
        order = _count(conn, "SELECT min(id) FROM orders")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO message (order_id, channel, author_user_id, text, created_at)"
                " VALUES (%s, 'team', 1, 'x', now())",
                (order,),
            )
    with cluster.superuser() as conn:
        assert _count(conn, "SELECT count(*) FROM message WHERE channel = 'team'") > 0


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_read_only_and_append_only(people: People) -> None:
    cluster = people.cluster
    with people.connect("viewer") as conn:
        assert _count(conn, "SELECT count(*) FROM orders") == cluster.one(
            "SELECT count(*) FROM orders"
        )
        for statement in (
            "UPDATE orders SET description = 'x'",
            "DELETE FROM message",
            "INSERT INTO company (name) VALUES ('x')",
            "UPDATE setting SET value = 'x'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with people.connect("storekeeper") as conn:
        assert conn.execute("UPDATE stock_item SET name = name").rowcount > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE orders SET description = 'x'")
    # nobody but the owner changes the audit trail; only admins read it whole
    for role in people.logins:
        with people.connect(role) as conn:
            for statement in (
                "UPDATE audit_log SET actor = 'x'",
                "DELETE FROM audit_log",
                "TRUNCATE audit_log",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            if role != "admin":
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute("SELECT changes FROM audit_log")
    with people.connect("admin") as conn:
        assert _count(conn, "SELECT count(*) FROM audit_log WHERE changes <> ''") > 0


# --- the product, run as each login ---------------------------------------------------


def _numbers(url: str) -> set[str]:
    rows = json.loads(invoke(url, "orders", "list", "--json", "-n", "0").stdout)
    return {r["number"] for r in rows}


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_the_product_run_as_each_login_works_within_its_rights(
    people: People, tmp_path: Path
) -> None:
    cluster = people.cluster
    everything = _numbers(cluster.url)
    for role in ("admin", "dispatcher", "storekeeper", "viewer"):
        assert _numbers(people.url(role)) == everything, role
        me = json.loads(invoke(people.url(role), "users", "me", "--json").stdout)
        assert me["roles"] == [role]
        assert me["account"] == people.logins[role][0]
    assert _numbers(people.url("technician")) == {TECHNICIAN_ORDER}
    theirs = _numbers(people.url("customer"))
    with cluster.superuser() as conn:
        expected = {
            r[0]
            for r in conn.execute(
                "SELECT number FROM orders WHERE customer_id = %s", (people.company_id,)
            )
        }
    assert theirs == expected
    # each does what its role is for
    invoke(people.url("technician"), "orders", "move", TECHNICIAN_ORDER, "en_route")
    invoke(people.url("technician"), "chat", "send", TECHNICIAN_ORDER, "Выезжаю")
    invoke(people.url("customer"), "chat", "send", min(theirs), "Когда приедете?", "-c", "customer")
    # (a new order goes in through COPY for the owner; under row-level security, not)
    created = invoke(
        people.url("dispatcher"), "orders", "create", "-c", CUSTOMER, "-d", "Течёт кран"
    )
    assert "Created" in created.stderr + created.stdout
    invoke(people.url("dispatcher"), "orders", "assign", "26-0086", "Иванов К. П.")
    invoke(
        people.url("storekeeper"), "stock", "receive", "Кронштейн F 017 C 450", "2",
        "--to", "Центральный склад",
    )  # fmt: skip
    invoke(people.url("admin"), "settings", "set", "company_name", "ООО «Проверка»")
    # and what it is not for is refused in one line, whoever refuses it
    for role, args in (
        ("technician", ["orders", "move", "26-0090", "on_hold"]),
        ("viewer", ["orders", "move", "26-0090", "on_hold"]),
        ("storekeeper", ["settings", "set", "company_name", "x"]),
        ("customer", ["chat", "send", min(theirs), "x", "-c", "team"]),
    ):
        result = invoke(people.url(role), *args, code=1)
        assert result.stderr.startswith("Error:"), role
        assert "Traceback" not in result.stderr, role
    # an import by a login under row-level security (PostgreSQL refuses COPY there)
    rows = tmp_path / "orders.csv"
    invoke(cluster.url, "export", "orders", "--for-import", "-o", str(rows))
    with rows.open(encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f))
    mine = next(r for r in exported if r["number"] == TECHNICIAN_ORDER)
    changed = {**mine, "description": mine["description"] + " (уточнено)"}
    new = {**mine, "number": "", "external_id": "PGR-NEW-1"}
    with rows.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(mine))
        writer.writeheader()
        writer.writerows([changed, new])
    report = json.loads(
        invoke(people.url("dispatcher"), "import", "orders", str(rows), "--json").stdout
    )
    assert (report["inserted"], report["updated"]) == (1, 1), report
    with cluster.superuser() as conn:
        assert _count(conn, "SELECT count(*) FROM orders WHERE external_id = 'PGR-NEW-1'") == 1
        assert (
            _count(
                conn,
                "SELECT count(*) FROM order_history h JOIN orders o ON o.id = h.order_id"
                " WHERE o.number = %s AND h.field = 'description'",
                TECHNICIAN_ORDER,
            )
            == 1
        )
        assert conn.execute(
            "SELECT stage_code FROM orders WHERE number = '26-0090'"
        ).fetchone() != ("on_hold",)
        assert _count(conn, "SELECT count(*) FROM setting WHERE value = 'x'") == 0


# --- backups -------------------------------------------------------------------------


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
def test_a_backup_by_an_admin_login_restores_where_its_group_roles_are_gone(
    granted: Cluster, pg_server: Any, tmp_path: Path
) -> None:
    cluster = granted
    admin, password, _ = create(cluster, "admin")
    viewer, viewer_password, _ = create(cluster, "viewer")
    archive = tmp_path / "fsm.tar"
    # pg_dump through an admin's own login, under row-level security
    invoke(cluster.url_of(admin, password), "db", "backup", str(archive))
    orders = cluster.one("SELECT count(*) FROM orders")
    # the database is gone, and its group roles with it
    pg_server.drop(cluster.name)
    groups = pg_access.group_roles(cluster.name).values()
    target_name = f"{pg_server.prefix}_{uuid.uuid4().hex[:8]}"
    target = pg_server.url_of(target_name)
    try:
        with psycopg.connect(_conninfo(pg_server.url_of("postgres"))) as conn:
            assert not conn.execute(
                "SELECT 1 FROM pg_roles WHERE rolname = ANY(%s)", (list(groups),)
            ).fetchone()
        invoke(target, "db", "restore", str(archive), "--into", target)
        restored = Cluster(target)
        # the restored database has its own groups, its policies name them, and the
        # logins bound to its users are members of them
        ours = pg_access.group_roles(target_name)
        with restored.superuser() as conn:
            named = {
                role for (roles,) in conn.execute("SELECT roles FROM pg_policies") for role in roles
            }
        assert named <= set(ours.values())
        assert ours[Role.TECHNICIAN] in named
        assert group_members(restored, viewer) == {"viewer"}
        with restored.connect(viewer, viewer_password) as conn:
            assert _count(conn, "SELECT count(*) FROM orders") == orders
    finally:
        pg_server.drop(target_name)


# --- names and coverage ---------------------------------------------------------------


def test_group_role_names_fit_in_63_bytes() -> None:
    assert pg_access.group_role("acme", Role.TECHNICIAN) == "fsm_acme_technician"
    for database in ("a" * 47, "b" * 48, "д" * 31, "x" * 63, "компания_" * 7):
        names = pg_access.group_roles(database).values()
        assert all(len(n.encode()) <= 63 for n in names), database
        assert len(set(names)) == len(Role)
    # two long names that share their first bytes still differ
    assert pg_access.group_prefix("c" * 60 + "1") != pg_access.group_prefix("c" * 60 + "2")
    assert pg_access.group_prefix("a" * 47) == "fsm_" + "a" * 47


def test_every_table_has_its_privileges_declared() -> None:
    from fsm_core.models import load_all, metadata

    load_all()
    assert set(metadata.tables) | {"alembic_version"} == set(pg_access.TABLES)
    for table, policies in pg_access.OWN_ROWS.items():
        assert table in pg_access.TABLES
        for policy in policies:
            assert set(policy.roles) <= set(pg_access.TABLES[table]), (table, policy.name)


def test_the_groups_that_see_every_row_are_those_of_the_product() -> None:
    from fsm_core.access import PERMISSIONS, Scope

    grants = PERMISSIONS["orders.read"].grants
    assert {r for r, scope in grants.items() if scope is Scope.ALL} == set(pg_access.SEES_ALL)
    assert {r for r, scope in grants.items() if scope is Scope.OWN} == set(pg_access.OWN_SCOPE)
    # the roles limited to their own orders have a policy on every table hanging off one
    for table in ("orders", "order_history", "visit", "work_entry", "message"):
        named = {r for p in pg_access.OWN_ROWS[table] for r in p.roles}
        assert set(pg_access.OWN_SCOPE) <= named, table
