"""References in imported rows, resolved in memory, on exact evidence only.

A sheet names its customer "ООО «СМ-Трейд»" or "7801234564", its technician
"Иванов К. П.", its object by inventory number. Looking each up with a query would cost
more than the whole import, so every table a file can point at is read once into
dictionaries keyed the ways people name things; records the import itself creates are
added as it goes.

A batch import decides only on exact evidence: a key (external id, INN, inventory or
serial number, passport token, SKU, barcode, e-mail, phone, an employee's short name) or
the whole name, folded (case, ё, runs of spaces, the style of quotes and dashes). An
object's name counts within the row's customer only, and several same-named objects of
that customer are told apart by the row's address (an object's own, or its site's). A part of
a name is never enough: an order that lands on another object's history, silently, is
worse than a row refused. A reference that matches nothing raises :class:`NoMatch`, whose
hint names the closest records -- suggestions for the person who fixes the file, never
chosen here. (Interactive search, :mod:`fsm_core.services.lookup`, does match parts of
names: there a person picks from what it finds.)
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from fsm_core.db import search_fold
from fsm_core.errors import Ambiguous, FsmError, InvalidInput, NotFound
from fsm_core.models import Company, Contact, Crew, Employee, ServiceObject, WorkType
from fsm_core.services.object_tree import inherited_address
from fsm_core.values import normalize_phone

# how many close records a "no match" error suggests
CLOSEST = 5
# how many names a misspelt reference is compared with, at most (a few milliseconds)
_SPELLING_POOL = 2000

# quotes and dashes as keyboards, Word and 1C write them: one of each
_TYPOGRAPHY = str.maketrans(
    {
        **dict.fromkeys("«»„“”‟″‘’‚‛'`", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)


def fold(value: str) -> str:
    """A name as an import compares it: case, ё, runs of spaces, quotes and dashes do
    not matter; every letter and word does."""
    return " ".join((search_fold(value) or "").translate(_TYPOGRAPHY).split())


def fold_address(value: str | None) -> str:
    """An address as an import compares it: folded like a name, and ``пр.,10`` is
    ``пр., 10``."""
    if not value:
        return ""
    text = fold(value)
    for mark in (",", ";"):
        text = f"{mark} ".join(part.strip() for part in text.split(mark))
    return " ".join(text.split())


def _initials_key(value: str) -> str:
    """``Иванов К.П.`` and ``иванов к. п.`` are the same short name."""
    return fold(value.replace(".", ". ")).replace(" .", ".")


class NoMatch(NotFound):
    """A reference in an imported row that matches nothing (where it was looked for);
    ``candidates`` are the closest records, as suggestions for the person fixing it."""

    def __init__(
        self, kind: str, ref: object, *, where: str = "", candidates: Sequence[str] = ()
    ) -> None:
        self.candidates = list(candidates)
        hint = f"closest: {'; '.join(self.candidates)}" if self.candidates else None
        super().__init__(kind, ref, hint=hint)
        if where:
            self.args = (f"{self.message} {where}",)


class Index:
    """One kind of record, findable by several keys and by its whole folded name.

    ``scope`` is what a record belongs to (an object's or a contact's customer): a name
    is looked up within one scope when one is given. Adding a record again replaces what
    it was known by (a renamed record is no longer found by its old name).
    """

    def __init__(self, kind: str, describe: Callable[[int], str] | None = None) -> None:
        self.kind = kind
        self.labels: dict[int, str] = {}
        self.exact: list[dict[str, list[int]]] = []
        self.names: dict[str, list[int]] = defaultdict(list)
        self.scoped: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.scope_of: dict[int, int | None] = {}
        self._scope_names: dict[int, dict[str, None]] = defaultdict(dict)
        self._known_by: dict[int, tuple[list[tuple[int, str]], list[str]]] = {}
        self._describe = describe

    def add(
        self,
        record_id: int,
        label: str,
        exact: Iterable[str | None],
        names: Iterable[str | None],
        *,
        scope: int | None = None,
    ) -> None:
        if record_id in self._known_by:
            self._forget(record_id)
        self.labels[record_id] = label
        self.scope_of[record_id] = scope
        keys = list(exact)
        while len(self.exact) < len(keys):
            self.exact.append(defaultdict(list))
        exact_keys: list[tuple[int, str]] = []
        for number, key in enumerate(keys):
            if key:
                self.exact[number][key].append(record_id)
                exact_keys.append((number, key))
        folded_names: list[str] = []
        for name in names:
            folded = fold(name) if name else ""
            if folded and folded not in folded_names:
                self.names[folded].append(record_id)
                if scope is not None:
                    self.scoped[(scope, folded)].append(record_id)
                    self._scope_names[scope][folded] = None
                folded_names.append(folded)
        self._known_by[record_id] = (exact_keys, folded_names)

    def _forget(self, record_id: int) -> None:
        exact_keys, folded_names = self._known_by.pop(record_id)
        scope = self.scope_of.get(record_id)
        for number, key in exact_keys:
            _discard(self.exact[number], key, record_id)
        for folded in folded_names:
            _discard(self.names, folded, record_id)
            if scope is not None:
                _discard(self.scoped, (scope, folded), record_id)
                if (scope, folded) not in self.scoped:
                    self._scope_names[scope].pop(folded, None)

    def describe(self, record_id: int) -> str:
        """How a record is named in an error: its label, told apart where needed."""
        if self._describe is not None:
            return self._describe(record_id)
        return self.labels.get(record_id, f"#{record_id}")

    # -- exact evidence --

    def keyed(self, ref: str, *, scope: int | None = None) -> list[int]:
        """The records whose first matching key is ``ref`` (within ``scope``)."""
        text = ref.strip()
        for table in self.exact:
            ids = table.get(text)
            if ids and scope is not None:
                ids = [i for i in ids if self.scope_of.get(i) == scope]
            if ids:
                return list(dict.fromkeys(ids))
        return []

    def named(self, ref: str, *, scope: int | None = None) -> list[int]:
        """The records whose whole folded name is ``ref``'s (within ``scope``)."""
        folded = fold(ref)
        ids = self.scoped.get((scope, folded)) if scope is not None else self.names.get(folded)
        return list(dict.fromkeys(ids)) if ids else []

    def lookup(self, ref: str, *, scope: int | None = None) -> int | None:
        """The one record ``ref`` names exactly, None if none; several are an error."""
        for ids in (self.keyed(ref, scope=scope), self.named(ref, scope=scope)):
            if ids:
                return self.one(ref, ids)
        return None

    def find(self, ref: str, *, scope: int | None = None, where: str = "") -> int:
        found = self.lookup(ref, scope=scope)
        if found is None:
            raise self.no_match(ref, scope=scope, where=where)
        return found

    def one(self, ref: str, ids: Sequence[int]) -> int:
        if len(ids) > 1:
            raise Ambiguous(self.kind, ref, [self.describe(i) for i in ids], ids=ids)
        return ids[0]

    # -- suggestions --

    def no_match(self, ref: str, *, scope: int | None = None, where: str = "") -> NoMatch:
        candidates = [self.describe(i) for i in self.closest(ref, scope=scope)]
        return NoMatch(self.kind, ref, where=where, candidates=candidates)

    def closest(
        self, ref: str, *, scope: int | None = None, also: Iterable[int] = (), limit: int = CLOSEST
    ) -> list[int]:
        """Records whose names contain ``ref``, are contained in it, or are spelt
        nearly like it (within ``scope``); then ``also``. Suggestions only."""
        folded = fold(ref)
        pool = list(self.names if scope is None else self._scope_names.get(scope, ()))
        nested = sorted(
            (n for n in pool if folded and (folded in n or (len(n) > 2 and n in folded))),
            key=lambda n: (abs(len(n) - len(folded)), n),
        )
        if len(pool) > _SPELLING_POOL:  # spelling is compared with names that start alike
            pool = [n for n in pool if n[:3] == folded[:3]][:_SPELLING_POOL]
        similar = difflib.get_close_matches(folded, pool, n=limit, cutoff=0.6)
        found: list[int] = []
        for name in [*nested, *similar]:
            ids = self.scoped[(scope, name)] if scope is not None else self.names[name]
            found.extend(ids)
        found.extend(also)
        return list(dict.fromkeys(found))[:limit]


def _discard(table: dict[Any, list[int]], key: Any, record_id: int) -> None:
    ids = table.get(key)
    if ids is None:
        return
    remaining = [i for i in ids if i != record_id]
    if remaining:
        table[key] = remaining
    else:
        del table[key]


class Resolver:
    """All the indexes an import may need, loaded on first use (see the module doc)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._indexes: dict[str, Index] = {}
        self.object_customer: dict[int, int] = {}
        self.contact_company: dict[int, int] = {}
        self._company_inn: dict[int, str | None] = {}
        self._object_parent: dict[int, int | None] = {}
        self._object_address: dict[int, str | None] = {}
        self._object_inventory: dict[int, str | None] = {}
        self._address_keys: dict[int, str] = {}
        # a sheet names the same few customers and technicians thousands of times: what a
        # reference resolved to, or the error it raised, is remembered until a record is added
        self._memo: dict[tuple[Any, ...], int | FsmError] = {}

    def _remembered(self, key: tuple[Any, ...], find: Callable[[], int]) -> int:
        hit = self._memo.get(key)
        if hit is None:
            try:
                hit = find()
            except (NotFound, Ambiguous, InvalidInput) as exc:
                hit = exc
            self._memo[key] = hit
        if isinstance(hit, FsmError):
            raise hit.with_traceback(None)
        return hit

    def index(self, kind: str) -> Index:
        if kind not in self._indexes:
            self._indexes[kind] = getattr(self, f"_load_{kind}")()
        return self._indexes[kind]

    # --- loading -------------------------------------------------------------------

    def _load_customer(self) -> Index:
        index = Index("customer", self._describe_customer)
        rows = self.session.execute(
            select(Company.id, Company.name, Company.inn, Company.external_id)
        )
        for id_, name, inn, external_id in rows:
            self.add_company(id_, name, inn=inn, external_id=external_id, index=index)
        return index

    def _describe_customer(self, company_id: int) -> str:
        name = self.label("customer", company_id)
        inn = self._company_inn.get(company_id)
        return f"{name} (INN {inn})" if inn else name

    def add_company(
        self,
        company_id: int,
        name: str,
        *,
        inn: str | None,
        external_id: str | None,
        index: Index | None = None,
    ) -> None:
        self._memo.clear()
        self._company_inn[company_id] = inn
        target = index or self._indexes.get("customer")
        if target is not None:
            target.add(company_id, name, [external_id, inn], [name])

    def _load_object(self) -> Index:
        index = Index("object", self._describe_object)
        rows = self.session.execute(
            select(
                ServiceObject.id,
                ServiceObject.customer_id,
                ServiceObject.name,
                ServiceObject.external_id,
                ServiceObject.inventory_number,
                ServiceObject.serial_number,
                ServiceObject.passport_token,
                ServiceObject.parent_id,
                ServiceObject.address,
            )
        )
        for id_, customer_id, name, external_id, inventory, serial, token, parent, address in rows:
            self.add_object(
                id_,
                customer_id,
                name,
                external_id=external_id,
                inventory_number=inventory,
                serial_number=serial,
                passport_token=token,
                parent_id=parent,
                address=address,
                index=index,
            )
        return index

    def add_object(
        self,
        object_id: int,
        customer_id: int,
        name: str,
        *,
        external_id: str | None = None,
        inventory_number: str | None = None,
        serial_number: str | None = None,
        passport_token: str | None = None,
        parent_id: int | None = None,
        address: str | None = None,
        index: Index | None = None,
    ) -> None:
        self._memo.clear()
        self._address_keys.clear()  # a site's address is its equipment's
        self.object_customer[object_id] = customer_id
        self._object_parent[object_id] = parent_id
        self._object_address[object_id] = address
        self._object_inventory[object_id] = inventory_number
        target = index or self._indexes.get("object")
        if target is not None:
            target.add(
                object_id,
                name,
                [external_id, inventory_number, serial_number, passport_token],
                [name],
                scope=customer_id,
            )

    def object_address(self, object_id: int) -> str | None:
        """The object's address, or its nearest ancestor's (equipment is at its site)."""
        return inherited_address(object_id, self._object_parent, self._object_address)

    def _address_key(self, object_id: int) -> str:
        key = self._address_keys.get(object_id)
        if key is None:
            key = self._address_keys[object_id] = fold_address(self.object_address(object_id))
        return key

    def _describe_object(self, object_id: int) -> str:
        index = self._indexes["object"]
        customer = self.object_customer.get(object_id)
        where = [self.label("customer", customer) if customer is not None else "?"]
        address = self.object_address(object_id)
        if address:
            where.append(address)
        text = ", ".join(where)
        inventory = self._object_inventory.get(object_id)
        if inventory:
            text += f"; inv. no. {inventory}"
        return f"{index.labels.get(object_id, f'#{object_id}')} ({text})"

    def _load_contact(self) -> Index:
        index = Index("contact")
        rows = self.session.execute(
            select(
                Contact.id,
                Contact.company_id,
                Contact.full_name,
                Contact.external_id,
                Contact.phone,
                Contact.email,
            )
        )
        for id_, company_id, name, external_id, phone, email in rows:
            self.add_contact(id_, company_id, name, external_id, phone, email, index=index)
        return index

    def add_contact(
        self,
        contact_id: int,
        company_id: int,
        name: str,
        external_id: str | None,
        phone: str | None,
        email: str | None,
        *,
        index: Index | None = None,
    ) -> None:
        self._memo.clear()
        self.contact_company[contact_id] = company_id
        target = index or self._indexes.get("contact")
        if target is not None:
            target.add(
                contact_id,
                name,
                [external_id, phone, email and email.lower()],
                [name],
                scope=company_id,
            )

    def _load_employee(self) -> Index:
        index = Index("employee")
        rows = self.session.execute(
            select(
                Employee.id,
                Employee.full_name,
                Employee.short_name,
                Employee.external_id,
                Employee.email,
                Employee.phone,
            )
        )
        for row in rows:
            self.add_employee(*row, index=index)
        return index

    def add_employee(
        self,
        employee_id: int,
        full_name: str,
        short_name: str,
        external_id: str | None,
        email: str | None,
        phone: str | None,
        *,
        index: Index | None = None,
    ) -> None:
        self._memo.clear()
        target = index or self._indexes.get("employee")
        if target is not None:
            target.add(
                employee_id,
                short_name,
                [external_id, email and email.lower(), phone, _initials_key(short_name)],
                [full_name],
            )

    def _load_crew(self) -> Index:
        index = Index("crew")
        for id_, name, external_id in self.session.execute(
            select(Crew.id, Crew.name, Crew.external_id)
        ):
            index.add(id_, name, [external_id], [name])
        return index

    def add_crew(self, crew_id: int, name: str, external_id: str | None) -> None:
        self._memo.clear()
        if "crew" in self._indexes:
            self._indexes["crew"].add(crew_id, name, [external_id], [name])

    def _load_work_type(self) -> Index:
        index = Index("work type")
        for id_, name, external_id in self.session.execute(
            select(WorkType.id, WorkType.name, WorkType.external_id)
        ):
            index.add(id_, name, [external_id], [name])
        return index

    def add_work_type(self, work_type_id: int, name: str, external_id: str | None) -> None:
        self._memo.clear()
        if "work_type" in self._indexes:
            self._indexes["work_type"].add(work_type_id, name, [external_id], [name])

    # --- resolving -------------------------------------------------------------------

    def customer(self, ref: str) -> int:
        return self._remembered(("customer", ref), lambda: self.index("customer").find(ref))

    def object(self, ref: str, *, customer_id: int | None, address: str | None = None) -> int:
        """The object ``ref`` names: by a key, or by its whole name within the customer
        (and at ``address`` when the customer has several of that name)."""
        return self._remembered(
            ("object", ref, customer_id, address),
            lambda: self._object(ref, customer_id=customer_id, address=address),
        )

    def _object(self, ref: str, *, customer_id: int | None, address: str | None) -> int:
        index = self.index("object")
        keyed = index.keyed(ref, scope=customer_id)
        if keyed:
            return index.one(ref, keyed)
        named = index.named(ref, scope=customer_id)
        fitting = self._at_address(named, address)
        if len(fitting) == 1:
            return fitting[0]
        if fitting:
            problem = Ambiguous("object", ref, [index.describe(i) for i in fitting], ids=fitting)
            problem.hint = (
                "give the address (Адрес) or the inventory number"
                if customer_id is not None
                else "give the customer, the address (Адрес) or the inventory number"
            )
            raise problem
        if customer_id is not None:
            elsewhere = index.keyed(ref)
            if elsewhere:  # a key of another customer's object: the row contradicts itself
                found = elsewhere[0]
                owner = self.object_customer.get(found)
                raise InvalidInput(
                    f"object {index.labels[found]!r} ({ref.strip()!r}) belongs to "
                    f"{self.label('customer', owner) if owner is not None else '?'}, "
                    f"not to {self.label('customer', customer_id)}",
                    field="object",
                )
        where = ""
        if customer_id is not None:
            where = f"at {self.label('customer', customer_id)}"
            if address:
                where += f", address {address.strip()!r}"
        # the same name at other customers is worth showing: the row may name the wrong one
        others = index.named(ref) if customer_id is not None else []
        candidates = index.closest(ref, scope=customer_id, also=named + others)
        raise NoMatch(
            "object", ref, where=where, candidates=[index.describe(i) for i in candidates]
        )

    def _at_address(self, ids: list[int], address: str | None) -> list[int]:
        """Which of the customer's same-named ``ids`` the row means. The address only
        tells them apart: a name the customer has one object of is that object. Of
        several, the ones at ``address`` (compared whole, folded); if none is there, and
        each has an address, the row means a unit not known yet (none); if some have no
        address, any could be it (all: the caller says which they are)."""
        if len(ids) < 2 or not address or not address.strip():
            return ids
        wanted = fold_address(address)
        same = [i for i in ids if self._address_key(i) == wanted]
        if same:
            return same
        if all(self._address_key(i) for i in ids):
            return []
        return ids

    def contact(self, ref: str, *, company_id: int | None) -> int:
        return self._remembered(
            ("contact", ref, company_id), lambda: self._contact(ref, company_id=company_id)
        )

    def _contact(self, ref: str, *, company_id: int | None) -> int:
        index = self.index("contact")
        where = f"at {self.label('customer', company_id)}" if company_id is not None else ""
        phone = _phone_key(ref)
        if phone:
            found = index.lookup(phone, scope=company_id)
            if found is not None:
                return found
            raise NoMatch("contact", ref, where=where)
        key = ref.lower() if "@" in ref else ref
        found = index.lookup(key, scope=company_id)
        if found is None:
            raise index.no_match(ref, scope=company_id, where=where)
        return found

    def employee(self, ref: str) -> int:
        return self._remembered(("employee", ref), lambda: self._employee(ref))

    def _employee(self, ref: str) -> int:
        """By phone, e-mail, external id, short name (``Иванов К. П.``) or full name;
        never by a surname alone."""
        index = self.index("employee")
        text = ref.strip()
        phone = _phone_key(text)
        if phone:
            found = index.lookup(phone)
            if found is not None:
                return found
        key = text.lower() if "@" in text else text
        for attempt in (_initials_key(text), key):
            found = index.lookup(attempt)
            if found is not None:
                return found
        raise index.no_match(text)

    def crew(self, ref: str) -> int:
        return self._remembered(("crew", ref), lambda: self.index("crew").find(ref))

    def work_type(self, ref: str) -> int:
        return self._remembered(("work_type", ref), lambda: self.index("work_type").find(ref))

    def label(self, kind: str, record_id: int) -> str:
        return self.index(kind).labels.get(record_id, f"#{record_id}")


def _phone_key(text: str) -> str | None:
    digits = sum(ch.isdigit() for ch in text)
    if digits < 7 or any(ch.isalpha() for ch in text.replace("доб", "")):
        return None
    try:
        return normalize_phone(text)
    except InvalidInput:
        return None
