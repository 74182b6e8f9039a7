"""The customer's pages over HTTP: ``fsm serve`` as a process, spoken to with httpx, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import time

import httpx
from PIL import Image
from sqlmodel import select

from fsm_core import attachments
from fsm_core.models import (
    AppUser,
    Attachment,
    Contact,
    Message,
    Order,
    OrderAttachment,
    OrderHistory,
    ServiceObject,
)
from fsm_core.models.customer import OrderRating
from fsm_core.services import chat, passports, status_links
from tests.web.conftest import finish, passport_token, setup_company, status_token


def photo_with_gps() -> bytes:
    """A phone's JPEG: its EXIF names the phone and says where it was taken."""
    image = Image.new("RGB", (640, 480), (40, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMakerXYZ"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (59.0, 56.0, 12.34)
    gps[3] = "E"
    gps[4] = (30.0, 21.0, 43.21)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert b"PhoneMakerXYZ" in data
    return data


def orders_of(world) -> list[Order]:
    with world.db.reader() as s:
        return list(s.exec(select(Order).order_by(Order.id)).all())


def test_scan_to_number_with_a_photo_and_the_status_link(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    assert page.status_code == 200, page.text
    for shown in (
        "Кондиционер Daikin FTXB35C",
        "СМТ-000114",
        "ООО «СМ-Трейд»",
        "Невский пр., 114",
        "ООО «Холодок-Сервис»",
        "+7 812 555-12-34",
    ):
        assert shown in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert "<script" not in page.text
    sent = browser.http.post(
        f"/p/{token}",
        data={
            "csrf": browser.csrf(page),
            "description": "Капает вода из внутреннего блока",
            "name": "Ольга",
            "phone": "8 (921) 345-67-01",  # the contact's phone, written another way
        },
        files={"photo": ("IMG_0042.jpg", photo_with_gps(), "image/jpeg")},
    )
    assert sent.status_code == 200, sent.text
    (order,) = orders_of(world)
    assert "Заявка принята" in sent.text
    assert f"№ {order.number}" in sent.text
    with world.db.reader() as s:
        assert order.source == "qr"
        assert order.contact_id == world.contact.id  # matched by phone
        assert order.object_id == world.ac.id
        assert order.reaction_due is not None  # the SLA from the policy
        history = s.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)).all()
        link = s.exec(select(OrderAttachment).where(OrderAttachment.order_id == order.id)).one()
        stored = s.get(Attachment, link.attachment_id)
        kept = attachments.path_of(s, stored).read_bytes()
    assert {h.actor for h in history} == {"Смирнова Ольга Викторовна (по QR)"}
    assert b"PhoneMakerXYZ" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 480)
        assert not image.getexif()
        assert "exif" not in image.info
    # the status link the page gives
    status_url = sent.text.split('id="status-link" href="')[1].split('"')[0]
    assert status_url == f"/s/{status_token(world, order.id)}"
    status = browser.http.get(status_url)
    assert status.status_code == 200
    assert f"Заявка № {order.number}" in status.text
    assert "Принята, ждёт назначения" in status.text
    # the same phone opens the label again: name and phone are filled in
    again = browser.http.get(f"/p/{token}")
    assert 'value="Ольга"' in again.text
    assert 'value="8 (921) 345-67-01"' in again.text
    assert "Принята, ждёт назначения" in again.text  # the object's open order


def test_a_wrong_field_comes_back_beside_the_field_with_what_was_typed(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    csrf = browser.csrf(page)
    empty = browser.http.post(
        f"/p/{token}", data={"csrf": csrf, "description": "  ", "name": "Пётр <b>Ким</b>"}
    )
    assert empty.status_code == 400
    assert 'id="description-error">опишите, что случилось<' in empty.text
    assert 'value="Пётр &lt;b&gt;Ким&lt;/b&gt;"' in empty.text  # kept, and escaped
    phone = browser.http.post(
        f"/p/{token}", data={"csrf": csrf, "description": "Шумит", "phone": "позвоните"}
    )
    assert phone.status_code == 400
    assert "не удалось прочитать номер &#39;позвоните&#39;" in phone.text
    assert ">Шумит</textarea>" in phone.text
    not_photo = browser.http.post(
        f"/p/{token}",
        data={"csrf": csrf, "description": "Шумит"},
        files={"photo": ("virus.jpg", b"MZ\x90\x00 not an image at all", "image/jpeg")},
    )
    assert not_photo.status_code == 400
    assert "этот файл — не фотография" in not_photo.text
    english = browser.http.post(
        f"/p/{token}", data={"csrf": csrf, "description": ""}, headers={"accept-language": "en"}
    )
    assert "describe what is wrong" in english.text
    assert orders_of(world) == []


def test_unknown_revoked_and_expired_tokens_get_the_same_page(world, browser) -> None:
    setup_company(world)
    old = passport_token(world)
    order = world.order(object_id=world.ac.id)
    replaced = status_token(world, order.id)
    with world.db.transaction() as s:
        passports.rotate_token(session=s, object_id=world.ac.id)
        status_links.replace_link(session=s, order_id=order.id)
        site = s.get(ServiceObject, world.site.id)
        site.active = False
        site_token = site.passport_token
        new = s.get(ServiceObject, world.ac.id).passport_token
    answers = {
        "unknown passport": browser.http.get("/p/AAAAAAAAAAAAAAAAAAAAAA"),
        "rotated passport": browser.http.get(f"/p/{old}"),
        "inactive object": browser.http.get(f"/p/{site_token}"),
        "malformed": browser.http.get("/p/%3Cscript%3E"),
        "unknown status": browser.http.get("/s/AAAAAAAAAAAAAAAAAAAAAA"),
        "replaced status": browser.http.get(f"/s/{replaced}"),
        "act of unknown": browser.http.get("/s/AAAAAAAAAAAAAAAAAAAAAA/act.pdf"),
    }
    bodies = {answer.text for answer in answers.values()}
    assert {a.status_code for a in answers.values()} == {404}
    assert len(bodies) == 1, answers
    assert "Страница не найдена" in bodies.pop()
    # a request to the rotated label is refused the same way, and creates nothing
    page = browser.http.get(f"/p/{new}")
    assert page.status_code == 200
    refused = browser.http.post(
        f"/p/{old}", data={"csrf": browser.csrf(page), "description": "Шумит"}
    )
    assert refused.status_code == 404
    assert len(orders_of(world)) == 1


def test_forms_without_the_csrf_token_are_refused(world, fsm_server) -> None:
    setup_company(world)
    token = passport_token(world)
    with httpx.Client(base_url=fsm_server.url) as http:
        page = http.get(f"/p/{token}")
        field = page.text.split('name="csrf" value="')[1].split('"')[0]
        no_field = http.post(f"/p/{token}", data={"description": "Шумит"})
        wrong = http.post(f"/p/{token}", data={"csrf": "0" * 64, "description": "Шумит"})
    with httpx.Client(base_url=fsm_server.url) as stranger:  # another site's form: no cookie
        no_cookie = stranger.post(f"/p/{token}", data={"csrf": field, "description": "Шумит"})
    for answer in (no_field, wrong, no_cookie):
        assert answer.status_code == 403
        assert "Форма устарела" in answer.text
    assert orders_of(world) == []


def test_rate_limits_answer_429_with_a_page(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    csrf = browser.csrf(page)
    answers = [
        browser.http.post(f"/p/{token}", data={"csrf": csrf, "description": ""}) for _ in range(21)
    ]
    assert [a.status_code for a in answers] == [400] * 20 + [429]
    assert "Слишком много запросов" in answers[-1].text
    assert int(answers[-1].headers["retry-after"]) >= 1


def test_bodies_over_the_limit_are_refused(world, browser) -> None:
    setup_company(world)
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    huge = browser.http.post(
        f"/p/{token}",
        data={"csrf": browser.csrf(page), "description": "Шумит"},
        files={"photo": ("big.jpg", b"\xff" * (11 * 1024 * 1024), "image/jpeg")},
    )
    assert huge.status_code == 413
    assert "Запрос слишком большой" in huge.text
    garbage = browser.http.post(
        f"/p/{token}",
        content=b"--x\r\nnonsense",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert garbage.status_code in (400, 403)
    assert "Traceback" not in garbage.text
    assert orders_of(world) == []


def test_the_customer_chat_both_ways(world, browser) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    token = status_token(world, order.id)
    page = browser.http.get(f"/s/{token}")
    sent = browser.http.post(
        f"/s/{token}/message",
        data={"csrf": browser.csrf(page), "text": "Мы будем на месте после 14:00"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with world.db.transaction() as s:
        message = s.exec(select(Message).where(Message.order_id == order.id)).one()
        author = s.get(AppUser, message.author_user_id)
        assert (message.channel, author.kind, author.contact_id) == (
            "customer",
            "customer",
            world.contact.id,
        )
        dispatcher = s.exec(select(AppUser).where(AppUser.kind == "dispatcher")).first()
        chat.send_message(
            session=s,
            order_id=order.id,
            user=dispatcher,
            text="Специалист приедет к 14:30",
            channel="customer",
        )
        chat.send_message(
            session=s, order_id=order.id, user=dispatcher, text="внутреннее", channel="team"
        )
    shown = browser.http.get(f"/s/{token}")
    assert "Мы будем на месте после 14:00" in shown.text
    assert "Специалист приедет к 14:30" in shown.text
    assert "внутреннее" not in shown.text  # the team's channel is not the customer's
    empty = browser.http.post(
        f"/s/{token}/message", data={"csrf": browser.csrf(shown), "text": " "}
    )
    assert empty.status_code == 400
    assert "напишите сообщение" in empty.text


def test_messages_are_limited_per_order(world, browser) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    token = status_token(world, order.id)
    csrf = browser.csrf(browser.http.get(f"/s/{token}"))
    codes = [
        browser.http.post(
            f"/s/{token}/message", data={"csrf": csrf, "text": f"№ {n}"}, follow_redirects=False
        ).status_code
        for n in range(11)
    ]
    assert codes == [303] * 10 + [429]


def test_a_done_order_gives_its_act_and_is_rated_once(world, browser) -> None:
    setup_company(world)
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    finish(world, order)
    token = status_token(world, order.id)
    page = browser.http.get(f"/s/{token}")
    assert "Выполнена" in page.text
    assert "2 500" not in page.text  # no prices on the page
    assert "2500" not in page.text
    act = browser.http.get(f"/s/{token}/act.pdf")
    assert act.status_code == 200
    assert act.headers["content-type"] == "application/pdf"
    assert act.content.startswith(b"%PDF")
    csrf = browser.csrf(page)
    wrong = browser.http.post(
        f"/s/{token}/rate",
        data={"csrf": csrf, "promptness": "6", "accuracy": "5", "communication": "5"},
    )
    assert wrong.status_code == 400
    assert "оперативность: поставьте оценку от 1 до 5" in wrong.text
    rating = {"promptness": "5", "accuracy": "4", "communication": "5", "comment": "Быстро"}
    first = browser.http.post(
        f"/s/{token}/rate", data={"csrf": csrf, **rating}, follow_redirects=True
    )
    assert first.status_code == 200  # after the redirect
    assert "Ваша оценка: 4,67 из 5" in first.text
    assert "Оцените работу" not in first.text  # no longer asked once rated
    assert "Оценка работы" in first.text
    second = browser.http.post(
        f"/s/{token}/rate",
        data={"csrf": csrf, "promptness": "1", "accuracy": "1", "communication": "1"},
    )
    assert second.status_code == 409
    assert f"заявка {order.number} уже оценена" in second.text
    with world.db.reader() as s:
        stored = s.get(OrderRating, order.id)
        history = s.exec(
            select(OrderHistory).where(
                OrderHistory.order_id == order.id, OrderHistory.action == "rate"
            )
        ).one()
    assert (stored.promptness, stored.accuracy, stored.communication) == (5, 4, 5)
    assert history.actor == "Смирнова Ольга Викторовна (по QR)"


def test_a_request_without_name_or_phone_and_in_english(world, browser) -> None:
    setup_company(world, company_language="en", passport_history="yes")
    token = passport_token(world)
    done = world.order(object_id=world.ac.id, description="Замена фильтра")
    finish(world, done)
    page = browser.http.get(f"/p/{token}", headers={"accept-language": "en-GB,en;q=0.9"})
    assert "Report a problem" in page.text
    assert "Service history" in page.text
    assert "Замена фильтра" in page.text
    sent = browser.http.post(
        f"/p/{token}",
        data={"csrf": browser.csrf(page), "description": "Noise"},
        headers={"accept-language": "en"},
    )
    assert sent.status_code == 200
    assert "Request received" in sent.text
    order = orders_of(world)[-1]
    with world.db.reader() as s:
        assert order.contact_id is None
        assert s.exec(select(Contact)).all() == [s.get(Contact, world.contact.id)]
        actors = {
            h.actor
            for h in s.exec(select(OrderHistory).where(OrderHistory.order_id == order.id)).all()
        }
    assert actors == {"customer (via QR)"}
    # its status page says how to reach the company instead of offering a chat form that
    # could only answer "call us"
    status = browser.http.get(
        f"/s/{status_token(world, order.id)}", headers={"accept-language": "en"}
    )
    assert "left without a name or phone" in status.text
    assert 'action="/s/' not in status.text.split('id="chat"')[1]


def test_the_logo_the_stylesheet_and_the_headers_of_every_answer(world, browser, tmp_path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (40, 20), (11, 98, 196)).save(logo)
    setup_company(world, company_logo=str(logo))
    token = passport_token(world)
    page = browser.http.get(f"/p/{token}")
    assert '<img class="logo" src="/logo"' in page.text
    served = browser.http.get("/logo")
    assert (served.status_code, served.headers["content-type"]) == (200, "image/png")
    assert served.content == logo.read_bytes()
    css = browser.http.get("/static/site.css")
    assert css.headers["content-type"].startswith("text/css")
    head = browser.http.head(f"/p/{token}")
    assert head.status_code == 200
    missing = browser.http.get("/p/AAAAAAAAAAAAAAAAAAAAAA")
    for answer in (page, missing, served):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert missing.headers["cache-control"] == "no-store"
    # a logo that is not a PNG or JPEG is not served, nor shown
    logo.write_text("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    time.sleep(1.1)  # the pages read the settings at most once a second
    assert browser.http.get("/logo").status_code == 404
    assert 'src="/logo"' not in browser.http.get(f"/p/{token}").text


def test_a_message_from_the_page_reaches_a_dispatcher_s_live_chat(world, browser) -> None:
    from fsm_core import live

    setup_company(world)
    order = world.order(object_id=world.ac.id, contact_id=world.contact.id)
    token = status_token(world, order.id)
    page = browser.http.get(f"/s/{token}")
    subscription = live.subscribe(world.db, interval=0.05)
    try:
        subscription.poll(0)
        browser.http.post(
            f"/s/{token}/message",
            data={"csrf": browser.csrf(page), "text": "Когда приедете?"},
            follow_redirects=False,
        )
        seen = []
        for _ in range(40):
            seen += [c for c in subscription.poll(0.25) if c.kind == "message"]
            if seen:
                break
    finally:
        subscription.close()
    assert seen
    assert order.id in (seen[0].order_ids or [])
    with world.db.reader() as s:
        dispatcher = s.exec(select(AppUser).where(AppUser.kind == "dispatcher")).first()
        (view,) = chat.messages(session=s, order_id=order.id, user=dispatcher)
    assert (view.channel, view.author_kind, view.author, view.text) == (
        "customer",
        "customer",
        "Смирнова Ольга Викторовна",
        "Когда приедете?",
    )
