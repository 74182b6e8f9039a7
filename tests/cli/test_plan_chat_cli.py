"""`fsm plan`, `fsm chat` and `fsm users` end to end on the demo company, on both back-ends.

The clock is frozen on Thursday 26.11.2026 12:00 (Moscow): the demo plans visits for that
day and Friday 27.11, some of them clashing on purpose.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.cli_runner import Fsm


@pytest.fixture
def demo(with_demo, db_url):
    return Fsm(db_url, columns=120, stderr=True)


def test_the_demo_day_shows_visits_and_every_kind_of_conflict(demo):
    day = demo.json("plan", "day", "26.11.2026")
    people = {p["employee"]: p for p in day["people"]}
    petrov = people["Петров А. С."]["days"][0]
    assert len(petrov["visits"]) == 3
    assert petrov["work_minutes"] == 9 * 60
    kinds = {c["kind"] for c in day["conflicts"]}
    assert {"overlap", "travel", "day_off", "outside_hours"} <= kinds
    leave = next(c for c in day["conflicts"] if c["kind"] == "day_off")
    assert leave["employee"] == "Павлова Н. И."
    assert leave["message"].endswith("falls on time off: leave")
    assert people["Волков С. А."]["days"][0]["shifts"]  # 2/2 shift, on today
    assert "Орлова В. П." not in people  # the dispatcher has no working hours

    text = demo("plan", "day", "26.11.2026")
    assert "Plan for Thu 26.11.2026" in text
    assert "overlap: " in text
    assert "conflicts: " in text
    assert all(len(line) <= 120 for line in text.splitlines())
    crew_day = demo.json("plan", "day", "27.11.2026", "--employee", "Соколов Д. А.")
    (sokolov,) = crew_day["people"]
    assert len(sokolov["days"][0]["visits"]) == 2  # his own and his crew's
    assert any(c["kind"] == "travel" for c in sokolov["days"][0]["conflicts"])


def test_week_conflicts_queue_free_and_nearest(demo):
    week = demo.json("plan", "week", "26.11.2026")
    assert (week["first_day"], week["last_day"]) == ("2026-11-23", "2026-11-29")
    assert all(len(p["days"]) == 7 for p in week["people"])
    text = demo("plan", "week")
    assert "Week 23.11–29.11.2026" in text

    conflicts = demo.json("plan", "conflicts", "--days", "2")
    assert {c["kind"] for c in conflicts} >= {"overlap", "travel", "day_off"}
    assert conflicts == sorted(conflicts, key=lambda c: c["start"])

    queue = demo.json("plan", "queue", "-n", "0")
    dues = [q["next_due"] for q in queue if q["next_due"]]
    assert dues == sorted(dues)
    ahead = {  # a visit that is over does not take its order off the queue
        v["number"]
        for p in demo.json("plan", "week")["people"]
        for d in p["days"]
        for v in d["visits"]
        if v["end"] > "2026-11-26T09:00:00+00:00"
    }
    assert ahead
    assert not ahead & {q["number"] for q in queue}
    assert "Unscheduled orders" in demo("plan", "queue")

    free = demo.json("plan", "free", "27.11.2026", "--length", "3h")
    assert free
    assert all(s["minutes"] >= 180 for s in free)
    assert "Павлова Н. И." not in {s["employee"] for s in free}  # on leave
    nearest = demo.json(
        "plan", "nearest", "Турникет PERCo TTR-10 (главный вход)", "27.11.2026 15:00"
    )
    assert nearest[0]["free"] is True
    assert nearest[0]["distance_km"] is not None


def test_add_move_and_remove_a_visit(demo):
    number = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Не включается", user="Орлова В. П.")
    number = number.strip().splitlines()[0]
    added = demo.json("plan", "add", number, "Иванов К. П.", "27.11.2026 10:00", "90m")
    assert (added["employee"], added["number"]) == ("Иванов К. П.", number)
    order = demo.json("orders", "show", number)
    assert (order["assignee"], order["stage"]) == ("Иванов К. П.", "assigned")
    assert order["planned_start"] == "2026-11-27T07:00:00+00:00"
    report = demo("plan", "move", f"#{added['id']}", "27.11.2026 16:00")
    assert "Moved visit" in report
    moved = demo.json("plan", "move", number, "--to", "Козлов А. Н.")
    assert (moved["employee"], moved["start"]) == ("Козлов А. Н.", "2026-11-27T13:00:00+00:00")
    assert demo.json("orders", "show", number)["assignee"] == "Козлов А. Н."
    history = demo.json("orders", "history", number)
    visits = [h for h in history if h["field"] == "visit"]
    assert len(visits) == 3
    assert visits[0]["actor"] == "Орлова В. П."  # the demo's default user
    assert demo("plan", "remove", number).startswith(f"Removed visit #{added['id']}")
    assert demo.json("orders", "show", number)["planned_start"] is None
    assert demo("plan", "remove", number, code=1) == f"Error: order {number} has no visits"
    assert "no employee or crew matches" in demo(
        "plan", "add", number, "Никто", "27.11.2026 10:00", code=1
    )
    assert "cannot read" in demo("plan", "add", number, "Иванов К. П.", "когда-нибудь", code=1)


def test_a_garbage_start_is_refused_and_nothing_is_planned(demo):
    number = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Не включается").split()[0]
    for bad in ("10:0009:00", "25:00", "10:60", "31.02.2026 10:00", "1.1.1"):
        line = demo("plan", "add", number, "Иванов К. П.", bad, "1h", code=1)
        assert line.startswith(f"Error: start: cannot read time '{bad}'"), line
        line = demo("plan", "add", number, "Иванов К. П.", "27.11.2026 10:00", bad, code=1)
        assert line.startswith(f"Error: end: cannot read time '{bad}'"), line
    order = demo.json("orders", "show", number)
    assert (order["planned_start"], order["assignee"]) == (None, None)
    assert not [h for h in demo.json("orders", "history", number) if h["field"] == "visit"]


def test_a_visit_in_the_past_needs_allow_past(demo):
    number = demo("orders", "create", "-c", "СМ-Трейд", "-d", "Не включается").split()[0]
    # the clock says Thursday 26.11.2026 12:00 in Moscow
    line = demo("plan", "add", number, "Иванов К. П.", "10:09", "1h", code=1)
    assert line == (
        "Error: start: 26.11.2026 10:09 is in the past; nothing planned "
        "(add --allow-past to plan it)"
    )
    assert demo.json("orders", "show", number)["planned_start"] is None
    near = demo.json("plan", "add", number, "Иванов К. П.", "11:50", "1h")  # "now", near enough
    assert near["start"] == "2026-11-26T08:50:00+00:00"
    line = demo("plan", "move", f"#{near['id']}", "25.11.2026 10:00", code=1)
    assert "25.11.2026 10:00 is in the past" in line
    moved = demo.json("plan", "move", f"#{near['id']}", "25.11.2026 10:00", "--allow-past")
    assert moved["start"] == "2026-11-25T07:00:00+00:00"
    late = demo.json("plan", "add", number, "Петров А. С.", "10:09", "1h", "--allow-past")
    assert late["start"] == "2026-11-26T07:09:00+00:00"


def test_working_hours_time_off_and_holidays(demo):
    demo(
        "plan", "hours", "Иванов К. П.", "Mon-Thu 10-19", "fri 10:00-16:00", "--from", "30.11.2026"
    )
    (ivanov,) = demo.json("plan", "hours", "Иванов К. П.")
    assert ivanov["hours"] == ["Mon–Fri 09:00–18:00", "Mon–Thu 10:00–19:00", "Fri 10:00–16:00"]
    demo("plan", "time-off", "add", "Иванов К. П.", "03.12.2026", "04.12.2026", "--kind", "sick")
    (off,) = [t for t in demo.json("plan", "time-off", "list") if t["employee"] == "Иванов К. П."]
    assert off["kind"] == "sick"
    demo("plan", "holiday", "add", "31.12.2026", "Предновогодний день")
    assert {"day": "2026-12-31", "name": "Предновогодний день"} in demo.json(
        "plan", "holiday", "list"
    )
    week = demo.json("plan", "week", "03.12.2026", "--employee", "Иванов К. П.")
    days = week["people"][0]["days"]
    assert [d["work_minutes"] for d in days] == [540, 540, 540, 0, 0, 0, 0]  # sick Thu, Fri
    assert "unknown day" in demo("plan", "hours", "Иванов К. П.", "someday 9-18", code=1)


def test_chats_unread_forward_and_search(demo):
    before = demo.json("chat", "list", "--unread")
    assert before
    total = sum(r["unread"] for r in before)
    his = demo.json("orders", "list", "--limit", "0", user="Иванов К. П.")
    assert {r["number"] for r in demo.json("chat", "list", user="Иванов К. П.")} <= {
        o["number"] for o in his
    }  # a technician's chats are his orders'
    number = next(o["number"] for o in his if o["stage_code"] == "in_progress")
    text = demo("chat", "list", "--unread")
    assert f"Messages {total}" in text
    demo.json("chat", "show", number)  # reading marks the chat read
    after = demo.json("chat", "list", "--unread")
    assert number not in {r["number"] for r in after}

    both = demo.json("chat", "send", number, "Мастер будет через час", "--also-customer")
    assert both["channels"] == ["team", "customer"]
    sent = demo.json("chat", "send", number, "Выезжаю, буду через час", user="Иванов К. П.")
    assert sent["channels"] == ["team"]
    unread = {r["number"]: r for r in demo.json("chat", "list", "--unread")}
    assert unread[number]["unread_team"] == 1  # Ivanov's; her own does not count
    other = demo.json("chat", "list")[0]["number"]
    forwarded_id = demo("chat", "forward", str(sent["ids"][0]), other, "--channel", "customer")
    messages = demo.json("chat", "show", other, "--channel", "customer")
    copy = next(m for m in messages if m["id"] == int(forwarded_id.split()[0]))
    assert copy["forwarded_from"]["number"] == number
    assert copy["forwarded_from"]["author"] == "Иванов К. П."
    assert "forwarded from Иванов К. П." in demo("chat", "show", other)
    found = demo.json("chat", "search", "ВЫЕЗЖАЮ")
    assert found[0]["text"] == "Выезжаю, буду через час"

    assert demo("chat", "send", number, "В команду", user="smirnova", code=1).startswith(
        "Error: Смирнова Ольга Викторовна is the customer's contact"
    )
    assert demo("chat", "list", user="Сидоров", code=1) == (
        "Error: no user matches 'Сидоров' (see `fsm users list`; add one with `fsm users create`)"
    )


def test_users(demo):
    listed = {u["login"]: u for u in demo.json("users", "list")}
    assert listed["orlova"]["roles"] == ["admin", "dispatcher"]
    assert listed["orlova"]["os_login"] or listed["orlova"]["db_login"]  # the test's account
    assert listed["ivanov"]["roles"] == ["technician"]
    assert listed["ivanov"]["employee"] == "Иванов К. П."
    assert listed["smirnova"]["kind"] == "customer"
    demo("users", "create", "bench", "--name", "Скрипт")
    assert demo.json("users", "me", user="bench")["display_name"] == "Скрипт"
    assert demo("users", "me").strip() == "Орлова В. П. (orlova: admin, dispatcher)"
    assert demo("users", "me", user="bench").strip() == (
        "Орлова В. П. on behalf of Скрипт (bench: dispatcher)"
    )
    # a dispatcher may not act on behalf of anyone
    assert demo("users", "me", user="ivanov", code=None).strip() == (
        "Орлова В. П. on behalf of Иванов К. П. (ivanov: technician)"
    )
    assert "already has a user" in demo("users", "create", "k", "-e", "Иванов К. П.", code=1)


def test_watch_prints_a_message_sent_from_another_process(demo, db_url):
    env = dict(os.environ, FSM_DATABASE_URL=db_url, FSM_LANG="en")
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fsm_cli",
            "chat",
            "watch",
            "--json",
            "--count",
            "1",
            "--timeout",
            "20",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Watching" in watcher.stderr.readline()  # it listens now
        number = demo.json("chat", "list", user="Петров А. С.")[0]["number"]
        sender = subprocess.run(
            [
                sys.executable,
                "-m",
                "fsm_cli",
                "--as",
                "Петров А. С.",
                "chat",
                "send",
                number,
                "Я на месте",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sender.returncode == 0, sender.stderr
        out, err = watcher.communicate(timeout=20)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    (line,) = out.strip().splitlines()
    message = json.loads(line)
    assert (message["number"], message["author"], message["text"]) == (
        number,
        "Петров А. С.",
        "Я на месте",
    )


def test_an_empty_channel_is_named_and_the_other_counted(demo):
    number = demo.json("orders", "create", "--object", "СМТ-000114", "-d", "Течёт")["number"]
    assert demo("chat", "show", number, "--keep-unread").strip() == f"No messages on {number} yet."
    demo("chat", "send", number, "Выезжаю")
    demo("chat", "send", number, "Уточните адрес")
    empty = demo("chat", "show", number, "--channel", "customer", "--keep-unread").strip()
    assert empty == f"The customer channel of {number} has no messages (the team channel has 2)."
    assert "Выезжаю" in demo("chat", "show", number, "--channel", "team", "--keep-unread")


def test_nearest_for_an_assigned_order_offers_its_assignee_first(demo):
    """`fsm plan nearest ORDER` puts the order's assignee first when free (as the
    dashboard's plan dialog does), even when someone else is nearer (issue 14)."""
    target = "Турникет PERCo TTR-10 (главный вход)"
    ranked = demo.json("plan", "nearest", target, "27.11.2026 15:00")
    free = [c for c in ranked if c["free"]]
    assert len(free) >= 2
    farther = free[-1]["employee"]  # free, but the farthest of them
    number = demo(
        "orders", "create", "-c", "Невский Плаза", "-o", target, "-d", "Турникет заедает",
        user="Орлова В. П.",
    ).strip().splitlines()[0]  # fmt: skip
    demo("orders", "assign", number, farther, user="Орлова В. П.")
    offered = demo.json("plan", "nearest", number, "27.11.2026 15:00")
    assert offered[0]["employee"] == farther
    assert ranked[0]["employee"] != farther
    shown = demo("plan", "nearest", number, "27.11.2026 15:00")
    assert f"● {farther}" in shown
