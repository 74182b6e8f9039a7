"""The customer's side on the command line: ``fsm ratings list``, the rating and the status
link in ``fsm orders show``, ``fsm orders link`` and ``fsm labels revoke``; on both
back-ends, with the demo company's ratings."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from fsm_core.db import Database
from fsm_core.errors import NotFound
from fsm_core.models import Order, ServiceObject
from fsm_core.models.customer import StatusLink
from fsm_core.services import status_links
from tests.cli_runner import Fsm

MOSCOW = ZoneInfo("Europe/Moscow")
KEYS = {"number", "promptness", "accuracy", "communication", "comment", "rating"}


@pytest.fixture
def demo(with_demo, db_url):
    return Fsm(db_url)


def _mean(r):
    total = Decimal(r["promptness"] + r["accuracy"] + r["communication"])
    return float((total / 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _rated(demo, **wanted):
    return next(
        o
        for o in demo.json("orders", "list", "--limit", "0")
        if all(o[k] == v for k, v in wanted.items())
    )


# --- fsm ratings list ------------------------------------------------------------------


def test_ratings_list_gives_the_scores_their_mean_and_the_comment(demo):
    rows = demo.json("ratings", "list")
    assert len(rows) == 16  # the demo company's
    for row in rows:
        assert row.keys() >= KEYS
        assert all(1 <= row[k] <= 5 for k in ("promptness", "accuracy", "communication"))
        assert row["rating"] == _mean(row)
    assert [r["rated_at"] for r in rows] == sorted((r["rated_at"] for r in rows), reverse=True)
    assert sum(r["rating"] >= 4 for r in rows) >= 12  # mostly happy
    assert any(r["comment"] and "запчастей" in r["comment"] for r in rows)
    lines = demo("ratings", "list", "--nl").splitlines()
    assert [json.loads(line) for line in lines] == rows


def test_ratings_list_filters(demo):
    everything = demo.json("ratings", "list", "--limit", "0")
    unhappy = demo.json("ratings", "list", "--at-most", "3")
    assert unhappy
    assert all(r["rating"] <= 3 for r in unhappy)
    assert {r["number"] for r in unhappy} == {r["number"] for r in everything if r["rating"] <= 3}

    smt = demo.json("ratings", "list", "--customer", "СМ-Трейд")
    assert smt
    assert {r["customer"] for r in smt} == {"ООО «СМ-Трейд»"}
    assert len(smt) < len(everything)

    # a site brings its equipment: both ratings are of the air conditioner in the shop
    shop = demo.json("ratings", "list", "--object", "O-SMT-LIG")
    assert {r["object"] for r in shop} == {"Кассетный кондиционер Haier AB35S2SC2FA"}
    assert len(shop) == 2
    assert demo.json("ratings", "list", "--object", "O-SMT-LIG-AC1") == shop

    petrov = demo.json("ratings", "list", "--employee", "Петров А. С.")
    assert petrov
    assert {r["assignee"] for r in petrov} == {"Петров А. С."}
    both = demo.json("ratings", "list", "-e", "Петров А. С.", "-e", "Иванов К. П.")
    assert len(both) > len(petrov)

    assert len(demo.json("ratings", "list", "--limit", "3")) == 3

    # days are the company's (Moscow) days, both ends included
    day = datetime.fromisoformat(everything[5]["rated_at"]).astimezone(MOSCOW).date()
    text = f"{day:%d.%m.%Y}"
    that_day = demo.json("ratings", "list", "--since", text, "--until", text)
    assert everything[5] in that_day
    assert all(
        datetime.fromisoformat(r["rated_at"]).astimezone(MOSCOW).date() == day for r in that_day
    )
    since = demo.json("ratings", "list", "--since", text, "--limit", "0")
    until = demo.json("ratings", "list", "--until", text, "--limit", "0")
    assert len(since) + len(until) == len(everything) + len(that_day)


def test_ratings_list_refuses_in_one_line(demo):
    assert "since: cannot read date '31.02.2026'" in demo.error(
        "ratings", "list", "--since", "31.02.2026"
    )
    assert demo.error("ratings", "list", "--employee", "Никто Н. Н.") == (
        "no employee matches 'Никто Н. Н.'"
    )
    assert "no customer matches" in demo.error("ratings", "list", "--customer", "ООО «Нет»")
    assert "no object matches" in demo.error("ratings", "list", "--object", "O-NONE")
    for bad in ("0", "6", "x"):
        result = demo.run("ratings", "list", "--at-most", bad, code=2)
        assert "--at-most" in result.stderr


def test_ratings_table_in_english_and_russian(demo):
    en = demo("ratings", "list", "--at-most", "2")
    assert "Rating" in en
    assert "Comment" in en
    assert "1 rating(s)" in en
    assert "1.67" in en
    assert "Приехали без запчастей" in en
    ru = Fsm(demo.url, lang="ru")("ratings", "list", "--at-most", "2")
    assert "Оценка" in ru
    assert "Комментарий" in ru
    assert "Оценок: 1" in ru
    assert "1,67" in ru
    none = Fsm(demo.url, stderr=True).run("ratings", "list", "--at-most", "1")
    assert none.stdout == ""
    assert none.stderr == "No ratings match.\n"


def test_a_technician_sees_the_ratings_of_his_own_orders(demo):
    own = demo.json("ratings", "list", user="ivanov")
    assert own
    assert {r["assignee"] for r in own} == {"Иванов К. П."}
    assert len(own) == len(demo.json("ratings", "list", "-e", "Иванов К. П."))


def test_ratings_list_shows_hostile_names_safely(demo, db_url):
    from tests.cli.test_terminal_safety import HOSTILE, assert_terminal_safe

    customer = demo.json("companies", "create", f"ООО {HOSTILE}")
    demo("objects", "create", str(customer["id"]), f"Сплит {HOSTILE}", "--inventory-number", "HX")
    number = demo("orders", "create", "--object", "HX", "-d", HOSTILE).strip()
    demo("orders", "assign", number, "Петров А. С.")
    for stage in ("en_route", "in_progress", "done"):
        demo("orders", "move", number, stage)
    _rate(db_url, number, 2, 2, 2, "[link=http://evil.example/]жми[/link]")
    text = demo("ratings", "list", "--at-most", "2")
    assert_terminal_safe(text)
    assert "[link=http://evil.example/]жми[/link]" in text  # markup stays text
    shown = demo("orders", "show", number)
    assert_terminal_safe(shown)
    assert "[link=http://evil.example/]жми[/link]" in shown


def _rate(url, number, p, a, c, comment=None):
    from fsm_core.services import ratings

    with Database(url).transaction() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        ratings.rate(
            session=s,
            order_id=order.id,
            promptness=p,
            accuracy=a,
            communication=c,
            comment=comment,
            actor="test",
        )


# --- fsm orders show / link ------------------------------------------------------------


def test_orders_show_gives_the_rating_and_the_status_link(demo):
    rated = demo.json("ratings", "list", "--at-most", "2")[0]
    shown = demo.json("orders", "show", rated["number"])
    assert shown["rating"]["rating"] == rated["rating"]
    for key in ("promptness", "accuracy", "communication", "comment"):
        assert shown["rating"][key] == rated[key]
    url = shown["status_url"]
    assert url.startswith("https://fsm.example/s/")
    assert len(url.rsplit("/", 1)[1]) >= 22
    # made once: the same link every time, and the one `orders link` prints
    assert demo.json("orders", "show", rated["number"])["status_url"] == url
    assert demo("orders", "link", rated["number"]).strip() == url

    text = demo("orders", "show", rated["number"])
    assert "Rating" in text
    assert "1.67 (promptness 1, accuracy 2, communication 2)" in text
    assert "Приехали без запчастей" in text
    assert url in text
    ru = Fsm(demo.url, lang="ru")("orders", "show", rated["number"])
    assert "1,67 (оперативность 1, точность 2, общение 2)" in ru
    assert "Страница статуса" in ru

    new = _rated(demo, stage_code="new")
    fresh = demo.json("orders", "show", new["number"])
    assert fresh["rating"] is None
    assert fresh["status_url"].startswith("https://fsm.example/s/")
    assert "Rating" not in demo("orders", "show", new["number"])


def test_the_link_follows_the_companys_public_address(demo):
    demo("settings", "set", "passport_base_url", "https://service.example.ru/p")
    number = _rated(demo, stage_code="new")["number"]
    loud = Fsm(demo.url, stderr=True)
    printed = loud("orders", "link", number)
    assert printed.startswith("https://service.example.ru/s/")
    assert "Warning" not in printed
    demo("settings", "set", "passport_base_url", "https://fsm.example/p")
    assert "Warning: the link leads to the example address" in loud("orders", "link", number)


def test_replacing_the_link_revokes_the_old_one_at_once(demo, db_url):
    number = _rated(demo, stage_code="in_progress")["number"]
    old = demo("orders", "link", number).strip()
    loud = Fsm(demo.url, stderr=True)
    out = loud("orders", "link", number, "--replace")
    new = out.splitlines()[0]
    assert new != old
    assert new.startswith("https://fsm.example/s/")
    assert "the old one no longer works" in out
    assert demo.json("orders", "show", number)["status_url"] == new
    with Database(db_url).reader() as s:
        assert status_links.order_by_token(session=s, token=new.rsplit("/", 1)[1]).number == number
        with pytest.raises(NotFound):
            status_links.order_by_token(session=s, token=old.rsplit("/", 1)[1])
    assert "no order matches" in demo.error("orders", "link", "99-9999")


def test_a_viewer_sees_a_link_once_made_and_makes_none(demo, db_url):
    admin = Fsm(db_url, stderr=True)
    admin("users", "create", "zritel", "--name", "Наблюдатель", "--role", "viewer")
    number = _rated(demo, stage_code="assigned")["number"]
    shown = demo.json("orders", "show", number, user="zritel")
    assert shown["status_url"] is None
    with Database(db_url).reader() as s:
        order = s.execute(select(Order).where(Order.number == number)).scalar_one()
        assert s.get(StatusLink, order.id) is None  # looking made nothing
    refused = demo.error("orders", "link", number, user="zritel")
    assert refused.startswith(f"order {number} has no status link yet")
    assert "may not change orders" in demo.error(
        "orders", "link", number, "--replace", user="zritel"
    )
    url = demo("orders", "link", number).strip()  # the dispatcher's
    assert demo.json("orders", "show", number, user="zritel")["status_url"] == url
    assert demo("orders", "link", number, user="zritel").strip() == url


def test_a_storekeeper_sees_the_order_without_its_rating(demo, db_url):
    Fsm(db_url)("users", "create", "sklad", "--name", "Кладовщик", "--role", "storekeeper")
    rated = demo.json("ratings", "list", "--limit", "1")[0]
    shown = demo.json("orders", "show", rated["number"], user="sklad")
    assert shown["rating"] is None  # ratings are not a storekeeper's to see
    assert "may not see ratings" in demo.error("ratings", "list", user="sklad")
    ru = Fsm(db_url, lang="ru").error("ratings", "list", user="sklad")
    assert "видеть оценки" in ru


# --- fsm labels revoke -----------------------------------------------------------------


def _token(url, external_id):
    with Database(url).reader() as s:
        return s.execute(
            select(ServiceObject.passport_token).where(ServiceObject.external_id == external_id)
        ).scalar_one()


def test_revoking_a_label_stops_the_old_one_at_once(demo, db_url):
    old = _token(db_url, "O-SMT-LIG-AC1")
    out = Fsm(db_url, stderr=True)("labels", "revoke", "O-SMT-LIG-AC1")
    new = _token(db_url, "O-SMT-LIG-AC1")
    assert new != old
    assert out.splitlines()[0] == f"https://fsm.example/p/{new}"
    assert "the labels printed before no longer work" in out
    refused = demo.error("orders", "create", "--passport", old, "-d", "Снова течёт")
    assert refused.startswith("no object passport matches")
    number = demo("orders", "create", "--passport", new, "-d", "Снова течёт").strip()
    assert (
        demo.json("orders", "show", number)["object"] == "Кассетный кондиционер Haier AB35S2SC2FA"
    )
    # the other objects' labels still work
    assert _token(db_url, "O-SMT-LIG") != new


def test_revoke_refuses_in_one_line(demo, db_url):
    assert demo.error("labels", "revoke", "O-NONE") == "no object matches 'O-NONE'"
    Fsm(db_url)("users", "create", "zritel", "--name", "Наблюдатель", "--role", "viewer")
    before = _token(db_url, "O-SMT-LIG")
    assert "may not print labels" in demo.error("labels", "revoke", "O-SMT-LIG", user="zritel")
    assert _token(db_url, "O-SMT-LIG") == before
    assert demo.run("labels", "revoke", code=2).exit_code == 2
