"""PostgreSQL's own enforcement of who may do what: group roles, GRANTs and row-level
security, so that someone who opens ``psql`` with their own login can do no more than
``fsm`` lets them.

Each database has one *group role* per product role (:class:`fsm_core.access.Role`),
named after the database — ``fsm_<database>_<role>``, e.g. ``fsm_acme_technician`` — so
that two companies on one server never share them. PostgreSQL names are at most 63 bytes:
a database name too long for that is cut and followed by eight hex digits of its SHA-1
(:func:`group_prefix`). Group roles cannot log in; a person's login is a member of the
groups of their user's roles (kept in step by :mod:`fsm_core.services.db_logins`).

:data:`TABLES` says what each group may do to each table, following
:data:`fsm_core.access.PERMISSIONS`; the tables of a technician's and a customer's
restricted rows carry row-level security policies (:data:`OWN_ROWS`): a technician's
login sees the orders they are assigned to, in the crew of, or have a visit of, and what
hangs off those orders; a customer's login their company's orders and the customer channel
of their chats. The policies learn who is connected from ``app_user.db_login`` through
small ``STABLE SECURITY DEFINER`` functions, each evaluated once per statement. The roles
that see every row (admin, dispatcher, storekeeper, viewer) have a policy that is
``true``, which the planner drops, so their queries plan as if there were none. The
database's owner bypasses row-level security (it is not forced), as the migrations and a
superuser do.

:func:`apply` creates what is missing and (re)grants everything; it is idempotent, so the
migration that introduced it (0013) and any later one that adds a table call it, and
``fsm db grants`` runs it after a database was copied or renamed (the copy's grants and
policies name the original's group roles; :func:`apply` moves them to the copy's own).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fsm_core.access import Role

_A, _D, _S, _T, _V, _C = Role  # in the order access.Role declares them
STAFF = (_A, _D, _S, _T, _V)
EVERYONE = (*STAFF, _C)
SEES_ALL = (_A, _D, _S, _V)
"""the roles whose permissions reach every order (scope ALL in fsm_core.access)"""
OWN_SCOPE = (_T, _C)

_WORDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}


@dataclass(frozen=True)
class Grant:
    """What one group may do to one table: some of ``r`` (SELECT), ``a`` (INSERT),
    ``w`` (UPDATE), ``d`` (DELETE); ``columns`` limits SELECT (``read_columns``) or
    UPDATE (``update_columns``) to those columns."""

    privileges: str
    read_columns: tuple[str, ...] = ()
    update_columns: tuple[str, ...] = ()


def _g(spec: Mapping[Role, str | Grant]) -> dict[Role, Grant]:
    return {role: g if isinstance(g, Grant) else Grant(g) for role, g in spec.items()}


def _each(roles: Iterable[Role], privileges: str | Grant) -> dict[Role, str | Grant]:
    return dict.fromkeys(roles, privileges)


def _read(roles: Iterable[Role], **more: str | Grant) -> dict[Role, Grant]:
    """``roles`` read; ``more`` (by role name) grants the others."""
    spec: dict[Role, str | Grant] = _each(roles, "r")
    spec.update({Role(name): g for name, g in more.items()})
    return _g(spec)


_TECHNICIAN_MOVES = (
    "stage_code", "updated_at", "version", "reacted_at", "resolved_at", "closed_at",
    "sla_at_risk_at",
)  # fmt: skip
"""the columns of ``orders`` moving an order between stages changes (orders.move)"""


def _same(tables: Iterable[str], grants: dict[Role, Grant]) -> dict[str, dict[Role, Grant]]:
    return dict.fromkeys(tables, grants)


# What each product role may do to each table (see fsm_core/access.py's PERMISSIONS).
TABLES: dict[str, dict[Role, Grant]] = {
    # the schema's revision: every command checks it
    "alembic_version": _read(EVERYONE),
    # the company's settings, workflow and SLA: admins keep them
    **_same(("setting", "stage", "stage_transition", "sla_policy"), _read(EVERYONE, admin="rawd")),
    # the catalogue, checklists, holidays (a new order's SLA clock runs in them, a
    # customer's too), customers, objects and staff (a customer: their own company's)
    **_same(
        (
            "work_type",
            "checklist_template",
            "checklist_item",
            "checklist_binding",
            "holiday",
            "company",
            "contact",
            "service_object",
            "employee",
            "crew",
            "crew_member",
        ),
        _read(EVERYONE, admin="rawd", dispatcher="rawd"),
    ),
    **_same(("work_pattern", "time_off"), _read(STAFF, admin="rawd", dispatcher="rawd")),
    "map_background": _read(STAFF, admin="rawd"),
    # users and the audit trail: every role appends to the trail and reads its head (the
    # last row's hash, to chain to); only admins read it; nobody but the owner changes it
    **_same(("app_user", "user_role"), _read(EVERYONE, admin="rawd")),
    "audit_log": _g({**_each(EVERYONE, Grant("a", read_columns=("id", "hash"))), _A: "ra"}),
    # orders and what hangs off them
    "orders": _read(
        (_S, _V),
        admin="rawd",
        dispatcher="rawd",
        technician=Grant("rw", update_columns=_TECHNICIAN_MOVES),
        customer="ra",
    ),
    "order_counter": _g({_A: "raw", _D: "raw", _C: "raw"}),
    # the imports that write orders ahead of publishing them (SQLite's way; PostgreSQL
    # publishes from temporary tables and leaves this empty)
    "import_batch": _read(EVERYONE, admin="rawd", dispatcher="rawd"),
    "order_history": _g(_each(EVERYONE, "ra")),
    "visit": _read((_V, _C), admin="rawd", dispatcher="rawd", technician="rw"),
    **_same(
        (
            "work_entry",
            "work_executor",
            "material_use",
            "checklist_answer",
            "order_attachment",
            "execution_record",
        ),
        _read((_S, _V, _C), admin="rawd", dispatcher="rawd", technician="rawd"),
    ),
    "attachment": _read((_S, _V), admin="rawd", dispatcher="ra", technician="ra", customer="ra"),
    # chats
    **_same(
        ("message", "message_attachment"),
        _read((_V,), admin="rawd", dispatcher="rawd", technician="ra", customer="ra"),
    ),
    "chat_read": _g(_each(EVERYONE, "rawd")),
    # stock; the materials used on an order are written off through the ledger by whoever
    # records them (a dispatcher, or the order's technician)
    **_same(("stock_item", "warehouse"), _read(STAFF, admin="rawd", storekeeper="rawd")),
    "stock_balance": _read(
        (_V,), admin="rawd", storekeeper="rawd", dispatcher="raw", technician="raw"
    ),
    "stock_movement": _read(
        (_V,), admin="rawd", storekeeper="rawd", dispatcher="ra", technician="ra"
    ),
    "reservation": _read(
        (_V,), admin="rawd", storekeeper="rawd", dispatcher="rawd", technician="rawd"
    ),
    # GPS
    **_same(("gps_device", "position"), _read((_D, _V, _T), admin="rawd")),
    # the customer's side: an order's status link is made with it (by whoever creates it),
    # a rating given by its customer, and a notification written by whichever change
    # caused it (a technician's move to "en route", a customer's request)
    "status_link": _read((_S, _V, _T), admin="rawd", dispatcher="rawd", customer="ra"),
    "order_rating": _read((_D, _S, _V, _T), admin="rawd", customer="ra"),
    "notification": _read(
        (_S, _V), admin="rawd", dispatcher="rawd", technician="ra", customer="ra"
    ),
}


# --- row-level security ---------------------------------------------------------------

_MINE = "(SELECT mine FROM fsm_rls_orders() AS mine)"
"""the orders the connected technician or customer may see: a set, made once per statement
(a function scan: the same function called in a target list returns its rows one call at
a time, three times slower)"""
_COMPANY = "(SELECT fsm_rls_company())"
_EMPLOYEE = "(SELECT fsm_rls_employee())"
_USER = "(SELECT fsm_rls_user())"


@dataclass(frozen=True)
class Policy:
    """A row-level security policy for some groups: ``using`` filters the rows they see,
    update and delete; ``check`` the rows they insert or update into (``using`` when
    None); ``command`` ALL, SELECT, INSERT, UPDATE or DELETE."""

    name: str
    roles: tuple[Role, ...]
    using: str | None
    check: str | None = None
    command: str = "ALL"


def _order_rows(key: str, *, customer: str | None = None) -> list[Policy]:
    """A table hanging off an order: ``key`` names the order (a column), or is itself
    the condition (a subquery on a table that has its own policies). A technician's rows
    are those of their orders; a customer reads (and adds, where granted) those of
    theirs, limited further by ``customer`` when given."""
    mine = key if " " in key else f"{key} IN {_MINE}"
    theirs = f"{customer} AND {mine}" if customer else mine
    return [
        Policy("fsm_technician", (_T,), mine),
        Policy("fsm_customer_read", (_C,), theirs, command="SELECT"),
        Policy("fsm_customer_add", (_C,), None, theirs, command="INSERT"),
    ]


def _stock_rows() -> list[Policy]:
    mine = f"order_id IN {_MINE}"
    return [
        Policy("fsm_technician_read", (_T,), "true", command="SELECT"),
        Policy("fsm_technician_add", (_T,), None, mine, command="INSERT"),
        Policy("fsm_technician_change", (_T,), mine, mine, command="UPDATE"),
        Policy("fsm_technician_remove", (_T,), mine, command="DELETE"),
    ]


OWN_ROWS: dict[str, list[Policy]] = {
    "orders": [
        Policy("fsm_technician", (_T,), f"id IN {_MINE}"),
        # a customer's order is checked by its content, not looked up: a new one is not
        # among the orders the statement started with
        Policy("fsm_customer_read", (_C,), f"customer_id = {_COMPANY}", command="SELECT"),
        Policy("fsm_customer_add", (_C,), None, f"customer_id = {_COMPANY}", command="INSERT"),
    ],
    "order_history": _order_rows("order_id"),
    "visit": _order_rows("order_id"),
    "work_entry": _order_rows("order_id"),
    # through the work entry, whose own policies apply to the subquery
    "work_executor": _order_rows("work_entry_id IN (SELECT id FROM work_entry)"),
    "material_use": _order_rows("order_id"),
    "checklist_answer": _order_rows("order_id"),
    "order_attachment": _order_rows("order_id"),
    "execution_record": _order_rows("order_id"),
    "message": _order_rows("order_id", customer="channel = 'customer'"),
    "message_attachment": _order_rows("message_id IN (SELECT id FROM message)"),
    "chat_read": [Policy("fsm_own", OWN_SCOPE, f"user_id = {_USER}")],
    # a technician sees all stock (stock.read) and moves it for their own orders only
    "stock_movement": _stock_rows(),
    "reservation": _stock_rows(),
    "position": [Policy("fsm_technician", (_T,), f"employee_id = {_EMPLOYEE}")],
    "status_link": _order_rows("order_id"),
    "order_rating": _order_rows("order_id"),
    "notification": _order_rows("order_id"),
    "company": [Policy("fsm_customer", (_C,), f"id = {_COMPANY}")],
    "contact": [Policy("fsm_customer", (_C,), f"company_id = {_COMPANY}")],
    "service_object": [Policy("fsm_customer", (_C,), f"customer_id = {_COMPANY}")],
    # the company's staff, and the customer's own colleagues (who write in their chats)
    "app_user": [
        Policy(
            "fsm_customer", (_C,), "kind <> 'customer' OR contact_id IN (SELECT id FROM contact)"
        )
    ],
    "user_role": [Policy("fsm_customer", (_C,), f"user_id = {_USER}")],
}
"""Row-level security per table. Every group granted on such a table and named by none
of its policies gets ``fsm_all``: every row."""


def _functions(schema: str) -> list[str]:
    """The functions the policies call: who is connected (the login, or the role a
    superuser ``SET ROLE`` to, so that trying a login out behaves as the login), their
    user, employee, company and orders. ``SECURITY DEFINER`` so that they read the
    tables whole (the owner bypasses row-level security; reading ``orders`` under its
    own policy would recurse); ``STABLE`` and called as ``(SELECT f())`` so that each
    runs once per statement."""
    head = (
        f"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {_quote(schema)}, pg_temp AS $fsm$"
    )
    return [
        "CREATE OR REPLACE FUNCTION fsm_rls_login() RETURNS name LANGUAGE sql STABLE AS $fsm$"
        " SELECT COALESCE(NULLIF(current_setting('role'), 'none'), session_user)::name $fsm$",
        "CREATE OR REPLACE FUNCTION fsm_rls_user() RETURNS integer "
        + head
        + " SELECT id FROM app_user WHERE active AND db_login = fsm_rls_login() $fsm$",
        "CREATE OR REPLACE FUNCTION fsm_rls_employee() RETURNS integer "
        + head
        + " SELECT employee_id FROM app_user WHERE active AND db_login = fsm_rls_login() $fsm$",
        "CREATE OR REPLACE FUNCTION fsm_rls_company() RETURNS integer "
        + head
        + """
        SELECT c.company_id FROM app_user u JOIN contact c ON c.id = u.contact_id
        WHERE u.active AND u.db_login = fsm_rls_login()
          AND EXISTS (SELECT 1 FROM user_role r WHERE r.user_id = u.id AND r.role = 'customer')
        $fsm$""",
        "CREATE OR REPLACE FUNCTION fsm_rls_orders() RETURNS SETOF integer "
        + head
        + """
        WITH me AS (
            SELECT u.id, u.employee_id,
                   (SELECT c.company_id FROM contact c WHERE c.id = u.contact_id) AS company_id,
                   EXISTS (SELECT 1 FROM user_role r
                           WHERE r.user_id = u.id AND r.role = 'technician') AS technician,
                   EXISTS (SELECT 1 FROM user_role r
                           WHERE r.user_id = u.id AND r.role = 'customer') AS customer
            FROM app_user u
            WHERE u.active AND u.db_login = fsm_rls_login()
        ), crews AS (
            SELECT m.crew_id FROM crew_member m JOIN me ON me.technician
            WHERE m.employee_id = me.employee_id
        )
        SELECT o.id FROM orders o JOIN me ON me.customer AND o.customer_id = me.company_id
        UNION
        SELECT o.id FROM orders o JOIN me ON me.technician AND o.assignee_id = me.employee_id
        UNION
        SELECT o.id FROM orders o WHERE o.crew_id IN (SELECT crew_id FROM crews)
        UNION
        SELECT v.order_id FROM visit v JOIN me ON me.technician AND v.employee_id = me.employee_id
        UNION
        SELECT v.order_id FROM visit v WHERE v.crew_id IN (SELECT crew_id FROM crews)
        $fsm$""",
    ]


FUNCTIONS = (
    "fsm_rls_login",
    "fsm_rls_user",
    "fsm_rls_employee",
    "fsm_rls_company",
    "fsm_rls_orders",
)


# --- names ----------------------------------------------------------------------------

NAME_BYTES = 63
"""PostgreSQL's longest identifier (NAMEDATALEN - 1)"""
_LONGEST_ROLE = max(len(r.value) for r in Role)


def group_prefix(database: str) -> str:
    """``fsm_<database>``, or, where ``fsm_<database>_<role>`` would pass 63 bytes, the
    database's name cut short (whole characters) and eight hex digits of its SHA-1."""
    whole = f"fsm_{database}"
    if len(whole.encode()) + 1 + _LONGEST_ROLE <= NAME_BYTES:
        return whole
    digest = hashlib.sha1(database.encode()).hexdigest()[:8]
    room = NAME_BYTES - len("fsm_") - len("_") - len(digest) - 1 - _LONGEST_ROLE
    cut = database.encode()[:room].decode("utf-8", "ignore")
    return f"fsm_{cut}_{digest}"


def group_role(database: str, role: Role | str) -> str:
    """The group role of ``role`` in ``database``: ``fsm_<database>_<role>``."""
    return f"{group_prefix(database)}_{Role(role).value}"


def group_roles(database: str) -> dict[Role, str]:
    return {role: group_role(database, role) for role in Role}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- applying -------------------------------------------------------------------------


@dataclass
class Applied:
    """What :func:`apply` did: the group roles it created, those that are missing
    because the login could not create roles, and roles of other databases it revoked
    privileges from (a copy's)."""

    database: str
    created: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    revoked_stale: list[str] = field(default_factory=list)


def raw_connection(connection: Any) -> Any:
    """The psycopg connection under a SQLAlchemy connection or session (the same
    transaction), or the psycopg connection given."""
    if hasattr(connection, "pgconn"):
        return connection
    if hasattr(connection, "connection") and callable(connection.connection):
        connection = connection.connection()  # a Session
    return connection.connection.driver_connection


def _one(raw: Any, query: Any, params: Any = None) -> Any:
    row = raw.execute(query, params).fetchone()
    return None if row is None else row[0]


def may_create_roles(raw: Any) -> bool:
    """Whether the connected role (``current_user``) may create roles."""
    return bool(
        _one(raw, "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    )


def role_exists(raw: Any, name: str) -> bool:
    return _one(raw, "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)) is not None


def _ids(names: Iterable[str]) -> Any:
    from psycopg import sql

    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _run(raw: Any, statements: list[Any]) -> None:
    """Run ``statements`` (no parameters) in one round trip."""
    from psycopg import sql

    if statements:
        raw.execute(sql.SQL(";\n").join(statements))


@dataclass(frozen=True)
class _Schema:
    """What :func:`apply` reads of the database before it writes."""

    database: str
    schema: str
    columns: dict[str, set[str]]
    sequences: dict[str, list[str]]
    """the sequences that fill each table's columns (serial / identity)"""
    policies: dict[str, list[str]]
    """fsm's policies (named fsm_...) on each table"""

    @property
    def all_sequences(self) -> list[str]:
        return sorted({s for found in self.sequences.values() for s in found})


def _read_schema(raw: Any) -> _Schema:
    database, schema = raw.execute("SELECT current_database(), current_schema()").fetchone()
    columns: dict[str, set[str]] = {}
    for table, column in raw.execute(
        "SELECT c.relname, a.attname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
        (schema,),
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    sequences: dict[str, list[str]] = {}
    for table, sequence in raw.execute(
        "SELECT t.relname, s.relname FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
        " AND d.deptype IN ('a', 'i') AND n.nspname = %s",
        (schema,),
    ).fetchall():
        sequences.setdefault(table, []).append(sequence)
    policies: dict[str, list[str]] = {}
    for table, policy in raw.execute(
        "SELECT tablename, policyname FROM pg_policies WHERE schemaname = %s"
        " AND policyname LIKE 'fsm\\_%%'",
        (schema,),
    ).fetchall():
        policies.setdefault(table, []).append(policy)
    return _Schema(database, schema, columns, sequences, policies)


_GROUP_PATTERN = "^fsm_.+_(" + "|".join(r.value for r in Role) + ")$"


def _granted_groups(raw: Any, schema: str, tables: list[str]) -> list[str]:
    """fsm group roles (by name, unable to log in) holding privileges on these tables:
    this database's, and, in a copy, the original's."""
    rows = raw.execute(
        "SELECT DISTINCT r.rolname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace,"
        " LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee"
        " WHERE n.nspname = %s AND c.relname = ANY(%s) AND NOT r.rolcanlogin"
        " AND r.rolname ~ %s",
        (schema, tables, _GROUP_PATTERN),
    ).fetchall()
    return sorted(r[0] for r in rows)


def _revoke(found: _Schema, tables: list[str], grantees: list[str]) -> list[Any]:
    from psycopg import sql

    if not grantees or not tables:
        return []
    done = [sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(_ids(tables), _ids(grantees))]
    if found.all_sequences:
        done.append(
            sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(
                _ids(found.all_sequences), _ids(grantees)
            )
        )
    return done


def apply(connection: Any) -> Applied:
    """Create this database's group roles where missing (when the connected login may
    create roles), grant them :data:`TABLES`, and (re)create the row-level security
    functions and policies. Run by the tables' owner, in its transaction."""
    from psycopg import sql

    raw = raw_connection(connection)
    found = _read_schema(raw)
    groups = group_roles(found.database)
    applied = Applied(found.database)
    creator = may_create_roles(raw)
    todo: list[Any] = []
    for role, name in groups.items():
        if role_exists(raw, name):
            continue
        if not creator:
            applied.missing.append(name)
            continue
        todo.append(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
        todo.append(
            sql.SQL("COMMENT ON ROLE {} IS {}").format(
                sql.Identifier(name),
                sql.Literal(f"fsm: the {role.value} role of database {found.database}"),
            )
        )
        applied.created.append(name)
    present = {role: name for role, name in groups.items() if name not in applied.missing}
    tables = [t for t in TABLES if t in found.columns]
    ours = sorted(present.values())
    applied.revoked_stale = [g for g in _granted_groups(raw, found.schema, tables) if g not in ours]
    todo += _revoke(found, tables, [*ours, *applied.revoked_stale])
    for role, name in present.items():
        todo += _grants(found, role, name)
    if applied.missing:
        # without every group, row-level security would hide the rows from the missing
        # ones' members: the tables stay as they were until `fsm db grants` completes
        todo += _no_row_security(found, tables)
    else:
        todo += _row_security(found, tables, present)
        if creator:
            todo += _bound_logins(raw, present)
    if present:
        todo.append(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(found.database), _ids(present.values())
            )
        )
    _run(raw, todo)
    return applied


def _grants(found: _Schema, role: Role, group: str) -> list[Any]:
    """The GRANT statements of one group: one per set of privileges held whole, one per
    table and column-limited privilege, one for the sequences it inserts through."""
    from psycopg import sql

    whole: dict[tuple[str, ...], list[str]] = {}
    done: list[Any] = []
    sequences: list[str] = []
    for table, grants in TABLES.items():
        grant = grants.get(role)
        if grant is None or table not in found.columns:
            continue
        words = tuple(
            _WORDS[p]
            for p in grant.privileges
            if not (p == "r" and grant.read_columns) and not (p == "w" and grant.update_columns)
        )
        if words:
            whole.setdefault(words, []).append(table)
        for privilege, limited in (
            ("SELECT", grant.read_columns),
            ("UPDATE", grant.update_columns),
        ):
            present = [c for c in limited if c in found.columns[table]]
            if present:
                done.append(
                    sql.SQL("GRANT {} ({}) ON TABLE {} TO {}").format(
                        sql.SQL(privilege),
                        _ids(present),
                        sql.Identifier(table),
                        sql.Identifier(group),
                    )
                )
        if "a" in grant.privileges:
            sequences += found.sequences.get(table, [])
    for words, tables in whole.items():
        done.append(
            sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(", ".join(words)), _ids(tables), sql.Identifier(group)
            )
        )
    if sequences:
        done.append(
            sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(
                _ids(sorted(sequences)), sql.Identifier(group)
            )
        )
    return done


_NEEDS = {"SELECT": "r", "INSERT": "a", "UPDATE": "w", "DELETE": "d"}


def _drop_policies(found: _Schema, table: str) -> list[Any]:
    from psycopg import sql

    return [
        sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(p), sql.Identifier(table))
        for p in found.policies.get(table, [])
    ]


def _row_security(found: _Schema, tables: list[str], groups: Mapping[Role, str]) -> list[Any]:
    from psycopg import sql

    done: list[Any] = [sql.SQL(s) for s in _functions(found.schema)]
    for function in FUNCTIONS:
        done.append(
            sql.SQL("REVOKE ALL ON FUNCTION {}() FROM PUBLIC").format(sql.Identifier(function))
        )
        if groups:
            done.append(
                sql.SQL("GRANT EXECUTE ON FUNCTION {}() TO {}").format(
                    sql.Identifier(function), _ids(groups.values())
                )
            )
    for table in tables:
        policies = OWN_ROWS.get(table)
        if policies is None:
            continue
        name = sql.Identifier(table)
        done += _drop_policies(found, table)
        done.append(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
        named = {role for p in policies for role in p.roles}
        everything = [
            groups[role] for role in TABLES[table] if role not in named and role in groups
        ]
        if everything:
            done.append(
                sql.SQL("CREATE POLICY fsm_all ON {} TO {} USING (true) WITH CHECK (true)").format(
                    name, _ids(everything)
                )
            )
        for policy in policies:
            needs = _NEEDS.get(policy.command)
            to = [
                groups[r]
                for r in policy.roles
                if r in groups
                and r in TABLES[table]
                and (needs is None or needs in TABLES[table][r].privileges)
            ]
            if not to:
                continue
            text = sql.SQL("CREATE POLICY {} ON {} FOR {} TO {}").format(
                sql.Identifier(policy.name), name, sql.SQL(policy.command), _ids(to)
            )
            if policy.using is not None:
                text += sql.SQL(" USING ({})").format(sql.SQL(policy.using))
            if policy.check is not None:
                text += sql.SQL(" WITH CHECK ({})").format(sql.SQL(policy.check))
            done.append(text)
    return done


def _no_row_security(found: _Schema, tables: list[str]) -> list[Any]:
    from psycopg import sql

    done: list[Any] = []
    for table in tables:
        if table in OWN_ROWS:
            done += _drop_policies(found, table)
            done.append(
                sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(sql.Identifier(table))
            )
    return done


def _bound_logins(raw: Any, groups: Mapping[Role, str]) -> list[Any]:
    """Make the logins bound to active users members of the groups of their roles (a
    database upgraded from a version without groups, or copied): grants only, never a
    login that owns the database or is a superuser."""
    from psycopg import sql

    rows = raw.execute(
        "SELECT u.db_login, array_agg(r.role) FROM app_user u"
        " JOIN user_role r ON r.user_id = u.id"
        " JOIN pg_roles p ON p.rolname = u.db_login"
        " WHERE u.active AND NOT p.rolsuper AND NOT pg_has_role(p.oid, (SELECT datdba"
        "  FROM pg_database WHERE datname = current_database()), 'MEMBER')"
        " GROUP BY u.db_login"
    ).fetchall()
    done: list[Any] = []
    for login, roles in rows:
        wanted = [groups[Role(r)] for r in roles if Role(r) in groups]
        if wanted:
            done.append(sql.SQL("GRANT {} TO {}").format(_ids(wanted), sql.Identifier(login)))
    return done


def remove(connection: Any) -> None:
    """Undo :func:`apply` in this database: policies, row-level security, functions,
    grants; then drop the group roles where no other database still uses them."""
    from psycopg import sql

    raw = raw_connection(connection)
    found = _read_schema(raw)
    tables = [t for t in TABLES if t in found.columns]
    todo = _no_row_security(found, tables)
    todo += [
        sql.SQL("DROP FUNCTION IF EXISTS {}()").format(sql.Identifier(f))
        for f in reversed(FUNCTIONS)
    ]
    groups = [g for g in group_roles(found.database).values() if role_exists(raw, g)]
    grantees = sorted({*groups, *_granted_groups(raw, found.schema, tables)})
    todo += _revoke(found, tables, grantees)
    if grantees:
        todo.append(
            sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(
                sql.Identifier(found.database), _ids(grantees)
            )
        )
    _run(raw, todo)
    if may_create_roles(raw):
        drop_group_roles(raw, found.database)


def drop_group_roles(connection: Any, database: str) -> list[str]:
    """Drop ``database``'s group roles that no database holds privileges for any more
    (after the database itself was dropped, say); the names dropped."""
    from psycopg import errors, sql

    raw = raw_connection(connection)
    dropped = []
    for name in group_roles(database).values():
        if not role_exists(raw, name):
            continue
        try:
            with raw.transaction():
                raw.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
        except errors.DependentObjectsStillExist:
            continue
        dropped.append(name)
    return dropped


# --- people's logins ------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """A PostgreSQL role as fsm sees it."""

    name: str
    can_login: bool
    superuser: bool
    owner: bool
    """whether it owns this database (or is a member of the role that does)"""
    group: bool
    """whether it is an fsm group role (of any database)"""


def login(raw: Any, name: str) -> Login | None:
    """The role called ``name``, or None when there is none."""
    row = raw.execute(
        "SELECT rolcanlogin, rolsuper,"
        " pg_has_role(oid, (SELECT datdba FROM pg_database"
        "  WHERE datname = current_database()), 'MEMBER'),"
        " NOT rolcanlogin AND rolname ~ %s"
        " FROM pg_roles WHERE rolname = %s",
        (_GROUP_PATTERN, name),
    ).fetchone()
    if row is None:
        return None
    return Login(name, bool(row[0]), bool(row[1]), bool(row[2]), bool(row[3]))


def current_database(raw: Any) -> str:
    return str(_one(raw, "SELECT current_database()"))


def present_groups(raw: Any) -> dict[Role, str]:
    """This database's group roles that exist."""
    return {r: g for r, g in group_roles(current_database(raw)).items() if role_exists(raw, g)}


def memberships(raw: Any, name: str) -> set[Role]:
    """The product roles whose group (of this database) ``name`` is a direct member of."""
    groups = {g: role for role, g in group_roles(current_database(raw)).items()}
    rows = raw.execute(
        "SELECT g.rolname FROM pg_auth_members m"
        " JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member"
        " WHERE u.rolname = %s AND g.rolname = ANY(%s)",
        (name, list(groups)),
    ).fetchall()
    return {groups[r[0]] for r in rows}


def set_memberships(raw: Any, name: str, roles: Iterable[Role]) -> tuple[set[Role], set[Role]]:
    """Make ``name`` a member of exactly the groups of ``roles`` (in this database);
    the roles granted and those revoked."""
    from psycopg import sql

    groups = group_roles(current_database(raw))
    wanted = set(roles)
    now = memberships(raw, name)
    granted, revoked = wanted - now, now - wanted
    for role in sorted(granted):
        raw.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(groups[role]), sql.Identifier(name))
        )
    for role in sorted(revoked):
        raw.execute(
            sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(groups[role]), sql.Identifier(name))
        )
    return granted, revoked


def set_can_login(raw: Any, name: str, can: bool) -> None:
    from psycopg import sql

    raw.execute(
        sql.SQL("ALTER ROLE {} {}").format(
            sql.Identifier(name), sql.SQL("LOGIN" if can else "NOLOGIN")
        )
    )


def create_login(raw: Any, name: str, password: str) -> None:
    """Create the login role ``name`` with ``password``. The password is sent as a
    SCRAM-SHA-256 verifier computed here, so neither the statement nor the server's log
    ever holds it in clear."""
    from psycopg import sql

    verifier = raw.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
    raw.execute(
        sql.SQL(
            "CREATE ROLE {} LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
            " PASSWORD {}"
        ).format(sql.Identifier(name), sql.Literal(verifier.decode()))
    )
