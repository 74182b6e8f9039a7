"""Walking the tree of objects: a site, its equipment, their addresses."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from fsm_core.access import requires
from fsm_core.db import search_fold
from fsm_core.models import ServiceObject


@requires("parties.read")
def descendant_ids(*, session: Session, object_ids: Sequence[int]) -> list[int]:
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


@requires("parties.read")
def object_path(*, session: Session, obj: ServiceObject) -> list[ServiceObject]:
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


@requires("parties.read")
def effective_address(*, session: Session, obj: ServiceObject) -> str | None:
    """The object's address, or the nearest ancestor's (equipment inherits its site's)."""
    for node in reversed(object_path(session=session, obj=obj)):
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


# --- the tree as people pick from it ------------------------------------------------------


@dataclass(frozen=True)
class TreeRow:
    """One object in tree order: a site (``depth`` 0) or what is under it (1, 2, …), with
    the address it has or inherits and the site it belongs to."""

    id: int
    name: str
    customer_id: int
    parent_id: int | None
    depth: int
    site_id: int
    site: str
    address: str | None
    inventory_number: str | None
    serial_number: str | None
    matched: bool = True
    """Found by what was searched (False: shown to place a match: its site, a sibling)."""


def arrange(
    objects: Sequence[ServiceObject], *, matched: Collection[int] | None = None
) -> list[TreeRow]:
    """``objects`` in tree order — each site followed by its equipment, by name at each
    level — with depth, site and (inherited) address. Objects whose parent is not among
    them start a tree of their own. ``matched``: the ids found by a search (default:
    all)."""
    by_id = {o.id: o for o in objects if o.id is not None}
    children: dict[int | None, list[ServiceObject]] = {}
    for obj in by_id.values():
        parent = obj.parent_id if obj.parent_id in by_id else None
        children.setdefault(parent, []).append(obj)
    for group in children.values():
        group.sort(key=lambda o: (search_fold(o.name) or "", o.id or 0))
    rows: list[TreeRow] = []
    seen: set[int] = set()

    def walk(obj: ServiceObject, depth: int, site: ServiceObject, address: str | None) -> None:
        assert obj.id is not None
        if obj.id in seen:  # a cycle in bad data: show each object once
            return
        seen.add(obj.id)
        address = obj.address or address
        rows.append(
            TreeRow(
                id=obj.id,
                name=obj.name,
                customer_id=obj.customer_id,
                parent_id=obj.parent_id,
                depth=depth,
                site_id=site.id or 0,
                site=site.name,
                address=address,
                inventory_number=obj.inventory_number,
                serial_number=obj.serial_number,
                matched=matched is None or obj.id in matched,
            )
        )
        for child in children.get(obj.id, []):
            walk(child, depth + 1, site, address)

    for root in children.get(None, []):
        walk(root, 0, root, None)
    return rows


@requires("parties.read")
def with_context(*, session: Session, object_ids: Sequence[int]) -> list[ServiceObject]:
    """The objects, everything above them (their sites) and, for a site among them, what
    is on it: what a person needs to see to pick the right one."""
    wanted = list(dict.fromkeys(object_ids))
    if not wanted:
        return []
    found = {
        o.id: o
        for o in session.exec(select(ServiceObject).where(col(ServiceObject.id).in_(wanted)))
    }
    roots = [i for i in wanted if i in found and found[i].parent_id is None]
    for extra in descendant_ids(session=session, object_ids=roots):
        if extra not in found:
            obj = session.get(ServiceObject, extra)
            if obj is not None and obj.active:
                found[extra] = obj
    for obj in list(found.values()):
        for node in object_path(session=session, obj=obj)[:-1]:
            found.setdefault(node.id, node)
    return list(found.values())
