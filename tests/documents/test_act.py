"""The act of completed works, read back the way a customer's PDF viewer reads it.

Every act is rendered to a real PDF and its text layer extracted with pypdf (another
library than the one that wrote it); positions of letters come from pypdfium2. A test
passes only if what a customer sees is right: the numbers as formatted, every line on
some page exactly once, the table header and "Страница N из M" on every page, nothing
printed past its column or the page's margin, the signature where it belongs.

No database: acts are built from plain data, as the module's contract says.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from fsm_core.documents.act import (
    ActBlock,
    ActDocument,
    ActLine,
    render_act,
    render_acts,
)
from fsm_core.documents.words import amount_in_words, plural_ru
from fsm_core.errors import InvalidInput
from fsm_core.formatting import money, number

MOSCOW = ZoneInfo("Europe/Moscow")
D = Decimal
A4_WIDTH = 595.27


# --------------------------------------------------------------------------------------
# Acts to render
# --------------------------------------------------------------------------------------


def signature_png(*, background: tuple[int, int, int, int] = (0, 0, 0, 0)) -> bytes:
    """A scribble as a signature pad sends it: dark-blue ink, transparent background."""
    image = Image.new("RGBA", (600, 200), background)
    points = [(30, 150), (110, 40), (180, 170), (260, 50), (340, 160), (430, 70), (560, 120)]
    ImageDraw.Draw(image).line(points, fill=(20, 30, 120, 255), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def line(name: str, quantity: str, unit: str, price: str, amount: str, kind: str) -> ActLine:
    return ActLine(name, D(quantity), unit, D(price), D(amount), kind)


CLEANING = ActBlock(
    work_type="Чистка радиатора испарителя",
    object_name="Кондиционер Daikin FTXB35C (офис 305)",
    object_address="г. Москва, ул. Ленина, д. 10, стр. 2",
    started_at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
    finished_at=datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
    executors=("Иванов К. П.",),
    lines=(
        line("Чистка радиатора испарителя", "1", "усл.", "3500.00", "3500.00", "work"),
        line("Работа: Иванов К. П.", "1.5", "ч", "1750.00", "2625.00", "labour"),
    ),
    subtotal=D("6125.00"),
)
REFILL = ActBlock(
    work_type="Заправка хладагентом R410A",
    object_name="Кондиционер Daikin FTXB35C (офис 305)",
    object_address="г. Москва, ул. Ленина, д. 10, стр. 2",
    started_at=datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
    finished_at=datetime(2026, 11, 26, 11, 0, tzinfo=UTC),
    executors=("Иванов К. П.", "Петров С. А."),
    lines=(
        line("Заправка хладагентом R410A", "1", "усл.", "2500.00", "2500.00", "work"),
        line("Работа: Иванов К. П., Петров С. А.", "2.5", "ч", "1750.00", "4375.00", "labour"),
        line("Фреон R410A", "0.8", "кг", "1200.00", "960.00", "material"),
        line("Дренажная помпа ASPEN MAXI ORANGE", "1", "шт", "8954.00", "8954.00", "material"),
    ),
    subtotal=D("16789.00"),
)


def make_act(**changes: object) -> ActDocument:
    act = ActDocument(
        act_number="А-0457",
        act_date=date(2026, 11, 26),
        order_number="24-0010-HL-KTRNG",
        company_name="ООО «Холод-Сервис»",
        company_phone="+7 (495) 123-45-67",
        customer_name="ООО «Ромашка»",
        customer_inn="7701234567",
        customer_address="115280, г. Москва, ул. Автозаводская, д. 23, офис 14",
        object_name="Кондиционер Daikin FTXB35C (офис 305)",
        object_address="г. Москва, ул. Ленина, д. 10, стр. 2",
        description="Прекращается ток воздуха из устройства",
        blocks=(CLEANING, REFILL),
        total=D("22914.00"),
        executors=("Иванов К. П.", "Петров С. А."),
        comment="Рекомендована повторная чистка через 6 месяцев.",
        signer_name="Сидорова А. В.",
        signed_at=datetime(2026, 11, 26, 11, 10, tzinfo=UTC),
        signature_image=signature_png(),
    )
    return replace(act, **changes)


def long_act(lines: int = 120, number_: str = "А-0900") -> ActDocument:
    rows = tuple(
        line(
            f"Позиция {i:03d}: фильтр-осушитель Danfoss", "1", "шт", "100.00", "100.00", "material"
        )
        for i in range(1, lines + 1)
    )
    block = replace(REFILL, lines=rows, subtotal=D(100 * lines))
    return make_act(act_number=number_, blocks=(block,), total=D(100 * lines))


# --------------------------------------------------------------------------------------
# Reading PDFs back
# --------------------------------------------------------------------------------------


def flat(text: str) -> str:
    """The PDF's text layer carries a no-break space as a space (reportlab maps U+00A0 to
    the space glyph); compare formatted strings the same way."""
    return text.replace("\u00a0", " ")


def page_texts(pdf: bytes | Path) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return [flat(page.extract_text()) for page in reader.pages]


def render(doc: ActDocument, *, lang: str = "ru") -> bytes:
    out = io.BytesIO()
    render_act(doc, out=out, lang=lang, tz=MOSCOW)
    return out.getvalue()


def images_on(page) -> list:
    xobjects = page["/Resources"].get("/XObject") or {}
    return [x.get_object() for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image"]


def glyphs(pdf: bytes, page_index: int) -> list[tuple[str, float, float, float, float]]:
    """Every printed character on a page with its box (left, bottom, right, top), in
    PDF points, as pdfium (not reportlab) measures it."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        textpage = document[page_index].get_textpage()
        found = []
        for i in range(textpage.count_chars()):
            char = textpage.get_text_range(i, 1)
            if char.strip():
                found.append((char, *textpage.get_charbox(i)))
        return found
    finally:
        document.close()


def letters(pdf: bytes, page_index: int) -> list[tuple[str, float, float]]:
    """Every letter on a page with its left and right edge."""
    return [(char, left, right) for char, left, _, right, _ in glyphs(pdf, page_index)]


def assert_nothing_overlaps(pdf: bytes, page_index: int = 0) -> None:
    """No two characters on the page cover each other: no text runs into a neighbour."""
    boxes = sorted(glyphs(pdf, page_index), key=lambda g: g[1])
    for i, (a, left, bottom, right, top) in enumerate(boxes):
        for b, left2, bottom2, _, top2 in boxes[i + 1 :]:
            if left2 >= right - 0.3:
                break  # sorted by left edge: nothing further along can overlap this one
            vertical = min(top, top2) - max(bottom, bottom2)
            assert vertical <= 1, f"{a!r} and {b!r} overlap at x={left:.1f}, y={bottom:.1f}"


# --------------------------------------------------------------------------------------
# What the customer reads
# --------------------------------------------------------------------------------------


def test_russian_act_shows_the_order_the_customer_every_line_and_the_total() -> None:
    act = make_act()
    pdf = render(act)
    [text] = page_texts(pdf)

    assert "Акт выполненных работ № А-0457 от 26.11.2026" in text
    assert "№ 24-0010-HL-KTRNG" in text
    assert "ООО «Ромашка», ИНН 7701234567" in text
    assert "115280, г. Москва, ул. Автозаводская, д. 23, офис 14" in text
    assert "Кондиционер Daikin FTXB35C (офис 305)" in text
    assert "Прекращается ток воздуха из устройства" in text
    assert "ООО «Холод-Сервис»" in text
    assert "+7 (495) 123-45-67" in text
    for block in act.blocks:
        assert block.work_type in text
        for row in block.lines:
            assert row.name in text
            assert flat(number(row.amount, lang="ru")) in text
        assert flat(number(block.subtotal, lang="ru")) in text
    for header in ("Наименование", "Кол-во", "Цена, ₽", "Сумма, ₽"):
        assert header in text
    assert "Итого к оплате: 22 914,00 ₽" in text
    assert flat(f"Итого к оплате: {money(act.total, lang='ru')}") in text
    assert "Итого по работе:" in text
    assert "Выполнили:" in text  # the technicians; "Исполнитель" is the company
    assert "Иванов К. П., Петров С. А." in text
    assert "Рекомендована повторная чистка через 6 месяцев." in text
    assert "Страница 1 из 1" in text
    assert_nothing_overlaps(pdf)


def test_quantities_and_prices_use_the_decimal_comma_and_block_times_the_company_zone() -> None:
    [text] = page_texts(render(make_act()))

    # 2,5 ч × 1 750,00 = 4 375,00, in the table's own row order
    assert re.search(r"Работа: Иванов К. П., Петров С. А.\s+2,5\s+ч\s+1 750,00\s+4 375,00", text)
    assert re.search(r"Фреон R410A\s+0,8\s+кг\s+1 200,00\s+960,00", text)
    assert re.search(r"Дренажная помпа ASPEN MAXI ORANGE\s+1\s+шт\s+8 954,00\s+8 954,00", text)
    # 07:00–08:30 UTC is 10:00–11:30 in Moscow
    assert "26.11.2026 10:00 – 11:30" in text
    assert "26.11.2026 11:30 – 14:00" in text


def test_the_act_prints_amounts_as_given_never_recomputed() -> None:
    # 3 × 333,33 would be 999,99; the core's rounding rule said 1 000,00, and that stands
    odd = line("Замена уплотнителя двери", "3", "шт", "333.33", "1000.00", "material")
    block = replace(CLEANING, lines=(odd,), subtotal=D("1000.00"))
    [text] = page_texts(render(make_act(blocks=(block,), total=D("1000.00"))))

    assert re.search(r"Замена уплотнителя двери\s+3\s+шт\s+333,33\s+1 000,00", text)
    assert "999,99" not in text
    assert "Итого к оплате: 1 000,00 ₽" in text


def test_english_act_translates_every_label() -> None:
    act = make_act()
    [text] = page_texts(render(act, lang="en"))

    assert "Act of completed works No. А-0457 of 2026-11-26" in text
    assert "No. 24-0010-HL-KTRNG" in text
    assert "ООО «Ромашка», INN 7701234567" in text
    for header in ("Name", "Qty", "Unit", "Price, RUB", "Amount, RUB"):
        assert header in text
    for block in act.blocks:
        for row in block.lines:
            assert row.name in text
            assert flat(number(row.amount, lang="en")) in text
    assert re.search(r"Фреон R410A\s+0.8\s+кг\s+1,200.00\s+960.00", text)
    assert "Total to pay: 22,914.00 RUB" in text
    assert flat(f"Total to pay: {money(act.total, lang='en')}") in text
    assert "Page 1 of 1" in text
    assert "2026-11-26 10:00 – 11:30" in text
    # the data stays Russian, but no Russian label is left
    for label in ("Итого", "Заказчик", "Страница", "Наименование", "Подписано", "подпись"):
        assert label not in text


def test_cyrillic_survives_in_the_embedded_font() -> None:
    pdf = render(make_act())
    [text] = page_texts(pdf)
    upper = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    alphabet = f"{upper} {upper.lower()}"
    probe = make_act(description=alphabet, comment="Съешь же ещё этих мягких булок «№ ₽»")
    [probe_text] = page_texts(render(probe))

    assert upper in probe_text
    assert upper.lower() in probe_text
    assert "Съешь же ещё этих мягких булок «№ ₽»" in probe_text
    assert "\ufffd" not in text + probe_text
    fonts = [
        font.get_object()
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts
    for font in fonts:  # only DejaVu Sans, embedded as subsets ("AAAAAA+DejaVuSans")
        assert re.fullmatch(r"/[A-Z]{6}\+DejaVuSans(-Bold)?", font["/BaseFont"])
        assert font["/Subtype"] == "/TrueType"


# --------------------------------------------------------------------------------------
# Long acts, many acts
# --------------------------------------------------------------------------------------


def test_a_long_table_runs_over_pages_with_its_header_and_page_numbers_on_each() -> None:
    act = long_act(120)
    texts = page_texts(render(act))
    pages = len(texts)

    assert pages >= 3
    assert "Позиция 001" in texts[0]  # the table starts under the act's header, no blank page
    for index, text in enumerate(texts, start=1):
        assert f"Страница {index} из {pages}" in text
        assert "Акт № А-0900 от 26.11.2026" in text
        if "Позиция" in text:
            assert "Наименование" in text
            assert "Кол-во" in text
            assert "Сумма, ₽" in text
    # every row printed exactly once, none lost or repeated at a page break
    everything = "\n".join(texts)
    for row in act.blocks[0].lines:
        assert everything.count(row.name) == 1
    assert "Итого к оплате: 12 000,00 ₽" in texts[-1]
    assert "Итого по работе:" in texts[-1]


def test_combined_pdf_starts_each_act_on_a_new_page_and_numbers_pages_per_act() -> None:
    acts = [make_act(act_number="А-0001"), long_act(120, "А-0002"), make_act(act_number="А-0003")]
    calls: list[tuple[int, int]] = []
    out = io.BytesIO()
    written = render_acts(acts, out=out, tz=MOSCOW, progress=lambda *a: calls.append(a))
    texts = page_texts(out.getvalue())
    long_pages = len(page_texts(render(acts[1])))

    assert written == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert len(texts) == 1 + long_pages + 1
    expected = [("А-0001", 1, 1)]
    expected += [("А-0002", n, long_pages) for n in range(1, long_pages + 1)]
    expected += [("А-0003", 1, 1)]
    for text, (act_number, page, pages) in zip(texts, expected, strict=True):
        assert f"Акт № {act_number} от 26.11.2026" in text
        assert f"Страница {page} из {pages}" in text
    # each act opens with its own title on its own page
    assert "Акт выполненных работ № А-0002" in texts[1]
    assert "Акт выполненных работ № А-0003" in texts[-1]
    # the outline lets a reader jump to each act's first page
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert [entry.title for entry in reader.outline] == [
        f"Акт выполненных работ № {n} от 26.11.2026" for n in ("А-0001", "А-0002", "А-0003")
    ]
    assert [reader.get_destination_page_number(e) for e in reader.outline] == [
        0,
        1,
        1 + long_pages,
    ]


def test_combined_pdf_takes_a_generator_and_writes_to_a_path(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = tmp_path / "acts.pdf"
    docs = (make_act(act_number=f"А-{n}") for n in range(1, 3))

    assert render_acts(docs, out=path, tz=MOSCOW, lang="en", progress=lambda *a: calls.append(a))
    texts = page_texts(path)
    assert calls == [(1, 0), (2, 0)]  # no length known up front
    assert ["Page 1 of 1" in t for t in texts] == [True, True]


def test_render_act_writes_to_a_path(tmp_path: Path) -> None:
    path = tmp_path / "act.pdf"
    render_act(make_act(), out=path, tz=MOSCOW)
    assert path.read_bytes().startswith(b"%PDF")
    assert "Итого к оплате: 22 914,00 ₽" in page_texts(path)[0]


def test_a_name_longer_than_a_page_continues_on_the_next_one() -> None:
    huge = " ".join(f"слово{i:03d}" for i in range(900))
    block = replace(REFILL, lines=(*REFILL.lines[:2], line(huge, "1", "шт", "5", "5", "work")))
    texts = page_texts(render(make_act(blocks=(block,))))
    everything = "\n".join(texts)

    assert len(texts) >= 2
    assert all(everything.count(f"слово{i:03d}") == 1 for i in range(900))
    assert all("Наименование" in text for text in texts)


def test_a_very_long_description_and_comment_continue_on_the_next_page() -> None:
    words = " ".join(f"слово{i}" for i in range(1500))
    act = make_act(description=words, comment=words)
    texts = page_texts(render(act))
    everything = " ".join(" ".join(texts).split())

    assert len(texts) >= 3
    assert everything.count("слово1499") == 2  # the last word of both, nothing cut off
    assert "Итого к оплате: 22 914,00 ₽" in everything


# --------------------------------------------------------------------------------------
# Nothing overflows
# --------------------------------------------------------------------------------------


def test_long_names_wrap_inside_their_cell_and_nothing_crosses_the_margins() -> None:
    name = (
        "Дренажная помпа ASPEN MAXI ORANGE с датчиком уровня, комплектом крепежа и "
        "шлангом для настенного монтажа в кабинете директора, артикул "
        + "Щ"
        * 90  # one word wider than the column: it must be cut, not overflow
    )
    block = replace(
        REFILL,
        lines=(
            line(name, "1", "шт", "1234567.89", "1234567.89", "material"),
            # numbers and a unit that cannot wrap and are wider than their columns
            line("Сервисный контракт", "12345.125", "комплект", "12345678.90", "152415.99", "work"),
        ),
        subtotal=D("123456789.01"),
    )
    act = make_act(
        blocks=(block,),
        total=D("123456789.01"),
        customer_name="Государственное бюджетное учреждение здравоохранения «Городская "
        "поликлиника № 17 Департамента здравоохранения города Москвы»",
        customer_address="Ленинградская обл., Всеволожский р-н, г. Мурино, ул. Шувалова, "
        "д. 11, корп. 2, пом. 14-Н, вход со двора, домофон 14, третий этаж направо",
    )
    pdf = render(act)
    found = letters(pdf, 0)
    text = page_texts(pdf)[0]

    # the page's left margin is 20 mm and its right one 15 mm
    assert all(left >= 20 * 72 / 25.4 - 0.5 for _, left, _ in found)
    assert all(right <= A4_WIDTH - 15 * 72 / 25.4 + 0.5 for _, _, right in found)
    # the name's letters stay left of the quantity column
    qty_header = next(
        i for i in range(len(found)) if "".join(c for c, _, _ in found[i : i + 6]) == "Кол-во"
    )
    qty_left = found[qty_header][1]
    assert sum(1 for c, _, _ in found if c == "Щ") == 90
    assert all(right < qty_left for c, _, right in found if c == "Щ")
    assert "1 234 567,89" in text
    for value in ("12 345,125", "комплект", "12 345 678,90", "152 415,99", "123 456 789,01"):
        assert value in text
    assert "Итого к оплате: 123 456 789,01 ₽" in text
    assert_nothing_overlaps(pdf)


# --------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------


def test_the_captured_signature_is_embedded_with_the_signer_and_time() -> None:
    pdf = render(make_act())
    reader = PdfReader(io.BytesIO(pdf))
    [text] = page_texts(pdf)

    [image] = images_on(reader.pages[0])
    assert image["/Width"] > 0
    assert image["/Height"] > 0
    assert "Сидорова А. В." in text
    assert "Подписано: 26.11.2026 14:10" in text
    # the transparent background prints white and the ink dark, not a black box
    picture = reader.pages[0].images[0].image.convert("L")
    histogram = picture.histogram()
    assert sum(histogram[200:]) > 0.8 * sum(histogram)
    assert sum(histogram[:100]) > 0


def test_a_jpeg_signature_and_an_opaque_png_are_embedded_too() -> None:
    png = Image.open(io.BytesIO(signature_png(background=(255, 255, 255, 255))))
    jpeg = io.BytesIO()
    png.convert("RGB").save(jpeg, "JPEG")
    for data in (jpeg.getvalue(), signature_png(background=(255, 255, 255, 255))):
        reader = PdfReader(io.BytesIO(render(make_act(signature_image=data))))
        assert len(images_on(reader.pages[0])) == 1
        histogram = reader.pages[0].images[0].image.convert("L").histogram()
        assert sum(histogram[200:]) > 0.8 * sum(histogram)


def test_a_long_signer_name_is_printed_whole_on_its_line() -> None:
    signer = "Константинопольская-Преображенская Александра Владиславовна"
    pdf = render(make_act(signer_name=signer))
    text = page_texts(pdf)[0]

    assert "".join(signer.split()) in "".join(text.split())  # every letter, in order
    assert all(right <= A4_WIDTH - 15 * 72 / 25.4 + 0.5 for _, _, right in letters(pdf, 0))


def test_an_unsigned_act_keeps_both_signature_lines_for_pen_and_ink() -> None:
    act = make_act(signer_name=None, signed_at=None, signature_image=None)
    pdf = render(act)
    [text] = page_texts(pdf)

    assert images_on(PdfReader(io.BytesIO(pdf)).pages[0]) == []
    assert text.count("(подпись)") == 2
    assert text.count("(расшифровка подписи)") == 2
    assert text.count("Дата:") == 2
    assert "Подписано" not in text
    assert "Исполнитель" in text
    assert "Заказчик" in text
    assert text.count("М.П.") == 2
    assert text.count("(должность)") == 2
    # the company's side is for the person the company names, never the technician
    signatures = text.split("не имеет.")[-1]
    assert "Иванов" not in signatures


def test_a_long_act_keeps_the_total_and_signatures_with_the_last_rows() -> None:
    pdf = render(long_act(120))
    reader = PdfReader(io.BytesIO(pdf))
    texts = page_texts(pdf)
    last = len(texts) - 1

    assert "Итого к оплате" in texts[last]
    assert "(подпись)" in texts[last]
    # never a page of bare signatures: the last rows of the table come along
    assert "Позиция 120" in texts[last]
    assert "Наименование" in texts[last]
    assert [len(images_on(page)) for page in reader.pages] == [0] * last + [1]


# --------------------------------------------------------------------------------------
# Errors a user can cause
# --------------------------------------------------------------------------------------


def test_an_unreadable_signature_is_a_one_line_error_naming_the_act() -> None:
    with pytest.raises(InvalidInput, match=r"А-0457.*signature"):
        render(make_act(signature_image=b"not an image"))


def test_a_batch_with_a_broken_act_names_it_and_leaves_no_file(tmp_path: Path) -> None:
    acts = [make_act(act_number="А-0001"), make_act(act_number="А-0002", signature_image=b"?")]
    path = tmp_path / "acts.pdf"

    with pytest.raises(InvalidInput, match=r"А-0002"):
        render_acts(acts, out=path, tz=MOSCOW)
    assert not path.exists()


def test_an_empty_batch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no acts"):
        render_acts(iter([]), out=tmp_path / "acts.pdf", tz=MOSCOW)
    assert not (tmp_path / "acts.pdf").exists()


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput, match="language"):
        render(make_act(), lang="de")


def test_an_act_with_sparse_data_still_renders() -> None:
    block = ActBlock(
        work_type="Диагностика",
        object_name=None,
        object_address=None,
        started_at=None,
        finished_at=None,
        executors=(),
        lines=(),
        subtotal=D(0),
    )
    act = make_act(
        company_phone=None,
        customer_inn=None,
        customer_address=None,
        object_name=None,
        object_address=None,
        description="",
        blocks=(block,),
        total=D(0),
        executors=(),
        comment=None,
        signer_name=None,
        signed_at=None,
        signature_image=None,
    )
    [text] = page_texts(render(act))
    assert "1. Диагностика" in text
    assert "Итого к оплате: 0,00 ₽" in text
    assert "ИНН" not in text
    assert "Комментарий" not in text


# --------------------------------------------------------------------------------------
# The act as a primary document: requisites, basis, VAT, the total in words, signers
# --------------------------------------------------------------------------------------

REQUISITES = {
    "company_legal_name": "Общество с ограниченной ответственностью «Холод-Сервис»",
    "company_inn": "7801234564",
    "company_kpp": "780101001",
    "company_ogrn": "1027700132195",
    "company_legal_address": "191025, г. Санкт-Петербург, Невский пр., д. 114, лит. А",
    "company_bank_details": "р/с 40702810900000012345 в ПАО «Банк», БИК 044030790, "
    "к/с 30101810900000000790",
    "executor_signer": "Соколов И. В.",
    "executor_signer_position": "Генеральный директор",
    "signer_position": "Главный инженер",
    "contract_number": "15/2026",
    "contract_date": date(2026, 2, 1),
    "order_date": date(2026, 11, 25),
}


def test_the_act_names_the_contractor_with_its_requisites_and_the_basis() -> None:
    [text] = page_texts(render(make_act(**REQUISITES, vat_rate=D(20), vat_amount=D("3819.00"))))
    words = " ".join(text.split())

    assert "Исполнитель: Общество с ограниченной ответственностью «Холод-Сервис», ИНН " in words
    assert "ИНН 7801234564, КПП 780101001, ОГРН 1027700132195" in words
    assert "Юр. адрес: 191025, г. Санкт-Петербург, Невский пр., д. 114, лит. А" in words
    assert "БИК 044030790, к/с 30101810900000000790" in words
    assert "Основание: договор № 15/2026 от 01.02.2026" in words
    assert "Заявка: № 24-0010-HL-KTRNG" in words
    assert "Итого к оплате: 22 914,00 ₽" in words
    assert "В том числе НДС 20 %: 3 819,00 ₽" in words
    assert "Без НДС" not in words
    assert "Сумма прописью: Двадцать две тысячи девятьсот четырнадцать рублей 00 копеек" in words
    signatures = words.split("не имеет.")[-1]
    for expected in ("Генеральный директор", "Соколов И. В.", "Главный инженер", "Сидорова"):
        assert expected in signatures
    assert signatures.count("М.П.") == 2
    assert_nothing_overlaps(render(make_act(**REQUISITES, vat_rate=D(20), vat_amount=D(1))))


def test_without_a_contract_the_order_is_the_basis_and_without_vat_the_act_says_so() -> None:
    [text] = page_texts(render(make_act(order_date=date(2026, 11, 25))))
    words = " ".join(text.split())

    assert "Основание: заявка № 24-0010-HL-KTRNG от 25.11.2026" in words
    assert "Заявка:" not in words  # the basis already names it
    assert "Без НДС" in words
    assert "НДС 20" not in words
    assert "ОГРН" not in words
    assert "КПП" not in words


def test_the_english_act_says_the_same() -> None:
    act = make_act(**REQUISITES, vat_rate=D(20), vat_amount=D("3819.00"))
    [text] = page_texts(render(act, lang="en"))
    words = " ".join(text.split())

    assert "Contractor: Общество с ограниченной" in words
    assert "INN 7801234564, KPP 780101001, OGRN 1027700132195" in words
    assert "Basis: contract No. 15/2026 of 2026-02-01" in words
    assert "Including VAT 20%: 3,819.00 RUB" in words
    assert "Amount in words: Twenty-two thousand nine hundred fourteen roubles 00 kopecks" in words
    assert words.split("no claims")[-1].count("L.S.") == 2
    for label in ("Основание", "М.П.", "Сумма прописью", "НДС", "должность"):
        assert label not in words
    [bare] = page_texts(render(make_act(order_date=date(2026, 11, 25)), lang="en"))
    assert "Basis: order No. 24-0010-HL-KTRNG of 2026-11-25" in " ".join(bare.split())
    assert "VAT not applicable" in bare


def test_an_ogrnip_is_called_so() -> None:
    act = make_act(company_inn="500100732259", company_ogrn="304500116000157")
    words = " ".join(page_texts(render(act))[0].split())
    assert "ИНН 500100732259, ОГРНИП 304500116000157" in words


@pytest.mark.parametrize(
    ("amount", "russian", "english"),
    [
        (
            "1750.00",
            "Одна тысяча семьсот пятьдесят рублей 00 копеек",
            "One thousand seven hundred fifty roubles 00 kopecks",
        ),
        ("1", "Один рубль 00 копеек", "One rouble 00 kopecks"),
        ("2", "Два рубля 00 копеек", "Two roubles 00 kopecks"),
        ("5", "Пять рублей 00 копеек", "Five roubles 00 kopecks"),
        ("11", "Одиннадцать рублей 00 копеек", "Eleven roubles 00 kopecks"),
        ("21", "Двадцать один рубль 00 копеек", "Twenty-one roubles 00 kopecks"),
        ("22.22", "Двадцать два рубля 22 копейки", "Twenty-two roubles 22 kopecks"),
        ("112", "Сто двенадцать рублей 00 копеек", "One hundred twelve roubles 00 kopecks"),
        ("1001", "Одна тысяча один рубль 00 копеек", "One thousand one roubles 00 kopecks"),
        ("2000", "Две тысячи рублей 00 копеек", "Two thousand roubles 00 kopecks"),
        (
            "21000",
            "Двадцать одна тысяча рублей 00 копеек",
            "Twenty-one thousand roubles 00 kopecks",
        ),
        ("1000000", "Один миллион рублей 00 копеек", "One million roubles 00 kopecks"),
        ("2000000", "Два миллиона рублей 00 копеек", "Two million roubles 00 kopecks"),
        ("0.01", "Ноль рублей 01 копейка", "Zero roubles 01 kopeck"),
        ("0.02", "Ноль рублей 02 копейки", "Zero roubles 02 kopecks"),
        ("0.05", "Ноль рублей 05 копеек", "Zero roubles 05 kopecks"),
        ("0.11", "Ноль рублей 11 копеек", "Zero roubles 11 kopecks"),
        ("0.21", "Ноль рублей 21 копейка", "Zero roubles 21 kopecks"),
        (
            "13450",
            "Тринадцать тысяч четыреста пятьдесят рублей 00 копеек",
            "Thirteen thousand four hundred fifty roubles 00 kopecks",
        ),
        ("0.005", "Ноль рублей 01 копейка", "Zero roubles 01 kopeck"),  # half up
    ],
)
def test_amounts_in_words(amount: str, russian: str, english: str) -> None:
    assert amount_in_words(D(amount)) == russian
    assert amount_in_words(D(amount), lang="en") == english


def test_the_plural_rule_of_russian_nouns() -> None:
    forms = ("рубль", "рубля", "рублей")
    expected = {0: 2, 1: 0, 2: 1, 4: 1, 5: 2, 11: 2, 12: 2, 14: 2, 15: 2, 21: 0, 24: 1, 25: 2}
    expected |= {101: 0, 111: 2, 112: 2, 1001: 0, 1_000_000: 2}
    for n, form in expected.items():
        assert plural_ru(n, forms) == forms[form], n


def test_an_amount_in_another_currency_keeps_its_code() -> None:
    assert amount_in_words(D("120.5"), currency="USD") == "Сто двадцать USD 50"
