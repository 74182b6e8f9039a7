"""Order chats: channels, who may write and read, unread counts per user, forwarding,
search, attachments; and who is acting (users)."""

import pytest

from fsm_core.errors import Ambiguous, InvalidInput, NotFound
from fsm_core.services import chat, users


@pytest.fixture
def people(db, world):
    with db.transaction() as s:
        dispatcher = users.find_user(session=s, name="dispatcher")  # the seeded first user
        orlova = users.create_user(session=s, login="orlova", display_name="Орлова В. П.")
        ivanov = users.create_user(
            session=s, login="ivanov", kind="technician", employee_id=world.ivanov.id
        )
        petrov = users.create_user(
            session=s, login="petrov", kind="technician", employee_id=world.petrov.id
        )
        smirnova = users.create_user(
            session=s, login="smirnova", kind="customer", contact_id=world.contact.id
        )
    return dispatcher, orlova, ivanov, petrov, smirnova


def send(db, order, user, text, **kw):
    with db.transaction() as s:
        return chat.send_message(session=s, order_id=order.id, user=user, text=text, **kw)


def counts(db, user):
    with db.reader() as s:
        found = chat.unread(session=s, user=user)
    return found.total, {k: dict(v) for k, v in found.by_order.items()}


def test_users_are_found_by_login_name_or_short_name(db, people, world):
    _dispatcher, orlova, ivanov, *_ = people
    with db.reader() as s:
        assert users.find_user(session=s, name="ORLOVA").id == orlova.id
        assert users.find_user(session=s, name="орлова в. п.").id == orlova.id
        assert users.find_user(session=s, name="Иванов К.П.").id == ivanov.id
        assert users.find_user(session=s, name="Иванов Кирилл Петрович").id == ivanov.id
        with pytest.raises(NotFound, match="no user matches 'Сидоров'"):
            users.find_user(session=s, name="Сидоров")


def test_user_rules(db, people, world):
    with db.transaction() as s:
        with pytest.raises(InvalidInput, match="needs an employee"):
            users.create_user(session=s, login="x", kind="technician")
        with pytest.raises(InvalidInput, match="Latin letters"):
            users.create_user(session=s, login="Иванов")
        with pytest.raises(Exception, match="already has a user"):
            users.create_user(session=s, login="ivanov2", employee_id=world.ivanov.id)
        users.create_user(session=s, login="orlova2", display_name="Орлова В. П.")
    with db.reader() as s, pytest.raises(Ambiguous):
        users.find_user(session=s, name="Орлова В. П.")
    with db.transaction() as s:
        users.set_active(session=s, user_id=people[3].id, active=False)
    from fsm_core.identity import NotBound, establish

    with pytest.raises(NotBound, match="deactivated"):
        establish(db, on_behalf_of="petrov")


def test_team_and_customer_channels_and_sending_to_both(db, people, world):
    _dispatcher, orlova, ivanov, _petrov, smirnova = people
    order = world.order(object_id=world.ac.id, assignee_id=world.ivanov.id)
    written = send(db, order, orlova, "Мастер будет в 14:00", also_customer=True)
    assert [m.channel for m in written] == ["team", "customer"]
    send(db, order, smirnova, "Спасибо, ждём", channel="заказчику")
    with pytest.raises(InvalidInput, match="writes only to the customer chat"):
        send(db, order, smirnova, "Можно в команду?", channel="team")
    with pytest.raises(InvalidInput, match="text or an attachment"):
        send(db, order, orlova, "   ")
    with db.reader() as s:
        both = chat.messages(session=s, order_id=order.id, user=orlova)
        team = chat.messages(
            session=s, order_id=order.id, user=ivanov, channel=chat.parse_channel("team")
        )
        seen_by_customer = chat.messages(session=s, order_id=order.id, user=smirnova)
    assert [(m.channel, m.author, m.text) for m in both] == [
        ("team", "Орлова В. П.", "Мастер будет в 14:00"),
        ("customer", "Орлова В. П.", "Мастер будет в 14:00"),
        ("customer", "Смирнова Ольга Викторовна", "Спасибо, ждём"),
    ]
    assert [m.channel for m in team] == ["team"]
    assert [m.channel for m in seen_by_customer] == ["customer", "customer"]
    other = world.order(customer_id=world.other_customer.id)
    with db.reader() as s, pytest.raises(InvalidInput, match="only the customer chat"):
        chat.messages(session=s, order_id=other.id, user=smirnova)


def test_unread_counts_per_user_order_and_overall(db, people, world):
    dispatcher, orlova, ivanov, petrov, smirnova = people
    first = world.order(object_id=world.ac.id, assignee_id=world.ivanov.id)
    second = world.order(assignee_id=world.petrov.id)
    send(db, first, ivanov, "Выезжаю")
    send(db, first, ivanov, "На месте")
    send(db, first, orlova, "Жду фото", also_customer=True)
    send(db, second, petrov, "Нужна запчасть")
    send(db, first, smirnova, "Когда закончите?", channel="customer")

    # the dispatchers follow every order; their own messages are never unread
    assert counts(db, dispatcher) == (
        6,
        {first.id: {"team": 3, "customer": 2}, second.id: {"team": 1}},
    )
    # writing to a channel reads it: Orlova has read Ivanov's two messages before hers
    assert counts(db, orlova) == (2, {first.id: {"customer": 1}, second.id: {"team": 1}})
    # a technician: only orders assigned or planned for them; a customer: their channel
    assert counts(db, ivanov) == (3, {first.id: {"team": 1, "customer": 2}})
    assert counts(db, petrov) == (0, {})
    assert counts(db, smirnova) == (0, {})  # she wrote after the dispatcher's message

    with db.transaction() as s:
        assert chat.mark_read(session=s, user=orlova, order_id=first.id) == 1
    assert counts(db, orlova) == (1, {second.id: {"team": 1}})
    send(db, first, ivanov, "Готово")
    assert counts(db, orlova)[0] == 2
    send(db, first, orlova, "Через час закончим", channel="customer")
    assert counts(db, smirnova) == (1, {first.id: {"customer": 1}})
    with db.transaction() as s:
        chat.mark_read(session=s, user=dispatcher, order_id=first.id, channel=chat.Channel.TEAM)
    assert counts(db, dispatcher) == (4, {first.id: {"customer": 3}, second.id: {"team": 1}})
    with db.reader() as s:
        listed = chat.chat_list(session=s, user=orlova, unread_only=True)
    assert [(r["number"], r["unread"], r["last_text"]) for r in listed] == [
        (first.number, 1, "Через час закончим"),
        (second.number, 1, "Нужна запчасть"),
    ]


def test_badges():
    assert (chat.badge(0), chat.badge(13), chat.badge(99), chat.badge(100)) == (
        "",
        "13",
        "99",
        "99+",
    )


def test_many_unread_messages_make_a_99_plus_badge(db, people, world):
    _dispatcher, orlova, ivanov, *_ = people
    order = world.order(assignee_id=world.ivanov.id)
    with db.transaction() as s:
        for i in range(120):
            chat.send_message(session=s, order_id=order.id, user=ivanov, text=f"Фото {i}")
    with db.reader() as s:
        found = chat.unread(session=s, user=orlova)
    assert (found.total, found.badge, found.of(order.id)) == (120, "99+", 120)


def test_forwarding_to_another_order_or_channel(db, people, world):
    _dispatcher, orlova, ivanov, _petrov, smirnova = people
    source_order = world.order(assignee_id=world.ivanov.id)
    target = world.order(object_id=world.ac.id)
    (original,) = send(db, source_order, ivanov, "Фото после чистки радиатора")
    with db.transaction() as s:
        to_customer = chat.forward_message(
            session=s,
            message_id=original.id,
            order_id=source_order.id,
            user=orlova,
            channel="customer",
        )
        elsewhere = chat.forward_message(
            session=s, message_id=to_customer.id, order_id=target.id, user=orlova
        )
        with pytest.raises(InvalidInput, match="already in the team chat"):
            chat.forward_message(
                session=s, message_id=original.id, order_id=source_order.id, user=orlova
            )
    with db.reader() as s:
        (shown,) = chat.messages(session=s, order_id=target.id, user=orlova)
    assert shown.text == "Фото после чистки радиатора"
    assert shown.author == "Орлова В. П."
    assert shown.forwarded_from["number"] == source_order.number
    assert shown.forwarded_from["channel"] == "customer"
    assert shown.forwarded_from["author"] == "Иванов К. П."  # who wrote it first
    assert shown.forwarded_from["id"] == to_customer.id
    assert elsewhere.forwarded_from_id == to_customer.id
    with db.transaction() as s, pytest.raises(InvalidInput, match="customer's contact"):
        chat.forward_message(session=s, message_id=original.id, order_id=target.id, user=smirnova)


def test_search_across_messages(db, people, world):
    _dispatcher, orlova, ivanov, petrov, _smirnova = people
    a = world.order(assignee_id=world.ivanov.id)
    b = world.order(assignee_id=world.petrov.id)
    send(db, a, ivanov, "Заменил ЁМКОСТНЫЙ датчик")
    send(db, b, petrov, "Емкостный датчик не нужен")
    send(db, b, petrov, "Другое")
    with db.reader() as s:
        found = chat.search(session=s, user=orlova, text="емкостный")
        mine = chat.search(session=s, user=ivanov, text="емкостный")
        only_b = chat.search(session=s, user=orlova, text="датчик", order_id=b.id)
        with pytest.raises(InvalidInput, match="give some text"):
            chat.search(session=s, user=orlova, text="  ")
    assert [m.number for m in found] == [b.number, a.number]  # newest first
    assert [m.number for m in mine] == [a.number]
    assert [m.number for m in only_b] == [b.number]


def test_attachments_go_to_the_store_by_content(db, db_url, people, world, tmp_path, monkeypatch):
    monkeypatch.setenv("FSM_DATA_DIR", str(tmp_path / "data"))
    from fsm_core.config import get_settings

    get_settings.cache_clear()
    _dispatcher, orlova, ivanov, *_ = people
    order = world.order(assignee_id=world.ivanov.id)
    photo = tmp_path / "../фото 1.jpg"
    photo.write_bytes(b"\xff\xd8jpeg" * 100)
    (_message,) = send(db, order, ivanov, "", files=[photo])
    with db.reader() as s:
        (view,) = chat.messages(session=s, order_id=order.id, user=orlova)
        stored = chat.attachment(session=s, attachment_id=view.attachments[0]["id"], user=orlova)
        from fsm_core import attachments

        path = attachments.path_of(s, stored)
        with pytest.raises(NotFound):
            chat.attachment(
                session=s, attachment_id=stored.id, user=people[4]
            )  # not the customer's
    assert view.text == ""
    assert view.attachments[0]["name"] == "фото 1.jpg"
    assert view.attachments[0]["media_type"] == "image/jpeg"
    assert path.name == stored.sha256
    assert path.read_bytes() == photo.read_bytes()
    monkeypatch.setenv("FSM_ATTACHMENT_MAX_BYTES", "10")
    with pytest.raises(InvalidInput, match="more than"):
        send(db, order, ivanov, "большой файл", files=[photo])
    get_settings.cache_clear()
