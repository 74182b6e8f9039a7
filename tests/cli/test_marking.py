"""QR marking from the database: labels, passports and cards decode (with zxing-cpp, an
independent decoder) to the right objects and people, and a scanned label becomes an order."""

import json
from functools import partial

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from fsm_core.db import Database
from fsm_core.models import ServiceObject
from tests.cli_runner import invoke

fsm = partial(invoke, lang="ru")


def decoded(pdf_path, dpi=150):
    texts = []
    document = pypdfium2.PdfDocument(str(pdf_path))
    for page in document:
        image = page.render(scale=dpi / 72).to_pil()
        texts.extend(r.text for r in zxingcpp.read_barcodes(image))
    document.close()
    return texts


def tokens(url):
    with Database(url).reader() as s:
        return {o.name: o.passport_token for o in s.execute(select(ServiceObject)).scalars()}


@pytest.fixture
def demo(with_demo, db_url):
    return db_url


def test_every_label_leads_to_its_own_object(demo, tmp_path):
    fsm(demo, "settings", "set", "passport_base_url", "https://service.example.ru/p/")
    out = tmp_path / "labels.pdf"
    result = fsm(demo, "labels", "objects", "-o", str(out))
    assert "Warning" not in result.stderr
    assert "31 labels on 2 page(s)" in result.stderr
    expected = {f"https://service.example.ru/p/{t}" for t in tokens(demo).values()}
    found = decoded(out)
    assert len(found) == 31
    assert set(found) == expected


def test_labels_warn_while_the_link_is_the_example(demo, tmp_path):
    out = tmp_path / "l.pdf"
    result = fsm(
        demo,
        "labels",
        "objects",
        "--object",
        "Бизнес-центр «Невский Плаза»",
        "--layout",
        "thermal-58x40",
        "-o",
        str(out),
    )
    assert "https://fsm.example/p" in result.stderr
    found = decoded(out)
    names = tokens(demo)
    wanted = {
        "Бизнес-центр «Невский Плаза»",
        "Турникет PERCo TTR-10 (главный вход)",
        "Электромагнитный замок ML-300 (серверная)",
        "Чиллер Carrier 30RB-160",
        "Видеорегистратор Trassir DuoStation AF 32",
    }
    assert set(found) == {f"https://fsm.example/p/{names[n]}" for n in wanted}
    assert (
        "unknown label layout"
        in fsm(demo, "labels", "objects", "-o", str(out), "--layout", "a5", code=1).stderr
    )


def test_a_scanned_label_becomes_an_order_until_its_token_is_rotated(demo):
    old = f"https://fsm.example/p/{tokens(demo)['Дизель-генератор FG Wilson P110-3']}"
    result = fsm(
        demo,
        "orders",
        "create",
        "--passport",
        old,
        "-d",
        "Генератор не заводится",
        "--contact-name",
        "Охранник Сергей",
        "--contact-phone",
        "8 921 111-22-33",
        "--json",
    )
    order = json.loads(result.stdout)
    assert (order["source"], order["customer"], order["object"], order["contact"]) == (
        "passport",
        "АО «Петербургская топливная компания»",
        "Дизель-генератор FG Wilson P110-3",
        "Охранник Сергей",
    )
    assert order["resolution_due"] is not None
    new = fsm(demo, "objects", "rotate-token", "ПТК-12-ДГУ").stdout.strip()
    assert new != old
    refused = fsm(demo, "orders", "create", "--passport", old, "-d", "Снова", code=1)
    assert refused.stderr.startswith("Error: no object passport matches")
    assert "the label may have been replaced" in refused.stderr
    again = json.loads(
        fsm(
            demo,
            "orders",
            "create",
            "--passport",
            new.rsplit("/", 1)[1],
            "-d",
            "С новой этикетки",
            "--contact-phone",
            "+7 921 111 22 33",
            "--json",
        ).stdout
    )
    assert again["contact"] == "Охранник Сергей"  # found by phone, not created twice
    assert (
        "the passport names"
        in fsm(
            demo, "orders", "create", "--passport", new, "-d", "x", "--customer", "СМ-Трейд", code=2
        ).stderr
    )


def test_the_passport_page_decodes_and_lists_the_history(demo, tmp_path):
    out = tmp_path / "passport.pdf"
    fsm(demo, "objects", "passport", "ПТК-12-ДГУ", "-o", str(out))
    token = tokens(demo)["Дизель-генератор FG Wilson P110-3"]
    assert decoded(out) == [f"https://fsm.example/p/{token}"]
    text = pypdfium2.PdfDocument(str(out))[0].get_textpage().get_text_range()
    assert "Дизель-генератор FG Wilson P110-3" in text
    history = json.loads(fsm(demo, "objects", "show", "ПТК-12-ДГУ", "--json").stdout)
    for entry in history["recent_orders"]:
        assert entry["number"] in text


def test_business_cards_carry_the_vcard_in_cyrillic(demo, tmp_path):
    fsm(demo, "settings", "set", "company_address", "Санкт-Петербург, Лиговский пр., 50")
    out = tmp_path / "cards.pdf"
    fsm(demo, "labels", "vcard", "Иванов К. П.", "-o", str(out), "--png", str(tmp_path / "png"))
    (card,) = decoded(out, dpi=200)
    assert "N:Иванов;Кирилл;Петрович;;" in card
    assert "FN:Иванов Кирилл Петрович" in card
    assert "ORG:ООО «Сервис-Север»" in card
    assert "TITLE:Старший инженер по кондиционированию" in card
    assert "+7 921 100-01-01" in card
    assert "EMAIL" in card
    assert "k.ivanov@servis-sever.example" in card
    assert "Лиговский пр." in card
    (png,) = list((tmp_path / "png").glob("*.png"))
    (from_png,) = [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    assert from_png == card
