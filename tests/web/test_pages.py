"""The customer's pages over HTTP: ``fsm serve`` as a process, spoken to with httpx."""

from __future__ import annotations

from sqlmodel import select

from fsm_core.models import Order, OrderHistory
from tests.web.conftest import passport_token, setup_company


def test_passport_page_shows_the_object_and_takes_a_request(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    assert page.status_code == 200, page.text
    assert "Кондиционер Daikin FTXB35C" in page.text
    assert "СМТ-000114" in page.text
    sent = browser.http.post(
        f"/p/{token}",
        data={
            "csrf": browser.csrf(page),
            "description": "Капает вода из внутреннего блока",
            "name": "Ольга Смирнова",
            "phone": "+7 921 345-67-01",
        },
        files={"photo": ("", b"", "application/octet-stream")},
    )
    assert sent.status_code == 200, sent.text
    assert "Заявка принята" in sent.text
    with world.db.reader() as s:
        order = s.exec(select(Order)).one()
        history = s.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)).all()
    assert order.source == "qr"
    assert order.number in sent.text
    assert history[0].actor == "Смирнова Ольга Викторовна (по QR)"
