"""Finding the object a caller talks about: grouped by customer and site, the site shown
above a unit, so that two shops' same-named units cannot be confused."""

from __future__ import annotations

import pytest

from fsm_core.errors import NotFound
from fsm_core.services import lookup, object_tree, objects, parties


@pytest.fixture
def shops(db):
    """Two companies, each with shops that have the same split system."""
    with db.transaction() as s:
        a = parties.create_company(session=s, data={"name": "ООО «Ромашка»", "inn": "7801234564"})
        b = parties.create_company(session=s, data={"name": "ООО «Лютик»"})
        made = {}
        for company, site, address, unit, inventory in (
            (a, "Магазин на Невском", "Невский пр., 1", "Сплит-система LG", "Р-1"),
            (a, "Магазин на Лиговском", "Лиговский пр., 2", "Сплит-система LG", "Р-2"),
            (b, "Кафе на Садовой", "Садовая ул., 3", "Сплит-система LG", "Л-1"),
        ):
            shop = objects.create_object(
                session=s,
                data={"customer_id": company.id, "name": site, "kind": "site", "address": address},
            )
            ac = objects.create_object(
                session=s,
                data={
                    "customer_id": company.id,
                    "parent_id": shop.id,
                    "name": unit,
                    "inventory_number": inventory,
                },
            )
            made[inventory] = (shop.id, ac.id)
        return a.id, b.id, made


def lines(picks):
    return [
        (p.customer if p.object is None else "  " * (p.object.depth + 1) + p.object.name)
        + ("" if p.matched else " (context)")
        for p in picks
    ]


def test_a_units_name_lists_each_under_its_site_and_customer(db, shops):
    with db.reader() as s:
        picks = lookup.search_for_order(session=s, text="сплит")
    assert lines(picks) == [
        "ООО «Лютик» (context)",
        "  Кафе на Садовой (context)",
        "    Сплит-система LG",
        "ООО «Ромашка» (context)",
        "  Магазин на Лиговском (context)",
        "    Сплит-система LG",
        "  Магазин на Невском (context)",
        "    Сплит-система LG",
    ]
    units = [p.object for p in picks if p.matched]
    assert [u.site for u in units] == [
        "Кафе на Садовой",
        "Магазин на Лиговском",
        "Магазин на Невском",
    ]
    assert [u.address for u in units] == ["Садовая ул., 3", "Лиговский пр., 2", "Невский пр., 1"]
    assert lookup.single_pick(picks) is None  # three to choose from


def test_a_site_found_by_its_address_comes_with_what_is_on_it(db, shops):
    _a, _b, made = shops
    with db.reader() as s:
        picks = lookup.search_for_order(session=s, text="лиговский")
    assert lines(picks) == [
        "ООО «Ромашка» (context)",
        "  Магазин на Лиговском",
        "    Сплит-система LG (context)",
    ]
    assert picks[1].object.id == made["Р-2"][0]
    assert lookup.single_pick(picks) is None  # the site, or the unit on it


def test_an_inventory_number_names_one_unit(db, shops):
    _a, _b, made = shops
    with db.reader() as s:
        picks = lookup.search_for_order(session=s, text="Р-2")
    single = lookup.single_pick(picks)
    assert single is not None
    assert single.object.id == made["Р-2"][1]
    assert single.object.site == "Магазин на Лиговском"


def test_a_customer_by_name_or_inn_brings_its_whole_tree(db, shops):
    a, _b, _made = shops
    with db.reader() as s:
        by_inn = lookup.search_for_order(session=s, text="7801234564")
        by_name = lookup.search_for_order(session=s, text="ромашк")
    assert (
        lines(by_inn)
        == lines(by_name)
        == [
            "ООО «Ромашка»",
            "  Магазин на Лиговском",
            "    Сплит-система LG",
            "  Магазин на Невском",
            "    Сплит-система LG",
        ]
    )
    assert {p.customer_id for p in by_inn} == {a}


def test_nothing_found_says_what_to_type(db, shops):
    with db.reader() as s, pytest.raises(NotFound, match="no object or customer matches"):
        lookup.search_for_order(session=s, text="нет такого")


def test_the_tree_puts_equipment_under_its_site(db, shops):
    with db.reader() as s:
        rows = object_tree.arrange([o for o, _c in objects.list_objects(session=s)])
    names = [("  " * r.depth) + r.name for r in rows]
    assert names.index("Магазин на Невском") + 1 == names.index(
        "  Сплит-система LG", names.index("Магазин на Невском")
    )
    assert all(r.depth == 0 or r.site != r.name for r in rows)
