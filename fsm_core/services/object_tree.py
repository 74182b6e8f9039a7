"""Walking the tree of objects: a site, its equipment, their addresses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlmodel import Session, col, select

from fsm_core.models import ServiceObject


def descendant_ids(session: Session, object_ids: Sequence[int]) -> list[int]:
    """The objects and everything below them in the tree (equipment of a site)."""
    found = list(dict.fromkeys(object_ids))
    frontier = list(found)
    seen = set(found)
    while frontier:
        children = session.exec(
            select(ServiceObject.id).where(col(ServiceObject.parent_id).in_(frontier))
        ).all()
        frontier = [c for c in children if c not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return found


def object_path(session: Session, obj: ServiceObject) -> list[ServiceObject]:
    """From the root site down to ``obj``."""
    path = [obj]
    seen = {obj.id}
    while path[0].parent_id is not None and path[0].parent_id not in seen:
        parent = session.get(ServiceObject, path[0].parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        path.insert(0, parent)
    return path


def effective_address(session: Session, obj: ServiceObject) -> str | None:
    """The object's address, or the nearest ancestor's (equipment inherits its site's)."""
    for node in reversed(object_path(session, obj)):
        if node.address:
            return node.address
    return None


def inherited_address(
    object_id: int,
    parent_of: Mapping[int, int | None],
    address_of: Mapping[int, str | None],
) -> str | None:
    """:func:`effective_address` on objects already in memory (an import's, an export's):
    the object's address, or the nearest ancestor's."""
    seen: set[int] = set()
    current: int | None = object_id
    while current is not None and current not in seen:
        seen.add(current)
        address = address_of.get(current)
        if address:
            return address
        current = parent_of.get(current)
    return None
