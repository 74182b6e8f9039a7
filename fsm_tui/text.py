"""The dashboard's own words, in English and Russian.

Labels the CLI shares (column names, SLA and criticality names) come from
:mod:`fsm_core.i18n`; this module adds what only the dashboard says. :func:`t` looks in
both, so a screen asks for every word the same way. Binding descriptions are keyed by the
binding's id (``binding.<id>``) and translated when a screen, widget or the app is built.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from fsm_core.i18n import LABELS

if TYPE_CHECKING:
    from textual.dom import DOMNode

Lang = str

UI: dict[str, tuple[str, str]] = {
    # key: (English, Russian)
    "app_title": ("FSM dispatcher", "FSM диспетчер"),
    # sections
    "section.board": ("Orders", "Заявки"),
    "section.planner": ("Planner", "Планировщик"),
    "section.chat": ("Chats", "Чаты"),
    "section.stock": ("Stock", "Склад"),
    # status line
    "status.db": ("DB", "БД"),
    "status.user": ("user", "пользователь"),
    "status.live": ("live", "обновления"),
    "live.off": ("off", "выкл."),
    "live.on": ("on", "вкл."),
    "live.connecting": ("connecting", "подключение"),
    "live.lost": ("lost", "потеряны"),
    "loading": ("loading…", "загрузка…"),
    # filters
    "filter.stage": ("Stage", "Стадия"),
    "filter.open": ("Open orders", "Открытые"),
    "filter.assignee": ("Assignee", "Исполнитель"),
    "filter.unassigned": ("Unassigned", "Без исполнителя"),
    "filter.customer": ("Customer", "Заказчик"),
    "filter.object": ("Object", "Объект"),
    "filter.criticality": ("Criticality", "Критичность"),
    "filter.sla": ("SLA", "SLA"),
    "filter.search": ("/ search: number, text, address", "/ поиск: номер, текст, адрес"),
    "counts.all": ("All", "Все"),
    "board.empty": ("No orders match the filters.", "Нет заявок по этим фильтрам."),
    "board.more": (
        "… {n} more (narrow the filters or use the table)",
        "… ещё {n} (уточните фильтр или откройте таблицу)",
    ),
    "board.nothing_selected": ("No order is selected.", "Заявка не выбрана."),
    # SLA cells
    "sla.left": ("{d} left", "осталось {d}"),
    "sla.late": ("late {d}", "просрочено {d}"),
    # forms
    "form.find": ("Find", "Найти"),
    "form.find_placeholder": (
        "object or customer: name, inventory/serial no., INN — Enter",
        "объект или заказчик: название, инв./зав. №, ИНН — Enter",
    ),
    "form.pick_customer": ("Choose the customer", "Выберите заказчика"),
    "form.none": ("—", "—"),
    "form.description_placeholder": (
        "What is wrong, in the caller's words",
        "Что случилось, со слов заявителя",
    ),
    "form.date_placeholder": ("dd.mm.yyyy hh:mm", "дд.мм.гггг чч:мм"),
    "form.due_placeholder": ("empty: from the SLA policy", "пусто: по SLA-политике"),
    "form.create": ("Create (ctrl+s)", "Создать (ctrl+s)"),
    "form.cancel": ("Cancel (esc)", "Отмена (esc)"),
    "form.save": ("Save (ctrl+s)", "Сохранить (ctrl+s)"),
    "form.planned_start": ("Visit from", "Визит с"),
    "form.planned_end": ("Visit until", "Визит до"),
    "form.found": ("Found: {what}", "Найдено: {what}"),
    "new_order.title": ("New order", "Новая заявка"),
    "order.created": ("Order {number} created ({stage}).", "Заявка {number} создана ({stage})."),
    # assign / move
    "assign.title": ("Assign order {number}", "Назначить заявку {number}"),
    "assign.unassign": ("— take it away from {name}", "— снять исполнителя {name}"),
    "assign.open_orders": ("{n} open", "открытых: {n}"),
    "assigned": (
        "Order {number}: {name}, stage {stage}.",
        "Заявка {number}: {name}, стадия «{stage}».",
    ),
    "unassigned": (
        "Order {number}: nobody, stage {stage}.",
        "Заявка {number}: без исполнителя, стадия «{stage}».",
    ),
    "move.title": ("Move order {number} from «{stage}»", "Перевести заявку {number} из «{stage}»"),
    "move.note": ("Comment for the history (optional)", "Комментарий в историю (необязательно)"),
    "move.none": ("No stage can follow «{stage}».", "Из стадии «{stage}» перейти некуда."),
    "moved": ("Order {number} is now «{stage}».", "Заявка {number} теперь «{stage}»."),
    # order screen
    "order.title": ("Order {number}", "Заявка {number}"),
    "tab.order": ("Order", "Заявка"),
    "tab.history": ("History", "История"),
    "order.saved": (
        "Order {number} saved (version {version}).",
        "Заявка {number} сохранена (версия {version}).",
    ),
    "order.unchanged": ("Nothing to save.", "Нечего сохранять."),
    "order.info": ("Details", "Сведения"),
    "conflict.title": (
        "Someone else changed this order (you edited version {mine}, it is now {theirs}). "
        "Nothing was saved; your edits are still in the form.",
        "Заявку изменил кто-то другой (вы правили версию {mine}, сейчас {theirs}). "
        "Ничего не сохранено; ваши правки остались в форме.",
    ),
    "conflict.field": ("Field", "Поле"),
    "conflict.loaded": ("When you opened it", "Когда вы открыли"),
    "conflict.mine": ("Yours", "Ваше"),
    "conflict.theirs": ("Now in the database", "Сейчас в базе"),
    "conflict.reapply": (
        "Take theirs, keep my edits (ctrl+r)",
        "Взять текущую, сохранить мои правки (ctrl+r)",
    ),
    "conflict.discard": ("Discard my edits", "Отбросить мои правки"),
    "conflict.reapplied": (
        "Loaded version {version}; your edits are applied on top. Check and save (ctrl+s).",
        "Загружена версия {version}; ваши правки наложены сверху. Проверьте и сохраните (ctrl+s).",
    ),
    "history.created": ("created", "создана"),
    # help
    "help.title": ("Keys", "Клавиши"),
    "help.where": ("Where", "Где"),
    "help.key": ("Key", "Клавиша"),
    "help.action": ("Action", "Действие"),
    "help.id": ("Binding id", "Id привязки"),
    "help.remap": (
        'Remap any key in {path}, e.g.  board.new_order = "ctrl+n"',
        'Переназначить клавишу: {path}, например  board.new_order = "ctrl+n"',
    ),
    "help.scope.app": ("everywhere", "везде"),
    "help.scope.board": ("order board", "доска заявок"),
    "help.scope.table": ("order table", "таблица заявок"),
    "help.scope.kanban": ("stage columns", "колонки стадий"),
    "help.scope.order": ("order screen", "экран заявки"),
    "help.scope.form": ("forms", "формы"),
    "help.scope.help": ("this screen", "этот экран"),
    # commands (palette)
    "cmd.section": ("Go to: {name}", "Перейти: {name}"),
    "cmd.section_help": ("Switch to the {name} section", "Открыть раздел «{name}»"),
    "cmd.open_order": ("Open order {number}", "Открыть заявку {number}"),
    "cmd.open_order_help": ("{customer}: {description}", "{customer}: {description}"),
    "cmd.binding_help": ("{key} · {where}", "{key} · {where}"),
    "cmd.reload_catalog": ("Reload reference data", "Обновить справочники"),
    "cmd.reload_catalog_help": (
        "Re-read stages, employees, customers and objects from the database",
        "Перечитать стадии, сотрудников, заказчиков и объекты из базы",
    ),
    # errors
    "error.unexpected": ("Unexpected error: {error}", "Непредвиденная ошибка: {error}"),
    "error.title": ("Not done", "Не выполнено"),
}

BINDING_TEXT: dict[str, tuple[str, str]] = {
    # binding id: (English, Russian) — what the footer, the help screen and the palette say
    "app.help": ("Keys", "Клавиши"),
    "app.section.board": ("Orders", "Заявки"),
    "app.section.planner": ("Planner", "Планировщик"),
    "app.section.chat": ("Chats", "Чаты"),
    "app.section.stock": ("Stock", "Склад"),
    "app.command_palette": ("Commands", "Команды"),
    "app.quit": ("Quit", "Выход"),
    "board.new_order": ("New", "Новая"),
    "board.assign": ("Assign", "Назначить"),
    "board.move": ("Stage", "Стадия"),
    "board.open": ("Open", "Открыть"),
    "board.toggle_view": ("Table/columns", "Таблица/колонки"),
    "board.search": ("Search", "Поиск"),
    "board.filters": ("Filters", "Фильтры"),
    "board.clear_filters": ("Clear filters", "Сбросить фильтры"),
    "board.refresh": ("Refresh", "Обновить"),
    "board.focus_list": ("To the list", "К списку"),
    "table.cursor_up": ("Up", "Вверх"),
    "table.cursor_down": ("Down", "Вниз"),
    "table.page_up": ("Page up", "Страница вверх"),
    "table.page_down": ("Page down", "Страница вниз"),
    "table.first": ("First order", "Первая заявка"),
    "table.last": ("Last order", "Последняя заявка"),
    "table.select": ("Open", "Открыть"),
    "kanban.left": ("Previous column", "Предыдущая колонка"),
    "kanban.right": ("Next column", "Следующая колонка"),
    "order.save": ("Save", "Сохранить"),
    "order.back": ("Back", "Назад"),
    "order.assign": ("Assign", "Назначить"),
    "order.move": ("Stage", "Стадия"),
    "order.reapply": ("Reapply on current", "Наложить на текущую"),
    "order.reload": ("Reload", "Перечитать"),
    "form.submit": ("Save", "Сохранить"),
    "form.cancel": ("Cancel", "Отмена"),
    "help.close": ("Close", "Закрыть"),
}


def t(key: str, lang: Lang, /, **values: Any) -> str:
    """The text for ``key`` in ``lang`` (ru or en), with ``{name}`` fields filled in."""
    pair = UI.get(key) or LABELS.get(key) or BINDING_TEXT.get(key.removeprefix("binding."))
    if pair is None:
        raise KeyError(f"no UI text for {key!r}")
    text = pair[1] if lang == "ru" else pair[0]
    return text.format(**values) if values else text


def binding_text(binding_id: str | None, fallback: str, lang: Lang) -> str:
    pair = BINDING_TEXT.get(binding_id or "")
    if pair is None:
        return fallback
    return pair[1] if lang == "ru" else pair[0]


def localize_bindings(node: DOMNode, lang: Lang) -> None:
    """Put ``node``'s own binding descriptions into ``lang``.

    Textual copies a class's bindings into each instance; the copies are replaced here by
    ones whose description is the translation for their id. Keys, ids and actions stay, so
    the user's keymap still applies.
    """
    bindings = node._bindings.key_to_bindings
    for key, group in bindings.items():
        bindings[key] = [
            dataclasses.replace(b, description=binding_text(b.id, b.description, lang))
            for b in group
        ]
