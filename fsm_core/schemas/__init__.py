"""Input models (``XCreate`` / ``XUpdate``): what a front end may hand to a service.

They clean and check single values (phones, INNs, lengths); the services check everything
that needs the database (references, uniqueness, transitions).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fsm_core.errors import FsmError, InvalidInput

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: dict[str, Any] | M) -> M:
    """``model`` built from ``data``; a validation failure becomes one :class:`InvalidInput`."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"]) or "value"
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, FsmError):
            # a value reader names a generic field ("phone: ..."); name the real one
            message = cause.message
            own = getattr(cause, "field", None)
            if own and message.startswith(f"{own}: "):
                message = message[len(own) + 2 :]
            parts.append(f"{field}: {message}")
            continue
        if error["type"] in ("string_too_short", "too_short") and error.get("ctx", {}).get(
            "min_length"
        ) in (1, None):
            parts.append(f"{field}: cannot be empty")
            continue
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {message}")
    return "; ".join(parts)
