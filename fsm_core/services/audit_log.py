"""The audit trail as an admin reads it: the rows, filtered (``fsm audit list``, the
dashboard's Audit view), and the chain checked (``fsm audit verify``).

What is recorded and how the chain works: :mod:`fsm_core.audit`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from fsm_core import audit
from fsm_core.access import open_to_all, requires
from fsm_core.db import search_fold, text_filter
from fsm_core.errors import InvalidInput

ENTITY_NAMES: dict[str, tuple[str, str]] = {
    "order": ("order", "заявка"),
    "order.visit": ("visit", "выезд"),
    "order.work": ("work", "работа"),
    "order.executor": ("executor", "исполнитель"),
    "order.material": ("material", "материал"),
    "order.file": ("file", "файл"),
    "order.answer": ("checklist answer", "ответ чек-листа"),
    "order.execution": ("execution", "выполнение"),
    "order.reservation": ("reservation", "резерв"),
    "order.status_link": ("status link", "ссылка на статус"),
    "order.rating": ("rating", "оценка"),
    "customer": ("customer", "заказчик"),
    "customer.contact": ("contact", "контакт"),
    "object": ("object", "объект"),
    "employee": ("employee", "сотрудник"),
    "employee.pattern": ("work pattern", "график работы"),
    "employee.time_off": ("time off", "отсутствие"),
    "crew": ("crew", "бригада"),
    "crew.member": ("crew member", "член бригады"),
    "holiday": ("holiday", "праздник"),
    "setting": ("setting", "настройка"),
    "stage": ("stage", "стадия"),
    "stage.transition": ("transition", "переход"),
    "sla": ("SLA policy", "политика SLA"),
    "work_type": ("work type", "вид работ"),
    "checklist": ("checklist", "чек-лист"),
    "checklist.item": ("checklist item", "пункт чек-листа"),
    "checklist.binding": ("checklist binding", "привязка чек-листа"),
    "item": ("item", "номенклатура"),
    "warehouse": ("warehouse", "склад"),
    "stock": ("stock movement", "движение ТМЦ"),
    "gps_device": ("GPS device", "GPS-устройство"),
    "map_background": ("map background", "подложка карты"),
    "user": ("user", "пользователь"),
    "import": ("import", "импорт"),
}
"""Every entity the trail records, as people call it (English, Russian). An entity with
a dot belongs to the one before it: ``--entity order`` lists the order's visits too."""

ACTION_NAMES: dict[str, tuple[str, str]] = {
    "create": ("create", "создание"),
    "update": ("update", "изменение"),
    "delete": ("delete", "удаление"),
    "move": ("move", "перевод"),
    "assign": ("assign", "назначение"),
    "cancel": ("cancel", "отмена"),
    "set": ("set", "установка"),
    "add": ("add", "добавление"),
    "remove": ("remove", "удаление"),
    "allow": ("allow", "разрешение"),
    "forbid": ("forbid", "запрет"),
    "bind": ("bind", "привязка"),
    "roles": ("roles", "роли"),
    "reserve": ("reserve", "резерв"),
    "release": ("release", "снятие резерва"),
    "import": ("import", "импорт"),
    "receipt": ("receipt", "приход"),
    "transfer": ("transfer", "перемещение"),
    "write_off": ("write-off", "списание"),
    "return": ("return", "возврат"),
    "adjustment": ("adjustment", "корректировка"),
}


@open_to_all
def entity_name(entity: str, lang: str = "en") -> str:
    names = ENTITY_NAMES.get(entity)
    return entity if names is None else names[1 if lang == "ru" else 0]


@open_to_all
def action_name(action: str, lang: str = "en") -> str:
    names = ACTION_NAMES.get(action)
    return action if names is None else names[1 if lang == "ru" else 0]


@dataclass(frozen=True)
class AuditRow:
    """One row of the trail as it is shown."""

    id: int
    at: datetime
    actor: str
    on_behalf_of: str | None
    account: str | None
    command: str | None
    entity: str
    key: str | None
    action: str
    changes: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def who(self) -> str:
        """ "A on behalf of B" when an admin acted for someone, else A."""
        return self.actor if not self.on_behalf_of else f"{self.actor} → {self.on_behalf_of}"


def _entity_condition(entity: str) -> Any:
    from fsm_core.models import AuditEntry

    wanted = entity.strip().lower()
    known = {name for name in ENTITY_NAMES if name == wanted or name.startswith(wanted + ".")}
    if not known:
        tops = ", ".join(sorted(name for name in ENTITY_NAMES if "." not in name))
        raise InvalidInput(
            f"entity: no such entity {entity!r}",
            field="entity",
            hint=f"one of: {tops} (or a part, such as order.visit)",
            ru=f"entity: нет такой сущности {entity!r}",
            hint_ru=f"одна из: {tops} (или её часть, например order.visit)",
        )
    column = AuditEntry.entity
    return or_(column == wanted, column.startswith(wanted + ".", autoescape=True))


@requires("audit.read")
def list_entries(
    *,
    session: Session,
    entity: str | None = None,
    key: str | None = None,
    user: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[AuditRow]:
    """The trail's rows, newest first: of ``entity`` (and the entities that belong to it),
    of the record ``key`` (an order's number finds what belongs to the order too), by a
    ``user`` (who acted, on whose behalf, or the login), containing ``text`` (in the
    entity, key, people or command), at ``since`` or later and before ``until``."""
    from fsm_core.models import AuditEntry

    query = select(AuditEntry)
    if entity and entity.strip():
        query = query.where(_entity_condition(entity))
    if key and key.strip():
        wanted = key.strip()
        query = query.where(
            or_(
                AuditEntry.entity_key == wanted,
                AuditEntry.entity_key.startswith(wanted + "/", autoescape=True),
            )
        )
    people = (AuditEntry.actor, AuditEntry.on_behalf_of, AuditEntry.account)
    query = query.where(*text_filter(user, *people))
    for found in text_filter(
        text, AuditEntry.entity, AuditEntry.entity_key, AuditEntry.command, *people
    ):
        # "заявка" finds the orders' rows too: the entities whose names have the text
        wanted = search_fold(text.strip()) or "" if text else ""
        named = [
            entity
            for entity, names in ENTITY_NAMES.items()
            if any(wanted in (search_fold(name) or "") for name in names)
        ]
        query = query.where(or_(found, AuditEntry.entity.in_(named)) if named else found)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    query = query.order_by(AuditEntry.id.desc()).offset(offset)
    if limit:
        query = query.limit(limit)
    return [
        AuditRow(
            id=row.id or 0,
            at=row.at,
            actor=row.actor,
            on_behalf_of=row.on_behalf_of,
            account=row.account,
            command=row.command,
            entity=row.entity,
            key=row.entity_key,
            action=row.action,
            changes=_decoded(row.changes),
        )
        for row in session.execute(query).scalars()
    ]


def _decoded(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:  # a row tampered with: verify says so; here it is shown as it is
        return {"?": text}
    return found if isinstance(found, dict) else {"?": found}


@dataclass(frozen=True)
class TrailCheck:
    """What ``fsm audit verify`` found."""

    checked: int
    broken: audit.Broken | None
    last_id: int | None
    last_hash: str | None
    """the chain's head as it is now: noted down, it shows later whether rows were cut
    off the end (which the chain alone cannot show)"""

    @property
    def whole(self) -> bool:
        return self.broken is None


@requires("audit.read")
def verify_trail(*, session: Session) -> TrailCheck:
    """Recompute the whole chain; the first broken row, if any."""
    from fsm_core.models import AuditEntry

    checked, broken = audit.verify(session)
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return TrailCheck(checked, broken, last[0] if last else None, last[1] if last else None)


_NOTHING = "—"


_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}")


def _value(value: Any, width: int, tz: tzinfo | None = None) -> str:
    if value is None:
        return _NOTHING
    if tz is not None and isinstance(value, str) and _MOMENT.fullmatch(value):
        return datetime.fromisoformat(value).astimezone(tz).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value) or _NOTHING
    elif isinstance(value, dict):
        text = ", ".join(f"{k} {v}" for k, v in value.items()) or _NOTHING
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


@open_to_all
def describe_changes(
    changes: Mapping[str, Any], *, width: int = 40, tz: tzinfo | None = None
) -> str:
    """``stage_code: new → assigned; assignee_id: 8 → 11``: what changed (a new record's
    fields as ``field: value``), each value cut to ``width`` characters, moments in the
    zone ``tz`` when given; a summary (an import's) as ``field: value``."""
    parts: list[str] = []
    for name, change in changes.items():
        if isinstance(change, list) and len(change) == 2:
            before, after = (_value(v, width, tz) for v in change)
            if change[0] is None:
                parts.append(f"{name}: {after}")
            else:
                parts.append(f"{name}: {before} → {after}")
        else:
            parts.append(f"{name}: {_value(change, width, tz)}")
    return "; ".join(parts)
