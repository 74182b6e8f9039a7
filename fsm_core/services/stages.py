"""Stages of an order's life and the moves allowed between them (configurable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from fsm_core.access import open_to_all, requires
from fsm_core.errors import Duplicate, InvalidInput, NotFound
from fsm_core.models import Order, Stage, StageCategory, StageTransition

FINAL_CATEGORIES = frozenset({StageCategory.CLOSED.value, StageCategory.CANCELLED.value})
"""Closed and cancelled orders are history: their execution no longer changes and they hold
no stock."""
FINISHED_CATEGORIES = FINAL_CATEGORIES | {StageCategory.DONE.value}
"""Done, closed or cancelled: the work is over, so the order gets no visits and its SLA
clock has stopped."""


@dataclass(frozen=True)
class StageView:
    """A stage as the rules read it: a plain, immutable copy of its row (cheap to read a
    million times, and still valid after the session that loaded it is gone)."""

    code: str
    name_en: str
    name_ru: str
    category: str
    position: int
    requires_assignee: bool

    def name(self, lang: str) -> str:
        return self.name_ru if lang == "ru" else self.name_en

    @property
    def final(self) -> bool:
        """Closed or cancelled (see :data:`FINAL_CATEGORIES`)."""
        return self.category in FINAL_CATEGORIES

    @property
    def finished(self) -> bool:
        """Done, closed or cancelled (see :data:`FINISHED_CATEGORIES`)."""
        return self.category in FINISHED_CATEGORIES


def _name_key(text: str) -> str:
    return " ".join(text.strip().lower().replace("ё", "е").replace("_", " ").split())


@dataclass(frozen=True)
class Workflow:
    """The stages (by code, in board order) and the allowed transitions."""

    stages: dict[str, StageView]
    transitions: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    by_name: dict[str, StageView] = field(default_factory=dict)

    def stage(self, ref: str) -> StageView:
        """A stage by its code or its English or Russian name."""
        found = self.stages.get(ref) or self.by_name.get(_name_key(ref))
        if found is not None:
            return found
        known = ", ".join(f"{s.code} ({s.name_ru})" for s in self.stages.values())
        known_ru = ", ".join(f"«{s.name_ru}»" for s in self.stages.values())
        raise InvalidInput(
            f"unknown stage {ref!r}; known: {known}",
            field="stage",
            ru=f"нет стадии {ref!r}; есть: {known_ru}",
        )

    def allowed_from(self, code: str) -> list[StageView]:
        return [s for s in self.stages.values() if (code, s.code) in self.transitions]

    def can_move(self, src: str, dst: str) -> bool:
        return (src, dst) in self.transitions

    def initial(self) -> StageView:
        for stage in self.stages.values():
            if stage.category == StageCategory.NEW:
                return stage
        raise InvalidInput("no stage of category 'new' is configured")

    def first_of(self, category: StageCategory, *, reachable_from: str) -> StageView | None:
        for stage in self.allowed_from(reachable_from):
            if stage.category == category:
                return stage
        return None


@requires("settings.read")
def load_workflow(*, session: Session) -> Workflow:
    rows = session.exec(select(Stage).order_by(Stage.position, Stage.code)).all()
    transitions = session.exec(select(StageTransition)).all()
    stages = {
        r.code: StageView(r.code, r.name_en, r.name_ru, r.category, r.position, r.requires_assignee)
        for r in rows
    }
    by_name: dict[str, StageView] = {}
    for view in stages.values():
        for name in (view.code, view.name_en, view.name_ru):
            by_name.setdefault(_name_key(name), view)
    return Workflow(
        stages=stages,
        transitions=frozenset((t.from_code, t.to_code) for t in transitions),
        by_name=by_name,
    )


StageGuard = Callable[[Session, Order, StageView, StageView], None]
"""Called before an order moves from one stage to another; raises to refuse the move."""

_guards: list[StageGuard] = []


def register_guard(guard: StageGuard) -> StageGuard:
    """Add a rule every stage move must pass (e.g. checklists complete before closing)."""
    if guard not in _guards:
        _guards.append(guard)
    return guard


# Modules whose rules take part in every stage move (the checklist guard, ...). They are
# imported the first time a move asks for its guards, so that a rule holds whichever
# front end moves the order, without this module importing theirs at start-up.
_RULE_MODULES = ("fsm_core.services.execution",)


def guards() -> tuple[StageGuard, ...]:
    import importlib

    for name in _RULE_MODULES:
        importlib.import_module(name)
    return tuple(_guards)


AfterMove = Callable[[Session, Order, StageView, StageView, str], None]
"""Called once an order has moved, in the same transaction: (session, order, src, dst, actor).
It may change other records (the stock module releases a cancelled order's reservations);
raising undoes the move with everything else in the transaction."""

_after_move: list[AfterMove] = []

# Modules whose rules react to moves; imported on the first move, as _RULE_MODULES are, so
# that `fsm orders move` releases reservations without loading the stock module up front.
_AFTER_MOVE_MODULES: tuple[str, ...] = (
    "fsm_core.services.stock",
    "fsm_core.services.notify.outbox",  # "on the way" and "done" to the customer's contact
)


def register_after_move(hook: AfterMove) -> AfterMove:
    """Add a rule that reacts to every stage move (e.g. release reservations on cancel)."""
    if hook not in _after_move:
        _after_move.append(hook)
    return hook


_AFTER_SAVE = "fsm_after_order_saved"


@open_to_all  # plumbing of the order services: reads and reveals nothing
def after_order_saved(session: Session, action: Callable[[], object]) -> None:
    """Run ``action`` once the order being changed is written (in the same transaction),
    not now: an after-move rule that reads the database or flushes would write the order
    halfway through its change — a second UPDATE, a second version, and a concurrent
    writer's conflict raised where nobody turns it into a :class:`Conflict`."""
    session.info.setdefault(_AFTER_SAVE, []).append(action)


@open_to_all  # plumbing of the order services: reads and reveals nothing
def run_after_order_saved(session: Session) -> None:
    """What :func:`after_order_saved` deferred, in order (the order services call it once
    the order is flushed)."""
    for action in session.info.pop(_AFTER_SAVE, []):
        action()


@open_to_all  # plumbing of the order services: reads and reveals nothing
def drop_after_order_saved(session: Session) -> None:
    session.info.pop(_AFTER_SAVE, None)


def after_move_hooks() -> tuple[AfterMove, ...]:
    import importlib

    for name in _AFTER_MOVE_MODULES:
        importlib.import_module(name)
    return tuple(_after_move)


@requires("settings.edit")
def allow_transition(*, session: Session, src: str, dst: str) -> bool:
    """Allow moving from ``src`` to ``dst``; False when it was already allowed."""
    workflow = load_workflow(session=session)
    a, b = workflow.stage(src), workflow.stage(dst)
    if a.code == b.code:
        raise InvalidInput("a stage cannot transition to itself")
    if workflow.can_move(a.code, b.code):
        return False
    session.add(StageTransition(from_code=a.code, to_code=b.code))
    session.flush()
    return True


@requires("settings.edit")
def forbid_transition(*, session: Session, src: str, dst: str) -> bool:
    """Forbid moving from ``src`` to ``dst``; False when it was not allowed anyway."""
    workflow = load_workflow(session=session)
    a, b = workflow.stage(src), workflow.stage(dst)
    row = session.get(StageTransition, (a.code, b.code))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


@requires("settings.edit")
def create_stage(
    *,
    session: Session,
    code: str,
    name_en: str,
    name_ru: str,
    category: str,
    position: int | None = None,
    requires_assignee: bool = False,
) -> Stage:
    code = code.strip().lower()
    if not code.replace("_", "").isalnum() or not code.isascii():
        raise InvalidInput(f"stage code {code!r}: use latin letters, digits and _", field="code")
    try:
        category = StageCategory(category).value
    except ValueError:
        known = ", ".join(c.value for c in StageCategory)
        raise InvalidInput(f"unknown stage category {category!r}; known: {known}") from None
    if session.get(Stage, code) is not None:
        raise Duplicate(f"stage {code!r} already exists")
    if not name_en.strip() or not name_ru.strip():
        raise InvalidInput("a stage needs an English and a Russian name")
    if position is None:
        last = session.exec(select(Stage.position).order_by(Stage.position.desc())).first()
        position = (last or 0) + 10
    stage = Stage(
        code=code,
        name_en=name_en.strip(),
        name_ru=name_ru.strip(),
        category=category,
        position=position,
        requires_assignee=requires_assignee,
    )
    session.add(stage)
    session.flush()
    return stage


@requires("settings.read")
def get_stage(*, session: Session, code: str) -> Stage:
    stage = session.get(Stage, code)
    if stage is None:
        raise NotFound("stage", code)
    return stage
