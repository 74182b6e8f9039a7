"""QR labels, passports and business cards, checked the way a phone would check them.

Every PDF is rasterised with pypdfium2 and its codes read with zxing-cpp, a decoder that
shares nothing with segno, which wrote them: a code that only segno can read back proves
nothing. Geometry is checked against the layout (each code inside its own cell, each letter
inside its own label's text box), and text fitting against reportlab's own metrics.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from fsm_core.documents.fonts import register_fonts
from fsm_core.documents.labels import LAYOUTS, MM, LabelData, fit_lines, render_labels
from fsm_core.documents.passport import PassportData, PassportEntry, render_passport
from fsm_core.documents.qr import LABEL_MASK, dark_rectangles, draw_qr, make_qr
from fsm_core.documents.text import ELLIPSIS, shorten
from fsm_core.documents.text import width_of as string_width
from fsm_core.documents.vcard import (
    Contact,
    escape,
    is_mobile,
    render_cards,
    save_card_png,
    split_name,
    vcard_text,
)
from fsm_core.errors import InvalidInput

TOKEN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
LONG_NAME = "Сплит-система Mitsubishi Electric MSZ-LN25VGW-E1 Premium Inverter кабинет директора"
LONG_ADDRESS = (
    "Ленинградская обл., Всеволожский р-н, г. Мурино, ул. Шувалова, д. 11, корп. 2, пом. 14-Н"
)
LONG_CUSTOMER = "Государственное бюджетное учреждение здравоохранения «Городская поликлиника № 17»"


def url(rng: random.Random) -> str:
    return "https://fsm.example/p/" + "".join(rng.choices(TOKEN, k=22))


def make_labels(count: int, seed: int = 1) -> list[LabelData]:
    """Labels with realistic, often too long, Russian text and distinct links."""
    rng = random.Random(seed)
    names = ("Кондиционер Daikin FTXB35C (торговый зал)", LONG_NAME, "Щит ВРУ-1", "Чиллер")
    return [
        LabelData(
            url=url(rng),
            title=names[i % len(names)],
            customer=("ООО «СМ-Трейд»", LONG_CUSTOMER, None)[i % 3],
            address=("Санкт-Петербург, Невский пр., 114", LONG_ADDRESS, None)[i % 3],
            inventory_number=f"СМТ-{i:06d}" if i % 5 else None,
            company_phone="+7 812 600-10-10" if i % 7 else None,
        )
        for i in range(count)
    ]


def pages(pdf_bytes: bytes, dpi: int) -> Iterator[tuple[str, Image.Image, float]]:
    """(text, image, page height in points) for every page: its text as pypdfium2 extracts
    it (whitespace collapsed), and the page rendered at ``dpi`` in grey."""
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    try:
        for page in pdf:
            text = " ".join(page.get_textpage().get_text_range().split())
            image = page.render(scale=dpi / 72).to_pil().convert("L")
            yield text, image, page.get_height()
    finally:
        pdf.close()


def codes_on(image: Image.Image, *, dpi: int, page_height: float) -> list[tuple[str, list]]:
    """(text, corner points in PDF points) of every QR code zxing-cpp finds in ``image``."""
    scale = dpi / 72
    found = []
    for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        p = code.position
        corners = [
            (point.x / scale, page_height - point.y / scale)
            for point in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
        ]
        found.append((code.text, corners))
    return found


def inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    x, y, w, h = box
    return x - 0.5 <= point[0] <= x + w + 0.5 and y - 0.5 <= point[1] <= y + h + 0.5


def render(labels: list[LabelData], layout: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    render_labels(labels, layout=layout, out=out, **kwargs)
    return out.getvalue()


# --- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "count"), [("a4-3x8", 24), ("a4-2x7", 14), ("thermal-58x40", 3)]
)
def test_every_label_decodes_to_its_own_url_inside_its_own_cell(layout: str, count: int) -> None:
    sheet = LAYOUTS[layout]
    labels = make_labels(count)
    pdf = render(labels, layout)
    seen: dict[int, str] = {}
    for page_number, (_page, image, height) in enumerate(pages(pdf, 150)):
        for text, corners in codes_on(image, dpi=150, page_height=height):
            cells = [
                position
                for position in range(sheet.per_page)
                if all(inside(corner, sheet.cell(position)) for corner in corners)
            ]
            assert len(cells) == 1, f"code {text} is not inside exactly one cell"
            index = page_number * sheet.per_page + cells[0]
            assert index not in seen
            seen[index] = text
    assert seen == {i: label.url for i, label in enumerate(labels)}


def test_more_labels_than_a_sheet_go_on_to_a_second_page() -> None:
    labels = make_labels(30, seed=2)
    pdf = render(labels, "a4-3x8")
    decoded = [
        {text for text, _ in codes_on(image, dpi=150, page_height=height)}
        for _page, image, height in pages(pdf, 150)
    ]
    assert len(decoded) == 2
    assert decoded[0] == {label.url for label in labels[:24]}
    assert decoded[1] == {label.url for label in labels[24:]}


def test_start_position_uses_up_a_partly_used_sheet_and_progress_is_reported() -> None:
    sheet = LAYOUTS["a4-3x8"]
    labels = make_labels(5, seed=3)
    calls: list[tuple[int, int]] = []
    out = io.BytesIO()
    assert (
        render_labels(
            labels, layout="a4-3x8", out=out, start=21, progress=lambda *a: calls.append(a)
        )
        == 2
    )
    assert calls == [(3, 5), (5, 5)]
    first, second = [
        codes_on(image, dpi=150, page_height=height)
        for _p, image, height in pages(out.getvalue(), 150)
    ]
    positions = {
        text: next(p for p in range(sheet.per_page) if inside(corners[0], sheet.cell(p)))
        for text, corners in first + second
    }
    assert positions == {
        labels[0].url: 21,
        labels[1].url: 22,
        labels[2].url: 23,
        labels[3].url: 0,
        labels[4].url: 1,
    }


def test_labels_sit_exactly_on_the_sheet_grid() -> None:
    for sheet in LAYOUTS.values():
        for position in range(sheet.per_page):
            row, column = divmod(position, sheet.columns)
            x, y, w, h = sheet.cell(position)
            assert x == pytest.approx((sheet.margin_left + column * sheet.pitch_x) * MM, abs=1e-9)
            top = sheet.page_height * MM - (y + h)
            assert top == pytest.approx((sheet.margin_top + row * sheet.pitch_y) * MM, abs=1e-9)
            assert (w, h) == (sheet.label_width * MM, sheet.label_height * MM)
        # The last row ends where the paper's bottom margin starts, to the micrometre.
        x, y, w, h = sheet.cell(sheet.per_page - 1)
        bottom = sheet.page_height - sheet.margin_top - sheet.rows * sheet.pitch_y
        bottom += sheet.pitch_y - sheet.label_height
        assert y == pytest.approx(bottom * MM, abs=1e-6)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_label_text_stays_inside_its_own_box_beside_the_code(layout: str) -> None:
    """Every letter pypdfium2 finds lies inside its label and right of the code's quiet
    zone; long names, customers and addresses come out shortened with an ellipsis."""
    sheet = LAYOUTS[layout]
    labels = make_labels(sheet.per_page if sheet.per_page > 1 else 2, seed=4)
    pdf = pypdfium2.PdfDocument(render(labels, layout))
    ellipses = 0
    for page_number, page in enumerate(pdf):
        text = page.get_textpage()
        for i in range(text.count_chars()):
            char = text.get_text_range(i, 1)
            if char.isspace():
                continue
            left, bottom, right, top = text.get_charbox(i)
            boxes = [
                sheet.cell(p)
                for p in range(sheet.per_page)
                if page_number * sheet.per_page + p < len(labels)
            ]
            owner = [
                (x, y, w, h)
                for x, y, w, h in boxes
                if x <= left and right <= x + w and y <= bottom and top <= y + h
            ]
            assert len(owner) == 1, f"{char!r} at {left:.1f},{bottom:.1f} outside every label"
            x, _, w, _ = owner[0]
            qr_right = x + (sheet.qr_inset + sheet.qr_side) * MM
            assert left >= qr_right - 0.01, f"{char!r} overlaps the code's quiet zone"
            assert right <= x + w - sheet.padding * MM + 0.5
            ellipses += char == ELLIPSIS
    assert ellipses > 0


def test_label_shows_name_customer_address_inventory_and_phone() -> None:
    label = LabelData(
        url="https://fsm.example/p/3q2-Xk9aB7cDeFgH1iJkLm",
        title="Кондиционер Daikin FTXB35C (торговый зал)",
        customer="ООО «СМ-Трейд»",
        address="Санкт-Петербург, Невский пр., 114",
        inventory_number="СМТ-000114",
        company_phone="+7 812 600-10-10",
    )
    for layout in ("a4-2x7", "thermal-58x40"):
        pdf = pypdfium2.PdfDocument(render([label], layout))
        text = " ".join(pdf[0].get_textpage().get_text_range().split())
        for part in ("Кондиционер", "ООО «СМ-Трейд»", "Невский", "СМТ-000114", "+7 812 600-10-10"):
            assert part in text, (layout, part, text)


def test_label_errors_are_one_line_user_errors() -> None:
    with pytest.raises(InvalidInput, match="unknown label layout"):
        render_labels(make_labels(1), layout="a5-1x1", out=io.BytesIO())
    with pytest.raises(InvalidInput, match="no labels"):
        render_labels([], layout="a4-3x8", out=io.BytesIO())
    with pytest.raises(InvalidInput, match="start position"):
        render_labels(make_labels(1), layout="a4-3x8", out=io.BytesIO(), start=24)


def test_labels_write_to_a_path(tmp_path: Path) -> None:
    target = tmp_path / "labels.pdf"
    assert render_labels(make_labels(25), layout="a4-3x8", out=target) == 2
    assert target.read_bytes().startswith(b"%PDF")


# --- text fitting ----------------------------------------------------------------------------


def test_fit_lines_shortens_long_cyrillic_within_the_width() -> None:
    regular, bold = register_fonts()
    width = 29 * MM
    lines = fit_lines(LONG_NAME, font=bold, size=7.5, width=width, max_lines=2)
    assert len(lines) == 2
    assert lines[-1].endswith(ELLIPSIS)
    assert all(string_width(line, bold, 7.5) <= width for line in lines)
    short = fit_lines("Щит ВРУ-1", font=bold, size=7.5, width=width, max_lines=2)
    assert short == ["Щит ВРУ-1"]
    one = shorten(LONG_ADDRESS, font=regular, size=6.5, width=width)
    assert one.endswith(ELLIPSIS)
    assert string_width(one, regular, 6.5) <= width
    assert LONG_ADDRESS.startswith(one[:-1])


def test_a_word_too_long_for_a_line_breaks_at_a_hyphen_or_dot() -> None:
    regular, bold = register_fonts()
    width = string_width("Константинопольская-Щедр", bold, 10)
    assert fit_lines(
        "Константинопольская-Щедрина Александра", font=bold, size=10, width=width, max_lines=2
    ) == ["Константинопольская-", "Щедрина Александра"]
    email = "aleksandra.konstantinopolskaya@holod-service-spb.ru"
    width = string_width(email[:35], regular, 8)
    lines = fit_lines(email, font=regular, size=8, width=width, max_lines=2)
    assert "".join(lines) == email
    assert lines[1].startswith("@")
    # the demo's generator on a thermal label: the hyphen falls just before half of what
    # fits, and the word was cut after "генерато" with its "р" alone on the next line
    width = string_width("Дизель-генерато", bold, 10)
    assert fit_lines(
        "Дизель-генератор FG Wilson P110-3", font=bold, size=10, width=width, max_lines=4
    ) == ["Дизель-", "генератор", "FG Wilson", "P110-3"]


@settings(max_examples=150, deadline=None)
@example(text="0  0", width=14.0, max_lines=1, bold=False)  # a double space that fits
@given(
    text=st.text(
        alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВЕКМН ,.-«»№0123456789", max_size=120
    ),
    width=st.floats(min_value=2, max_value=300),
    max_lines=st.integers(min_value=1, max_value=4),
    bold=st.booleans(),
)
def test_fitted_lines_never_exceed_the_width(
    text: str, width: float, max_lines: int, bold: bool
) -> None:
    font = register_fonts()[bold]
    lines = fit_lines(text, font=font, size=7, width=width, max_lines=max_lines)
    assert len(lines) <= max_lines
    assert all(string_width(line, font, 7) <= width for line in lines)
    if " ".join(text.split()) and string_width(" ".join(text.split()), font, 7) <= width:
        assert lines == [" ".join(text.split())]


# --- the QR drawing itself ----------------------------------------------------------------


def test_dark_rectangles_cover_every_dark_module_exactly_once() -> None:
    rng = random.Random(5)
    for data in [url(rng) for _ in range(5)] + ["Иванов Кирилл Петрович, ООО «СМ-Трейд»"]:
        matrix = make_qr(data).matrix
        cover = [[0] * len(matrix) for _ in matrix]
        rectangles = dark_rectangles(matrix)
        for column, row, width, height in rectangles:
            for r in range(row, row + height):
                for c in range(column, column + width):
                    cover[r][c] += 1
        assert cover == [list(row) for row in matrix]
        dark = sum(map(sum, matrix))
        assert len(rectangles) < dark / 2  # merging is what keeps the PDF small


def test_cyrillic_is_encoded_as_utf8_not_shift_jis() -> None:
    """Segno alone would encode Cyrillic as Shift_JIS; phones would show gibberish."""
    from reportlab.pdfgen.canvas import Canvas

    text = "BEGIN:VCARD\r\nFN:Иванов Кирилл\r\nEND:VCARD\r\n"
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(200, 200))
    info = draw_qr(canvas, text, x=10, y=10, size=180, error="m")
    canvas.save()
    assert info.error in {"M", "Q", "H"}  # segno may boost the level for free
    ((_, image, _),) = list(pages(out.getvalue(), 200))
    (code,) = zxingcpp.read_barcodes(image)
    assert code.bytes == text.encode("utf-8")
    assert code.text == text


def test_label_sheets_use_the_fixed_mask_and_error_level_q() -> None:
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(io.BytesIO())
    info = draw_qr(canvas, url(random.Random(6)), x=0, y=0, size=100, mask=LABEL_MASK)
    assert (info.mask, info.error) == (LABEL_MASK, "Q")
    assert info.module_size == pytest.approx(100 / (info.modules + 8))


# --- the passport ----------------------------------------------------------------------------


def passport(history_size: int, **kwargs: object) -> PassportData:
    start = datetime(2024, 1, 10, 7, 30, tzinfo=UTC)
    history = tuple(
        PassportEntry(
            date=start + timedelta(days=23 * i),
            order_number=f"СМ-{i + 1:05d}",
            description="Плановое ТО: чистка фильтров, проверка давления фреона, замер токов",
            stage="Закрыта",
        )
        for i in range(history_size)
    )
    values: dict[str, object] = {
        "url": "https://fsm.example/p/3q2-Xk9aB7cDeFgH1iJkLm",
        "name": "Кондиционер Daikin FTXB35C (торговый зал)",
        "kind": "Кондиционер",
        "customer": "ООО «СМ-Трейд»",
        "address": "Санкт-Петербург, Невский пр., 114",
        "location_hint": "Над входом в примерочные",
        "building": "Корпус А",
        "floor": "2",
        "serial_number": "E012345678",
        "inventory_number": "СМТ-000114",
        "coordinates": (59.931912, 30.355021),
        "company_name": "ООО «Холод-Сервис СПб»",
        "company_phone": "+7 812 600-10-10",
        "history": history,
    }
    values.update(kwargs)
    return PassportData(**values)  # type: ignore[arg-type]


def passport_page(data: PassportData, lang: str = "ru") -> tuple[str, list[str], int]:
    out = io.BytesIO()
    shown = render_passport(data, out=out, lang=lang, tz=ZoneInfo("Europe/Moscow"))
    ((text, image, height),) = list(pages(out.getvalue(), 150))
    return text, [t for t, _ in codes_on(image, dpi=150, page_height=height)], shown


def test_passport_code_decodes_to_its_url_and_the_page_names_the_object() -> None:
    data = passport(3)
    text, codes, shown = passport_page(data)
    assert codes == [data.url]
    assert shown == 3
    assert data.name in text
    assert "Отсканируйте, чтобы оставить заявку" in text
    for value in (
        "ООО «СМ-Трейд»",
        "Невский пр., 114",
        "E012345678",
        "СМТ-000114",
        "+7 812 600-10-10",
    ):
        assert value in text
    # Newest first, dates in the company's zone.
    assert text.index("СМ-00003") < text.index("СМ-00002") < text.index("СМ-00001")
    assert "10.01.2024" in text


def test_passport_shows_the_newest_entries_that_fit_and_says_so() -> None:
    data = passport(60)
    text, codes, shown = passport_page(data)
    assert codes == [data.url]
    assert 5 < shown < 60
    assert f"Показаны последние {shown} из 60" in text
    numbers = re.findall(r"СМ-\d{5}", text)
    assert numbers == [f"СМ-{n:05d}" for n in range(60, 60 - shown, -1)]


def test_passport_in_english_and_without_history() -> None:
    text, codes, shown = passport_page(passport(0, coordinates=None, kind=None), lang="en")
    assert codes == ["https://fsm.example/p/3q2-Xk9aB7cDeFgH1iJkLm"]
    assert shown == 0
    assert "Scan to request service" in text
    assert "No service orders for this object yet." in text
    assert "Coordinates" not in text


# --- business cards ----------------------------------------------------------------------------

IVANOV = Contact(
    full_name="Иванов Кирилл Петрович",
    position="Инженер по холодильному оборудованию",
    company="ООО «Холод-Сервис СПб»",
    phones=("+7 921 555-12-34", "+7 812 600-10-10"),
    email="k.ivanov@holod-spb.ru",
    address="Санкт-Петербург, Невский пр., 114",
)
MAMEDOV = Contact(
    full_name="Мамедов Рашид Ильхам оглы",
    position="Старший техник",
    company="Рога, копыта; и партнёры",
    phones=("8 (911) 000-00-01",),
    email="r.mamedov@holod-spb.ru",
)


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def split_unescaped(value: str, sep: str) -> list[str]:
    return [unescape(part) for part in re.split(rf"(?<!\\){re.escape(sep)}", value)]


def parse_vcard(text: str) -> dict[str, list[str]]:
    """A small, strict reader: CRLF lines, NAME[;params]:value."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    lines = text[:-2].split("\r\n")
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"]
    assert lines[-1] == "END:VCARD"
    fields: dict[str, list[str]] = {}
    for line in lines[2:-1]:
        name, value = line.split(":", 1)
        fields.setdefault(name, []).append(value)
    return fields


def check_contact(text: str, contact: Contact) -> None:
    fields = parse_vcard(text)
    family, given, additional = split_name(contact.full_name)
    assert split_unescaped(fields["N"][0], ";") == [family, given, additional, "", ""]
    assert fields["FN"] == [escape(contact.full_name)]
    assert unescape(fields["ORG"][0]) == contact.company
    assert unescape(fields["TITLE"][0]) == contact.position
    phones = fields.get("TEL;TYPE=CELL", []) + fields.get("TEL;TYPE=WORK", [])
    assert sorted(phones) == sorted(contact.phones)
    assert fields["EMAIL;TYPE=INTERNET"] == [contact.email]


def test_vcard_text_is_crlf_vcard_3_with_the_russian_name_order() -> None:
    text = vcard_text(IVANOV)
    check_contact(text, IVANOV)
    fields = parse_vcard(text)
    assert fields["N"] == ["Иванов;Кирилл;Петрович;;"]
    assert fields["FN"] == ["Иванов Кирилл Петрович"]
    assert fields["TEL;TYPE=CELL"] == ["+7 921 555-12-34"]
    assert fields["TEL;TYPE=WORK"] == ["+7 812 600-10-10"]
    assert fields["ADR;TYPE=WORK"] == [";;Санкт-Петербург\\, Невский пр.\\, 114;;;;"]
    assert split_name("Мамедов Рашид Ильхам оглы") == ("Мамедов", "Рашид", "Ильхам оглы")
    assert split_name("Иванов") == ("Иванов", "", "")


def test_vcard_escapes_commas_semicolons_backslashes_and_newlines() -> None:
    assert escape("Рога, копыта; и партнёры") == "Рога\\, копыта\\; и партнёры"
    assert escape("C:\\сервис") == "C:\\\\сервис"
    assert escape("строка 1\r\nстрока 2\nстрока 3") == "строка 1\\nстрока 2\\nстрока 3"
    contact = Contact(
        full_name="Петров;Пётр",
        position="Инженер,\nстарший",
        company="ООО «А\\Б»",
        phones=("+7 999 000-00-00",),
        email="p@example.ru",
    )
    text = vcard_text(contact)
    fields = parse_vcard(text)
    assert fields["TITLE"] == ["Инженер\\,\\nстарший"]
    assert fields["ORG"] == ["ООО «А\\\\Б»"]
    assert split_unescaped(fields["N"][0], ";")[0] == "Петров;Пётр"
    assert unescape(fields["TITLE"][0]) == "Инженер,\nстарший"


def test_mobile_numbers_are_cell_and_others_work() -> None:
    assert is_mobile("+7 921 555-12-34")
    assert is_mobile("8 (911) 000-00-01")
    assert not is_mobile("+7 812 600-10-10")
    assert not is_mobile("+7 495 123-45-67")
    assert not is_mobile("600-10-10")
    assert "TEL;TYPE=CELL:8 (911) 000-00-01" in vcard_text(MAMEDOV)


def test_card_sheet_codes_round_trip_the_vcard_exactly() -> None:
    contacts = [IVANOV, MAMEDOV] * 6  # 12 cards: a full sheet of 10 and two more
    out = io.BytesIO()
    assert render_cards(contacts, out=out, lang="ru") == 2
    decoded: list[list[str]] = []
    for page_text, image, height in pages(out.getvalue(), 300):
        decoded.append(sorted(text for text, _ in codes_on(image, dpi=300, page_height=height)))
        assert "Иванов Кирилл" in page_text
        assert "k.ivanov@holod-spb.ru" in page_text
    assert decoded[0] == sorted([vcard_text(IVANOV), vcard_text(MAMEDOV)] * 5)
    assert decoded[1] == sorted([vcard_text(IVANOV), vcard_text(MAMEDOV)])
    for text in decoded[1]:
        check_contact(text, IVANOV if "Иванов" in text else MAMEDOV)


def test_card_png_round_trips_the_vcard(tmp_path: Path) -> None:
    target = tmp_path / "ivanov.png"
    save_card_png(IVANOV, target, scale=4)
    with Image.open(target) as image:
        (code,) = zxingcpp.read_barcodes(image.convert("L"))
    assert code.bytes == vcard_text(IVANOV).encode("utf-8")
    check_contact(code.text, IVANOV)
