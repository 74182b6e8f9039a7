"""Each role against each command, through the command line (issue 18 section 2).

The demo company's admin (the test's account is bound to her) acts on behalf of a user of
each role; every command either works or is refused in one line naming the user, the role
and what they may not do, and a refused command changes nothing.
"""

from __future__ import annotations

import pytest

from tests.cli_runner import Fsm

ROLES = {
    "admin": "orlova",  # the demo's admin and dispatcher
    "dispatcher": "disp2",
    "storekeeper": "sklad",
    "technician": "ivanov",
    "viewer": "zritel",
    "customer": "smirnova",  # a contact of ООО «СМ-Трейд»
}

A, D, S, T, V, C = "admin", "dispatcher", "storekeeper", "technician", "viewer", "customer"
EVERYONE = {A, D, S, T, V, C}

# (command, the roles it works for); {own} / {other} are the technician's order and one
# of another customer that he has nothing to do with
COMMANDS: list[tuple[tuple[str, ...], set[str]]] = [
    (("orders", "list"), EVERYONE),  # each sees their own (checked below)
    (("orders", "show", "{own}"), EVERYONE),  # Иванов's order is СМ-Трейд's
    (("orders", "show", "{other}"), {A, D, S, V}),
    (("orders", "history", "{own}"), EVERYONE),
    # the status link is made by those who change orders; the others see it once made
    (("orders", "link", "{own}"), {A, D}),
    (("orders", "link", "{other}", "--replace"), {A, D}),
    (("ratings", "list"), {A, D, T, V, C}),  # a technician's and a customer's own
    # a customer's contact asks from the object's QR passport (fsm serve), not by naming
    # customers: the directory is not theirs to read
    (("orders", "create", "-c", "СМ-Трейд", "-d", "Течёт кран"), {A, D}),
    (("orders", "create", "-c", "Балтийская пекарня", "-d", "Течёт кран"), {A, D}),
    (("orders", "update", "{own}", "--criticality", "low"), {A, D}),
    (("orders", "assign", "{other}", "Петров А. С."), {A, D}),
    (("orders", "move", "{own}", "on_hold"), {A, D, T}),
    (("work", "comment", "{own}", "проверено"), {A, D, T}),
    (("chat", "list"), {A, D, T, V, C}),
    (("chat", "send", "{own}", "Буду в 14:00"), {A, D, T}),  # the team's channel
    (("chat", "send", "{own}", "Спасибо", "--channel", "customer"), {A, D, T, C}),
    (("chat", "send", "{other}", "Спасибо", "--channel", "customer"), {A, D}),
    (("companies", "list"), {A, D, S, T, V}),
    (("companies", "create", "ООО «Новая»"), {A, D}),
    (("employees", "create", "Новиков Олег Ильич"), {A, D}),
    (("stock", "balance"), {A, D, S, T, V}),
    (("stock", "receive", "R410A", "1", "--to", "Центральный склад"), {A, S}),
    (("plan", "day", "26.11.2026"), {A, D, V}),
    (("users", "list"), {A, D, S, T, V}),
    (("users", "create", "newbie", "--role", "viewer"), {A}),
    (("settings", "list"), EVERYONE),
    (("settings", "set", "company_phone", "+7 812 000-00-00"), {A}),
    (("stages", "list"), EVERYONE),
    (("export", "companies", "-o", "{tmp}/companies.csv"), {A, D, S, V}),
    (("labels", "objects", "--customer", "СМ-Трейд", "-o", "{tmp}/labels.pdf"), {A, D}),
    (("labels", "revoke", "O-SMT-NEV"), {A, D}),
    (("gps", "devices", "list"), {A}),
    (("db", "backup", "{tmp}/backup.fsmbak"), {A}),
]


@pytest.fixture
def company(with_demo, db_url, tmp_path):
    admin = Fsm(db_url, stderr=True)
    admin("users", "create", "disp2", "--name", "Диспетчер Два", "--role", "dispatcher")
    admin("users", "create", "sklad", "--name", "Кладовщик", "--role", "storekeeper")
    admin("users", "create", "zritel", "--name", "Наблюдатель", "--role", "viewer")
    orders = admin.json("orders", "list", "--limit", "0")
    own = next(
        o["number"]
        for o in orders
        if o["assignee"] == "Иванов К. П." and o["stage_code"] == "in_progress"
    )
    other = next(
        o["number"]
        for o in orders
        if o["customer"] != "ООО «СМ-Трейд»" and o["stage_code"] == "new"
    )
    return admin, {"own": own, "other": other, "tmp": str(tmp_path)}


def _counts(admin: Fsm) -> tuple[int, int, int]:
    return (
        len(admin.json("orders", "list", "--limit", "0")),
        len(admin.json("companies", "list")),
        len(admin.json("users", "list")),
    )


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_against_each_command(company, role):
    admin, refs = company
    login = ROLES[role]
    outcomes: dict[str, str] = {}
    for args, allowed in COMMANDS:
        argv = [a.format(**refs) for a in args]
        before = _counts(admin)
        result = admin.run(*argv, code=None, user=login)
        shown = " ".join(args)
        if role in allowed:
            if result.exit_code != 0:
                outcomes[shown] = f"refused: {result.stderr.strip()}"
        else:
            lines = result.stderr.strip().splitlines()
            if result.exit_code == 0:
                outcomes[shown] = "allowed"
            elif len(lines) != 1 or not lines[0].startswith("Error: "):
                outcomes[shown] = f"refused oddly: {result.stderr.strip()!r}"
            elif _counts(admin) != before:
                outcomes[shown] = "refused but changed something"
    assert not outcomes, f"{role}: {outcomes}"


def test_lists_show_each_role_its_own(company):
    admin, refs = company
    every = {o["number"] for o in admin.json("orders", "list", "--limit", "0")}
    technician = admin.json("orders", "list", "--limit", "0", user="ivanov")
    assert refs["own"] in {o["number"] for o in technician} < every
    assert all(o["assignee"] == "Иванов К. П." or o["crew"] for o in technician)
    customer = admin.json("orders", "list", "--limit", "0", user="smirnova")
    assert {o["customer"] for o in customer} == {"ООО «СМ-Трейд»"}
    assert {o["number"] for o in admin.json("orders", "list", "--limit", "0", user="zritel")} == (
        every
    )
    # a refusal speaks the user's language
    refused = admin.run("--lang", "ru", "users", "create", "x", code=1, user="ivanov")
    assert refused.stderr.strip() == (
        "Error: Иванов К. П. (техник): нет права управлять пользователями и ролями"
    )


def _rebind(db_url: str, login: str | None, *, to: str | None = None) -> None:
    """Bind the test's own account — its operating-system account on SQLite, its login on
    PostgreSQL — to ``login`` (None: to nobody); ``to``: bind ``login`` to that other
    account instead."""
    from sqlmodel import select

    from fsm_core.db import Database
    from fsm_core.identity import connected_account
    from fsm_core.models import AppUser

    database = Database(db_url)
    try:
        account = connected_account(database)
        field = "db_login" if account.kind == "db" else "os_login"
        with database.transaction() as s:
            for user in s.exec(select(AppUser).where(getattr(AppUser, field).is_not(None))):
                setattr(user, field, None)
            s.flush()
            if login is not None:
                user = s.exec(select(AppUser).where(AppUser.login == login)).one()
                setattr(user, field, to or account.name)
    finally:
        database.dispose()


def test_who_acts_is_the_bound_user_and_only_an_admin_acts_for_others(company, db_url):
    _admin, refs = company
    _rebind(db_url, "ivanov")
    technician = Fsm(db_url, stderr=True)
    assert technician("users", "me").strip() == "Иванов К. П. (ivanov: technician)"
    assert refs["own"] in {o["number"] for o in technician.json("orders", "list")}
    refused = technician.run("users", "me", code=1, user="orlova")
    assert refused.stderr.strip() == (
        "Error: Иванов К. П. (technician) may not act on behalf of others"
    )
    # bound to someone else, the account is refused in one line saying what to do
    _rebind(db_url, "orlova", to="somebody-else")
    refused = Fsm(db_url, stderr=True).run("orders", "list", code=1)
    assert "is bound to no user of this database" in refused.stderr
    assert "fsm users bind" in refused.stderr
    # bound to a deactivated user, likewise
    _rebind(db_url, "petrov")
    from fsm_core.db import Database
    from fsm_core.services import users

    database = Database(db_url)
    try:
        with database.transaction() as s:
            petrov = users.find_user(session=s, name="petrov")
            users.set_active(session=s, user_id=petrov.id, active=False)
    finally:
        database.dispose()
    refused = Fsm(db_url, stderr=True).run("orders", "list", code=1)
    assert "Петров А. С. (petrov), who is deactivated" in refused.stderr
