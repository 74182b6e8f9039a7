"""References in imported rows, resolved in memory.

A sheet names its customer "ООО «СМ-Трейд»" or "7801234564", its technician
"Иванов К. П.", its object by inventory number. Looking each up with a query would cost
more than the whole import, so every table a file can point at is read once into
dictionaries keyed the ways people name things; records the import itself creates are
added as it goes. The rules are those of :mod:`fsm_core.services.lookup`: exact keys
first (external id, INN, phone, ...), then the name, case- and ё-insensitive; a name that
fits several records is an error that lists them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from fsm_core.db import search_fold
from fsm_core.errors import Ambiguous, InvalidInput, NotFound
from fsm_core.models import Company, Contact, Crew, Employee, ServiceObject, WorkType
from fsm_core.values import normalize_phone


def _fold(value: str) -> str:
    return " ".join((search_fold(value) or "").split())


def _initials_key(value: str) -> str:
    """``Иванов К.П.`` and ``иванов к. п.`` are the same short name."""
    return _fold(value.replace(".", ". ")).replace(" .", ".")


@dataclass
class Index:
    """One kind of record, findable by several keys; each key maps to record ids."""

    kind: str
    labels: dict[int, str] = field(default_factory=dict)
    exact: list[dict[str, list[int]]] = field(default_factory=list)
    names: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, record_id: int, label: str, exact: Iterable[str | None], names: Iterable[str]):
        self.labels[record_id] = label
        keys = list(exact)
        while len(self.exact) < len(keys):
            self.exact.append(defaultdict(list))
        for table, key in zip(self.exact, keys, strict=False):
            if key:
                table[key].append(record_id)
        for name in names:
            if name:
                self.names[_fold(name)].append(record_id)

    def find(self, ref: str, *, within: set[int] | None = None) -> int:
        text = ref.strip()
        for table in self.exact:
            hit = self._pick(ref, table.get(text), within)
            if hit is not None:
                return hit
        folded = _fold(text)
        hit = self._pick(ref, self.names.get(folded), within)
        if hit is not None:
            return hit
        if folded:  # a part of the name ("Иванов" for "Иванов Кирилл Петрович")
            ids = [i for name, found in self.names.items() if folded in name for i in found]
            hit = self._pick(ref, ids, within)
            if hit is not None:
                return hit
        raise NotFound(self.kind, ref)

    def _pick(self, ref: str, ids: list[int] | None, within: set[int] | None) -> int | None:
        if not ids:
            return None
        if within is not None:
            ids = [i for i in ids if i in within]
            if not ids:
                return None
        unique = list(dict.fromkeys(ids))
        if len(unique) > 1:
            raise Ambiguous(self.kind, ref, [f"{self.labels[i]} (#{i})" for i in unique])
        return unique[0]


class Resolver:
    """All the indexes an import may need, loaded on first use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._indexes: dict[str, Index] = {}
        self.object_customer: dict[int, int] = {}
        self.contact_company: dict[int, int] = {}
        self.objects_of: dict[int, set[int]] = defaultdict(set)
        self.contacts_of: dict[int, set[int]] = defaultdict(set)
        # a sheet names the same few customers and technicians thousands of times
        self._memo: dict[tuple[str, str, int | None], int] = {}

    def _remembered(self, kind: str, ref: str, scope: int | None, find: Any) -> int:
        key = (kind, ref, scope)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = find()
        return hit

    def index(self, kind: str) -> Index:
        if kind not in self._indexes:
            self._indexes[kind] = getattr(self, f"_load_{kind}")()
        return self._indexes[kind]

    # --- loading -------------------------------------------------------------------

    def _load_customer(self) -> Index:
        index = Index("customer")
        rows = self.session.execute(
            select(Company.id, Company.name, Company.inn, Company.external_id)
        )
        for id_, name, inn, external_id in rows:
            self.add_company(id_, name, inn=inn, external_id=external_id, index=index)
        return index

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
        target = index or self._indexes.get("customer")
        if target is not None:
            target.add(company_id, name, [external_id, inn], [name])

    def _load_object(self) -> Index:
        index = Index("object")
        rows = self.session.execute(
            select(
                ServiceObject.id,
                ServiceObject.customer_id,
                ServiceObject.name,
                ServiceObject.external_id,
                ServiceObject.inventory_number,
                ServiceObject.serial_number,
                ServiceObject.passport_token,
            )
        )
        for id_, customer_id, name, external_id, inventory, serial, token in rows:
            self.add_object(
                id_,
                customer_id,
                name,
                external_id=external_id,
                inventory_number=inventory,
                serial_number=serial,
                passport_token=token,
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
        index: Index | None = None,
    ) -> None:
        self._memo.clear()
        self.object_customer[object_id] = customer_id
        self.objects_of[customer_id].add(object_id)
        target = index or self._indexes.get("object")
        if target is not None:
            target.add(
                object_id,
                name,
                [external_id, inventory_number, serial_number, passport_token],
                [name],
            )

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
        self.contacts_of[company_id].add(contact_id)
        target = index or self._indexes.get("contact")
        if target is not None:
            target.add(contact_id, name, [external_id, phone, email and email.lower()], [name])

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
        return self._remembered("customer", ref, None, lambda: self.index("customer").find(ref))

    def object(self, ref: str, *, customer_id: int | None) -> int:
        return self._remembered(
            "object", ref, customer_id, lambda: self._object(ref, customer_id=customer_id)
        )

    def _object(self, ref: str, *, customer_id: int | None) -> int:
        index = self.index("object")
        if customer_id is None:
            return index.find(ref)
        within = self.objects_of.get(customer_id, set())
        try:
            return index.find(ref, within=within)
        except NotFound:
            found = index.find(ref)  # exists, but elsewhere: say so
            owner = self.object_customer.get(found)
            owner_name = self.label("customer", owner) if owner is not None else "?"
            raise InvalidInput(
                f"object {index.labels[found]!r} belongs to {owner_name}, "
                f"not to {self.label('customer', customer_id)}",
                field="object",
            ) from None

    def contact(self, ref: str, *, company_id: int | None) -> int:
        return self._remembered(
            "contact", ref, company_id, lambda: self._contact(ref, company_id=company_id)
        )

    def _contact(self, ref: str, *, company_id: int | None) -> int:
        index = self.index("contact")
        within = self.contacts_of.get(company_id, set()) if company_id is not None else None
        phone = _phone_key(ref)
        if phone:
            return index.find(phone, within=within)
        return index.find(ref.lower() if "@" in ref else ref, within=within)

    def employee(self, ref: str) -> int:
        return self._remembered("employee", ref, None, lambda: self._employee(ref))

    def _employee(self, ref: str) -> int:
        index = self.index("employee")
        text = ref.strip()
        phone = _phone_key(text)
        if phone:
            try:
                return index.find(phone)
            except NotFound:
                pass
        key = text.lower() if "@" in text else text
        try:
            return index.find(_initials_key(text))
        except NotFound:
            pass
        return index.find(key)

    def crew(self, ref: str) -> int:
        return self._remembered("crew", ref, None, lambda: self.index("crew").find(ref))

    def work_type(self, ref: str) -> int:
        return self.index("work_type").find(ref)

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
