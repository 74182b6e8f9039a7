"""Helpers the field-execution tests share: the demo's orders by external id, stock
balances, a visit recorded through the core, and opening an order screen on a tab."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from textual.widgets import TabbedContent

from fsm_core import clock
from fsm_core.models import Order, StockBalance
from fsm_core.services import execution, lookup
from fsm_core.timeparse import parse_datetime
from fsm_tui.screens.order import OrderScreen
from fsm_tui.tabs.base import OrderPane
from tests.conftest import NOW
from tests.tui.conftest import USER, settle

GENERATOR_ORDER = "DEMO-011"  # en route, Соколов Д. А., a generator: checklist, oil reserved


def order_id(database, external_id: str = GENERATOR_ORDER) -> int:
    with database.reader() as s:
        return s.execute(select(Order.id).where(Order.external_id == external_id)).scalar_one()


def ids(database, *, item: str, warehouse: str) -> tuple[int, int]:
    with database.reader() as s:
        return lookup.resolve_item(session=s, ref=item).id, lookup.resolve_warehouse(
            session=s, ref=warehouse
        ).id


def balance(database, item_id: int, warehouse_id: int) -> tuple[Decimal, Decimal]:
    with database.reader() as s:
        row = s.get(StockBalance, (item_id, warehouse_id))
        return (row.on_hand, row.reserved) if row else (Decimal(0), Decimal(0))


async def open_tab(app, pilot, order: int, tab: str) -> OrderPane:
    """Open the order screen on ``tab`` with the focus in its pane, as a user would."""
    await settle(pilot)
    app.open_order(order)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, OrderScreen)
    screen.query_one("#order-tabs", TabbedContent).active = f"tab-{tab}"
    await settle(pilot)
    pane = screen.query_one(f"#tab-{tab} OrderPane", OrderPane)
    widget = pane.focus_main()
    assert widget is not None
    widget.focus()
    await settle(pilot)
    return pane


def record_visit(database, order: int) -> Decimal:
    """Work and a material on the order, through the core: the act has something to say."""
    tz = ZoneInfo("Europe/Moscow")
    oil, central = ids(database, item="OIL-15W40", warehouse="Центральный склад")
    with clock.frozen(NOW), database.transaction() as s:
        work_type = lookup.resolve_work_type(session=s, ref="Плановое ТО ДГУ до 200 кВА")
        employee = lookup.resolve_employee(session=s, ref="Соколов Д. А.")
        execution.add_work(
            session=s,
            order_id=order,
            work_type_id=work_type.id,
            started_at=parse_datetime("26.11.2026 09:30", tz=tz),
            finished_at=parse_datetime("26.11.2026 11:30", tz=tz),
            executors=[execution.ExecutorInput(employee.id)],
            actor=USER,
        )
        execution.use_material(
            session=s,
            order_id=order,
            item_id=oil,
            warehouse_id=central,
            quantity=Decimal(8),
            actor=USER,
        )
    with database.reader() as s:
        return execution.totals(session=s, order_id=order).total
