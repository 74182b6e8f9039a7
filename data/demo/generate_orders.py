"""Regenerate data/demo/orders.csv (deterministic): `python data/demo/generate_orders.py`.

The demo set is anchored at 27.11.2026 18:00 Moscow time; `fsm demo` shifts every date by
whole days so the newest order is from today.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
ANCHOR = datetime(2026, 11, 27, 18, 0)

DESCRIPTIONS = {
    "air conditioner": [
        "Прекращается ток воздуха из устройства",
        "Течёт вода из внутреннего блока на витрину",
        "Кондиционер не охлаждает, наружный блок не запускается",
        "Сильный шум и вибрация при работе наружного блока",
        "Плановое ТО: чистка фильтров и теплообменника",
        "Ошибка U4 на дисплее внутреннего блока",
        "Неприятный запах при включении кондиционера",
    ],
    "pump": [
        "Помпа не откачивает конденсат, капает с потолка у кассы",
        "Срабатывает аварийный поплавок дренажной помпы",
    ],
    "generator": [
        "ДГУ не запустился при пропадании сети",
        "Плановое ТО ДГУ (250 моточасов)",
        "Низкий уровень охлаждающей жидкости, предупреждение на панели",
        "Разряжена стартерная АКБ, генератор не заводится",
        "Течь топлива из-под генератора",
    ],
    "fuel dispenser": [
        "ТРК не отпускает топливо, ошибка E-12",
        "Недолив топлива на ТРК, жалобы клиентов",
        "Не работает табло цены на ТРК",
        "Поверка ТРК по графику",
    ],
    "tank": [
        "Датчик уровня в резервуаре показывает некорректные данные",
        "Запах топлива у горловины резервуара",
    ],
    "camera": [
        "Нет изображения с камеры над островком",
        "Камера ночью показывает засвеченную картинку",
    ],
    "access control": [
        "Турникет не пропускает по картам сотрудников",
        "Турникет заблокирован в открытом положении",
    ],
    "lock": [
        "Замок серверной не удерживает дверь",
        "Дверь не открывается по кнопке выхода",
    ],
    "chiller": [
        "Чиллер уходит в аварию по высокому давлению",
        "Плановый осмотр чиллера перед зимним периодом",
    ],
    "video recorder": [
        "Видеорегистратор не пишет архив с трёх камер",
        "Переполнен диск видеорегистратора, архив 2 дня вместо 30",
    ],
    "refrigerator": [
        "Температура в холодильной камере +9 °C вместо +2 °C",
        "Обмерзает испаритель холодильной камеры",
    ],
    "ventilation": [
        "Не работает вытяжка в печном цехе",
        "Посторонний шум в вентиляторе вытяжки",
    ],
    "site": [
        "Не работает освещение входной группы",
        "Протечка с потолка в торговом зале после дождя",
        "Заклинило замок входной двери, магазин не открыть",
    ],
}

TECHNICIANS = {
    "air conditioner": ["E-01", "E-02", "E-09"],
    "refrigerator": ["E-01", "E-02", "E-09"],
    "chiller": ["E-09", "E-01"],
    "generator": ["E-03", "E-04", "E-10"],
    "fuel dispenser": ["E-07", "E-10"],
    "tank": ["E-07"],
    "camera": ["E-05", "E-06"],
    "access control": ["E-05", "E-06", "E-11"],
    "lock": ["E-11", "E-05", "E-08"],
    "video recorder": ["E-06", "E-05"],
    "ventilation": ["E-08", "E-11", "E-02"],
    "pump": ["E-02", "E-08"],
    "site": ["E-11", "E-08"],
}
CREWS = {"generator": "B-DGU", "access control": "B-SKUD", "chiller": "B-HOLOD"}
SLA_HOURS = {"low": 120, "normal": 48, "high": 8, "critical": 4}


def pick_stage(rng: random.Random, age_days: float) -> str:
    if age_days > 10:
        table = [("closed", 70), ("done", 10), ("cancelled", 8), ("in_progress", 5), ("on_hold", 7)]
    elif age_days > 3:
        table = [
            ("done", 35),
            ("closed", 20),
            ("in_progress", 20),
            ("on_hold", 10),
            ("assigned", 10),
            ("cancelled", 5),
        ]
    else:
        table = [("new", 30), ("assigned", 25), ("en_route", 15), ("in_progress", 20), ("done", 10)]
    stages, weights = zip(*table, strict=True)
    return rng.choices(stages, weights)[0]


def main() -> None:
    rng = random.Random(20261127)
    with (HERE / "objects.csv").open(encoding="utf-8") as f:
        objects = list(csv.DictReader(f))
    with (HERE / "contacts.csv").open(encoding="utf-8") as f:
        contacts = list(csv.DictReader(f))
    equipment = [o for o in objects if o["kind"] != "site"] + [
        o for o in objects if o["kind"] == "site" and o["customer"] in ("C-SMT",)
    ]
    rows = []
    for i in range(90):
        age = rng.random() ** 1.6 * 45 if i >= 8 else rng.random() * 0.9
        created = ANCHOR - timedelta(days=age)
        created = created.replace(second=0, microsecond=0)
        if created.hour < 7:
            created = created.replace(hour=7 + created.hour)
        obj = rng.choice(equipment)
        kind = obj["kind"]
        criticality = rng.choices(["normal", "high", "low", "critical"], [60, 25, 10, 5])[0]
        stage = pick_stage(rng, (ANCHOR - created).total_seconds() / 86400)
        customer_contacts = [c for c in contacts if c["customer"] == obj["customer"]]
        crew = CREWS.get(kind) if rng.random() < 0.3 else None
        assignee = "" if stage in ("new", "cancelled") else rng.choice(TECHNICIANS[kind])
        if stage == "cancelled" and rng.random() < 0.5:
            assignee = rng.choice(TECHNICIANS[kind])
        max_hours = (ANCHOR - created).total_seconds() / 3600 - 0.5
        sla_hours = SLA_HOURS[criticality]
        late = rng.random() < 0.15
        work_hours = ""
        if stage in ("done", "closed"):
            hours = sla_hours * (rng.uniform(1.1, 1.8) if late else rng.uniform(0.15, 0.9))
            work_hours = f"{min(hours, max_hours * 0.7):.1f}"
        planned = ""
        if stage in ("assigned", "en_route"):
            start = created + timedelta(hours=rng.choice([2, 3, 4, 20, 24, 26]))
            planned = start.replace(minute=0).strftime("%d.%m.%Y %H:%M")
        rows.append(
            {
                "external_id": f"DEMO-{i + 1:03d}",
                "created_at": created.strftime("%d.%m.%Y %H:%M"),
                "customer": obj["customer"],
                "object": obj["external_id"],
                "contact": rng.choice(customer_contacts)["external_id"]
                if customer_contacts
                else "",
                "description": rng.choice(DESCRIPTIONS[kind]),
                "criticality": criticality,
                "stage": stage,
                "assignee": assignee if not (crew and stage != "new") or rng.random() < 0.5 else "",
                "crew": crew if stage not in ("new",) and crew else "",
                "planned_start": planned,
                "work_hours": work_hours,
            }
        )
    rows.sort(key=lambda r: datetime.strptime(r["created_at"], "%d.%m.%Y %H:%M"))
    with (HERE / "orders.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
