"""``fsm work add`` without --start/--end records the planned time of the order's visit,
as the dashboard's work form suggests it (one core default)."""

import json
from datetime import timedelta

from fsm_core import clock
from tests.cli.test_work_cli import fsm
from tests.conftest import NOW


def test_work_add_takes_the_visits_planned_time(with_demo, db_url):
    with clock.frozen(NOW - timedelta(hours=4)):  # taken in at 08:00, before the visit
        number = fsm(
            db_url,
            "orders", "create", "--object", "СМТ-000114", "-d", "Течёт вода",
            user="Орлова В. П.",
        ).stdout.strip()  # fmt: skip
    fsm(db_url, "plan", "add", number, "Иванов К. П.", "26.11.2026 09:30", "11:00",
        "--allow-past", user="Орлова В. П.")  # fmt: skip
    fsm(db_url, "orders", "move", number, "in_progress")
    done = fsm(db_url, "work", "add", number, "--type", "Чистка радиатора испарителя",
               "--executor", "Иванов К. П.")  # fmt: skip
    assert "09:30–11:00" in done.stderr + done.stdout
    shown = json.loads(fsm(db_url, "work", "show", number, "--json").stdout)
    (block,) = shown["blocks"]
    assert block["started_at"].startswith("2026-11-26T06:30")  # 09:30 in Moscow
    assert block["finished_at"].startswith("2026-11-26T08:00")
    # what is given still wins
    fsm(db_url, "work", "add", number, "--type", "Чистка радиатора испарителя",
        "--executor", "Иванов К. П.", "--start", "26.11.2026 11:00")  # fmt: skip
    shown = json.loads(fsm(db_url, "work", "show", number, "--json").stdout)
    assert shown["blocks"][1]["started_at"].startswith("2026-11-26T08:00")
