"""Customers, contacts, employees, crews, objects, and finding them by what people type."""

import pytest
from sqlmodel import select

from fsm_core.errors import Ambiguous, Duplicate, InvalidInput, NotFound
from fsm_core.models import Company, ServiceObject
from fsm_core.services import lookup, objects, parties


def test_companies_are_unique_by_inn_and_external_id(db):
    with db.transaction() as s:
        parties.create_company(
            session=s, data={"name": "ООО «Ромашка»", "inn": "7707083893", "external_id": "1C-7"}
        )
    used = "INN '7707083893' is already used by ООО «Ромашка»"
    with pytest.raises(Duplicate, match=used), db.transaction() as s:
        parties.create_company(session=s, data={"name": "Другая", "inn": "7707083893"})
    with pytest.raises(Duplicate, match="external id '1C-7'"), db.transaction() as s:
        parties.create_company(session=s, data={"name": "Третья", "external_id": "1C-7"})
    with db.reader() as s:
        assert len(s.exec(select(Company)).all()) == 1


def test_updates_check_uniqueness_against_others_only(db):
    with db.transaction() as s:
        a = parties.create_company(session=s, data={"name": "А", "inn": "7707083893"})
        b = parties.create_company(session=s, data={"name": "Б"})
    with db.transaction() as s:
        parties.update_company(session=s, company_id=a.id, data={"inn": "7707083893"})
        updated = parties.update_company(session=s, company_id=b.id, data={"phone": "88125551234"})
        assert updated.phone == "+78125551234"
    with pytest.raises(Duplicate), db.transaction() as s:
        parties.update_company(session=s, company_id=b.id, data={"inn": "7707083893"})


def test_employee_short_name_follows_the_full_name(db):
    with db.transaction() as s:
        e = parties.create_employee(
            session=s, data={"full_name": "Соколов Дмитрий Андреевич", "skills": "ДГУ; Электрика"}
        )
        assert (e.short_name, e.skills) == ("Соколов Д. А.", ["дгу", "электрика"])
        parties.update_employee(session=s, employee_id=e.id, data={"full_name": "Соколов Денис"})
        assert e.short_name == "Соколов Д."
    with pytest.raises(InvalidInput, match="hourly_rate"), db.transaction() as s:
        parties.create_employee(session=s, data={"full_name": "Х", "hourly_rate": "дорого"})


def test_a_crew_needs_active_members(db, world):
    with db.transaction() as s:
        parties.update_employee(session=s, employee_id=world.petrov.id, data={"active": False})
    with pytest.raises(InvalidInput, match=r"Петров А\. С\. is not active"), db.transaction() as s:
        parties.create_crew(session=s, data={"name": "Б", "member_ids": [world.petrov.id]})
    with db.transaction() as s:
        crew = parties.create_crew(
            session=s, data={"name": "Б", "member_ids": [], "leader_id": world.ivanov.id}
        )
        assert [m.short_name for m in parties.crew_members(session=s, crew_id=crew.id)] == [
            "Иванов К. П."
        ]


def test_equipment_belongs_to_a_site_of_the_same_customer(db, world):
    with pytest.raises(InvalidInput, match="belongs to another customer"), db.transaction() as s:
        objects.create_object(
            session=s,
            data={
                "customer_id": world.other_customer.id,
                "parent_id": world.site.id,
                "name": "Чужой кондиционер",
            },
        )
    with db.reader() as s:
        assert (
            s.exec(select(ServiceObject).where(ServiceObject.name == "Чужой кондиционер")).all()
            == []
        )


def test_objects_get_unguessable_distinct_passport_tokens(db, world):
    with db.reader() as s:
        tokens = [o.passport_token for o in s.exec(select(ServiceObject)).all()]
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) >= 22 for t in tokens)


def test_coordinates_are_checked(db, world):
    with pytest.raises(InvalidInput, match="latitude"), db.transaction() as s:
        objects.create_object(
            session=s,
            data={"customer_id": world.customer.id, "name": "X", "latitude": 95, "longitude": 30},
        )


def test_lookup_by_what_people_type(db, world):
    with db.reader() as s:
        assert lookup.resolve_company(session=s, ref="7801234564").id == world.customer.id
        assert lookup.resolve_company(session=s, ref="см-трейд").id == world.customer.id
        assert lookup.resolve_company(session=s, ref=f"#{world.other_customer.id}").name.startswith(
            "АО"
        )
        assert lookup.resolve_employee(session=s, ref="Иванов К.П.").id == world.ivanov.id
        assert (
            lookup.resolve_employee(session=s, ref="иванов кирилл петрович").id == world.ivanov.id
        )
        assert lookup.resolve_object(session=s, ref="СМТ-000114").id == world.ac.id
        assert lookup.resolve_object(session=s, ref=world.ac.passport_token).id == world.ac.id
        assert lookup.resolve_contact(session=s, ref="8 921 345 67 01").id == world.contact.id
        assert lookup.resolve_crew(session=s, ref="холод").id == world.crew.id
        with pytest.raises(NotFound, match="no employee matches 'Сидоров'"):
            lookup.resolve_employee(session=s, ref="Сидоров")
        with pytest.raises(Ambiguous) as err:
            lookup.resolve_employee(session=s, ref="ов")
        assert set(err.value.candidates) == {"Иванов К. П. (#1)", "Петров А. С. (#2)"}
        with pytest.raises(NotFound, match="order"):
            lookup.resolve_order(session=s, ref="26-9999")


def test_a_whole_word_wins_over_part_of_a_word(db, world):
    """«Петров» is Петров А. С.'s surname and part of Иванов Кирилл Петрович's patronymic:
    the surname is meant (it was refused as ambiguous, `fsm report employee Петров`). Part
    of a word alone still finds whom it fits, and a word two people share stays ambiguous."""
    with db.reader() as s:
        assert lookup.resolve_employee(session=s, ref="Петров").id == world.petrov.id
        assert lookup.resolve_employee(session=s, ref="петров").id == world.petrov.id
        assert lookup.resolve_employee(session=s, ref="Петрович").id == world.ivanov.id
        assert lookup.resolve_employee(session=s, ref="Кирилл").id == world.ivanov.id
    with db.transaction() as s:
        parties.create_employee(
            session=s, data={"full_name": "Петров Борис Ильич", "short_name": "Петров Б. И."}
        )
    with db.reader() as s, pytest.raises(Ambiguous) as err:
        lookup.resolve_employee(session=s, ref="Петров")
    assert len(err.value.candidates) == 2  # the two Петровы, not Иванов
    with db.transaction() as s:
        parties.create_company(session=s, data={"name": "ООО «Сервис Плюс»"})
        parties.create_company(session=s, data={"name": "ООО «Автосервис»"})
    with db.reader() as s:
        assert lookup.resolve_company(session=s, ref="сервис").name == "ООО «Сервис Плюс»"


def test_an_exact_name_wins_over_longer_ones(db):
    with db.transaction() as s:
        parties.create_company(session=s, data={"name": "Альфа"})
        parties.create_company(session=s, data={"name": "Альфа-Сервис"})
    with db.reader() as s:
        assert lookup.resolve_company(session=s, ref="альфа").name == "Альфа"
        with pytest.raises(Ambiguous, match="Альфа-Сервис"):
            lookup.resolve_company(session=s, ref="льф")
