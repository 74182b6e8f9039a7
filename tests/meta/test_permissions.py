"""Every public service function declares the permission it needs (fsm_core.access).

A service function is a public function of a module under ``fsm_core.services`` (or the
exports) that takes a database session: whatever a front end can call to read or change
data. ``fsm_core.services.common`` holds the building blocks the services themselves use
(inserting a row, flushing with a duplicate check) and is not a service; the front ends
never import it (checked below).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import fsm_core.services
from fsm_core.access import PERMISSIONS, declared_permission

ROOT = Path(__file__).resolve().parents[2]
NOT_SERVICES = {"fsm_core.services.common"}
EXTRA_MODULES = ["fsm_core.exporting.tables"]


def service_modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(fsm_core.services.__path__, "fsm_core.services.")
        if not info.ispkg and info.name not in NOT_SERVICES
    ]
    return sorted(names) + EXTRA_MODULES


def service_functions() -> list[tuple[str, str, object]]:
    found = []
    for name in service_modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("_") or not inspect.isfunction(value):
                continue
            if value.__module__ != name:
                continue  # imported from elsewhere: checked where it is defined
            if "session" in inspect.signature(value).parameters:
                found.append((name, attr, value))
    return found


def test_there_are_service_functions_to_check():
    assert len(service_functions()) > 150


def test_every_service_function_declares_a_permission():
    undeclared = [
        f"{module}.{attr}"
        for module, attr, fn in service_functions()
        if not declared_permission(fn)[0]  # type: ignore[arg-type]
    ]
    assert not undeclared, "declare a permission (@requires) on: " + ", ".join(undeclared)


def test_declared_permissions_exist_and_every_permission_is_used():
    used = {declared_permission(fn)[1] for _m, _a, fn in service_functions()}  # type: ignore[arg-type]
    assert used - {None} <= set(PERMISSIONS)
    # a permission nothing declares is a rule nothing enforces (users.impersonate is
    # checked by fsm_core.identity, prices by the documents)
    unused = set(PERMISSIONS) - used - {"users.impersonate", "prices.read", "database.admin"}
    assert not unused, f"permissions no service declares: {sorted(unused)}"


@pytest.mark.parametrize("front_end", ["fsm_cli", "fsm_tui", "fsm_web"])
def test_front_ends_call_services_not_their_building_blocks(front_end):
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / front_end).rglob("*.py")
        if "services.common" in path.read_text(encoding="utf-8")
        or "services import common" in path.read_text(encoding="utf-8")
    ]
    assert not offenders
