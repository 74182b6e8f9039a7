"""Field execution: checklists and their rules, work with its executors, materials written
off, attachments, the customer's signature, the totals and the act of completed works.

Money is computed in one place (:func:`line_amount`: quantity × price, rounded half-up
to the kopeck); every total — the act's, a report's — is a sum of those line amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import Forbidden, principal_of, requires, sees_prices
from fsm_core.errors import Duplicate, InvalidInput, NotFound, TransitionNotAllowed
from fsm_core.models import (
    Company,
    Criticality,
    Employee,
    Order,
    ServiceObject,
    StageCategory,
    WorkType,
)
from fsm_core.models.catalog import Charge
from fsm_core.models.execution import (
    ChecklistAnswer,
    ChecklistBinding,
    ChecklistItem,
    ChecklistTemplate,
    ExecutionRecord,
    MaterialUse,
    OrderAttachment,
    WorkEntry,
    WorkExecutor,
)
from fsm_core.services import stages
from fsm_core.services.stages import StageView
from fsm_core.values import KOPECK, line_amount, parse_decimal, parse_quantity, record_id
from fsm_core.vocabulary import parse_criticality

HOUR_PRECISION = Decimal("0.01")
ITEM_KINDS = ("yes_no", "number", "text", "choice", "file", "check_in")
_YES = {"да", "yes", "y", "д", "1", "true", "+", "ok", "норма", "в норме"}
_NO = {"нет", "no", "n", "н", "0", "false", "-"}
_CRITICALITY_ORDER = [c.value for c in Criticality]


def vat_included(total: Decimal, rate: Decimal) -> Decimal:
    """The VAT contained in ``total`` at ``rate`` percent ("в т.ч. НДС 20 %"): total × rate
    / (100 + rate), half-up to the kopeck.

    Prices here are what the customer pays — the work types' prices and the hourly rates
    are quoted with VAT, as small service companies quote them — so the act's total stays
    the sum of its lines and VAT is the part of it the line states, never added on top.
    """
    return (total * rate / (Decimal(100) + rate)).quantize(KOPECK, rounding=ROUND_HALF_UP)


def _order(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("order", f"#{order_id}")
    return order


# --- what may still change ------------------------------------------------------------

SIGNING_CATEGORIES = frozenset({StageCategory.ACTIVE.value, StageCategory.DONE.value})
"""The stage categories in which the customer can sign the act: while the work is under way
(active) and when it is done. Not "new" (nothing has been done to sign for), not "paused"
(on hold: the work is not finished), not closed or cancelled (history, see
:data:`~fsm_core.services.stages.FINAL_CATEGORIES`)."""

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far past now a work entry may end, or a signature be dated: a phone's clock a little
ahead, a time rounded up to the next five minutes."""


@dataclass(frozen=True)
class ExecutionLock:
    """Why an order's execution cannot change now: it is closed or cancelled (``stage``),
    or the customer signed its act (``signer``, ``signed_at``) and the signature has not
    been withdrawn. Front ends show :meth:`text` in the user's language."""

    order_number: str
    stage: StageView | None = None
    signer: str | None = None
    signed_at: datetime | None = None
    tz: tzinfo | None = None

    @property
    def signed(self) -> bool:
        return self.stage is None

    def when(self, lang: str = "en") -> str:
        from fsm_core.formatting import local_time

        if self.signed_at is None or self.tz is None:
            return ""
        return local_time(self.signed_at, self.tz, lang=lang)

    def text(self, lang: str = "en") -> str:
        number = self.order_number
        if self.stage is not None:
            if lang == "ru":
                return (
                    f"заявка {number} в стадии «{self.stage.name_ru}»: её выполнение "
                    "больше не меняется"
                )
            return (
                f"order {number} is {self.stage.name_en.lower()}; its execution can no longer "
                "change"
            )
        if lang == "ru":
            return (
                f"акт заявки {number} подписан ({self.signer}, {self.when('ru')}): "
                "подписанное не меняется"
            )
        return (
            f"order {number} was signed by {self.signer} on {self.when('en')}; what was signed "
            "can no longer change"
        )

    def hint(self, lang: str = "en") -> str:
        if self.stage is not None:
            return "сначала откройте её снова" if lang == "ru" else "reopen it first"
        if lang == "ru":
            return f"сначала отзовите подпись: fsm work unsign {self.order_number} --reason …"
        return f"withdraw the signature first: fsm work unsign {self.order_number} --reason ..."


@requires("orders.read")
def execution_lock(
    *, session: Session, order: Order, stage_code: str | None = None
) -> ExecutionLock | None:
    """Why the order's execution (work, materials used or returned, checklist answers, the
    comment, the signature) cannot change now, or None when it can.

    Closed and cancelled orders are history. A signed act is what the customer agreed to:
    after the signature nothing it covers changes until the signature is withdrawn
    (:func:`unsign`), which the order's history records with who and why. Attachments are
    not frozen: the act neither lists nor prints them, and photos of a finished job often
    arrive after the customer signed.
    """
    stage = stages.load_workflow(session=session).stages[stage_code or order.stage_code]
    if stage.final:
        return ExecutionLock(order.number, stage=stage)
    record = session.get(ExecutionRecord, order.id)
    if record is not None and record.signed_at is not None:
        from fsm_core.services import settings as company_settings

        return ExecutionLock(
            order.number,
            signer=record.signer_name,
            signed_at=record.signed_at,
            tz=company_settings.load(session=session).tz,
        )
    return None


def _lock_order(session: Session, order: Order, *, share: bool) -> str:
    """Lock the order's row to the end of the transaction and return its stage as it is
    now. A change of execution takes it shared, signing and withdrawing exclusively, so
    on PostgreSQL a write-off cannot slip in beside a signature being made (it waits, then
    sees the signature). Taken before any stock balance row, as the stock service does."""
    stage: str | None = session.execute(
        select(Order.stage_code).where(Order.id == order.id).with_for_update(read=share)
    ).scalar()
    if stage is None:
        raise NotFound("order", order.number)
    return stage


@requires("orders.execute")
def ensure_unlocked(*, session: Session, order: Order) -> None:
    """Refuse, in one line naming the reason, a change of an order's execution that
    :func:`execution_lock` forbids."""
    stage = _lock_order(session, order, share=True)
    lock = execution_lock(session=session, order=order, stage_code=stage)
    if lock is not None:
        raise InvalidInput(lock.text(), hint=lock.hint())


@requires("orders.read")
def default_executors(*, session: Session, order: Order) -> list[int]:
    """Who did an order's work unless someone says otherwise: its assignee, else the
    members of its crew (the work form's and the demo's default)."""
    from fsm_core.services import parties

    if order.assignee_id is not None:
        return [order.assignee_id]
    if order.crew_id is not None:
        members = parties.crew_members(session=session, crew_id=order.crew_id)
        return [e.id for e in members if e.id is not None]
    return []


def _history(session: Session, order: Order, *, actor: str, action: str, **kw: Any) -> None:
    from fsm_core.services.orders import record_history

    record_history(session=session, order=order, actor=actor, action=action, **kw)


# --- checklists: templates -------------------------------------------------------------


@requires("orders.edit")
def create_template(
    *, session: Session, name: str, description: str | None = None
) -> ChecklistTemplate:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a checklist needs a name")
    if session.execute(select(ChecklistTemplate.id).where(ChecklistTemplate.name == name)).first():
        raise Duplicate(f"checklist {name!r} already exists")
    template = ChecklistTemplate(name=name, description=description)
    session.add(template)
    session.flush()
    return template


@requires("orders.edit")
def add_item(
    *,
    session: Session,
    template_id: int,
    kind: str,
    text: str,
    hint: str | None = None,
    required: bool = True,
    unit: str | None = None,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    choices: Sequence[str] = (),
    trigger: str | None = None,
    follow_up: str | None = None,
    raise_to: str | None = None,
) -> ChecklistItem:
    """Add a question to a checklist; a rule (``trigger`` with ``follow_up`` and/or
    ``raise_to``) fires when an answer equals the trigger ("no", a choice, or
    "out_of_range" for numbers)."""
    if session.get(ChecklistTemplate, template_id) is None:
        raise NotFound("checklist", f"#{template_id}")
    if kind not in ITEM_KINDS:
        raise InvalidInput(f"unknown item kind {kind!r}; known: {', '.join(ITEM_KINDS)}")
    text = text.strip()
    if not text:
        raise InvalidInput("a checklist item needs a question or instruction")
    choices = [c.strip() for c in choices if c.strip()]
    if kind == "choice" and len(choices) < 2:
        raise InvalidInput("a choice item needs at least two choices")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise InvalidInput("the allowed range is empty (min is above max)")
    if trigger is not None:
        trigger = _normalize_trigger(kind, trigger, choices)
    if (follow_up or raise_to) and trigger is None:
        raise InvalidInput("a follow-up or a raised criticality needs --trigger (the answer)")
    if trigger is not None and not (follow_up or raise_to):
        raise InvalidInput("--trigger needs --follow-up and/or --raise-to")
    if raise_to is not None:
        raise_to = parse_criticality(raise_to).value
    last = session.execute(
        select(ChecklistItem.position)
        .where(ChecklistItem.template_id == template_id)
        .order_by(col(ChecklistItem.position).desc())
    ).scalar()
    item = ChecklistItem(
        template_id=template_id,
        position=(last or 0) + 1,
        kind=kind,
        text=text,
        hint=hint,
        required=required,
        unit=unit,
        min_value=min_value,
        max_value=max_value,
        choices=choices,
        trigger=trigger,
        follow_up=follow_up,
        raise_to=raise_to,
    )
    session.add(item)
    session.flush()
    return item


def _normalize_trigger(kind: str, trigger: str, choices: Sequence[str]) -> str:
    value = trigger.strip().lower()
    if kind == "yes_no":
        if value in _YES:
            return "yes"
        if value in _NO:
            return "no"
        raise InvalidInput(f"trigger {trigger!r}: a yes/no item triggers on yes or no")
    if kind == "number":
        if value.replace("-", "_") != "out_of_range":
            raise InvalidInput("a number item triggers on out_of_range")
        return "out_of_range"
    if kind == "choice":
        for choice in choices:
            if choice.lower() == value:
                return choice
        raise InvalidInput(f"trigger {trigger!r} is not one of the choices")
    raise InvalidInput(f"a {kind} item has no answer to trigger on")


@requires("orders.edit")
def bind_template(
    *,
    session: Session,
    template_id: int,
    work_type_id: int | None = None,
    object_kind: str | None = None,
    order_id: int | None = None,
) -> ChecklistBinding:
    """Make a checklist apply to a work type, an object kind, or one order."""
    targets = [t for t in (work_type_id, object_kind, order_id) if t is not None]
    if len(targets) != 1:
        raise InvalidInput("bind a checklist to exactly one of: work type, object kind, order")
    if session.get(ChecklistTemplate, template_id) is None:
        raise NotFound("checklist", f"#{template_id}")
    if object_kind is not None:
        object_kind = object_kind.strip().lower()
    binding = ChecklistBinding(
        template_id=template_id,
        work_type_id=work_type_id,
        object_kind=object_kind,
        order_id=order_id,
    )
    session.add(binding)
    session.flush()
    return binding


@requires("orders.read")
def applicable_templates(*, session: Session, order: Order) -> list[ChecklistTemplate]:
    """The checklists an order must go through: bound to it, to its object's kind, or to
    a work type recorded on it."""
    kinds: set[str] = set()
    if order.object_id is not None:
        obj = session.get(ServiceObject, order.object_id)
        if obj is not None:
            kinds.add(obj.kind.lower())
    work_types = set(
        session.execute(
            select(WorkEntry.work_type_id).where(
                WorkEntry.order_id == order.id, col(WorkEntry.work_type_id).is_not(None)
            )
        ).scalars()
    )
    conditions = [ChecklistBinding.order_id == order.id]
    if kinds:
        conditions.append(col(ChecklistBinding.object_kind).in_(kinds))
    if work_types:
        conditions.append(col(ChecklistBinding.work_type_id).in_(work_types))
    from sqlalchemy import or_

    query = (
        select(ChecklistTemplate)
        .join(ChecklistBinding, ChecklistBinding.template_id == ChecklistTemplate.id)
        .where(ChecklistTemplate.active, or_(*conditions))
        .distinct()
        .order_by(ChecklistTemplate.name)
    )
    return list(session.execute(query).scalars())


@dataclass
class ItemState:
    template: ChecklistTemplate
    item: ChecklistItem
    answer: ChecklistAnswer | None


@requires("orders.read")
def checklist_state(*, session: Session, order_id: int) -> list[ItemState]:
    order = _order(session, order_id)
    templates = applicable_templates(session=session, order=order)
    if not templates:
        return []
    items = list(
        session.execute(
            select(ChecklistItem)
            .where(col(ChecklistItem.template_id).in_([t.id for t in templates]))
            .order_by(ChecklistItem.template_id, ChecklistItem.position)
        ).scalars()
    )
    answers = {
        a.item_id: a
        for a in session.execute(
            select(ChecklistAnswer).where(ChecklistAnswer.order_id == order.id)
        ).scalars()
    }
    by_id = {t.id: t for t in templates}
    ordered = sorted(items, key=lambda i: (by_id[i.template_id].name, i.position))
    return [ItemState(by_id[i.template_id], i, answers.get(i.id)) for i in ordered]


@requires("orders.read")
def missing_required(*, session: Session, order: Order) -> list[ChecklistItem]:
    return [
        s.item
        for s in checklist_state(session=session, order_id=order.id)
        if s.item.required and s.answer is None
    ]


def _checklists_complete(session: Session, order: Order, src: Any, dst: Any) -> None:
    """The stage guard: an order is not closed while a required item is unanswered."""
    if dst.category != "closed":
        return
    missing = missing_required(session=session, order=order)
    if missing:
        first = missing[0].text
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise TransitionNotAllowed(
            f"order {order.number} cannot be closed: checklist item {first!r}{more} "
            "is not answered",
            hint=f"fsm checklist show {order.number}",
        )


stages.register_guard(_checklists_complete)


def answer_text(item: ChecklistItem, answer: ChecklistAnswer | None, *, tz: Any, lang: str) -> str:
    """An answer as a person reads it: да/нет, the number with its unit, the time of a
    check-in in the company's zone."""
    if answer is None or answer.value is None:
        return ""
    if item.kind == "yes_no":
        words = {"yes": ("yes", "да"), "no": ("no", "нет")}[answer.value]
        return words[1] if lang == "ru" else words[0]
    if item.kind == "check_in":
        from fsm_core.formatting import local_time
        from fsm_core.services.gps.proximity import verdict_text

        when = local_time(datetime.fromisoformat(answer.value), tz, lang=lang)
        if answer.check_in_verdict is None:  # answered before positions were read
            return when
        reading = verdict_text(
            answer.check_in_verdict,
            answer.check_in_distance_m,
            answer.check_in_fix_age_s,
            lang=lang,
        )
        return f"{when} · {reading}"
    if item.kind == "number" and answer.number is not None:
        from fsm_core.formatting import number

        text = (
            number(answer.number.normalize(), lang=lang, digits=0)
            if (answer.number == answer.number.to_integral_value())
            else str(answer.number.normalize()).replace(".", "," if lang == "ru" else ".")
        )
        return f"{text} {item.unit}" if item.unit else text
    return answer.value


# --- checklists: answers ---------------------------------------------------------------


@dataclass
class AnswerOutcome:
    answer: ChecklistAnswer
    follow_up: Order | None = None
    raised_to: str | None = None
    out_of_range: bool = False


@requires("orders.read")
def find_item(*, session: Session, order_id: int, ref: str | int) -> ChecklistItem:
    """An item of the order's checklists by its id (``17`` or ``#17``) or a unique part of
    its text."""
    state = checklist_state(session=session, order_id=order_id)
    if not state:
        order = _order(session, order_id)
        raise InvalidInput(f"order {order.number} has no checklist")
    text = str(ref).strip().lstrip("#")
    item_id = record_id(text)
    if item_id is not None:
        for s in state:
            if s.item.id == item_id:
                return s.item
    needle = text.lower()
    hits = [s.item for s in state if needle in s.item.text.lower()]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise NotFound("checklist item", ref, hint="see fsm checklist show ORDER")
    from fsm_core.errors import Ambiguous

    raise Ambiguous("checklist item", ref, [f"[{h.id}] {h.text}" for h in hits])


@requires("orders.execute")
def answer_item(
    *,
    session: Session,
    order_id: int,
    item_id: int,
    value: str | None,
    actor: str,
    file: str | Path | None = None,
) -> AnswerOutcome:
    """Record an answer; a triggering answer creates the follow-up order and/or raises the
    order's criticality (once: answering the same way again does not repeat it)."""
    from fsm_core.attachments import store

    order = _order(session, order_id)
    ensure_unlocked(session=session, order=order)
    item = session.get(ChecklistItem, item_id)
    if item is None or item.id not in {
        s.item.id for s in checklist_state(session=session, order_id=order.id)
    }:
        raise NotFound("checklist item", f"#{item_id}", hint="it is not on this order's checklists")
    stored, number, attachment_id = _read_answer(item, value)
    if item.kind == "file":
        if file is None:
            raise InvalidInput(f"item {item.text!r} needs a file (a photo or a document)")
        attachment = store(session, file)
        attachment_id, stored = attachment.id, attachment.original_name
    previous = session.execute(
        select(ChecklistAnswer).where(
            ChecklistAnswer.order_id == order.id, ChecklistAnswer.item_id == item.id
        )
    ).scalar_one_or_none()
    old_value = previous.value if previous else None
    was_triggered = previous is not None and _triggers(item, previous.value, previous.number)
    if previous is None:
        previous = ChecklistAnswer(order_id=order.id, item_id=item.id, answered_by=actor)
        session.add(previous)
    previous.value, previous.number, previous.attachment_id = stored, number, attachment_id
    previous.answered_by = actor
    previous.answered_at = clock.now()
    if item.kind == "check_in":
        _read_check_in(session, order, previous, actor)
    session.flush()
    _history(
        session,
        order,
        actor=actor,
        action="checklist",
        changes={"checklist": (old_value, f"{item.text}: {stored}")},
    )
    outcome = AnswerOutcome(answer=previous)
    if item.kind == "number" and number is not None:
        outcome.out_of_range = _out_of_range(item, number)
    if _triggers(item, stored, number) and not was_triggered:
        _fire_rule(session, order, item, stored, actor, outcome)
    return outcome


def _read_check_in(session: Session, order: Order, answer: ChecklistAnswer, actor: str) -> None:
    """A check-in read against the technician's latest fix (the answering user's employee,
    else the order's assignee): the distance to the object, the fix's age, the verdict. It
    is recorded beside the time, never taken as an arrival."""
    from fsm_core.services.gps.proximity import (
        check_in_employee,
        employee_distance_to_object,
        is_tracked,
    )

    employee_id = check_in_employee(session, order, actor)
    if employee_id is None or not is_tracked(session, employee_id):
        # nobody to read, or a technician the company does not track: only the time
        answer.check_in_distance_m = answer.check_in_fix_age_s = answer.check_in_verdict = None
        return
    reading = employee_distance_to_object(
        session=session,
        employee_id=employee_id,
        object_id=order.object_id,
        now=answer.answered_at,
    )
    answer.check_in_distance_m = reading.distance_m
    answer.check_in_fix_age_s = reading.fix_age_s
    answer.check_in_verdict = reading.verdict.value


def _read_answer(item: ChecklistItem, value: str | None) -> tuple[str | None, Decimal | None, None]:
    text = (value or "").strip()
    if item.kind == "check_in":
        moment = clock.now()
        return moment.isoformat(timespec="seconds"), None, None
    if item.kind == "file":
        return None, None, None
    if not text:
        raise InvalidInput(f"item {item.text!r}: an answer is needed")
    if item.kind == "yes_no":
        key = text.lower()
        if key in _YES:
            return "yes", None, None
        if key in _NO:
            return "no", None, None
        raise InvalidInput(f"item {item.text!r} is answered yes or no (да/нет), not {text!r}")
    if item.kind == "number":
        number = parse_decimal(text, field=item.text)
        return str(number), number, None
    if item.kind == "choice":
        for choice in item.choices:
            if choice.lower() == text.lower():
                return choice, None, None
        raise InvalidInput(f"item {item.text!r}: {text!r} is not one of {', '.join(item.choices)}")
    return text, None, None


def _out_of_range(item: ChecklistItem, number: Decimal) -> bool:
    low, high = item.min_value, item.max_value
    return (low is not None and number < low) or (high is not None and number > high)


def _triggers(item: ChecklistItem, value: str | None, number: Decimal | None) -> bool:
    if item.trigger is None:
        return False
    if item.kind == "number":
        return number is not None and _out_of_range(item, number)
    return value is not None and value == item.trigger


def _fire_rule(
    session: Session,
    order: Order,
    item: ChecklistItem,
    answer: str | None,
    actor: str,
    outcome: AnswerOutcome,
) -> None:
    from fsm_core.services import orders as order_service

    if item.raise_to and _CRITICALITY_ORDER.index(item.raise_to) > _CRITICALITY_ORDER.index(
        order.criticality
    ):
        order_service.update_order(
            session=session, order_id=order.id, data={"criticality": item.raise_to}, actor=actor
        )
        outcome.raised_to = item.raise_to
    if item.follow_up:
        description = item.follow_up.format_map(
            _Blanks(answer=answer or "", order=order.number, item=item.text)
        )
        follow = order_service.create_order(
            session=session,
            data={
                "customer_id": order.customer_id,
                "object_id": order.object_id,
                "contact_id": order.contact_id,
                "description": description,
                "criticality": item.raise_to or order.criticality,
                "source": "checklist",
            },
            actor=actor,
        )
        _history(
            session,
            order,
            actor=actor,
            action="comment",
            note=f"follow-up order {follow.number} created by the checklist ({item.text})",
        )
        outcome.follow_up = follow


class _Blanks(dict[str, str]):
    """Leaves an unknown {placeholder} in a follow-up template as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# --- work, materials, attachments, signature ------------------------------------------


@dataclass(frozen=True)
class ExecutorInput:
    employee_id: int
    hourly_rate: Decimal | None = None  # None: the employee's current rate
    hours: Decimal | None = None  # None: the work entry's duration


@requires("orders.execute")
def add_work(
    *,
    session: Session,
    order_id: int,
    work_type_id: int,
    started_at: datetime,
    finished_at: datetime,
    executors: Sequence[ExecutorInput],
    actor: str,
    object_id: int | None = None,
    quantity: Decimal = Decimal(1),
    comment: str | None = None,
) -> WorkEntry:
    """Record work done; the work type's price, how it is charged and each executor's
    rate are copied now. The work lies between the order's creation (to the minute, as
    times are typed) and now (within :data:`FUTURE_TOLERANCE`)."""
    order = _order(session, order_id)
    ensure_unlocked(session=session, order=order)
    work_type = session.get(WorkType, work_type_id)
    if work_type is None:
        raise NotFound("work type", f"#{work_type_id}")
    if finished_at <= started_at:
        raise InvalidInput("the work ends before it starts", field="end")
    created = order.created_at.replace(second=0, microsecond=0)
    if started_at < created:
        from fsm_core.formatting import local_time
        from fsm_core.services import settings as company_settings

        tz = company_settings.load(session=session).tz
        raise InvalidInput(
            f"the work cannot start ({local_time(started_at, tz, lang='en')}) before order "
            f"{order.number} was created ({local_time(order.created_at, tz, lang='en')})",
            field="start",
        )
    if finished_at > clock.now() + FUTURE_TOLERANCE:
        raise InvalidInput("the work cannot end in the future", field="end")
    quantity = parse_quantity(quantity, field="quantity") or Decimal(0)
    if not executors:
        raise InvalidInput("name at least one executor")
    target = object_id if object_id is not None else order.object_id
    if target is not None:
        obj = session.get(ServiceObject, target)
        if obj is None:
            raise NotFound("object", f"#{target}")
        if obj.customer_id != order.customer_id:
            raise InvalidInput(f"object {obj.name!r} is not the customer's", field="object")
    duration = Decimal((finished_at - started_at).total_seconds()) / Decimal(3600)
    entry = WorkEntry(
        order_id=order.id,
        object_id=target,
        work_type_id=work_type.id,
        work_type_name=work_type.name,
        unit=work_type.unit,
        quantity=quantity,
        price=work_type.price,
        charge=work_type.charge,
        started_at=started_at,
        finished_at=finished_at,
        comment=comment,
        created_by=actor,
    )
    session.add(entry)
    session.flush()
    seen: set[int] = set()
    names: list[str] = []
    for executor in executors:
        if executor.employee_id in seen:
            raise InvalidInput("the same executor is named twice")
        seen.add(executor.employee_id)
        employee = session.get(Employee, executor.employee_id)
        if employee is None:
            raise NotFound("employee", f"#{executor.employee_id}")
        names.append(employee.short_name)
        rate = executor.hourly_rate if executor.hourly_rate is not None else employee.hourly_rate
        if rate is None:
            raise InvalidInput(
                f"employee {employee.short_name} has no hourly rate; give one as NAME:RATE"
            )
        hours = (executor.hours or duration).quantize(HOUR_PRECISION, rounding=ROUND_HALF_UP)
        if hours <= 0:
            raise InvalidInput("hours must be positive")
        session.add(
            WorkExecutor(
                work_entry_id=entry.id,
                employee_id=employee.id,
                employee_name=employee.short_name,
                hours=hours,
                hourly_rate=rate,
            )
        )
    session.flush()
    _history(
        session,
        order,
        actor=actor,
        action="work",
        note=f"{work_type.name}: {', '.join(names)}",
    )
    return entry


@requires("orders.execute")
def use_material(
    *,
    session: Session,
    order_id: int,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    actor: str,
    work_entry_id: int | None = None,
) -> MaterialUse:
    """Record a material used: it is written off the warehouse through the stock service
    (which refuses to go below zero), at the item's sale price of today."""
    from fsm_core.services import stock, stock_queries

    order = _order(session, order_id)
    ensure_unlocked(session=session, order=order)
    if work_entry_id is not None:
        entry = session.get(WorkEntry, work_entry_id)
        if entry is None or entry.order_id != order.id:
            raise NotFound("work entry", f"#{work_entry_id}", hint="it is not on this order")
    movement = stock.write_off(
        session=session,
        item_id=item_id,
        warehouse_id=warehouse_id,
        quantity=quantity,
        order_id=order.id,
        actor=actor,
    )
    item = stock_queries.get_item(session=session, item_id=item_id)
    use = MaterialUse(
        order_id=order.id,
        work_entry_id=work_entry_id,
        item_id=item.id,
        warehouse_id=warehouse_id,
        item_name=item.name,
        unit=item.unit,
        quantity=quantity,
        price=item.sale_price or Decimal("0.00"),
        movement_id=movement.id,
        created_by=actor,
    )
    session.add(use)
    session.flush()
    _history(
        session, order, actor=actor, action="material", note=f"{item.name}: {quantity} {item.unit}"
    )
    return use


@requires("orders.execute")
def attach(
    *, session: Session, order_id: int, path: str | Path, actor: str, note: str | None = None
) -> OrderAttachment:
    from fsm_core.attachments import store

    order = _order(session, order_id)
    stored = store(session, path)
    link = OrderAttachment(order_id=order.id, attachment_id=stored.id, note=note, added_by=actor)
    session.add(link)
    session.flush()
    _history(session, order, actor=actor, action="attachment", note=stored.original_name)
    return link


def _record(session: Session, order: Order) -> ExecutionRecord:
    record = session.get(ExecutionRecord, order.id)
    if record is None:
        record = ExecutionRecord(order_id=order.id)
        session.add(record)
    return record


@requires("orders.execute")
def set_comment(*, session: Session, order_id: int, comment: str, actor: str) -> ExecutionRecord:
    order = _order(session, order_id)
    ensure_unlocked(session=session, order=order)
    record = _record(session, order)
    old = record.comment
    record.comment = comment.strip() or None
    record.updated_by = actor
    session.flush()
    _history(
        session, order, actor=actor, action="execution", changes={"comment": (old, record.comment)}
    )
    return record


@requires("orders.execute")
def sign(
    *,
    session: Session,
    order_id: int,
    signer_name: str,
    actor: str,
    signer_position: str | None = None,
    image: str | Path | None = None,
    at: datetime | None = None,
) -> ExecutionRecord:
    """The customer's signature (получить подпись): who, in what position, when, and the
    image if there is one. Only in a stage where work is done (:data:`SIGNING_CATEGORIES`),
    on an order with something to sign, and not over another signature: from now on the
    execution it signed is frozen (:func:`execution_lock`) until :func:`unsign`."""
    from fsm_core.attachments import store

    order = _order(session, order_id)
    code = _lock_order(session, order, share=False)
    lock = execution_lock(session=session, order=order, stage_code=code)
    if lock is not None:
        raise InvalidInput(lock.text(), hint=lock.hint())
    stage = stages.load_workflow(session=session).stages[code]
    if stage.category not in SIGNING_CATEGORIES:
        raise InvalidInput(
            f"order {order.number} is {stage.name_en.lower()}; the act is signed while the "
            "work is under way or when it is done",
            field="stage",
            hint="move the order to a stage where work is done first",
        )
    if not totals(session=session, order_id=order.id).blocks:
        raise InvalidInput(
            f"order {order.number} has no work or materials recorded; there is nothing to sign",
            hint="fsm work add ...",
        )
    name = " ".join(signer_name.split())
    if not name:
        raise InvalidInput("the signer's name is needed", field="name")
    position = " ".join((signer_position or "").split()) or None
    if position is not None and len(position) > 200:
        raise InvalidInput("the signer's position is longer than 200 characters", field="position")
    moment = at or clock.now()
    if moment > clock.now() + FUTURE_TOLERANCE:
        raise InvalidInput("the act cannot be signed in the future", field="at")
    if moment < order.created_at.replace(second=0, microsecond=0):
        raise InvalidInput(
            f"the act cannot be signed before order {order.number} was created", field="at"
        )
    signature_id = None
    if image is not None:
        signature_id = store(session, image).id
        _check_image(session, signature_id)
    record = _record(session, order)
    record.signer_name = name
    record.signer_position = position
    record.signed_at = moment
    record.signature_id = signature_id
    record.updated_by = actor
    session.flush()
    _history(
        session,
        order,
        actor=actor,
        action="signature",
        note=f"{name} ({position})" if position else name,
    )
    return record


@requires("orders.execute")
def unsign(*, session: Session, order_id: int, reason: str, actor: str) -> ExecutionRecord:
    """Withdraw the customer's signature (отозвать подпись), saying why: the act is then
    unsigned and its execution can change again. The order's history keeps who signed
    and when, who withdrew it and why."""
    order = _order(session, order_id)
    stage = stages.load_workflow(session=session).stages[_lock_order(session, order, share=False)]
    if stage.final:
        lock = ExecutionLock(order.number, stage=stage)
        raise InvalidInput(lock.text(), hint=lock.hint())
    record = session.get(ExecutionRecord, order.id)
    if record is None or record.signed_at is None:
        raise InvalidInput(f"order {order.number} is not signed; there is no signature to withdraw")
    why = " ".join(reason.split())
    if not why:
        raise InvalidInput("say why the signature is withdrawn", field="reason")
    if len(why) > 500:
        raise InvalidInput("the reason is longer than 500 characters", field="reason")
    signed = f"{record.signer_name}, {record.signed_at.isoformat(timespec='minutes')}"
    record.signer_name = None
    record.signer_position = None
    record.signed_at = None
    record.signature_id = None
    record.updated_by = actor
    session.flush()
    _history(session, order, actor=actor, action="unsign", changes={"unsign": (signed, why)})
    return record


def _check_image(session: Session, attachment_id: int) -> None:
    """Refuse a signature the act could not print, now rather than when printing."""
    import io

    from PIL import Image, UnidentifiedImageError

    from fsm_core.attachments import read_bytes
    from fsm_core.models.attachments import Attachment

    attachment = session.get(Attachment, attachment_id)
    data = read_bytes(session, attachment) if attachment else b""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind = None
    if kind not in ("PNG", "JPEG"):
        raise InvalidInput("the signature image must be a readable PNG or JPEG file")


# --- totals and the act ----------------------------------------------------------------


@dataclass
class TotalLine:
    name: str
    quantity: Decimal
    unit: str
    price: Decimal
    amount: Decimal
    kind: str  # work | labour | material


@dataclass
class TotalBlock:
    entry: WorkEntry | None
    executors: list[WorkExecutor] = field(default_factory=list)
    lines: list[TotalLine] = field(default_factory=list)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


@dataclass
class OrderTotals:
    blocks: list[TotalBlock]
    priced: bool = True
    """False for someone who may not see prices (:func:`fsm_core.access.sees_prices`): the
    lines' prices and amounts are then zero and must not be shown"""

    @property
    def total(self) -> Decimal:
        return sum((b.subtotal for b in self.blocks), Decimal("0.00"))


@requires("orders.read")
def totals(*, session: Session, order_id: int, lang: str = "ru") -> OrderTotals:
    """The order's cost: work type prices + executor hours × rates + materials × prices,
    each line rounded by :func:`line_amount`, grouped by work entry.

    A work entry is charged as its work type said when it was recorded
    (:class:`~fsm_core.models.catalog.Charge`): its price (fixed), its executors' hours
    (hours), or both lines; the executors are named on the block either way.

    For someone who may not see prices the lines keep their quantities and the prices
    and amounts are zero, with ``priced`` False."""
    priced = sees_prices(session)
    entries = list(
        session.execute(
            select(WorkEntry)
            .where(WorkEntry.order_id == order_id)
            .order_by(WorkEntry.started_at, WorkEntry.id)
        ).scalars()
    )
    executors: dict[int, list[WorkExecutor]] = {}
    if entries:
        for e in session.execute(
            select(WorkExecutor)
            .where(col(WorkExecutor.work_entry_id).in_([w.id for w in entries]))
            .order_by(WorkExecutor.employee_name)
        ).scalars():
            executors.setdefault(e.work_entry_id, []).append(e)
    materials = list(
        session.execute(
            select(MaterialUse).where(MaterialUse.order_id == order_id).order_by(MaterialUse.id)
        ).scalars()
    )
    labour = "Работа" if lang == "ru" else "Labour"
    hour = "ч" if lang == "ru" else "h"
    blocks = []
    for entry in entries:
        block = TotalBlock(entry=entry, executors=executors.get(entry.id or 0, []))
        if entry.charge != Charge.HOURS:
            block.lines.append(
                TotalLine(
                    entry.work_type_name,
                    entry.quantity,
                    entry.unit,
                    entry.price,
                    line_amount(entry.quantity, entry.price),
                    "work",
                )
            )
        for e in block.executors if entry.charge != Charge.FIXED else ():
            block.lines.append(
                TotalLine(
                    f"{labour}: {e.employee_name}",
                    e.hours,
                    hour,
                    e.hourly_rate,
                    line_amount(e.hours, e.hourly_rate),
                    "labour",
                )
            )
        blocks.append(block)
    loose = TotalBlock(entry=None)
    by_entry = {b.entry.id: b for b in blocks if b.entry is not None}
    for m in materials:
        target = by_entry.get(m.work_entry_id) if m.work_entry_id else None
        (target or (blocks[-1] if blocks else loose)).lines.append(
            TotalLine(
                m.item_name,
                m.quantity,
                m.unit,
                m.price,
                line_amount(m.quantity, m.price),
                "material",
            )
        )
    if loose.lines:
        blocks.append(loose)
    if not priced:
        zero = Decimal("0.00")
        for block in blocks:
            block.lines = [replace(line, price=zero, amount=zero) for line in block.lines]
    return OrderTotals(blocks=blocks, priced=priced)


@requires("orders.documents")
def act_document(*, session: Session, order_id: int, lang: str = "ru") -> Any:
    """The act of completed works (:class:`fsm_core.documents.act.ActDocument`) of an order."""
    from fsm_core.attachments import read_bytes
    from fsm_core.documents.act import ActBlock, ActDocument, ActLine
    from fsm_core.models.attachments import Attachment
    from fsm_core.services import settings as company_settings
    from fsm_core.services.object_tree import effective_address

    if not sees_prices(session):  # the act is a priced document
        raise Forbidden(principal_of(session), "prices.read")
    order = _order(session, order_id)
    settings = company_settings.load(session=session)
    customer = session.get(Company, order.customer_id)
    obj = session.get(ServiceObject, order.object_id) if order.object_id else None
    computed = totals(session=session, order_id=order.id, lang=lang)
    if not computed.blocks:
        raise InvalidInput(
            f"order {order.number} has no work or materials recorded; nothing to put in an act",
            hint="fsm work add ...",
            ru=f"по заявке {order.number} не записано ни работ, ни материалов: акт составить "
            "не из чего",
            hint_ru="добавьте работы на вкладке «Выполнение» или fsm work add ...",
        )
    record = session.get(ExecutionRecord, order.id)
    blocks = []
    executors: dict[str, None] = {}
    for block in computed.blocks:
        entry = block.entry
        entry_object = (
            session.get(ServiceObject, entry.object_id) if entry and entry.object_id else obj
        )
        for e in block.executors:
            executors.setdefault(e.employee_name, None)
        blocks.append(
            ActBlock(
                work_type=entry.work_type_name
                if entry
                else ("Материалы" if lang == "ru" else "Materials"),
                object_name=entry_object.name if entry_object else None,
                object_address=effective_address(session=session, obj=entry_object)
                if entry_object
                else None,
                started_at=entry.started_at if entry else None,
                finished_at=entry.finished_at if entry else None,
                executors=tuple(e.employee_name for e in block.executors),
                lines=tuple(
                    ActLine(
                        name=line.name,
                        quantity=line.quantity,
                        unit=line.unit,
                        price=line.price,
                        amount=line.amount,
                        kind=line.kind,
                    )
                    for line in block.lines
                ),
                subtotal=block.subtotal,
            )
        )
    signature = None
    if record and record.signature_id:
        attachment = session.get(Attachment, record.signature_id)
        signature = read_bytes(session, attachment) if attachment else None
    act_date = (
        (record.signed_at if record and record.signed_at else None)
        or order.resolved_at
        or clock.now()
    )
    vat_rate = settings.vat_rate
    return ActDocument(
        act_number=order.number,
        act_date=act_date.astimezone(settings.tz).date(),
        order_number=order.number,
        company_name=settings["company_name"] or settings["company_legal_name"] or "—",
        company_phone=settings["company_phone"] or None,
        customer_name=customer.name if customer else "—",
        customer_inn=customer.inn if customer else None,
        customer_address=customer.address if customer else None,
        object_name=obj.name if obj else None,
        object_address=effective_address(session=session, obj=obj) if obj else None,
        description=order.description,
        blocks=tuple(blocks),
        total=computed.total,
        executors=tuple(executors),
        comment=record.comment if record else None,
        signer_name=record.signer_name if record else None,
        signed_at=record.signed_at if record else None,
        signature_image=signature,
        currency=settings["currency"],
        executor_signer=settings["act_signer_name"] or None,
        executor_signer_position=settings["act_signer_position"] or None,
        signer_position=record.signer_position if record else None,
        company_legal_name=settings["company_legal_name"] or None,
        company_inn=settings["company_inn"] or None,
        company_kpp=settings["company_kpp"] or None,
        company_ogrn=settings["company_ogrn"] or None,
        company_legal_address=settings["company_legal_address"] or None,
        company_bank_details=settings["company_bank_details"] or None,
        contract_number=customer.contract_number if customer else None,
        contract_date=customer.contract_date if customer else None,
        order_date=order.created_at.astimezone(settings.tz).date(),
        vat_rate=vat_rate,
        vat_amount=vat_included(computed.total, vat_rate) if vat_rate is not None else None,
    )
