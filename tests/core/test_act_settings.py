"""The company's requisites for the act: checked as an accountant would check them."""

import pytest

from fsm_core.errors import InvalidInput
from fsm_core.models import Setting
from fsm_core.services import settings
from fsm_core.services.settings import SettingsInvalid


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("company_inn", " 7801234564 ", "7801234564"),
        ("company_inn", "500100732259", "500100732259"),  # a sole trader's 12 digits
        ("company_inn", "", ""),
        ("company_kpp", "780101001", "780101001"),
        ("company_kpp", "7801 01 001", "780101001"),
        ("company_kpp", "7701ab001", "7701AB001"),  # the reason may be letters
        ("company_ogrn", "1027700132195", "1027700132195"),
        ("company_ogrn", "304500116000157", "304500116000157"),  # ОГРНИП, 15 digits
        ("vat_rate", "20", "20"),
        ("vat_rate", "20%", "20"),
        ("vat_rate", " 22 % ", "22"),
        ("vat_rate", "0", "0"),
        ("vat_rate", "10,5", "10.5"),
        ("vat_rate", "", ""),
        ("vat_rate", "Без НДС", ""),
        ("company_bank_details", " р/с 407…\n  БИК 044030790 \n\n", "р/с 407…\nБИК 044030790"),
    ],
)
def test_requisites_are_stored_clean(key, value, stored):
    assert settings.SPECS[key].check(value) == stored


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("company_inn", "780123456", "must have 10 or 12 digits"),
        ("company_inn", "7801234565", "wrong control digit"),
        ("company_kpp", "78010100", "must have 9 characters"),
        ("company_kpp", "78010100X", "must have 9 characters"),
        ("company_ogrn", "102770013219", "must have 13 digits"),
        ("company_ogrn", "1027700132194", "wrong control digit"),
        ("company_ogrn", "304500116000158", "wrong control digit"),
        ("vat_rate", "двадцать", "not a VAT rate"),
        ("vat_rate", "100", "not a VAT rate"),
        ("vat_rate", "-20", "not a VAT rate"),
        ("vat_rate", "20.125", "more than two decimals"),
    ],
)
def test_wrong_requisites_are_refused_naming_the_setting(key, value, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        settings.SPECS[key].check(value)
    assert refused.value.one_line().startswith(f"{key}: ")
    assert refused.value.field == key


def test_a_form_of_settings_is_taken_whole_or_not_at_all(db):
    with pytest.raises(SettingsInvalid) as refused, db.transaction() as s:
        settings.set_values(
            session=s,
            values={
                "company_legal_name": "ООО «Сервис-Север»",
                "company_inn": "123",
                "vat_rate": "много",
                "company_kpp": "780101001",
            },
        )
    assert set(refused.value.errors) == {"company_inn", "vat_rate"}
    assert refused.value.field == "company_inn"
    assert "and 1 more" in refused.value.one_line()
    with db.reader() as s:
        assert s.get(Setting, "company_legal_name") is None  # nothing was changed
    with db.transaction() as s:
        stored = settings.set_values(
            session=s, values={"company_inn": "7801234564", "vat_rate": "20 %"}
        )
    assert stored == {"company_inn": "7801234564", "vat_rate": "20"}
    with db.reader() as s:
        loaded = settings.load(session=s)
    assert loaded["company_inn"] == "7801234564"
    assert str(loaded.vat_rate) == "20"


def test_the_company_details_form_lists_every_key_once():
    assert len(set(settings.COMPANY_DETAILS)) == len(settings.COMPANY_DETAILS)
    assert set(settings.COMPANY_DETAILS) <= set(settings.SPECS)
    for key in ("company_legal_name", "company_inn", "company_kpp", "company_ogrn"):
        assert key in settings.COMPANY_DETAILS


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"{server.prefix}_old0004"
    url = server.create(name)
    try:
        yield url
    finally:
        server.drop(name)


def test_work_recorded_before_0005_keeps_being_charged_both_ways(empty_url):
    """The migration gives existing work types and work entries today's default."""
    from sqlalchemy import text

    from fsm_core.db import Database

    database = Database(empty_url)
    try:
        database.upgrade("0004")
        with database.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO work_type (name, price, unit, active, created_at) "
                    "VALUES ('Чистка', 350000, 'усл.', true, '2026-11-01 00:00:00+00')"
                )
            )
        assert database.upgrade("0005") == ("0004", "0005")
        with database.engine.connect() as conn:
            charge = conn.execute(text("SELECT charge FROM work_type")).scalar_one()
            contract = conn.execute(text("SELECT count(contract_number) FROM company")).scalar()
        assert (charge, contract) == ("both", 0)
        with pytest.raises(Exception, match=r"(?i)check"), database.engine.begin() as conn:
            conn.execute(text("UPDATE work_type SET charge = 'monthly'"))
    finally:
        database.dispose()
