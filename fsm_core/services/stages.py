"""Stages of an order's life and the moves allowed between them (configurable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from fsm_core.errors import Duplicate, InvalidInput, NotFound
from fsm_core.models import Order, Stage, StageCategory, StageTransition


@dataclass(frozen=True)
class Workflow:
    """The stages (by code, in board order) and the allowed transitions."""

    stages: dict[str, Stage]
    transitions: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def stage(self, ref: str) -> Stage:
        """A stage by its code or its English or Russian name."""
        key = ref.strip().lower().replace("ё", "е").replace(" ", "_")
        if key in self.stages:
            return self.stages[key]
        spaced = key.replace("_", " ")
        for stage in self.stages.values():
            if spaced in (stage.name_en.lower(), stage.name_ru.lower().replace("ё", "е")):
                return stage
        known = ", ".join(f"{s.code} ({s.name_ru})" for s in self.stages.values())
        raise InvalidInput(f"unknown stage {ref!r}; known: {known}", field="stage")

    def allowed_from(self, code: str) -> list[Stage]:
        return [s for s in self.stages.values() if (code, s.code) in self.transitions]

    def can_move(self, src: str, dst: str) -> bool:
        return (src, dst) in self.transitions

    def initial(self) -> Stage:
        for stage in self.stages.values():
            if stage.category == StageCategory.NEW:
                return stage
        raise InvalidInput("no stage of category 'new' is configured")

    def first_of(self, category: StageCategory, *, reachable_from: str) -> Stage | None:
        for stage in self.allowed_from(reachable_from):
            if stage.category == category:
                return stage
        return None


def load_workflow(session: Session) -> Workflow:
    stages = session.exec(select(Stage).order_by(Stage.position, Stage.code)).all()
    transitions = session.exec(select(StageTransition)).all()
    return Workflow(
        stages={s.code: s for s in stages},
        transitions=frozenset((t.from_code, t.to_code) for t in transitions),
    )


StageGuard = Callable[[Session, Order, Stage, Stage], None]
"""Called before an order moves from one stage to another; raises to refuse the move."""

_guards: list[StageGuard] = []


def register_guard(guard: StageGuard) -> StageGuard:
    """Add a rule every stage move must pass (e.g. checklists complete before closing)."""
    if guard not in _guards:
        _guards.append(guard)
    return guard


def guards() -> tuple[StageGuard, ...]:
    return tuple(_guards)


def allow_transition(*, session: Session, src: str, dst: str) -> bool:
    """Allow moving from ``src`` to ``dst``; False when it was already allowed."""
    workflow = load_workflow(session)
    a, b = workflow.stage(src), workflow.stage(dst)
    if a.code == b.code:
        raise InvalidInput("a stage cannot transition to itself")
    if workflow.can_move(a.code, b.code):
        return False
    session.add(StageTransition(from_code=a.code, to_code=b.code))
    session.flush()
    return True


def forbid_transition(*, session: Session, src: str, dst: str) -> bool:
    """Forbid moving from ``src`` to ``dst``; False when it was not allowed anyway."""
    workflow = load_workflow(session)
    a, b = workflow.stage(src), workflow.stage(dst)
    row = session.get(StageTransition, (a.code, b.code))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


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
        last = session.exec(select(Stage.position).order_by(Stage.position.desc())).first()  # type: ignore[attr-defined]
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


def get_stage(session: Session, code: str) -> Stage:
    stage = session.get(Stage, code)
    if stage is None:
        raise NotFound("stage", code)
    return stage
