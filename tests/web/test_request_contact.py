"""Who a request from the passport page is from: a phone the customer's contacts have
matches that contact; a new phone with a name makes a new contact; a new phone without a
name is asked for the name beside its field, in the page's language (it used to get the
command line's "give --contact-name too", in English, above the form)."""

from __future__ import annotations

from sqlmodel import select

from fsm_core.models import Contact
from tests.web.conftest import passport_token, setup_company
from tests.web.test_pages import orders_of


def test_a_new_phone_without_a_name_is_asked_for_the_name(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    csrf = browser.csrf(page)
    form = {"csrf": csrf, "description": "Не горит табло", "phone": "+7 999 000-11-22"}
    asked = browser.http.post(f"/p/{token}", data=form)
    assert asked.status_code == 400
    assert 'id="name-error">' in asked.text
    assert "укажите имя" in asked.text.lower()
    assert "--contact-name" not in asked.text
    assert 'value="+7 999 000-11-22"' in asked.text  # what was typed is kept
    assert ">Не горит табло</textarea>" in asked.text
    english = browser.http.post(f"/p/{token}", data=form, headers={"accept-language": "en"})
    assert english.status_code == 400
    assert "your name" in english.text.lower()
    assert orders_of(world) == []
    # with the name: a new contact of the object's customer, and the order is theirs
    sent = browser.http.post(f"/p/{token}", data={**form, "name": "Охранник Сергей"})
    assert sent.status_code == 200, sent.text
    (order,) = orders_of(world)
    with world.db.reader() as s:
        contact = s.get(Contact, order.contact_id)
        assert contact is not None
        assert (contact.full_name, contact.company_id) == ("Охранник Сергей", world.customer.id)
    # the same phone again, no name: the contact it now belongs to
    again = browser.http.post(
        f"/p/{token}", data={"csrf": csrf, "description": "Снова", "phone": "+7 999 000-11-22"}
    )
    assert again.status_code == 200, again.text
    with world.db.reader() as s:
        contacts = s.exec(select(Contact).where(Contact.phone == contact.phone)).all()
    assert len(contacts) == 1
    assert {o.contact_id for o in orders_of(world)} == {contact.id}
