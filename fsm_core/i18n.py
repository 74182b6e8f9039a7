"""The product's shared vocabulary in English and Russian (labels both front ends use).

Stage names live in the database (they are configurable); everything else a user reads
in a table header or a status comes from here.
"""

from __future__ import annotations

from fsm_core.vocabulary import CRITICALITY_NAMES, Criticality, SlaStatus

LABELS: dict[str, tuple[str, str]] = {
    # key: (English, Russian)
    "number": ("Number", "Номер"),
    "created": ("Created", "Создана"),
    "updated": ("Updated", "Изменена"),
    "stage": ("Stage", "Стадия"),
    "criticality": ("Criticality", "Критичность"),
    "crit": ("Crit.", "Крит."),
    "customer": ("Customer", "Заказчик"),
    "object": ("Object", "Объект"),
    "address": ("Address", "Адрес"),
    "location_hint": ("Where exactly", "Как найти"),
    "assignee": ("Assignee", "Исполнитель"),
    "crew": ("Crew", "Бригада"),
    "contact": ("Contact", "Контакт"),
    "description": ("Description", "Описание"),
    "sla": ("SLA", "SLA"),
    "planned": ("Planned visit", "Плановый визит"),
    "reaction_due": ("Reaction due", "Срок реакции"),
    "resolution_due": ("Resolution due", "Срок решения"),
    "sla_calendar": ("SLA calendar", "Календарь SLA"),
    "calendar": ("Calendar", "Календарь"),
    "source": ("Source", "Источник"),
    "external_id": ("External id", "Внешний код"),
    "version": ("Version", "Версия"),
    "closed": ("Closed", "Закрыта"),
    "allowed_stages": ("Can move to", "Можно перевести в"),
    "name": ("Name", "Название"),
    "full_name": ("Full name", "ФИО"),
    "short_name": ("Short name", "Кратко"),
    "inn": ("INN", "ИНН"),
    "phone": ("Phone", "Телефон"),
    "email": ("E-mail", "E-mail"),
    "position": ("Position", "Должность"),
    "area": ("Area", "Участок"),
    "hourly_rate": ("Rate/h", "Ставка/ч"),
    "skills": ("Skills", "Навыки"),
    "active": ("Active", "Активен"),
    "kind": ("Kind", "Тип"),
    "parent": ("Part of", "Входит в"),
    "coordinates": ("Coordinates", "Координаты"),
    "inventory_number": ("Inventory no.", "Инв. №"),
    "serial_number": ("Serial no.", "Зав. №"),
    "building": ("Building", "Здание"),
    "floor": ("Floor", "Этаж"),
    "passport_token": ("Passport token", "Токен паспорта"),
    "price": ("Price", "Цена"),
    "unit": ("Unit", "Ед."),
    "members": ("Members", "Состав"),
    "leader": ("Leader", "Бригадир"),
    "when": ("When", "Когда"),
    "who": ("Who", "Кто"),
    "what": ("What", "Что"),
    "old": ("Was", "Было"),
    "new": ("Now", "Стало"),
    "code": ("Code", "Код"),
    "category": ("Category", "Категория"),
    "needs_assignee": ("Needs assignee", "Нужен исполнитель"),
    "reaction": ("Reaction", "Реакция"),
    "resolution": ("Resolution", "Решение"),
    "orders": ("Orders", "Заявки"),
    "shown_of": ("shown {shown} of {total}", "показано {shown} из {total}"),
    "overdue": ("overdue", "просрочено"),
    "done_in_time": ("met", "в срок"),
    "default": ("default", "по умолчанию"),
    "setting": ("Setting", "Параметр"),
    "value": ("Value", "Значение"),
    "contract": ("Contract", "Договор"),
    "charge": ("Charge", "Тарификация"),
    # stock
    "item": ("Item", "Номенклатура"),
    "sku": ("SKU", "Артикул"),
    "barcode": ("Barcode", "Штрихкод"),
    "warehouse": ("Warehouse", "Склад"),
    "technician": ("Technician", "Техник"),
    "purchase_price": ("Purchase", "Закупка"),
    "sale_price": ("Sale", "Продажа"),
    "min_level": ("Min. level", "Мин. остаток"),
    "on_hand": ("On hand", "В наличии"),
    "reserved": ("Reserved", "В резерве"),
    "available": ("Available", "Доступно"),
    "shortfall": ("To order", "Дозаказать"),
    "quantity": ("Qty", "Кол-во"),
    "movement": ("Movement", "Операция"),
    "from": ("From", "Откуда"),
    "to": ("To", "Куда"),
    "order": ("Order", "Заявка"),
    "document": ("Document", "Документ"),
    "reason": ("Reason", "Основание"),
    "amount": ("Sum", "Сумма"),
    "total": ("Total", "Итого"),
    "written_off": ("Written off", "Списано"),
    "returned": ("Returned", "Возвращено"),
}

# what an order's history line records (its action, or the field it changed)
HISTORY_NAMES: dict[str, tuple[str, str]] = {
    "create": ("Created", "Создана"),
    "update": ("Changed", "Изменена"),
    "assign": ("Assigned", "Назначена"),
    "comment": ("Comment", "Комментарий"),
    "visit": ("Visit", "Визит"),
    "work": ("Work", "Работа"),
    "material": ("Material", "Материал"),
    "reserve": ("Reserved", "Резерв"),
    "release": ("Released", "Снят резерв"),
    "checklist": ("Checklist", "Чек-лист"),
    "attachment": ("Attachment", "Вложение"),
    "signature": ("Signature", "Подпись"),
    "execution": ("Execution", "Выполнение"),
    "stage": ("Stage", "Стадия"),
    "criticality": ("Criticality", "Критичность"),
    "customer": ("Customer", "Заказчик"),
    "object": ("Object", "Объект"),
    "contact": ("Contact", "Контакт"),
    "assignee": ("Assignee", "Исполнитель"),
    "crew": ("Crew", "Бригада"),
    "description": ("Description", "Описание"),
    "planned_start": ("Planned start", "Плановое начало"),
    "planned_end": ("Planned end", "Плановое окончание"),
    "reaction_due": ("Reaction due", "Срок реакции"),
    "resolution_due": ("Resolution due", "Срок решения"),
    "reacted_at": ("Reacted", "Реакция"),
    "resolved_at": ("Resolved", "Выполнена"),
    "closed_at": ("Closed", "Закрыта"),
    "external_id": ("External id", "Внешний код"),
    "source": ("Source", "Источник"),
}

# where an order came from (OrderSource)
SOURCE_NAMES: dict[str, tuple[str, str]] = {
    "manual": ("manual", "вручную"),
    "import": ("import", "импорт"),
    "passport": ("QR passport", "QR-паспорт"),
    "checklist": ("checklist", "чек-лист"),
    "qr": ("the customer, by QR code", "заказчик по QR-коду"),
}

# Monday first, as date.weekday() counts: the short names every screen and document uses
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),
}


def weekday_name(weekday: int, lang: str, *, title: bool = False) -> str:
    """``пн`` / ``Mon`` for ``date.weekday()``; ``title`` capitalises it (``Пн``), as a
    heading does."""
    name = WEEKDAYS["ru" if lang == "ru" else "en"][weekday]
    return name[:1].upper() + name[1:] if title else name


SLA_NAMES: dict[SlaStatus, tuple[str, str]] = {
    SlaStatus.NONE: ("—", "—"),
    SlaStatus.OK: ("ok", "в норме"),
    SlaStatus.AT_RISK: ("at risk", "под угрозой"),
    SlaStatus.VIOLATED: ("violated", "нарушен"),
}


def label(key: str, lang: str) -> str:
    en, ru = LABELS[key]
    return ru if lang == "ru" else en


def criticality_name(code: str, lang: str) -> str:
    try:
        return CRITICALITY_NAMES[Criticality(code)][lang if lang in ("ru", "en") else "en"]
    except ValueError:
        return code


def sla_name(status: str, lang: str) -> str:
    en, ru = SLA_NAMES[SlaStatus(status)]
    return ru if lang == "ru" else en


def warehouse_kind_name(code: str, lang: str) -> str:
    from fsm_core.vocabulary import WAREHOUSE_KIND_NAMES, WarehouseKind

    try:
        return WAREHOUSE_KIND_NAMES[WarehouseKind(code)][lang if lang in ("ru", "en") else "en"]
    except ValueError:
        return code


def movement_name(code: str, lang: str) -> str:
    from fsm_core.vocabulary import MOVEMENT_NAMES, MovementKind

    try:
        return MOVEMENT_NAMES[MovementKind(code)][lang if lang in ("ru", "en") else "en"]
    except ValueError:
        return code


def _pick(names: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    pair = names.get(code)
    if pair is None:
        return code
    return pair[1] if lang == "ru" else pair[0]


def history_name(code: str, lang: str) -> str:
    """A history line's action or field, as a person reads it (unknown codes as they are)."""
    return _pick(HISTORY_NAMES, code, lang)


def source_name(code: str, lang: str) -> str:
    return _pick(SOURCE_NAMES, code, lang)
