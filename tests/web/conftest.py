"""The customer's pages: ``fsm serve`` as a process on the test's database, and a world
with a label, an order, and its status link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from fsm_core import clock
from fsm_core.services import customer_pages, execution, objects, orders, settings
from tests.gps.conftest import FsmServer, start_fsm_server

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@pytest.fixture
def fsm_server(db_url: str, tmp_path: Path) -> Iterator[FsmServer]:
    with start_fsm_server(db_url, tmp_path / "serve.log") as server:
        yield server


def setup_company(world, **extra: str) -> None:
    values = {
        "company_name": "ООО «Холодок-Сервис»",
        "company_phone": "+7 812 555-12-34",
        "company_language": "ru",
        "passport_base_url": "https://service.example.ru/p",
        **extra,
    }
    with world.db.transaction() as s:
        for key, value in values.items():
            settings.set_value(session=s, key=key, value=value)


def passport_token(world, obj=None) -> str:
    return (obj or world.ac).passport_token


def status_token(world, order_id: int) -> str:
    with world.db.transaction() as s:
        return customer_pages.status_token(session=s, order_id=order_id)


def finish(world, order) -> None:
    """The order done three hours after it came, with work recorded (so that it has an
    act)."""
    came = order.created_at
    with clock.frozen(came + timedelta(hours=3)), world.db.transaction() as s:
        work = objects.create_work_type(
            session=s, data={"name": "Диагностика кондиционера", "price": "2 500"}
        )
        execution.add_work(
            session=s,
            order_id=order.id,
            work_type_id=work.id,
            started_at=came + timedelta(hours=1),
            finished_at=came + timedelta(hours=2),
            executors=[execution.ExecutorInput(world.ivanov.id)],
            actor="tester",
            quantity=Decimal(1),
        )
    with clock.frozen(came + timedelta(hours=3)), world.db.transaction() as s:
        orders.assign_order(
            session=s, order_id=order.id, assignee_id=world.ivanov.id, actor="tester"
        )
        orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="tester")
        orders.move_order(session=s, order_id=order.id, stage="done", actor="tester")


@dataclass
class Browser:
    """An httpx client that keeps cookies and finds the CSRF field of the last page."""

    http: httpx.Client

    def csrf(self, page: httpx.Response) -> str:
        found = CSRF.search(page.text)
        assert found, page.text
        return found.group(1)


@pytest.fixture
def browser(fsm_server: FsmServer) -> Iterator[Browser]:
    with httpx.Client(
        base_url=fsm_server.url, timeout=20, headers={"accept-language": "ru-RU,ru;q=0.9"}
    ) as http:
        yield Browser(http)
