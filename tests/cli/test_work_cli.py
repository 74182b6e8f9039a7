"""Execution from the command line, ending in the act read back from its PDF."""

import json
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from pypdf import PdfReader

from fsm_core import clock
from tests.cli_runner import invoke
from tests.conftest import NOW


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (60, 20), (20, 40, 160, 255)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


fsm = partial(invoke, user="Иванов К. П.")
admin = partial(invoke, user="Орлова В. П.")  # the demo's admin and dispatcher


def pdf_text(path) -> str:
    # reportlab writes no-break spaces as plain spaces in the text layer
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


@pytest.fixture
def site(with_demo, db_url):
    # taken in at 08:00 (Moscow) on the tests' day: the work recorded below comes after it
    with clock.frozen(NOW - timedelta(hours=4)):
        number = fsm(
            db_url,
            "orders",
            "create",
            "--object",
            "СМТ-000114",
            "-d",
            "Прекращается ток воздуха из устройства",
            user="Орлова В. П.",
        ).stdout.strip()
    fsm(db_url, "orders", "assign", number, "Иванов К. П.", user="Орлова В. П.")
    fsm(db_url, "orders", "move", number, "in_progress")
    # the technician makes the act here, so the company shows him its prices
    admin(db_url, "settings", "set", "technician_prices", "yes")
    return db_url, number


def test_checklist_from_template_to_closing(site):
    url, number = site
    checklist = "Приёмка работ"
    admin(url, "checklist", "template", "create", checklist)
    admin(url, "checklist", "template", "item", checklist, "yes_no", "Фильтры промыты?",
        "--hint", "Снимите панель и проверьте фильтры.", "--trigger", "нет",
        "--follow-up", "Промыть фильтры ({order})")  # fmt: skip
    admin(url, "checklist", "template", "item", checklist, "check_in", "Отметиться о приезде")
    admin(url, "checklist", "template", "bind", checklist, "--order", number)
    shown = json.loads(fsm(url, "checklist", "show", number, "--json").stdout)
    # the demo's own checklist for air conditioners applies to this order too
    assert [i["text"] for i in shown] == [  # checklists in name order
        "Дренаж чистый, вода уходит?", "Фото наружного блока",
        "Фильтры промыты?", "Отметиться о приезде",
    ]  # fmt: skip
    fsm(url, "checklist", "answer", number, "Дренаж", "да")
    done = fsm(url, "checklist", "answer", number, "Фильтры", "нет")
    assert "follow-up order" in done.stderr
    follow = done.stderr.split("follow-up order ")[1].split()[0]
    assert json.loads(admin(url, "orders", "show", follow, "--json").stdout)["description"] == (
        f"Промыть фильтры ({number})"
    )
    fsm(url, "orders", "move", number, "done")
    refused = fsm(url, "orders", "move", number, "closed", code=1)
    assert (
        "cannot be closed: checklist item 'Отметиться о приезде' is not answered" in refused.stderr
    )
    fsm(url, "checklist", "answer", number, "приезде")
    fsm(url, "orders", "move", number, "closed", user="Орлова В. П.")


def test_work_materials_signature_and_the_act_in_two_languages(site, tmp_path):
    url, number = site
    fsm(
        url,
        "work",
        "add",
        number,
        "--type",
        "Чистка радиатора испарителя",
        "--start",
        "26.11.2026 09:00",
        "--end",
        "26.11.2026 11:30",
        "--executor",
        "Иванов К. П.",
        "--executor",
        "Петров А. С.:1600",
    )
    fsm(
        url,
        "work",
        "material",
        number,
        "Дренажная помпа ASPEN MAXI ORANGE",
        "1",
        "--warehouse",
        "Центральный склад",
    )
    signature = tmp_path / "sign.png"
    signature.write_bytes(PNG)
    fsm(url, "work", "comment", number, "Радиатор промыт, помпа заменена")
    fsm(url, "work", "sign", number, "--name", "Смирнова О. В.", "--image", str(signature))
    summary = json.loads(fsm(url, "work", "show", number, "--json").stdout)
    lines = [line["name"] for block in summary["blocks"] for line in block["lines"]]
    assert lines[:3] == [
        "Чистка радиатора испарителя",
        "Labour: Иванов К. П.",
        "Labour: Петров А. С.",
    ]
    assert "Дренажная помпа ASPEN MAXI ORANGE" in lines
    total = summary["total"]

    ru = tmp_path / "act-ru.pdf"
    fsm(url, "act", number, "-o", str(ru), "--lang", "ru")
    text = pdf_text(ru)
    assert number in text
    assert "ООО «СМ-Трейд»" in text
    for name in (
        "Чистка радиатора испарителя",
        "Иванов К. П.",
        "Петров А. С.",
        "Дренажная помпа ASPEN MAXI ORANGE",
    ):
        assert name in text
    rub, kop = total.split(".")
    grouped = f"{int(rub):,}".replace(",", " ")
    assert f"Итого к оплате: {grouped},{kop} ₽" in text
    assert "Смирнова О. В." in text

    en = tmp_path / "act-en.pdf"
    fsm(url, "act", number, "-o", str(en), "--lang", "en")
    text = pdf_text(en)
    assert f"Total to pay: {int(rub):,}.{kop} RUB" in text
    assert "Итого" not in text


def test_short_stock_is_one_line_and_writes_nothing(site):
    url, number = site
    before = json.loads(fsm(url, "work", "show", number, "--json").stdout)
    refused = fsm(
        url,
        "work",
        "material",
        number,
        "Дренажная помпа ASPEN MAXI ORANGE",
        "500",
        "--warehouse",
        "Центральный склад",
        code=1,
    )
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: not enough 'Дренажная помпа ASPEN MAXI ORANGE'")
    assert json.loads(fsm(url, "work", "show", number, "--json").stdout) == before


def test_batch_acts_for_done_orders(site, tmp_path):
    url, number = site
    fsm(
        url,
        "work",
        "add",
        number,
        "--type",
        "Диагностика оборудования",
        "--start",
        "26.11.2026 09:00",
        "--end",
        "26.11.2026 10:00",
        "--executor",
        "Иванов К. П.",
    )
    fsm(url, "orders", "move", number, "done")
    out = tmp_path / "acts"
    result = fsm(url, "act", "--stage", "done", "--since", "26.11.2026", "--out-dir", str(out))
    assert (out / f"act-{number}.pdf").exists()
    assert "act(s)" in result.stderr
    combined = tmp_path / "all.pdf"
    fsm(url, "act", "--stage", "done", "--combined", str(combined))
    assert number in pdf_text(combined)
    assert "a batch needs" in fsm(url, "act", "--stage", "done", code=2).stderr


def test_attachment_paths_from_users_are_not_trusted(site, tmp_path):
    url, number = site
    missing = fsm(url, "work", "attach", number, str(tmp_path / "нет.jpg"), code=1)
    assert "no such file" in missing.stderr
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 100)
    fsm(url, "work", "attach", number, str(photo), "--note", "До ремонта")


def _add_work(url, number, start="26.11.2026 09:00", end="26.11.2026 10:00", code=0):
    return fsm(
        url, "work", "add", number, "--type", "Диагностика оборудования",
        "--start", start, "--end", end, "--executor", "Иванов К. П.", code=code,
    )  # fmt: skip


def test_a_signed_act_stays_as_signed_until_the_signature_is_withdrawn(site):
    url, number = site
    _add_work(url, number)
    fsm(url, "work", "sign", number, "--name", "Смирнова О. В.", "--position", "Завхоз")
    before = json.loads(fsm(url, "work", "show", number, "--json").stdout)
    assert (before["signer"], before["signer_position"]) == ("Смирнова О. В.", "Завхоз")
    attempts = [
        ("work", "material", number, "Дренажная помпа ASPEN MAXI ORANGE", "1",
         "--warehouse", "Центральный склад"),
        ("work", "add", number, "--type", "Диагностика оборудования", "--start",
         "26.11.2026 10:00", "--end", "26.11.2026 11:00", "--executor", "Иванов К. П."),
        ("work", "comment", number, "дописали потом"),
    ]  # fmt: skip
    for args in attempts:
        refused = fsm(url, *args, code=1)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1, args
        assert f"order {number} was signed by Смирнова О. В. on 2026-11-26 12:00" in lines[0]
        assert f"fsm work unsign {number} --reason" in lines[0]
    refused = admin(url, "stock", "writeoff", number, "Дренажная помпа ASPEN MAXI ORANGE", "1",
                    "--from", "Центральный склад", code=1)  # fmt: skip
    assert f"order {number} was signed by Смирнова О. В." in refused.stderr
    assert json.loads(fsm(url, "work", "show", number, "--json").stdout) == before

    assert "--reason" in fsm(url, "work", "unsign", number, code=2).stderr
    fsm(url, "work", "unsign", number, "--reason", "в акт не вошла помпа")
    fsm(url, *attempts[0])
    after = json.loads(fsm(url, "work", "show", number, "--json").stdout)
    assert after["signer"] is None
    assert Decimal(after["total"]) > Decimal(before["total"])
    history = json.loads(fsm(url, "orders", "history", number, "--json").stdout)
    withdrawn = [h for h in history if h["action"] == "unsign"]
    assert [(h["actor"], h["new"]) for h in withdrawn] == [
        ("Орлова В. П. on behalf of Иванов К. П.", "в акт не вошла помпа")
    ]
    assert (
        "no signature to withdraw"
        in fsm(url, "work", "unsign", number, "--reason", "x", code=1).stderr
    )


def test_signing_needs_a_stage_where_work_is_done(site):
    url, number = site
    _add_work(url, number)
    fsm(url, "orders", "move", number, "on_hold")
    refused = fsm(url, "work", "sign", number, "--name", "Смирнова О. В.", code=1)
    assert f"order {number} is on hold; the act is signed while the work is under way" in (
        refused.stderr
    )


def test_work_before_the_order_was_taken_in_is_refused(site):
    url, number = site
    refused = _add_work(url, number, start="26.11.2026 07:30", end="26.11.2026 09:00", code=1)
    assert (
        f"the work cannot start (2026-11-26 07:30) before order {number} was created "
        "(2026-11-26 08:00)"
    ) in refused.stderr


def test_the_act_as_an_accountant_reads_it(site, tmp_path):
    url, number = site
    for key, value in (
        ("company_legal_name", "ООО «Сервис-Север»"),
        ("company_inn", "7801234564"),
        ("company_kpp", "780101001"),
        ("company_ogrn", "1027700132195"),
        ("vat_rate", "20%"),
        ("act_signer_name", "Соколов И. В."),
        ("act_signer_position", "Генеральный директор"),
    ):
        admin(url, "settings", "set", key, value)
    bad = admin(url, "settings", "set", "company_ogrn", "1027700132194", code=1)
    assert "company_ogrn: OGRN '1027700132194' has a wrong control digit" in bad.stderr
    admin(url, "companies", "update", "ООО «СМ-Трейд»", "--contract-number", "15/2026",
        "--contract-date", "01.02.2026")  # fmt: skip
    # the company bills this work by the hour only: no fixed price line
    admin(url, "work-types", "update", "Диагностика оборудования", "--charge", "hours")
    shown = json.loads(
        admin(url, "work-types", "show", "Диагностика оборудования", "--json").stdout
    )
    assert shown["charge"] == "hours"
    _add_work(url, number)
    fsm(url, "work", "sign", number, "--name", "Смирнова О. В.", "--position", "Завхоз")
    summary = json.loads(fsm(url, "work", "show", number, "--json").stdout)
    assert [line["kind"] for block in summary["blocks"] for line in block["lines"]] == ["labour"]
    assert (summary["total"], summary["vat_rate"], summary["vat_amount"]) == (
        "1750.00", "20", "291.67",
    )  # fmt: skip
    path = tmp_path / "act.pdf"
    fsm(url, "act", number, "-o", str(path), "--lang", "ru")
    text = " ".join(pdf_text(path).split())
    for expected in (
        "Исполнитель: ООО «Сервис-Север», ИНН 7801234564, КПП 780101001, ОГРН 1027700132195",
        "Заказчик: ООО «СМ-Трейд», ИНН 7801234564",
        "Основание: договор № 15/2026 от 01.02.2026",
        "Итого к оплате: 1 750,00 ₽",
        "В том числе НДС 20 %: 291,67 ₽",
        "Сумма прописью: Одна тысяча семьсот пятьдесят рублей 00 копеек",
        "Генеральный директор",
        "Соколов И. В.",
        "Завхоз",
    ):
        assert expected in text
    assert text.count("М.П.") == 2
    assert "Диагностика оборудования 1 усл." not in text  # the hours alone are charged


def test_a_signed_orders_description_is_frozen_for_commands_and_imports(site, tmp_path):
    url, number = site
    _add_work(url, number)
    fsm(url, "work", "sign", number, "--name", "Смирнова О. В.")
    refused = admin(url, "orders", "update", number, "-d", "Другое описание", code=1)
    assert "the act signed by Смирнова О. В." in refused.stderr
    sheet = tmp_path / "orders.csv"
    sheet.write_text(
        f"number,customer,description\n{number},ООО «СМ-Трейд»,Другое описание\n",
        encoding="utf-8",
    )
    imported = admin(url, "import", "orders", str(sheet), "--key", "number", code=1)
    assert f"{sheet}:2:" in imported.stderr
    assert "cannot change while the signature stands" in imported.stderr
    shown = json.loads(fsm(url, "orders", "show", number, "--json").stdout)
    assert shown["description"] == "Прекращается ток воздуха из устройства"


def test_the_act_replaces_a_link_and_leaves_the_file_it_points_to(site, tmp_path):
    url, number = site
    _add_work(url, number)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"not an act")
    link = tmp_path / "link.pdf"
    link.symlink_to(victim)
    fsm(url, "act", number, "-o", str(link))
    assert victim.read_bytes() == b"not an act"
    assert not link.is_symlink()
    assert number in pdf_text(link)


def test_a_link_is_not_attached_and_the_refusal_names_it(site, tmp_path):
    url, number = site
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$salt$hash:19000:0:99999:7:::\n")
    link = tmp_path / "photo.jpg"
    link.symlink_to(secret)
    refused = fsm(url, "work", "attach", number, str(link), code=1)
    assert "photo.jpg: is a symbolic link" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "attachment" not in fsm(url, "orders", "history", number).stdout.lower()
