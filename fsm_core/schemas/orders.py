"""Input models for orders."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator

from fsm_core.models.orders import OrderSource
from fsm_core.schemas.parties import ExternalId, Input, OptLine
from fsm_core.vocabulary import Criticality, parse_criticality


def _criticality(value: Any) -> Any:
    return parse_criticality(value) if value is not None else None


def _description(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    return value


Crit = Annotated[Criticality, BeforeValidator(_criticality)]
Description = Annotated[str, BeforeValidator(_description), Field(min_length=1, max_length=4000)]


def _check_window(start: Any, end: Any) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError("planned_end is before planned_start")


class OrderCreate(Input):
    customer_id: int
    object_id: int | None = None
    contact_id: int | None = None
    description: Description
    criticality: Crit = Criticality.NORMAL
    stage: str | None = None
    assignee_id: int | None = None
    crew_id: int | None = None
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    reaction_due: AwareDatetime | None = None
    resolution_due: AwareDatetime | None = None
    number: Annotated[str | None, OptLine(40)] = None
    external_id: ExternalId = None
    created_at: AwareDatetime | None = None
    # for orders brought over from another system: when they were taken, done, closed
    reacted_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    source: OrderSource = OrderSource.MANUAL

    @model_validator(mode="after")
    def _windows(self) -> OrderCreate:
        _check_window(self.planned_start, self.planned_end)
        return self


class OrderUpdate(Input):
    """Only the fields that are set are changed (``model_fields_set``); None clears."""

    customer_id: int | None = None
    object_id: int | None = None
    contact_id: int | None = None
    description: Description | None = None
    criticality: Crit | None = None
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = None
    reaction_due: AwareDatetime | None = None
    resolution_due: AwareDatetime | None = None
    external_id: ExternalId = None

    @model_validator(mode="after")
    def _required(self) -> OrderUpdate:
        for name in ("customer_id", "description", "criticality"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self
