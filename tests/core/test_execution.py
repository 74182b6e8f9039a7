"""Field execution: checklist rules, snapshots of prices and rates, totals, materials
written off, attachments, the signature, and the act built from it all."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from fsm_core import clock
from fsm_core.errors import InsufficientStock, InvalidInput, NotFound, TransitionNotAllowed
from fsm_core.models import Order, OrderHistory, StockBalance
from fsm_core.services import execution, objects, orders, parties
from tests.conftest import NOW


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (60, 20), (20, 40, 160, 255)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture
def job(db, world):
    """An order in progress on the air conditioner, with a work type and a checklist."""
    with db.transaction() as s:
        cleaning = objects.create_work_type(
            session=s, data={"name": "Чистка радиатора испарителя", "price": "3 500"}
        )
        template = execution.create_template(session=s, name="Осмотр перед работой")
        level = execution.add_item(
            session=s,
            template_id=template.id,
            kind="yes_no",
            text="Уровень жидкости в норме?",
            hint="Проверьте уровень, сняв кожух двигателя.",
            trigger="нет",
            follow_up="Долить жидкость: {item} — ответ «{answer}» в заявке {order}",
            raise_to="high",
        )
        pressure = execution.add_item(
            session=s,
            template_id=template.id,
            kind="number",
            text="Давление в контуре",
            unit="бар",
            min_value=Decimal("8"),
            max_value=Decimal("12"),
            trigger="out_of_range",
            raise_to="critical",
        )
        photo = execution.add_item(
            session=s, template_id=template.id, kind="file", text="Фото шильдика", required=False
        )
        execution.bind_template(session=s, template_id=template.id, object_kind="air conditioner")
    # taken yesterday: the work recorded below (hours before "now") comes after it
    order = world.order(
        object_id=world.ac.id, assignee_id=world.ivanov.id, created_at=NOW - timedelta(days=1)
    )
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="in_progress", actor="t")
    return {
        "order": order,
        "work_type": cleaning,
        "level": level,
        "pressure": pressure,
        "photo": photo,
        "template": template,
    }


def get(db, model, key):
    with db.reader() as s:
        return s.get(model, key)


def test_checklists_apply_by_object_kind_and_list_their_items(db, job):
    with db.reader() as s:
        state = execution.checklist_state(session=s, order_id=job["order"].id)
    assert [i.item.text for i in state] == [
        "Уровень жидкости в норме?",
        "Давление в контуре",
        "Фото шильдика",
    ]
    assert all(i.answer is None for i in state)


def test_a_no_creates_a_follow_up_order_and_raises_criticality_once(db, world, job):
    order = job["order"]
    with db.transaction() as s:
        outcome = execution.answer_item(
            session=s, order_id=order.id, item_id=job["level"].id, value="Нет", actor="Иванов К. П."
        )
        follow = outcome.follow_up
    assert outcome.answer.value == "no"
    assert outcome.raised_to == "high"
    assert get(db, Order, order.id).criticality == "high"
    follow = get(db, Order, follow.id)
    assert follow.description == (
        f"Долить жидкость: Уровень жидкости в норме? — ответ «no» в заявке {order.number}"
    )
    assert (follow.source, follow.object_id, follow.customer_id) == (
        "checklist",
        world.ac.id,
        world.customer.id,
    )
    with db.transaction() as s:  # the same answer again fires nothing new
        again = execution.answer_item(
            session=s, order_id=order.id, item_id=job["level"].id, value="нет", actor="t"
        )
    assert again.follow_up is None
    with db.reader() as s:
        assert s.execute(select(func.count()).select_from(Order)).scalar() == 2
        rows = (
            s.execute(select(OrderHistory.action).where(OrderHistory.order_id == order.id))
            .scalars()
            .all()
        )
    assert rows.count("checklist") == 2


def test_a_number_outside_its_range_raises_criticality(db, job):
    with db.transaction() as s:
        inside = execution.answer_item(
            session=s, order_id=job["order"].id, item_id=job["pressure"].id, value="10,5", actor="t"
        )
    assert (inside.out_of_range, inside.raised_to) == (False, None)
    with db.transaction() as s:
        outside = execution.answer_item(
            session=s, order_id=job["order"].id, item_id=job["pressure"].id, value="14", actor="t"
        )
    assert (outside.out_of_range, outside.raised_to) == (True, "critical")


def test_answers_are_checked_by_kind(db, job):
    with pytest.raises(InvalidInput, match="answered yes or no"), db.transaction() as s:
        execution.answer_item(
            session=s, order_id=job["order"].id, item_id=job["level"].id, value="может", actor="t"
        )
    with pytest.raises(InvalidInput, match="cannot read number"), db.transaction() as s:
        execution.answer_item(
            session=s,
            order_id=job["order"].id,
            item_id=job["pressure"].id,
            value="много",
            actor="t",
        )
    with pytest.raises(InvalidInput, match="needs a file"), db.transaction() as s:
        execution.answer_item(
            session=s, order_id=job["order"].id, item_id=job["photo"].id, value=None, actor="t"
        )


def test_closing_is_refused_while_a_required_item_is_unanswered(db, job):
    order = job["order"]
    with db.transaction() as s:
        orders.move_order(session=s, order_id=order.id, stage="done", actor="t")
    with (
        pytest.raises(TransitionNotAllowed, match="cannot be closed: checklist item"),
        db.transaction() as s,
    ):
        orders.move_order(session=s, order_id=order.id, stage="closed", actor="t")
    with db.transaction() as s:
        for item, value in ((job["level"], "да"), (job["pressure"], "10")):
            execution.answer_item(
                session=s, order_id=order.id, item_id=item.id, value=value, actor="t"
            )
    with db.transaction() as s:  # the optional photo does not hold it back
        orders.move_order(session=s, order_id=order.id, stage="closed", actor="t")
    assert get(db, Order, order.id).stage_code == "closed"


def test_work_keeps_the_price_and_rates_of_its_day(db, world, job):
    order = job["order"]
    with db.transaction() as s:
        execution.add_work(
            session=s,
            order_id=order.id,
            work_type_id=job["work_type"].id,
            started_at=NOW - timedelta(hours=3),
            finished_at=NOW - timedelta(minutes=30),
            executors=[
                execution.ExecutorInput(world.ivanov.id),
                execution.ExecutorInput(world.petrov.id, hourly_rate=Decimal("1333.33")),
            ],
            actor="Иванов К. П.",
        )
    with db.transaction() as s:  # prices change next month ...
        objects.update_work_type(
            session=s, work_type_id=job["work_type"].id, data={"price": "9 999"}
        )
        parties.update_employee(
            session=s, employee_id=world.ivanov.id, data={"hourly_rate": "5 000"}
        )
    with db.reader() as s:  # ... the order's figures do not
        computed = execution.totals(session=s, order_id=order.id)
    (block,) = computed.blocks
    assert [(line.name, line.quantity, line.price, line.amount) for line in block.lines] == [
        ("Чистка радиатора испарителя", Decimal("1.000"), Decimal("3500.00"), Decimal("3500.00")),
        ("Работа: Иванов К. П.", Decimal("2.500"), Decimal("1750.00"), Decimal("4375.00")),
        ("Работа: Петров А. С.", Decimal("2.500"), Decimal("1333.33"), Decimal("3333.33")),
    ]
    assert computed.total == Decimal("11208.33")


def test_amounts_round_half_up_to_the_kopeck_line_by_line():
    assert execution.line_amount(Decimal("0.333"), Decimal("10.00")) == Decimal("3.33")
    assert execution.line_amount(Decimal("0.125"), Decimal("0.10")) == Decimal("0.01")
    assert execution.line_amount(Decimal("2.5"), Decimal("1333.33")) == Decimal("3333.33")
    assert execution.line_amount(Decimal("1.005"), Decimal("1.00")) == Decimal("1.01")


def test_work_is_checked(db, world, job):
    order = job["order"]
    base = {
        "session": None,
        "order_id": order.id,
        "work_type_id": job["work_type"].id,
        "executors": [execution.ExecutorInput(world.petrov.id)],
        "actor": "t",
    }
    cases = [
        ({"started_at": NOW, "finished_at": NOW - timedelta(hours=1)}, "ends before it starts"),
        ({"started_at": NOW, "finished_at": NOW + timedelta(hours=2)}, "cannot end in the future"),
        ({"started_at": NOW - timedelta(hours=2), "finished_at": NOW}, "has no hourly rate"),
    ]
    for extra, message in cases:
        with pytest.raises(InvalidInput, match=message), db.transaction() as s:
            execution.add_work(**{**base, "session": s, **extra})


def test_materials_are_written_off_and_refused_when_short(db, world, job):
    from fsm_core.services import stock

    order = job["order"]
    with db.transaction() as s:
        freon = stock.create_item(
            session=s,
            data={"sku": "R410A", "name": "Фреон R410A", "unit": "кг", "sale_price": "1 200"},
        )
        van = stock.create_warehouse(
            session=s,
            data={"name": "Машина Иванова", "kind": "van", "employee_id": world.ivanov.id},
        )
        stock.receive(
            session=s,
            item_id=freon.id,
            warehouse_id=van.id,
            quantity=Decimal("2"),
            unit_price=Decimal("900"),
            actor="t",
        )
    with db.transaction() as s:
        use = execution.use_material(
            session=s,
            order_id=order.id,
            item_id=freon.id,
            warehouse_id=van.id,
            quantity=Decimal("0.8"),
            actor="Иванов К. П.",
        )
    assert (use.item_name, use.price) == ("Фреон R410A", Decimal("1200.00"))
    with pytest.raises(InsufficientStock) as refused, db.transaction() as s:
        execution.use_material(
            session=s,
            order_id=order.id,
            item_id=freon.id,
            warehouse_id=van.id,
            quantity=Decimal("5"),
            actor="t",
        )
    assert "Фреон R410A" in refused.value.one_line()
    assert "\n" not in refused.value.one_line()
    with db.reader() as s:
        balance = s.get(StockBalance, (freon.id, van.id))
        assert balance.on_hand == Decimal("1.200")
        lines = execution.totals(session=s, order_id=order.id).blocks[-1].lines
    assert lines[-1].amount == Decimal("960.00")


def test_attachments_are_stored_by_content_and_never_by_a_users_path(db, job, tmp_path):
    from fsm_core.attachments import path_of, store_folder

    photo = tmp_path / "../" / tmp_path.name / "шильдик.png"
    photo.write_bytes(PNG)
    with db.transaction() as s:
        first = execution.attach(session=s, order_id=job["order"].id, path=photo, actor="t")
        second = execution.attach(session=s, order_id=job["order"].id, path=photo, actor="t")
        assert first.attachment_id == second.attachment_id  # stored once
        from fsm_core.models import Attachment

        stored = s.get(Attachment, first.attachment_id)
    with db.reader() as s:  # the file takes its name in the store when the row commits
        where = path_of(s, stored)
        folder = store_folder(s)
    assert where.parent == folder
    assert where.name == stored.sha256
    assert where.read_bytes() == PNG
    assert stored.original_name == "шильдик.png"
    with pytest.raises(InvalidInput, match="no such file"), db.transaction() as s:
        execution.attach(session=s, order_id=job["order"].id, path=tmp_path / "нет.png", actor="t")


def test_attachments_are_size_limited(db, job, tmp_path, monkeypatch):
    monkeypatch.setenv("FSM_ATTACHMENT_MAX_BYTES", "100")
    big = tmp_path / "video.mp4"
    big.write_bytes(b"\0" * 1000)
    with pytest.raises(InvalidInput, match="more than"), db.transaction() as s:
        execution.attach(session=s, order_id=job["order"].id, path=big, actor="t")


def test_the_signature_and_the_act(db, world, job, tmp_path):
    order = job["order"]
    signature = tmp_path / "sign.png"
    signature.write_bytes(PNG)
    with db.transaction() as s:
        execution.add_work(
            session=s,
            order_id=order.id,
            work_type_id=job["work_type"].id,
            started_at=NOW - timedelta(hours=2),
            finished_at=NOW - timedelta(hours=1),
            executors=[execution.ExecutorInput(world.ivanov.id)],
            actor="t",
        )
        execution.set_comment(session=s, order_id=order.id, comment="Радиатор промыт", actor="t")
    text = tmp_path / "sign.txt"
    text.write_text("не картинка")
    with pytest.raises(InvalidInput, match="PNG or JPEG"), db.transaction() as s:
        execution.sign(session=s, order_id=order.id, signer_name="X", image=text, actor="t")
    with db.transaction() as s:
        execution.sign(
            session=s, order_id=order.id, signer_name="Смирнова О. В.", image=signature, actor="t"
        )
    with db.reader() as s:
        act = execution.act_document(session=s, order_id=order.id, lang="ru")
    assert (act.order_number, act.customer_name, act.signer_name) == (
        order.number,
        "ООО «СМ-Трейд»",
        "Смирнова О. В.",
    )
    assert act.signature_image == PNG
    assert act.total == Decimal("5250.00")
    assert act.comment == "Радиатор промыт"
    assert [line.name for line in act.blocks[0].lines] == [
        "Чистка радиатора испарителя",
        "Работа: Иванов К. П.",
    ]


def test_an_order_without_work_has_no_act(db, world):
    order = world.order()
    with pytest.raises(InvalidInput, match="nothing to put in an act"), db.reader() as s:
        execution.act_document(session=s, order_id=order.id)


def test_closed_orders_keep_their_execution(db, world, job):
    order = job["order"]
    with db.transaction() as s:
        for item, value in ((job["level"], "да"), (job["pressure"], "10")):
            execution.answer_item(
                session=s, order_id=order.id, item_id=item.id, value=value, actor="t"
            )
        orders.move_order(session=s, order_id=order.id, stage="done", actor="t")
        orders.move_order(session=s, order_id=order.id, stage="closed", actor="t")
    with pytest.raises(InvalidInput, match="can no longer change"), db.transaction() as s:
        execution.set_comment(session=s, order_id=order.id, comment="поздно", actor="t")


def test_unknown_items_and_orders(db, world, job):
    other = world.order()
    with pytest.raises(InvalidInput, match="has no checklist"), db.reader() as s:
        execution.find_item(session=s, order_id=other.id, ref="1")
    with db.reader() as s:
        assert (
            execution.find_item(session=s, order_id=job["order"].id, ref="давление").id
            == job["pressure"].id
        )
        with pytest.raises(NotFound):
            execution.find_item(session=s, order_id=job["order"].id, ref="температура")


def test_check_in_records_the_time(db, job):
    with db.transaction() as s:
        item = execution.add_item(
            session=s, template_id=job["template"].id, kind="check_in", text="Отметиться о приезде"
        )
    later = NOW + timedelta(minutes=7)
    with clock.frozen(later), db.transaction() as s:
        outcome = execution.answer_item(
            session=s, order_id=job["order"].id, item_id=item.id, value=None, actor="t"
        )
    assert outcome.answer.value == later.isoformat(timespec="seconds")


# --- a signature freezes what it signed (issue 14) --------------------------------------


def _work(s, world, job, *, start=NOW - timedelta(hours=2), end=NOW - timedelta(hours=1)):
    return execution.add_work(
        session=s,
        order_id=job["order"].id,
        work_type_id=job["work_type"].id,
        started_at=start,
        finished_at=end,
        executors=[execution.ExecutorInput(world.ivanov.id)],
        actor="t",
    )


@pytest.fixture
def freon(db, world):
    """Freon on a van, one kilogram of it already used on nothing yet."""
    from fsm_core.services import stock

    with db.transaction() as s:
        item = stock.create_item(
            session=s,
            data={"sku": "R410A", "name": "Фреон R410A", "unit": "кг", "sale_price": "1 200"},
        )
        van = stock.create_warehouse(
            session=s,
            data={"name": "Машина Иванова", "kind": "van", "employee_id": world.ivanov.id},
        )
        stock.receive(
            session=s,
            item_id=item.id,
            warehouse_id=van.id,
            quantity="5",
            unit_price="900",
            actor="t",
        )
    return item, van


def test_a_signed_act_refuses_every_change_of_what_it_signed(db, world, job, freon, tmp_path):
    from fsm_core.services import stock

    order = job["order"]
    item, van = freon
    with db.transaction() as s:
        _work(s, world, job)
        execution.use_material(
            session=s,
            order_id=order.id,
            item_id=item.id,
            warehouse_id=van.id,
            quantity=Decimal("1"),
            actor="t",
        )
        execution.sign(session=s, order_id=order.id, signer_name="Смирнова О. В.", actor="t")
    with db.reader() as s:
        before = execution.totals(session=s, order_id=order.id).total
        lock = execution.execution_lock(session=s, order=get(db, Order, order.id))
    assert lock is not None
    assert lock.signer == "Смирнова О. В."
    assert lock.text("ru") == (
        f"акт заявки {order.number} подписан (Смирнова О. В., 26.11.2026 12:00): "
        "подписанное не меняется"
    )
    changes = {
        "work": lambda s: _work(s, world, job),
        "material": lambda s: execution.use_material(
            session=s,
            order_id=order.id,
            item_id=item.id,
            warehouse_id=van.id,
            quantity=Decimal("1"),
            actor="t",
        ),
        "comment": lambda s: execution.set_comment(
            session=s, order_id=order.id, comment="дописали", actor="t"
        ),
        "answer": lambda s: execution.answer_item(
            session=s, order_id=order.id, item_id=job["level"].id, value="да", actor="t"
        ),
        "write-off": lambda s: stock.write_off(
            session=s,
            order_id=order.id,
            item_id=item.id,
            warehouse_id=van.id,
            quantity="1",
            actor="t",
        ),
        "return": lambda s: stock.return_from_order(
            session=s,
            order_id=order.id,
            item_id=item.id,
            warehouse_id=van.id,
            quantity="1",
            actor="t",
        ),
        "sign again": lambda s: execution.sign(
            session=s, order_id=order.id, signer_name="Другой", actor="t"
        ),
    }
    for what, change in changes.items():
        with pytest.raises(InvalidInput) as refused, db.transaction() as s:
            change(s)
        line = refused.value.one_line()
        assert "signed by Смирнова О. В. on 2026-11-26 12:00" in line, what
        assert "fsm work unsign" in line, what
        assert "\n" not in line, what
    with db.reader() as s:
        assert execution.totals(session=s, order_id=order.id).total == before
        assert s.get(StockBalance, (item.id, van.id)).on_hand == Decimal("4.000")
    # a photo of the finished job is not part of what was signed
    photo = tmp_path / "после.png"
    photo.write_bytes(PNG)
    with db.transaction() as s:
        execution.attach(session=s, order_id=order.id, path=photo, actor="t")


def test_withdrawing_the_signature_is_recorded_and_unfreezes_the_act(db, world, job):
    from fsm_core.models.execution import ExecutionRecord

    order = job["order"]
    with db.transaction() as s:
        _work(s, world, job)
        execution.sign(
            session=s,
            order_id=order.id,
            signer_name="Смирнова О. В.",
            signer_position="Главный инженер",
            actor="t",
        )
    with pytest.raises(InvalidInput, match="say why"), db.transaction() as s:
        execution.unsign(session=s, order_id=order.id, reason="  ", actor="t")
    with db.transaction() as s:
        execution.unsign(
            session=s, order_id=order.id, reason="в акт не вошла замена помпы", actor="Диспетчер"
        )
    with db.reader() as s:
        record = s.get(ExecutionRecord, order.id)
        assert (record.signer_name, record.signer_position, record.signed_at) == (None,) * 3
        [row] = [h for h in s.execute(select(OrderHistory)).scalars() if h.action == "unsign"]
    assert (row.actor, row.field) == ("Диспетчер", "unsign")
    assert row.old_value.startswith("Смирнова О. В., 2026-11-26T09:00")
    assert row.new_value == "в акт не вошла замена помпы"
    with db.transaction() as s:  # unsigned: the work goes on, and is signed again
        _work(s, world, job, start=NOW - timedelta(minutes=50), end=NOW - timedelta(minutes=20))
        execution.sign(session=s, order_id=order.id, signer_name="Смирнова О. В.", actor="t")
    with db.reader() as s:
        act = execution.act_document(session=s, order_id=order.id)
    assert len(act.blocks) == 2
    assert act.signer_name == "Смирнова О. В."
    unsigned = world.order()  # not inside the transaction below: it takes its own turn
    with pytest.raises(InvalidInput, match="not signed"), db.transaction() as s:
        execution.unsign(session=s, order_id=unsigned.id, reason="x", actor="t")


def test_a_closed_orders_signature_stays(db, world, job):
    order = job["order"]
    with db.transaction() as s:
        _work(s, world, job)
        for item, value in ((job["level"], "да"), (job["pressure"], "10")):
            execution.answer_item(
                session=s, order_id=order.id, item_id=item.id, value=value, actor="t"
            )
        orders.move_order(session=s, order_id=order.id, stage="done", actor="t")
        execution.sign(session=s, order_id=order.id, signer_name="Смирнова О. В.", actor="t")
        orders.move_order(session=s, order_id=order.id, stage="closed", actor="t")
    with pytest.raises(InvalidInput, match="is closed") as refused, db.transaction() as s:
        execution.unsign(session=s, order_id=order.id, reason="передумали", actor="t")
    assert "reopen it first" in refused.value.one_line()


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ((), False),  # new: nothing done yet
        (("in_progress", "on_hold"), False),  # on hold: the work is not finished
        (("in_progress",), True),
        (("in_progress", "done"), True),
        (("in_progress", "cancelled"), False),
    ],
)
def test_the_act_is_signed_only_where_work_is_done(db, world, job, path, allowed):
    order = world.order(  # an order with an assignee starts "assigned": active
        object_id=world.ac.id,
        assignee_id=world.ivanov.id if path else None,
        created_at=NOW - timedelta(days=1),
    )
    with db.transaction() as s:
        execution.add_work(
            session=s,
            order_id=order.id,
            work_type_id=job["work_type"].id,
            started_at=NOW - timedelta(hours=2),
            finished_at=NOW - timedelta(hours=1),
            executors=[execution.ExecutorInput(world.ivanov.id)],
            actor="t",
        )
        for stage in path:
            orders.move_order(session=s, order_id=order.id, stage=stage, actor="t")

    def sign():
        with db.transaction() as s:
            execution.sign(session=s, order_id=order.id, signer_name="Смирнова О. В.", actor="t")

    if allowed:
        sign()
        return
    with pytest.raises(InvalidInput) as refused:
        sign()
    assert order.number in refused.value.one_line()


def test_there_is_nothing_to_sign_before_work_is_recorded(db, job):
    with pytest.raises(InvalidInput, match="nothing to sign"), db.transaction() as s:
        execution.sign(session=s, order_id=job["order"].id, signer_name="Смирнова", actor="t")


def test_work_lies_between_the_orders_creation_and_now(db, world, job):
    order = job["order"]  # created a day before NOW, 12:00 Moscow time
    with pytest.raises(InvalidInput) as refused, db.transaction() as s:
        _work(s, world, job, start=NOW - timedelta(days=1, minutes=30), end=NOW)
    assert refused.value.field == "start"
    assert refused.value.one_line() == (
        f"the work cannot start (2026-11-25 11:30) before order {order.number} was created "
        "(2026-11-25 12:00)"
    )
    # typed to the minute: the minute the order was taken in counts
    with db.transaction() as s:
        _work(s, world, job, start=NOW - timedelta(days=1), end=NOW - timedelta(hours=20))
    tolerance = execution.FUTURE_TOLERANCE
    assert tolerance == timedelta(minutes=5)
    with db.transaction() as s:  # a phone's clock a little ahead
        _work(s, world, job, start=NOW - timedelta(hours=1), end=NOW + tolerance)
    with pytest.raises(InvalidInput, match="cannot end in the future"), db.transaction() as s:
        _work(s, world, job, start=NOW, end=NOW + tolerance + timedelta(seconds=1))


# --- how a work type is charged ----------------------------------------------------------


@pytest.mark.parametrize(
    ("charge", "names", "total"),
    [
        ("both", ["Чистка", "Работа: Иванов К. П."], Decimal("7875.00")),
        ("fixed", ["Чистка"], Decimal("3500.00")),
        ("hours", ["Работа: Иванов К. П."], Decimal("4375.00")),
    ],
)
def test_a_work_type_is_charged_as_the_company_says(db, world, job, charge, names, total):
    with db.transaction() as s:
        kind = objects.create_work_type(
            session=s, data={"name": "Чистка", "price": "3 500", "charge": charge}
        )
        execution.add_work(
            session=s,
            order_id=job["order"].id,
            work_type_id=kind.id,
            started_at=NOW - timedelta(hours=3),
            finished_at=NOW - timedelta(minutes=30),
            executors=[execution.ExecutorInput(world.ivanov.id)],
            actor="t",
        )
    with db.transaction() as s:  # the company changes its mind next month: the act does not
        objects.update_work_type(
            session=s,
            work_type_id=kind.id,
            data={"charge": "hours" if charge != "hours" else "fixed"},
        )
    with db.reader() as s:
        computed = execution.totals(session=s, order_id=job["order"].id)
        act = execution.act_document(session=s, order_id=job["order"].id)
    [block] = computed.blocks
    assert [line.name for line in block.lines] == names
    assert [e.employee_name for e in block.executors] == ["Иванов К. П."]  # named either way
    assert computed.total == total == act.total
    assert act.executors == ("Иванов К. П.",)


def test_an_unknown_charge_is_refused(db):
    with pytest.raises(InvalidInput, match="unknown charge 'monthly'"), db.transaction() as s:
        objects.create_work_type(session=s, data={"name": "Абонемент", "charge": "monthly"})
    with db.transaction() as s:
        kind = objects.create_work_type(session=s, data={"name": "Выезд", "charge": "По часам"})
    assert kind.charge == "hours"


# --- VAT and the company's requisites on the act -------------------------------------------


@pytest.mark.parametrize(
    ("total", "rate", "vat"),
    [
        ("13450.00", "20", "2241.67"),  # 2 241,666… rounds up
        ("1000.00", "20", "166.67"),
        ("120.00", "20", "20.00"),
        ("0.01", "20", "0.00"),
        ("0.03", "20", "0.01"),  # 0,005 exactly: half up
        ("0.00", "20", "0.00"),
        ("100.00", "22", "18.03"),
        ("110.00", "10", "10.00"),
        ("99999999.99", "20", "16666666.67"),
        ("1750.00", "0", "0.00"),
        ("1234.56", "10.5", "117.31"),
    ],
)
def test_vat_is_the_part_of_the_total_the_act_states(total, rate, vat):
    assert execution.vat_included(Decimal(total), Decimal(rate)) == Decimal(vat)


def test_the_act_carries_the_requisites_the_contract_and_vat(db, world, job):
    from fsm_core.services import settings

    with db.transaction() as s:
        _work(s, world, job)
        for key, value in {
            "company_legal_name": "Общество с ограниченной ответственностью «Сервис-Север»",
            "company_inn": "7801234564",
            "company_kpp": "780101001",
            "company_ogrn": "1027700132195",
            "company_legal_address": "191025, Санкт-Петербург, Невский пр., 114",
            "company_bank_details": "р/с 40702810900000012345, БИК 044030790",
            "vat_rate": "20%",
            "act_signer_name": "Соколов И. В.",
            "act_signer_position": "Генеральный директор",
        }.items():
            settings.set_value(session=s, key=key, value=value)
        parties.update_company(
            session=s,
            company_id=world.customer.id,
            data={"contract_number": "15/2026", "contract_date": "01.02.2026"},
        )
        execution.sign(
            session=s,
            order_id=job["order"].id,
            signer_name="Смирнова О. В.",
            signer_position="Главный инженер",
            actor="t",
        )
    with db.reader() as s:
        act = execution.act_document(session=s, order_id=job["order"].id)
    assert act.total == Decimal("5250.00")
    assert (act.vat_rate, act.vat_amount) == (Decimal("20"), Decimal("875.00"))
    assert (act.company_inn, act.company_kpp, act.company_ogrn) == (
        "7801234564",
        "780101001",
        "1027700132195",
    )
    assert act.company_legal_name.startswith("Общество с ограниченной")
    assert (act.contract_number, str(act.contract_date)) == ("15/2026", "2026-02-01")
    assert (act.executor_signer, act.executor_signer_position) == (
        "Соколов И. В.",
        "Генеральный директор",
    )
    assert (act.signer_name, act.signer_position) == ("Смирнова О. В.", "Главный инженер")
    assert str(act.order_date) == "2026-11-25"
    with db.transaction() as s:
        settings.set_value(session=s, key="vat_rate", value="")
    with db.reader() as s:
        act = execution.act_document(session=s, order_id=job["order"].id)
    assert (act.vat_rate, act.vat_amount) == (None, None)  # «Без НДС»


def test_a_signed_act_freezes_what_it_states_about_the_order(db, world, job):
    """The act states the customer, the object, the contact and the description: after
    the signature they no more change than the work does (criticality, the plan, the
    deadlines are not on the act and stay editable)."""
    order = job["order"]
    with db.transaction() as s:
        _work(s, world, job)
        execution.sign(session=s, order_id=order.id, signer_name="Смирнова О. В.", actor="t")
    for field, value in (("description", "Совсем другая работа"), ("object_id", None)):
        signed = r"act signed by Смирнова О\. В\."
        with pytest.raises(InvalidInput, match=signed) as refused, db.transaction() as s:
            orders.update_order(session=s, order_id=order.id, data={field: value}, actor="t")
        assert refused.value.one_line("ru").startswith(f"заявка {order.number}: акт, подписанный")
    with db.transaction() as s:  # not on the act: still the dispatcher's to change
        orders.update_order(
            session=s, order_id=order.id, data={"criticality": "critical"}, actor="t"
        )
    with db.reader() as s:
        assert get(db, Order, order.id).description == order.description
    with db.transaction() as s:
        execution.unsign(session=s, order_id=order.id, reason="описание уточнили", actor="t")
    with db.transaction() as s:
        orders.update_order(
            session=s, order_id=order.id, data={"description": "Уточнённое описание"}, actor="t"
        )
    assert get(db, Order, order.id).description == "Уточнённое описание"
