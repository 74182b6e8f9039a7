"""The demo data set: a St. Petersburg service company, its customers, objects and orders.

The CSV files in ``data/demo`` are dated around 27.11.2026; loading shifts every date by
whole days so that the newest order is from today, and replays each order's life through
the order service with the clock set to each step, so the history, SLA deadlines and
timestamps are exactly what real use would have produced.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from fsm_core import clock
from fsm_core.errors import InvalidInput
from fsm_core.models import Company, Order
from fsm_core.services import objects, orders, parties
from fsm_core.services import settings as company_settings
from fsm_core.timeparse import parse_datetime, zone

ANCHOR = datetime(2026, 11, 27, 18, 0, tzinfo=zone("Europe/Moscow"))
DISPATCHER = "Орлова В. П."

# the stages an order passes through to reach each stage, in order
PATHS = {
    "new": [],
    "assigned": ["assigned"],
    "en_route": ["assigned", "en_route"],
    "in_progress": ["assigned", "en_route", "in_progress"],
    "on_hold": ["assigned", "en_route", "in_progress", "on_hold"],
    "done": ["assigned", "en_route", "in_progress", "done"],
    "closed": ["assigned", "en_route", "in_progress", "done", "closed"],
    "cancelled": ["cancelled"],
}


def default_directory() -> Path:
    """``data/demo`` of the source tree this package runs from."""
    return Path(__file__).resolve().parent.parent / "data" / "demo"


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    shift_days: int = 0


def _rows(directory: Path, name: str) -> Iterator[dict[str, str]]:
    path = directory / name
    if not path.exists():
        raise InvalidInput(f"demo data file {path} is missing")
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield {k: (v.strip() if v else "") for k, v in row.items()}


def _none(value: str) -> str | None:
    return value or None


def load_demo(*, session: Session, directory: Path | None = None) -> DemoSummary:
    """Load the demo set into an empty database, in the caller's transaction."""
    directory = directory or default_directory()
    if (
        session.exec(select(Company.id)).first() is not None
        or session.exec(select(Order.id)).first() is not None
    ):
        raise InvalidInput(
            "the database already holds data; demo data goes into an empty database",
            hint="use --db to name a new database file",
        )
    now = clock.now()
    shift = timedelta(days=math.floor((now - ANCHOR) / timedelta(days=1)))
    tz = ANCHOR.tzinfo
    summary = DemoSummary(shift_days=shift.days)

    company_settings.set_value(session=session, key="company_name", value="ООО «Сервис-Север»")
    company_settings.set_value(session=session, key="company_phone", value="+7 812 600-10-10")

    companies: dict[str, int] = {}
    for row in _rows(directory, "companies.csv"):
        companies[row["external_id"]] = parties.create_company(
            session=session, data={k: _none(v) for k, v in row.items()}
        ).id
    contacts: dict[str, int] = {}
    for row in _rows(directory, "contacts.csv"):
        data: dict[str, Any] = {k: _none(v) for k, v in row.items() if k != "customer"}
        data["company_id"] = companies[row["customer"]]
        contacts[row["external_id"]] = parties.create_contact(session=session, data=data).id
    employees: dict[str, Any] = {}
    for row in _rows(directory, "employees.csv"):
        data = {k: _none(v) for k, v in row.items()}
        data["skills"] = row["skills"].split(";") if row["skills"] else []
        employees[row["external_id"]] = parties.create_employee(session=session, data=data)
    crews: dict[str, int] = {}
    for row in _rows(directory, "crews.csv"):
        crews[row["external_id"]] = parties.create_crew(
            session=session,
            data={
                "name": row["name"],
                "external_id": row["external_id"],
                "leader_id": employees[row["leader"]].id if row["leader"] else None,
                "member_ids": [employees[m].id for m in row["members"].split(";") if m],
            },
        ).id
    for row in _rows(directory, "work_types.csv"):
        objects.create_work_type(session=session, data={k: _none(v) for k, v in row.items()})
    object_ids: dict[str, int] = {}
    for row in _rows(directory, "objects.csv"):
        data = {k: _none(v) for k, v in row.items() if k not in ("customer", "parent")}
        data["customer_id"] = companies[row["customer"]]
        data["parent_id"] = object_ids[row["parent"]] if row["parent"] else None
        object_ids[row["external_id"]] = objects.create_object(session=session, data=data).id

    count = 0
    for row in _rows(directory, "orders.csv"):
        created = parse_datetime(row["created_at"], tz=tz, field="created_at") + shift
        planned = (
            parse_datetime(row["planned_start"], tz=tz, field="planned_start") + shift
            if row["planned_start"]
            else None
        )
        assignee = employees[row["assignee"]] if row["assignee"] else None
        _replay_order(
            session,
            row=row,
            created=min(created, now),
            planned=planned,
            now=now,
            customer_id=companies[row["customer"]],
            object_id=object_ids[row["object"]] if row["object"] else None,
            contact_id=contacts[row["contact"]] if row["contact"] else None,
            assignee_id=assignee.id if assignee else None,
            technician=assignee.short_name if assignee else DISPATCHER,
            crew_id=crews[row["crew"]] if row["crew"] else None,
        )
        count += 1
    summary.counts = {
        "customers": len(companies),
        "contacts": len(contacts),
        "employees": len(employees),
        "crews": len(crews),
        "objects": len(object_ids),
        "orders": count,
    }
    return summary


def _replay_order(
    session: Session,
    *,
    row: dict[str, str],
    created: datetime,
    planned: datetime | None,
    now: datetime,
    customer_id: int,
    object_id: int | None,
    contact_id: int | None,
    assignee_id: int | None,
    technician: str,
    crew_id: int | None,
) -> None:
    with clock.frozen(created):
        order = orders.create_order(
            session=session,
            data={
                "customer_id": customer_id,
                "object_id": object_id,
                "contact_id": contact_id,
                "description": row["description"],
                "criticality": row["criticality"],
                "external_id": row["external_id"],
                "planned_start": planned,
                "planned_end": planned + timedelta(hours=2) if planned else None,
                "source": "import",
            },
            actor=DISPATCHER,
        )
    path = PATHS[row["stage"]]
    if not path:
        return
    span = timedelta(hours=float(row["work_hours"])) if row["work_hours"] else (now - created) * 0.8
    steps = {
        "assigned": min(timedelta(minutes=20), span * 0.1),
        "en_route": span * 0.3,
        "in_progress": span * 0.5,
        "on_hold": span * 0.8,
        "done": span,
        "closed": span + min(timedelta(hours=20), (now - created - span) * 0.5),
        "cancelled": min(timedelta(hours=3), span * 0.2),
    }
    for stage in path:
        at = min(created + steps[stage], now)
        with clock.frozen(at):
            if stage == "assigned" or (stage == "cancelled" and (assignee_id or crew_id)):
                orders.assign_order(
                    session=session,
                    order_id=order.id,
                    assignee_id=assignee_id,
                    crew_id=crew_id,
                    actor=DISPATCHER,
                )
                if stage == "assigned":
                    continue
            actor = DISPATCHER if stage in ("closed", "cancelled", "on_hold") else technician
            orders.move_order(session=session, order_id=order.id, stage=stage, actor=actor)
