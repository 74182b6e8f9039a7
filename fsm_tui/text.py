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
    "footer.dismiss_menu": ("Close the list", "Закрыть список"),
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
    "form.find_several": (
        "{n} found — choose one (↑↓, Enter) or type more",
        "Найдено {n} — выберите (↑↓, Enter) или уточните",
    ),
    "form.find_site": (
        "The site or a unit on it? (↑↓, Enter)",
        "Объект целиком или оборудование на нём? (↑↓, Enter)",
    ),
    "new_order.title": ("New order", "Новая заявка"),
    "order.created": ("Order {number} created ({stage}).", "Заявка {number} создана ({stage})."),
    # assign / move
    "assign.title": ("Assign order {number}", "Назначить заявку {number}"),
    "assign.filter": (
        "type a name, a position or an area — or ↑↓; Enter assigns",
        "начните имя, должность или участок — или ↑↓; Enter назначает",
    ),
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
    "order.position": ("Position", "Позиция"),
    "order.arrival": ("Arrival", "Прибытие"),
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
    "keymap.title": ("Keymap", "Назначение клавиш"),
    "keymap.unknown": (
        "{file}:{line}: no key has the id «{id}» (F1 lists the ids); nothing was remapped "
        "by this line",
        "{file}:{line}: клавиши с id «{id}» нет (список id — F1); эта строка ничего не "
        "переназначила",
    ),
    "help.scope.app": ("everywhere", "везде"),
    "help.scope.board": ("order board", "доска заявок"),
    "help.scope.table": ("order table", "таблица заявок"),
    "help.scope.kanban": ("stage columns", "колонки стадий"),
    "help.scope.order": ("order screen", "экран заявки"),
    "help.scope.form": ("forms", "формы"),
    "help.scope.help": ("this screen", "этот экран"),
    "help.scope.stock": ("stock", "склад"),
    "help.scope.lines": ("lists", "списки"),
    "help.scope.ledger": ("item movements", "движение номенклатуры"),
    "help.scope.checklists": ("order: checklists", "заявка: чек-листы"),
    "help.scope.execution": ("order: execution", "заявка: выполнение"),
    "help.scope.act": ("order: act", "заявка: акт"),
    "help.scope.materials": ("order: materials", "заявка: материалы"),
    "help.scope.planner": ("planner", "планировщик"),
    "help.scope.timeline": ("planner's timeline", "шкала планировщика"),
    "help.scope.chat": ("chats", "чаты"),
    "help.scope.thread": ("an order's chat", "чат заявки"),
    "help.scope.composer": ("message being written", "набор сообщения"),
    "help.scope.confirm": ("questions", "вопросы"),
    # commands (palette)
    "cmd.section": ("Go to: {name}", "Перейти: {name}"),
    "cmd.section_help": ("Switch to the {name} section", "Открыть раздел «{name}»"),
    "cmd.open_order": ("Open order {number}", "Открыть заявку {number}"),
    "cmd.open_order_help": ("{customer}: {description}", "{customer}: {description}"),
    "cmd.binding_help": ("{key} · {where}", "{key} · {where}"),
    "cmd.task.message": ("Write a message: {number}", "Написать сообщение: {number}"),
    "cmd.task.message_help": (
        "The order's chat, the message box ready",
        "Чат заявки, сразу в поле сообщения",
    ),
    "cmd.task.work": ("Record work: {number}", "Записать работу: {number}"),
    "cmd.task.work_help": (
        "Execution: work done, at the visit's time",
        "Выполнение: работа, по времени визита",
    ),
    "cmd.task.write_off": ("Write off a material: {number}", "Списать материал: {number}"),
    "cmd.task.write_off_help": (
        "Execution: a material used, from where it is",
        "Выполнение: материал, со склада, где он есть",
    ),
    "cmd.task.sign": ("Customer's signature: {number}", "Подпись заказчика: {number}"),
    "cmd.task.sign_help": ("Execution: who signed", "Выполнение: кто подписал"),
    "cmd.task.act": ("Act PDF: {number}", "Акт в PDF: {number}"),
    "cmd.task.act_help": (
        "Write the act of completed works",
        "Сформировать акт выполненных работ",
    ),
    "cmd.reload_catalog": ("Reload reference data", "Обновить справочники"),
    "cmd.reload_catalog_help": (
        "Re-read stages, employees, customers and objects from the database",
        "Перечитать стадии, сотрудников, заказчиков и объекты из базы",
    ),
    # the planner
    "planner.ruler": ("Technician", "Сотрудник"),
    "planner.is_today": ("today", "сегодня"),
    "planner.conflicts": ("conflicts: {n}", "конфликтов: {n}"),
    "planner.visits": ("visits: {n}", "визитов: {n}"),
    "planner.legend": (
        "[on $primary 70%]  [/] visit  [on $warning 60%]! [/] warning  "
        "[on $error 60%]! [/] conflict  [on $error]▓[/] overlap  [on $panel-lighten-2]✓ [/] done"
        "  × away  · off duty",
        "[on $primary 70%]  [/] визит  [on $warning 60%]! [/] замечание  "
        "[on $error 60%]! [/] конфликт  [on $error]▓[/] пересечение  "
        "[on $panel-lighten-2]✓ [/] выполнен  × нет  · вне графика",
    ),
    "planner.actual": ("by GPS", "по GPS"),
    "planner.legend_gps": (
        "  [$success]━[/] on site  ╌ stop  [$warning]◂[/] late  [$error]✗[/] never came",
        "  [$success]━[/] на объекте  ╌ стоянка  [$warning]◂[/] опоздал  [$error]✗[/] не был",
    ),
    "planner.detail": ("Selected", "Выбрано"),
    "planner.nearest": ("Nearest free", "Ближайшие свободные"),
    "planner.nearest_at": ("at {when}, for {length}:", "на {when}, на {length}:"),
    "planner.nobody": (
        "Nobody to show: set working hours (fsm plan hours) or plan a visit.",
        "Некого показать: задайте рабочее время (fsm plan hours) или визит.",
    ),
    "planner.no_conflicts": ("No conflicts.", "Конфликтов нет."),
    "planner.no_hours": ("no working hours set", "рабочее время не задано"),
    "planner.no_hours_short": ("no hours set", "график не задан"),
    "planner.day_off": ("day off", "выходной"),
    "planner.holiday": ("holiday", "праздник"),
    "planner.booked": ("{n} visit(s), {hours}", "визитов: {n}, {hours}"),
    "planner.crew": ("crew", "бригада"),
    "planner.due": ("due", "срок"),
    "planner.queue": ("Without a visit", "Без визита"),
    "planner.queue_empty": ("Every open order has a visit.", "У всех открытых заявок есть визит."),
    "planner.reaction": ("(reaction)", "(реакция)"),
    "planner.nobody_assigned": ("nobody", "без исполнителя"),
    "planner.no_slots": ("No free slots this day.", "Свободных окон в этот день нет."),
    "planner.nobody_free": ("Nobody is free then.", "В это время никто не свободен."),
    "planner.pick_queue": (
        "Pick an order in the queue (tab) first.",
        "Сначала выберите заявку в очереди (tab).",
    ),
    "planner.pick_visit": (
        "Pick a visit on the timeline (←/→) first.",
        "Сначала выберите визит на шкале (←/→).",
    ),
    "planner.planned": (
        "Order {number}: visit {when}, {who} (stage {stage}).",
        "Заявка {number}: визит {when}, {who} (стадия «{stage}»).",
    ),
    "planner.moved": (
        "Order {number}: visit moved to {when}, {who}.",
        "Заявка {number}: визит перенесён на {when}, {who}.",
    ),
    "planner.remove_question": (
        "Remove visit #{id} of order {number} ({who}, {when})? The order keeps its assignee.",
        "Удалить визит #{id} по заявке {number} ({who}, {when})? Исполнитель заявки останется.",
    ),
    "planner.removed": (
        "Visit #{id} of order {number} removed.",
        "Визит #{id} по заявке {number} удалён.",
    ),
    "plan.place_title": ("Plan a visit: order {number}", "Визит по заявке {number}"),
    "plan.move_title": ("Move the visit: order {number}", "Перенести визит по заявке {number}"),
    "plan.start": ("Start", "Начало"),
    "plan.start_placeholder": ("14:00, 27.11 10:00", "14:00, 27.11 10:00"),
    "plan.length": ("Length", "Длительность"),
    "plan.length_placeholder": ("2h, 90m", "2ч, 90м"),
    "plan.choices_title": (
        "Who, at {when} for {length} — the order's assignee (●), then the free and nearest:",
        "Кто, на {when} на {length} — исполнитель заявки (●), затем свободные и ближайшие:",
    ),
    "plan.free_slots": (
        "Free slots this day (enter: plan at its start)",
        "Свободные окна дня (enter: с их начала)",
    ),
    "plan.free": ("free", "свободен"),
    "plan.not_working": ("not working", "не работает"),
    "plan.busy": ("busy: visit {number}", "занят: визит {number}"),
    "plan.km": (" km", " км"),
    "plan.from_home": ("from home", "от дома"),
    "plan.after": ("after {number}", "после {number}"),
    "plan.no_one": (
        "Nobody has working hours this day.",
        "Ни у кого нет рабочего времени в этот день.",
    ),
    "plan.pick": ("Pick a technician or a slot.", "Выберите сотрудника или окно."),
    "plan.past_title": ("A visit in the past", "Визит в прошлом"),
    "plan.past_question": (
        "{when} is in the past. Plan the visit of order {number} there anyway?",
        "{when} уже прошло. Всё равно запланировать визит по заявке {number} на это время?",
    ),
    "plan.past_refused": (
        "Not planned: the start is in the past.",
        "Не запланировано: начало уже прошло.",
    ),
    "plan.hint": (
        "enter plans the visit · type a start or a length to see who fits · esc cancels",
        "enter — запланировать · новое начало или длительность обновят список · esc — отмена",
    ),
    "confirm.title": ("Are you sure?", "Точно?"),
    # chats
    "tab.messages": ("Messages", "Сообщения"),
    "chat.conversations": ("Conversations", "Переписки"),
    "chat.unread": ("unread", "непрочитанных"),
    "chat.only_unread": ("unread only", "только непрочитанные"),
    "chat.pick": ("Pick a conversation on the left.", "Выберите переписку слева."),
    "chat.team": ("Team", "Команда"),
    "chat.customer": ("Customer", "Заказчик"),
    "chat.empty": ("No messages in this chat yet.", "В этом чате пока нет сообщений."),
    "chat.placeholder.team": ("A message to the team…", "Сообщение команде…"),
    "chat.placeholder.customer": (
        "A message to the CUSTOMER…",
        "Сообщение ЗАКАЗЧИКУ…",
    ),
    "chat.also_customer": ("also send to the customer", "также отправить заказчику"),
    "chat.to_customer": ("▲ to the customer", "▲ пишете заказчику"),
    "chat.hint": (
        "ctrl+enter (or ctrl+j, ctrl+s) sends · enter: new line",
        "ctrl+enter (или ctrl+j, ctrl+s) — отправить · enter — новая строка",
    ),
    "chat.forwarded": (
        "forwarded from {author} ({number}, {channel})",
        "переслано от {author} ({number}, {channel})",
    ),
    "chat.attachment": ("▪ {name} ({size} bytes)", "▪ {name} ({size} байт)"),
    "chat.nothing_to_send": ("Type a message first.", "Сначала напишите сообщение."),
    "chat.nothing_selected": ("No message is selected.", "Сообщение не выбрано."),
    "chat.sent_both": ("Sent to the team and the customer.", "Отправлено команде и заказчику."),
    "chat.forwarded_to": ("Forwarded to {number}, {channel}.", "Переслано в {number}, {channel}."),
    "forward.title": ("Forward a message", "Переслать сообщение"),
    "forward.order": ("Order", "Заявка"),
    "forward.channel": ("Chat", "Чат"),
    "forward.no_order": ("Type the order's number.", "Укажите номер заявки."),
    "forward.hint": (
        "enter or ctrl+s forwards · esc cancels",
        "enter или ctrl+s — переслать · esc — отмена",
    ),
    # stock section (склад)
    "stock.all_warehouses": ("All warehouses", "Все склады"),
    "stock.search_placeholder": (
        "/ search: SKU, name, barcode",
        "/ поиск: артикул, название, штрихкод",
    ),
    "stock.available_all": ("Available (all)", "Доступно всего"),
    "stock.empty": ("No stock matches the filters.", "Нет остатков по этим фильтрам."),
    "stock.no_low": ("Nothing is below its minimum level.", "Ничего не ниже минимального остатка."),
    "stock.low_title": (
        "Low stock: available below the minimum level (what to order)",
        "Мало на складе: доступно меньше минимума (что дозаказать)",
    ),
    "stock.counts": (
        "{lines} lines · items: {items} · warehouses: {warehouses}",
        "Строк: {lines} · позиций: {items} · складов: {warehouses}",
    ),
    "stock.low_count": ("{n} low on stock", "мало на складе: {n}"),
    "stock.low_only_on": ("low stock only (l)", "только то, чего мало (l)"),
    "stock.low_mark": ("below the minimum level", "ниже минимального остатка"),
    "stock.available_at": ("Available:", "Доступно:"),
    "stock.nowhere": ("none in stock", "нет на складах"),
    "stock.held_here": ("(reserved for the order {n})", "(в резерве заявки {n})"),
    "ledger.title": ("Item movements", "Движение номенклатуры"),
    "ledger.note": ("Document, reason", "Документ, основание"),
    "ledger.empty": ("No movements yet.", "Движений ещё не было."),
    "ledger.limited": ("The newest {n} movements are shown.", "Показаны последние {n} движений."),
    "receive.title": ("Receive stock", "Приход на склад"),
    "receive.to": ("To warehouse", "На склад"),
    "receive.price": ("Price", "Цена"),
    "receive.price_placeholder": ("empty: the purchase price", "пусто: закупочная цена"),
    "receive.document_placeholder": ("delivery note no.", "№ накладной"),
    "receive.save": ("Receive (ctrl+s)", "Оприходовать (ctrl+s)"),
    "receive.saved": (
        "Received: {item}, {n} at {warehouse}.",
        "Приход: {item}, {n} на «{warehouse}».",
    ),
    "transfer.title": ("Transfer stock", "Перемещение"),
    "transfer.from": ("From", "Откуда"),
    "transfer.to": ("To", "Куда"),
    "transfer.order": ("For order", "Для заявки"),
    "transfer.order_placeholder": (
        "number: its reservation moves along",
        "номер: её резерв переедет вместе с товаром",
    ),
    "transfer.save": ("Transfer (ctrl+s)", "Переместить (ctrl+s)"),
    "transfer.saved": (
        "Moved {item}, {n}: {source} → {target}.",
        "Перемещено: {item}, {n}: «{source}» → «{target}».",
    ),
    "form.required": ("Required.", "Обязательное поле."),
    "form.optional": ("optional", "необязательно"),
    # order screen: checklists (чек-листы)
    "tab.checklists": ("Checklists", "Чек-листы"),
    "tab.execution": ("Execution", "Выполнение"),
    "tab.act": ("Act", "Акт"),
    "tab.materials": ("Materials", "Материалы"),
    "checklist.item": ("Item", "Пункт"),
    "checklist.kind": ("Answer kind", "Тип ответа"),
    "checklist.answer_col": ("Answer", "Ответ"),
    "checklist.kind.yes_no": ("yes/no", "да/нет"),
    "checklist.kind.number": ("number", "число"),
    "checklist.kind.text": ("text", "текст"),
    "checklist.kind.choice": ("choice", "выбор"),
    "checklist.kind.file": ("file, photo", "файл, фото"),
    "checklist.kind.check_in": ("check-in", "отметка"),
    "checklist.none": (
        "No checklist applies to this order.",
        "К этой заявке не относится ни один чек-лист.",
    ),
    "checklist.counts": ("{n} items, {answered} answered", "Пунктов: {n}, отвечено: {answered}"),
    "checklist.missing": (
        "{n} required without an answer: the order cannot be closed yet",
        "обязательных без ответа: {n} — заявку пока нельзя закрыть",
    ),
    "checklist.closed": (
        "the order is finished: answers are final",
        "заявка завершена: ответы не меняются",
    ),
    "checklist.signed": (
        "the act is signed: answers are final until the signature is withdrawn",
        "акт подписан: ответы не меняются, пока подпись не отозвана",
    ),
    "checklist.required": ("— required", "— обязательно"),
    "checklist.optional": ("— optional", "— необязательно"),
    "checklist.required_word": ("required", "обязательный"),
    "checklist.hint": ("Hint: {hint}", "Подсказка: {hint}"),
    "checklist.wants": ("How to answer: {kind}", "Как отвечать: {kind}"),
    "checklist.rule": ("Rule: {rule}", "Правило: {rule}"),
    "checklist.rule.if": ("if «{answer}»", "если «{answer}»"),
    "checklist.rule.out_of_range": ("if out of the range", "если вне диапазона"),
    "checklist.rule.follow_up": ("a new order «{text}»", "новая заявка «{text}»"),
    "checklist.rule.raise": ("criticality → {crit}", "критичность → {crit}"),
    "checklist.given": ("Answered: {answer} · {who}, {when}", "Ответ: {answer} · {who}, {when}"),
    "checklist.answered": ("«{item}»: {answer}.", "«{item}»: {answer}."),
    "checklist.out_of_range": ("Out of the allowed range.", "Вне допустимого диапазона."),
    "checklist.follow_up": ("Follow-up order {number} created.", "Создана заявка {number}."),
    "checklist.raised": ("Criticality raised to {crit}.", "Критичность повышена: {crit}."),
    "answer.title": ("Answer", "Ответ"),
    "answer.yes": ("yes", "да"),
    "answer.no": ("no", "нет"),
    "answer.number_placeholder": ("a number {range}", "число {range}"),
    "answer.text_placeholder": ("the answer", "ответ"),
    "answer.file_placeholder": (
        "path to the photo or document (→ completes)",
        "путь к фото или документу (→ дополняет)",
    ),
    "answer.file_needed": ("Give the path to a file.", "Укажите путь к файлу."),
    # order screen: execution (выполнение)
    "execution.total": ("Total {total}", "Итого {total}"),
    "execution.counts": (
        "work: {works}, materials: {materials}",
        "работ: {works}, материалов: {materials}",
    ),
    "execution.signed_by": ("signed by {name}", "подписано: {name}"),
    "execution.not_signed": ("not signed", "нет подписи заказчика"),
    "execution.finished": ("the order is finished", "заявка завершена"),
    "execution.frozen": (
        "no changes until the signature is withdrawn",
        "до отзыва подписи изменения закрыты",
    ),
    "execution.nothing": (
        "Nothing recorded yet: w adds work, u a material used.",
        "Пока ничего не записано: w — работа, u — материал.",
    ),
    "execution.line": ("Work, labour, materials", "Работы, труд, материалы"),
    "execution.loose": ("Materials", "Материалы"),
    "execution.subtotal": ("Subtotal", "Итого по работе"),
    "execution.total_row": ("Total to pay", "Итого к оплате"),
    "execution.comment_label": ("Comment", "Комментарий"),
    "execution.attachments": ("Attachments", "Вложения"),
    "execution.signature": ("Signature", "Подпись"),
    "execution.with_image": ("with the image", "с изображением"),
    "work.title": ("Work done", "Выполненная работа"),
    "work.type": ("Work type", "Вид работ"),
    "work.pick_type": ("Choose the work type", "Выберите вид работ"),
    "work.start": ("Started", "Начало"),
    "work.end": ("Finished", "Окончание"),
    "work.quantity": ("Quantity", "Количество"),
    "work.executor": ("Executor {n}", "Исполнитель {n}"),
    "work.rate": ("rate/h", "ставка/ч"),
    "work.rate_own": ("own: {rate}", "своя: {rate}"),
    "work.comment": ("Comment", "Комментарий"),
    "work.from_visit": (
        "Started and finished: the visit's planned time (until now, if it is still on).",
        "Начало и окончание — плановое время визита (до текущего момента, если он идёт).",
    ),
    "work.rate_hint": (
        "A rate typed next to an executor replaces their own for this work.",
        "Ставка рядом с исполнителем заменяет его собственную для этой работы.",
    ),
    "work.save": ("Record (ctrl+s)", "Записать (ctrl+s)"),
    "work.saved": (
        "Work recorded: {work}. Order total: {total}.",
        "Работа записана: {work}. Итого по заявке: {total}.",
    ),
    "material.title": ("Material used (write off)", "Списание материала"),
    "material.pick_item": ("Choose the item", "Выберите номенклатуру"),
    "material.pick_warehouse": ("Choose the warehouse", "Выберите склад"),
    "material.save": ("Write off (ctrl+s)", "Списать (ctrl+s)"),
    "material.saved": (
        "Written off: {item}, {n} from {warehouse}; {left} left available there.",
        "Списано: {item}, {n} со склада «{warehouse}»; там доступно ещё {left}.",
    ),
    "comment.title": ("Comment (printed on the act)", "Комментарий (печатается в акте)"),
    "comment.saved": ("Comment saved.", "Комментарий сохранён."),
    "comment.cleared": ("Comment removed.", "Комментарий удалён."),
    "sign.title": ("The customer's signature", "Подпись заказчика"),
    "sign.name": ("Signed by", "Подписал"),
    "sign.image": ("Image", "Изображение"),
    "sign.image_placeholder": ("PNG or JPEG (optional)", "PNG или JPEG (необязательно)"),
    "sign.name_needed": ("Who signs for the customer?", "Кто подписывает от заказчика?"),
    "sign.save": ("Save the signature (ctrl+s)", "Сохранить подпись (ctrl+s)"),
    "sign.saved": ("Signed by {name}.", "Подписано: {name}."),
    "sign.position": ("Position", "Должность"),
    "work.by_hours": ("by the hours", "по часам"),
    "work.plus_hours": ("+ hours", "+ часы"),
    "company.title": ("Company details", "Реквизиты компании"),
    "company.intro": (
        "What the act of works says about the company. Saved together: a value that cannot "
        "be taken is shown beside its field.",
        "Что акт выполненных работ говорит о компании. Сохраняется всё вместе: значение, "
        "которое нельзя принять, показано у своего поля.",
    ),
    "company.company_name": ("Name on documents", "Название (кратко)"),
    "company.company_phone": ("Phone", "Телефон"),
    "company.company_legal_name": ("Legal name", "Полное наименование"),
    "company.company_inn": ("INN", "ИНН"),
    "company.company_kpp": ("KPP", "КПП"),
    "company.company_ogrn": ("OGRN / OGRNIP", "ОГРН / ОГРНИП"),
    "company.company_legal_address": ("Legal address", "Юридический адрес"),
    "company.company_bank_details": ("Bank details", "Банковские реквизиты"),
    "company.vat_rate": ("VAT, %", "НДС, %"),
    "company.vat_rate.hint": (
        "included in prices, e.g. 20; empty: «Без НДС»",
        "входит в цены, например 20; пусто — «Без НДС»",
    ),
    "company.act_signer_name": ("Signs acts", "Подписывает акты"),
    "company.act_signer_position": ("Their position", "Должность подписанта"),
    "company.save": ("Save (ctrl+s)", "Сохранить (ctrl+s)"),
    "company.saved": ("Company details saved.", "Реквизиты компании сохранены."),
    "cmd.company_details": ("Company details…", "Реквизиты компании…"),
    "cmd.company_details_help": (
        "Legal name, INN/KPP/OGRN, bank details, VAT and who signs acts",
        "Полное наименование, ИНН/КПП/ОГРН, банк, НДС и кто подписывает акты",
    ),
    "unsign.title": ("Withdraw the customer's signature", "Отозвать подпись заказчика"),
    "unsign.intro": (
        "Signed by {name} on {when}. The act becomes unsigned and can change again; the "
        "order's history keeps the signature and why it was withdrawn.",
        "Подписано: {name}, {when}. Акт станет неподписанным и снова сможет меняться; в "
        "истории заявки останутся подпись и причина отзыва.",
    ),
    "unsign.reason": ("Why", "Причина"),
    "unsign.reason_placeholder": (
        "e.g. the pump replacement is not in the act",
        "например, в акт не вошла замена помпы",
    ),
    "unsign.reason_needed": (
        "Say why the signature is withdrawn: the order's history keeps it.",
        "Укажите причину: она останется в истории заявки.",
    ),
    "unsign.save": ("Withdraw the signature (ctrl+s)", "Отозвать подпись (ctrl+s)"),
    "unsign.saved": (
        "The signature is withdrawn: the act is unsigned and can change.",
        "Подпись отозвана: акт не подписан и снова может меняться.",
    ),
    "attach.title": ("Attach a file", "Прикрепить файл"),
    "attach.path": ("File", "Файл"),
    "attach.path_placeholder": ("path (→ completes)", "путь (→ дополняет)"),
    "attach.path_needed": ("Give the path to a file.", "Укажите путь к файлу."),
    "attach.note": ("Note", "Примечание"),
    "attach.save": ("Attach (ctrl+s)", "Прикрепить (ctrl+s)"),
    "attach.saved": ("Attached: {name}.", "Прикреплено: {name}."),
    # order screen: the act (акт выполненных работ)
    "act.folder": ("Folder", "Папка"),
    "act.generate": ("Make the PDF (g)", "Сформировать PDF (g)"),
    "act.hint": (
        "g writes the act as a PDF into the folder (FSM_ACT_DIR, else the current one).",
        "g — записать акт в PDF в эту папку (FSM_ACT_DIR, иначе текущая).",
    ),
    "act.writing": ("Writing the act…", "Формируется акт…"),
    "act.written": ("Act written: {path}", "Акт записан: {path}"),
    "act.nothing": (
        "No work or materials are recorded: there is no act yet (see Execution).",
        "Нет ни работ, ни материалов: акта пока нет (см. «Выполнение»).",
    ),
    "act.heading": (
        "Act of completed works No. {number} of {date}",
        "Акт выполненных работ № {number} от {date}",
    ),
    "act.col_name": ("Name", "Наименование"),
    "act.subtotal": ("Subtotal", "Итого по работе"),
    "act.total": ("Total to pay: {total}", "Итого к оплате: {total}"),
    "act.executors": ("Performed by", "Выполнили"),
    "act.contractor": ("Contractor", "Исполнитель"),
    "act.basis": ("Basis", "Основание"),
    "act.in_words": ("In words", "Прописью"),
    "act.company_signer": ("Signs for the company", "Подпись исполнителя"),
    "act.company_signer_unset": (
        "not named: set it in Company details… (command palette)",
        "не указан: задайте в «Реквизиты компании…» (палитра команд)",
    ),
    "act.comment": ("Comment", "Комментарий"),
    "act.signer": ("Customer's signature", "Подпись заказчика"),
    "act.unsigned": ("none yet", "пока нет"),
    # order screen: materials (необходимые материалы)
    "materials.free_there": ("Free there", "Свободно"),
    "materials.none": (
        "No materials yet: r reserves stock for the order.",
        "Материалов пока нет: r — зарезервировать под заявку.",
    ),
    "materials.counts": (
        "Reserved: {reserved} · used: {used}",
        "В резерве позиций: {reserved} · списано: {used}",
    ),
    "materials.released_when": (
        "what is still reserved is released when the order is closed or cancelled",
        "остаток резерва снимается при закрытии или отмене заявки",
    ),
    "materials.closed": (
        "the order is finished: nothing is reserved",
        "заявка завершена: резерва нет",
    ),
    "materials.signed": (
        "the act is signed: nothing more is written off until the signature is withdrawn",
        "акт подписан: списаний больше нет, пока подпись не отозвана",
    ),
    "materials.nothing_reserved": (
        "Nothing is reserved on this line.",
        "В этой строке ничего не зарезервировано.",
    ),
    "reserve.title": ("Reserve for order {number}", "Резерв под заявку {number}"),
    "reserve.save": ("Reserve (ctrl+s)", "Зарезервировать (ctrl+s)"),
    "reserve.saved": (
        "Reserved: {item}, {n} at {warehouse} (now {total} for the order).",
        "Зарезервировано: {item}, {n} на «{warehouse}» (всего под заявку {total}).",
    ),
    "release.title": ("Release a reservation", "Снять резерв"),
    "release.what": ("{what}: {n} reserved", "{what}: в резерве {n}"),
    "release.save": ("Release (ctrl+s)", "Снять (ctrl+s)"),
    "release.saved": ("Released: {item}, {n}.", "Резерв снят: {item}, {n}."),
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
    "board.plan": ("Plan visit", "Визит"),
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
    "table.right": ("More columns (to the right)", "Ещё столбцы (вправо)"),
    "table.left": ("Back to the first columns", "К первым столбцам"),
    "kanban.left": ("Previous column", "Предыдущая колонка"),
    "kanban.right": ("Next column", "Следующая колонка"),
    "order.save": ("Save", "Сохранить"),
    "order.back": ("Back", "Назад"),
    "order.assign": ("Assign", "Назначить"),
    "order.move": ("Stage", "Стадия"),
    "order.plan": ("Plan visit", "Визит"),
    "order.reapply": ("Reapply on current", "Наложить на текущую"),
    "order.reload": ("Reload", "Перечитать"),
    "order.next_tab": ("Next tab", "След. вкладка"),
    "order.prev_tab": ("Previous tab", "Пред. вкладка"),
    "order.tab_1": ("Tabs (1: Order)", "Вкладки (1 — Заявка)"),
    "order.tab_2": ("Tab 2: Checklists", "Вкладка 2 — Чек-листы"),
    "order.tab_3": ("Tab 3: Execution", "Вкладка 3 — Выполнение"),
    "order.tab_4": ("Tab 4: Act", "Вкладка 4 — Акт"),
    "order.tab_5": ("Tab 5: Messages", "Вкладка 5 — Сообщения"),
    "order.tab_6": ("Tab 6: Materials", "Вкладка 6 — Материалы"),
    "order.tab_7": ("Tab 7: History", "Вкладка 7 — История"),
    "form.submit": ("Save", "Сохранить"),
    "form.cancel": ("Cancel", "Отмена"),
    "help.close": ("Close", "Закрыть"),
    "lines.cursor_up": ("Up", "Вверх"),
    "lines.cursor_down": ("Down", "Вниз"),
    "lines.page_up": ("Page up", "Страница вверх"),
    "lines.page_down": ("Page down", "Страница вниз"),
    "lines.first": ("First line", "Первая строка"),
    "lines.last": ("Last line", "Последняя строка"),
    "lines.right": ("More columns (to the right)", "Ещё столбцы (вправо)"),
    "lines.left": ("Back to the first columns", "К первым столбцам"),
    "stock.ledger": ("Movements", "Движение"),
    "stock.receive": ("Receive", "Приход"),
    "stock.transfer": ("Transfer", "Перемещение"),
    "stock.low_only": ("Low stock only", "Только мало"),
    "stock.search": ("Search", "Поиск"),
    "stock.warehouse": ("Warehouse filter", "Фильтр по складу"),
    "stock.clear_filters": ("Clear filters", "Сбросить фильтры"),
    "stock.refresh": ("Refresh", "Обновить"),
    "stock.focus_list": ("To the list", "К списку"),
    "ledger.close": ("Close", "Закрыть"),
    "ledger.open_order": ("Open the order", "Открыть заявку"),
    "checklist.answer": ("Answer", "Ответить"),
    "checklist.yes": ("Yes", "Да"),
    "checklist.no": ("No", "Нет"),
    "execution.work": ("Work", "Работа"),
    "execution.material": ("Material", "Материал"),
    "execution.comment": ("Comment", "Комментарий"),
    "execution.attach": ("Attach", "Файл"),
    "execution.sign": ("Signature", "Подпись"),
    "execution.unsign": ("Withdraw signature", "Отозвать подпись"),
    "act.generate": ("Make PDF", "Сформировать PDF"),
    "materials.reserve": ("Reserve", "Резерв"),
    "materials.release": ("Release", "Снять резерв"),
    "materials.write_off": ("Write off", "Списать"),
    "planner.prev_day": ("Day back", "День назад"),
    "planner.next_day": ("Day on", "День вперёд"),
    "planner.today": ("Today", "Сегодня"),
    "planner.place": ("Plan", "Запланировать"),
    "planner.move": ("Move", "Перенести"),
    "planner.remove": ("Remove", "Удалить"),
    "planner.refresh": ("Refresh", "Обновить"),
    "timeline.up": ("Previous person", "Предыдущий сотрудник"),
    "timeline.down": ("Next person", "Следующий сотрудник"),
    "timeline.left": ("Previous visit", "Предыдущий визит"),
    "timeline.right": ("Next visit", "Следующий визит"),
    "timeline.open": ("Open", "Открыть"),
    "chat.compose": ("Write", "Написать"),
    "chat.channel": ("Team/customer", "Команда/заказчик"),
    "chat.unread_only": ("Unread only", "Только непрочитанные"),
    "chat.open_order": ("Open order", "Открыть заявку"),
    "chat.refresh": ("Refresh", "Обновить"),
    "chat.focus_list": ("To the list", "К списку"),
    "thread.channel": ("Team/customer", "Команда/заказчик"),
    "thread.also_customer": ("Also to customer", "Также заказчику"),
    "thread.forward": ("Forward", "Переслать"),
    "thread.compose": ("Write", "Написать"),
    "composer.send": ("Send", "Отправить"),
    "composer.send_ctrl_j": (
        "Send (where the terminal sends ctrl+enter as enter)",
        "Отправить (если терминал шлёт ctrl+enter как enter)",
    ),
    "composer.send_ctrl_s": (
        "Send (works where ctrl+enter does not)",
        "Отправить (работает и там, где ctrl+enter — нет)",
    ),
    "confirm.yes": ("Yes", "Да"),
    "confirm.no": ("No", "Нет"),
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
