"""Importable stock entities: the item catalogue (``items``), warehouses (``warehouses``)
and opening balances (``stock``: one row per warehouse and item, as a 1C "Остатки ТМЦ"
report lists them).

Items and warehouses are upserted like every reference entity, row by row through the
stock service. A ``stock`` row states how much of an item a warehouse holds: the first
time it becomes a receipt (at the row's price, else the item's purchase price); when the
books already show stock there, an adjustment to the stated quantity; when they agree,
nothing. Importing the same file twice therefore changes nothing, and an export of the
stock imported into an empty database reproduces it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from fsm_core.errors import FsmError, InvalidInput, NotFound
from fsm_core.importing import fields as f
from fsm_core.importing.base import (
    EXTERNAL_ID,
    Column,
    Entity,
    RecordEntity,
    Row,
    RowByRow,
    constant,
    text_column,
)
from fsm_core.importing.resolver import Index
from fsm_core.models import Item, StockBalance, Warehouse
from fsm_core.values import parse_quantity
from fsm_core.vocabulary import WAREHOUSE_KIND_NAMES

SKU = Column(
    "sku",
    ("Артикул", "Арт.", "SKU", "Каталожный номер", "Код товара", "P/N"),
    text_column(100),
)
UNIT = Column(
    "unit", ("Ед. изм.", "Ед.изм.", "Единица", "Ед.", "Единица измерения"), text_column(20)
)


def _kind_options() -> dict[str, str]:
    from fsm_core.schemas.stock import _KIND_SYNONYMS

    options: dict[str, str] = {}
    for kind, names in WAREHOUSE_KIND_NAMES.items():
        for name in (kind.value, names["en"], names["ru"], *_KIND_SYNONYMS.get(kind, ())):
            options[name] = kind.value
    return options


def _own_field(entity: Entity, exc: InvalidInput) -> InvalidInput:
    """A service's ``min_level: ...`` refusal, said of the file's column instead
    (``column 'Мин. остаток': ...``), as the import reports a cell it cannot read."""
    name, sep, rest = exc.message.partition(": ")
    header = entity.run.header_of.get(name) if sep else None
    if header is None:
        return exc
    return InvalidInput(f"column {header!r}: {rest}", hint=exc.hint)


def _column_error(
    entity: Entity, name: str, exc: FsmError, *, creatable: bool = False
) -> InvalidInput:
    return entity.run.column_error(name, exc, creatable=creatable)


# --- items -----------------------------------------------------------------------------


class Items(RecordEntity):
    name = "items"
    model = Item
    keys = ("sku", "external_id", "barcode")
    key_help = "SKU by default"
    columns = (
        Column(
            "sku",
            SKU.aliases,
            SKU.read,
            required=True,
            help="the item's code (артикул); the default upsert key",
        ),
        Column(
            "name",
            ("Наименование", "Номенклатура", "Название", "Товар", "Материал", "ТМЦ"),
            text_column(300),
            required=True,
        ),
        Column(UNIT.name, UNIT.aliases, UNIT.read, help="шт, м, л, кг, компл...; default шт"),
        Column(
            "purchase_price",
            ("Цена закупки", "Закупочная цена", "Себестоимость", "Входная цена"),
            constant(f.money),
        ),
        Column(
            "sale_price",
            ("Цена продажи", "Цена", "Розничная цена", "Цена реализации", "Цена, руб."),
            constant(f.money),
            help="what an act charges for it",
        ),
        Column(
            "min_level",
            (
                "Минимальный остаток",
                "Мин. остаток",
                "Неснижаемый остаток",
                "Минимум",
                "Страховой запас",
            ),
            constant(f.decimal),
            help="below this much available, the item is on `fsm stock low`",
        ),
        Column("barcode", ("Штрихкод", "Штрих-код", "EAN", "Barcode"), text_column(64)),
        Column("active", ("Активен", "Активный", "Используется"), constant(f.boolean)),
        replace(EXTERNAL_ID, help="the record's id in your other system (1C's код)"),
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {"sku": Item.sku, "external_id": Item.external_id, "barcode": Item.barcode}

    def resolve(self, row: Row) -> None:
        """Check the minimum level against the unit while reading, so that every row's
        problem is reported in one pass."""
        level, unit = row.values.get("min_level"), row.values.get("unit")
        if level is None or unit is None:  # without a unit, the service checks it on writing
            return
        try:
            parse_quantity(level, field="min_level", unit=unit, allow_zero=True)
        except InvalidInput as exc:
            raise _own_field(self, exc) from None

    def data(self, row: Row) -> dict[str, Any]:
        defaults = ("unit", "purchase_price", "sale_price", "min_level", "active")
        return {k: v for k, v in row.values.items() if not (k in defaults and v is None)}

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import stock

        try:
            return stock.create_item(session=self.session, data=data).id
        except InvalidInput as exc:
            raise _own_field(self, exc) from None

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import stock

        try:
            stock.update_item(session=self.session, item_id=record_id, data=changes)
        except InvalidInput as exc:
            raise _own_field(self, exc) from None


# --- warehouses ------------------------------------------------------------------------


class Warehouses(RecordEntity):
    name = "warehouses"
    model = Warehouse
    keys = ("external_id", "name")
    columns = (
        Column(
            "name",
            ("Склад", "Наименование", "Название", "Место хранения"),
            text_column(200),
            required=True,
        ),
        Column(
            "kind",
            ("Тип", "Вид", "Тип склада", "Вид склада"),
            lambda run: f.choice(_kind_options(), "warehouse kind"),
            help="central, regional or van (центральный, региональный, автомобиль)",
        ),
        Column(
            "employee",
            ("Сотрудник", "Техник", "Водитель", "Закреплён за", "Владелец"),
            text_column(200),
            help="the technician whose van it is (short name, e-mail, phone or external id)",
        ),
        Column("address", ("Адрес",), text_column(500)),
        Column("active", ("Активен", "Активный", "Действующий"), constant(f.boolean)),
        EXTERNAL_ID,
    )

    @property
    def unique_key_columns(self) -> dict[str, Any]:
        return {"external_id": Warehouse.external_id, "name": Warehouse.name}

    def resolve(self, row: Row) -> None:
        values = row.values
        if "employee" in values:
            ref = values.pop("employee")
            try:
                values["employee_id"] = self.run.resolver.employee(ref) if ref else None
            except FsmError as exc:
                raise _column_error(self, "employee", exc) from None
            if values["employee_id"] is not None and values.get("kind") is None:
                values["kind"] = "van"

    def data(self, row: Row) -> dict[str, Any]:
        return {k: v for k, v in row.values.items() if not (k in ("kind", "active") and v is None)}

    def create(self, data: dict[str, Any]) -> int:
        from fsm_core.services import stock

        try:
            return stock.create_warehouse(session=self.session, data=data).id
        except InvalidInput as exc:
            raise _own_field(self, exc) from None

    def update(self, record_id: int, changes: dict[str, Any]) -> None:
        from fsm_core.services import stock

        try:
            stock.update_warehouse(session=self.session, warehouse_id=record_id, data=changes)
        except InvalidInput as exc:
            raise _own_field(self, exc) from None


# --- opening balances ------------------------------------------------------------------


class Stock(RowByRow):
    """Opening balances: how much of an item each warehouse holds."""

    name = "stock"
    keys = ("warehouse+item",)
    key_help = "rows are matched by warehouse and item"
    columns = (
        Column(
            "warehouse",
            ("Склад", "Место хранения"),
            text_column(200),
            required=True,
            help="name or external id of the warehouse",
        ),
        Column(
            "sku",
            SKU.aliases,
            SKU.read,
            help="the item's SKU; give it, or the item's name",
        ),
        Column(
            "item",
            ("Наименование", "Номенклатура", "Товар", "Материал", "ТМЦ"),
            text_column(300),
            help="the item's name (or barcode, or external id) when there is no SKU",
        ),
        Column(UNIT.name, UNIT.aliases, UNIT.read, help="for items --create-missing creates"),
        Column(
            "quantity",
            ("Количество", "Кол-во", "Остаток", "Конечный остаток", "Кол."),
            constant(f.decimal),
            required=True,
            help="on hand at the warehouse",
        ),
        Column(
            "price",
            ("Цена", "Цена закупки", "Себестоимость", "Цена, руб."),
            constant(f.money),
            help="unit price of the receipt; default the item's purchase price",
        ),
        Column("document", ("Документ", "Накладная", "Основание"), text_column(100)),
    )

    def __init__(self, run: Any) -> None:
        super().__init__(run)
        if not {"sku", "item"} & set(run.fields):
            raise InvalidInput("missing required column(s): sku (Артикул) or item (Наименование)")
        self._warehouses: Index | None = None
        self._items: Index | None = None
        self._skus: dict[str, int] = {}
        self._units: dict[int, str] = {}
        self._seen: dict[tuple[int, int], int] = {}

    # references -------------------------------------------------------------------

    def warehouses(self) -> Index:
        if self._warehouses is None:
            index = Index("warehouse")
            for id_, name, external_id in self.session.execute(
                select(Warehouse.id, Warehouse.name, Warehouse.external_id)
            ):
                index.add(id_, name, [external_id, name], [name])
            self._warehouses = index
        return self._warehouses

    def items(self) -> Index:
        if self._items is None:
            index = Index("item")
            for id_, sku, name, unit, barcode, external_id in self.session.execute(
                select(Item.id, Item.sku, Item.name, Item.unit, Item.barcode, Item.external_id)
            ):
                index.add(id_, f"{name} ({sku})", [sku, barcode, external_id], [name])
                self._skus[sku.casefold()] = id_
                self._units[id_] = unit
            self._items = index
        return self._items

    def resolve(self, row: Row) -> None:
        values = row.values
        values["warehouse_id"] = self._warehouse(values.pop("warehouse"))
        values["item_id"] = self._item(values.get("sku"), values.get("item"), values)
        unit = self._units.get(values["item_id"]) or values.get("unit") or "шт"
        try:
            values["quantity"] = parse_quantity(
                values["quantity"], field="quantity", unit=unit, allow_zero=True
            )
        except InvalidInput as exc:
            raise _own_field(self, exc) from None
        key = (values["warehouse_id"], values["item_id"])
        first = self._seen.get(key)
        if first is not None:
            raise InvalidInput(f"the same warehouse and item appear again (first at line {first})")
        self._seen[key] = row.line

    def _warehouse(self, ref: str) -> int:
        try:
            return self.warehouses().find(ref)
        except NotFound as exc:
            if not self.run.options.create_missing:
                raise _column_error(self, "warehouse", exc, creatable=True) from None
        except FsmError as exc:
            raise _column_error(self, "warehouse", exc) from None
        if self.run.dry_run:
            warehouse_id = self.run.fake_id()
        else:
            from fsm_core.services import stock

            with self.session.begin_nested():
                warehouse_id = stock.create_warehouse(session=self.session, data={"name": ref}).id
        self.run.created("warehouse")
        self.warehouses().add(warehouse_id, ref, [ref], [ref])
        return warehouse_id

    def _item(self, sku: str | None, name: str | None, values: dict[str, Any]) -> int:
        index = self.items()
        column = "sku" if sku else "item"
        try:
            if sku:
                found = self._skus.get(sku.casefold())
                if found is None:
                    raise NotFound("item", sku)
                return found
            if not name:
                raise InvalidInput("give the item's SKU (Артикул) or its name (Наименование)")
            return index.find(name)
        except NotFound as exc:
            if not (self.run.options.create_missing and sku and name):
                hint = "add it with fsm import items, or --create-missing (needs SKU and name)"
                hint = f"{exc.hint}; {hint}" if exc.hint else hint
                raise InvalidInput(
                    f"column {self.run.header_of.get(column, column)!r}: {exc.message}",
                    hint=hint,
                ) from None
        except InvalidInput:
            raise
        except FsmError as exc:
            raise _column_error(self, column, exc) from None
        if self.run.dry_run:
            item_id = self.run.fake_id()
        else:
            from fsm_core.services import stock

            data = {"sku": sku, "name": name, "unit": values.get("unit") or "шт"}
            if values.get("price") is not None:
                data["purchase_price"] = values["price"]
            with self.session.begin_nested():
                item_id = stock.create_item(session=self.session, data=data).id
        self.run.created("item")
        index.add(item_id, f"{name} ({sku})", [sku], [name])
        self._skus[sku.casefold()] = item_id
        return item_id

    # writing ----------------------------------------------------------------------

    def write(self, row: Row) -> str:
        from fsm_core.services import stock

        values = row.values
        warehouse_id, item_id = values["warehouse_id"], values["item_id"]
        wanted = values["quantity"]
        if warehouse_id < 0 or item_id < 0:  # created by this dry run
            return "inserted" if wanted else "unchanged"
        current = self.session.execute(
            select(StockBalance.on_hand).where(
                StockBalance.item_id == item_id, StockBalance.warehouse_id == warehouse_id
            )
        ).scalar() or Decimal(0)
        if current == wanted:
            return "unchanged"
        document = values.get("document")
        if current == 0:
            stock.receive(
                session=self.session,
                item_id=item_id,
                warehouse_id=warehouse_id,
                quantity=wanted,
                unit_price=values.get("price"),
                document=document,
                reason="opening balance (import)",
                actor=self.run.actor,
            )
            return "inserted"
        stock.adjust(
            session=self.session,
            item_id=item_id,
            warehouse_id=warehouse_id,
            counted=wanted,
            reason="balance from an imported file",
            document=document,
            actor=self.run.actor,
        )
        return "updated"
