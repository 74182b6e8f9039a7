"""Execution from the command line, ending in the act read back from its PDF."""

import json

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from fsm_cli.main import app

runner = CliRunner()


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGBA", (60, 20), (20, 40, 160, 255)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = _png()


def fsm(url, *args, code=0, user="Иванов К. П."):
    result = runner.invoke(app, ["--db", url, "--as", user, "--lang", "en", *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def pdf_text(path) -> str:
    # reportlab writes no-break spaces as plain spaces in the text layer
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


@pytest.fixture
def site(with_demo, db_url):
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
    return db_url, number


def test_checklist_from_template_to_closing(site):
    url, number = site
    checklist = "Приёмка работ"
    fsm(url, "checklist", "template", "create", checklist)
    fsm(url, "checklist", "template", "item", checklist, "yes_no", "Фильтры промыты?",
        "--hint", "Снимите панель и проверьте фильтры.", "--trigger", "нет",
        "--follow-up", "Промыть фильтры ({order})")  # fmt: skip
    fsm(url, "checklist", "template", "item", checklist, "check_in", "Отметиться о приезде")
    fsm(url, "checklist", "template", "bind", checklist, "--order", number)
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
    assert json.loads(fsm(url, "orders", "show", follow, "--json").stdout)["description"] == (
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
