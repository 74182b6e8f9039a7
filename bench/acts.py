"""How fast are acts of completed works, against bare reportlab drawing the same content?

Renders N acts (default 1,000) of one work block with 6 lines each (Cyrillic names) two
ways:

  separate:  one PDF file per act into a temporary directory (``render_act``)
  combined:  all acts in one PDF (``render_acts``)

and, in the same run, a bare reportlab reference written the same two ways: a
SimpleDocTemplate with the act's header text as Paragraphs and the same 6-line table
(plain-string cells, repeatRows=1), in the same embedded DejaVu fonts, plus, for signed
acts, the same signature PNG as a platypus Image. The reference has no per-act page
numbering, facts layout or signature lines: it is the floor of what any reportlab act
costs. Prints acts per second for each and the ratio ours / bare (goal: at least 0.8).
Figures only; nothing here asserts a time.

Both variants run by default: acts signed by the customer (each with a different
600 x 200 RGBA PNG, as a phone's signature pad sends it) and unsigned acts.

    python bench/acts.py                      # 1,000 acts, signed and unsigned
    python bench/acts.py --count 200          # quicker
    python bench/acts.py --variant unsigned   # one variant only

Ours and the reference run interleaved in rounds, so that the machine's noise (other
processes, CPU frequency) falls on both alike; the figures are totals over all rounds.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import reportlab  # noqa: E402
from reportlab import rl_config  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from fsm_core.documents.act import (  # noqa: E402
    ActBlock,
    ActDocument,
    ActLine,
    render_act,
    render_acts,
)
from fsm_core.documents.fonts import register_fonts  # noqa: E402

TZ = ZoneInfo("Europe/Moscow")
ROUNDS = 4

WORKS = [
    ("Чистка радиатора испарителя", Decimal("3500.00")),
    ("Заправка хладагентом R410A", Decimal("2500.00")),
    ("Замена дренажной помпы", Decimal("1800.00")),
    ("Диагностика холодильного контура", Decimal("1500.00")),
]
MATERIALS = [
    ("Фреон R410A", "кг", Decimal("1200.00"), Decimal("0.8")),
    ("Дренажная помпа ASPEN MAXI ORANGE", "шт", Decimal("8954.00"), Decimal("1")),
    ("Фильтр-осушитель Danfoss DML 053", "шт", Decimal("1450.00"), Decimal("1")),
    ("Теплоизоляция K-Flex 9 мм", "м", Decimal("85.50"), Decimal("3")),
]
PEOPLE = ["Иванов К. П.", "Петров С. А.", "Сидоров Н. В.", "Кузнецова Е. М."]
CUSTOMERS = [
    ("ООО «Ромашка»", "7701234567", "115280, г. Москва, ул. Автозаводская, д. 23, офис 14"),
    ("АО «Северный склад»", "7812345678", "196084, г. Санкт-Петербург, Лиговский пр., д. 266"),
    ("ИП Смирнова О. Л.", "503612345678", "141400, г. Химки, ул. Ленинградская, д. 4"),
]


def signature(rng: random.Random) -> bytes:
    """A different scribble per act, as a phone's signature pad sends it (RGBA PNG)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    points = [(20 + i * 56, rng.randint(30, 170)) for i in range(11)]
    ImageDraw.Draw(image).line(points, fill=(20, 30, 120, 255), width=6)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_acts(count: int, *, signed: bool) -> list[ActDocument]:
    rng = random.Random(42)
    acts = []
    for n in range(count):
        work, work_price = WORKS[n % len(WORKS)]
        who = PEOPLE[n % len(PEOPLE)]
        hours = Decimal(rng.choice(["1", "1.5", "2", "2.5", "3"]))
        lines = [
            ActLine(work, Decimal(1), "усл.", work_price, work_price, "work"),
            ActLine(f"Работа: {who}", hours, "ч", Decimal("1750.00"), hours * 1750, "labour"),
        ]
        for name, unit, price, qty in MATERIALS:
            lines.append(
                ActLine(name, qty, unit, price, (price * qty).quantize(Decimal("0.01")), "material")
            )
        subtotal = sum((line.amount for line in lines), Decimal(0))
        start = datetime(2026, 11, 2, 6, 0, tzinfo=UTC) + timedelta(hours=5 * n)
        block = ActBlock(
            work, None, None, start, start + timedelta(hours=2), (who,), tuple(lines), subtotal
        )
        customer, inn, address = CUSTOMERS[n % len(CUSTOMERS)]
        acts.append(
            ActDocument(
                act_number=f"А-{n + 1:05d}",
                act_date=start.date(),
                order_number=f"24-{n + 1:04d}-HL-KTRNG",
                company_name="ООО «Холод-Сервис»",
                company_phone="+7 (495) 123-45-67",
                customer_name=customer,
                customer_inn=inn,
                customer_address=address,
                object_name="Кондиционер Daikin FTXB35C",
                object_address="г. Москва, ул. Ленина, д. 10, стр. 2",
                description="Прекращается ток воздуха из устройства",
                blocks=(block,),
                total=subtotal,
                executors=(who,),
                comment="Рекомендована повторная чистка через 6 месяцев.",
                signer_name="Сидорова А. В." if signed else None,
                signed_at=start + timedelta(hours=2, minutes=5) if signed else None,
                signature_image=signature(rng) if signed else None,
            )
        )
    return acts


# ---- the bare reportlab reference ---------------------------------------------------------


def _num(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")


class Bare:
    """The same header text, 6-line table and signature in plain platypus, styles built once."""

    def __init__(self) -> None:
        regular, bold = register_fonts()
        self.body = ParagraphStyle("b", fontName=regular, fontSize=9, leading=11.5)
        self.head = ParagraphStyle("h", fontName=bold, fontSize=12, leading=15)
        self.title = ParagraphStyle("t", fontName=bold, fontSize=13, leading=17, alignment=1)
        self.table = TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 8.5),
                ("FONT", (0, 0), (-1, 0), bold, 8),
                ("GRID", (0, 0), (-1, -1), 0.5, "#9AA0A6"),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
            ]
        )
        self.widths = (8 * mm, 89 * mm, 16 * mm, 12 * mm, 24 * mm, 26 * mm)

    def story(self, act: ActDocument) -> list:
        block = act.blocks[0]
        rows = [["№", "Наименование", "Кол-во", "Ед.", "Цена, ₽", "Сумма, ₽"]]
        for i, line in enumerate(block.lines, start=1):
            quantity = str(line.quantity).replace(".", ",")
            rows.append(
                [str(i), line.name, quantity, line.unit, _num(line.price), _num(line.amount)]
            )
        rows.append(["", "Итого по работе:", "", "", "", _num(block.subtotal)])
        story = [
            Paragraph(act.company_name, self.head),
            Paragraph(f"Тел.: {act.company_phone}", self.body),
            Paragraph(
                f"Акт выполненных работ № {act.act_number} от {act.act_date:%d.%m.%Y}",
                self.title,
            ),
            Paragraph(f"Заказ: № {act.order_number}", self.body),
            Paragraph(f"Заказчик: {act.customer_name}, ИНН {act.customer_inn}", self.body),
            Paragraph(f"Адрес заказчика: {act.customer_address}", self.body),
            Paragraph(f"Объект: {act.object_name}", self.body),
            Paragraph(f"Адрес объекта: {act.object_address}", self.body),
            Paragraph(f"Описание заявки: {act.description}", self.body),
            Paragraph(f"1. {block.work_type}", self.head),
            Table(rows, colWidths=self.widths, style=self.table, repeatRows=1),
            Paragraph(f"Итого к оплате: {_num(act.total)} ₽", self.head),
        ]
        if act.signature_image:
            story.append(Image(io.BytesIO(act.signature_image), 39 * mm, 13 * mm))
        return story

    def one(self, act: ActDocument, path: Path) -> None:
        SimpleDocTemplate(str(path), pagesize=A4).build(self.story(act))

    def many(self, acts: list[ActDocument], path: Path) -> None:
        story: list = []
        for act in acts:
            if story:
                story.append(PageBreak())
            story.extend(self.story(act))
        SimpleDocTemplate(str(path), pagesize=A4).build(story)


# ---- timing ------------------------------------------------------------------------------


def measure(acts: list[ActDocument], bare: Bare, out: Path) -> dict[str, float]:
    """Seconds spent by each of the four ways, interleaved over ROUNDS rounds."""
    chunks = [acts[i::ROUNDS] for i in range(ROUNDS)]
    spent = {"ours_sep": 0.0, "bare_sep": 0.0, "ours_one": 0.0, "bare_one": 0.0}
    for round_, chunk in enumerate(chunks):
        t = time.perf_counter()
        for act in chunk:
            render_act(act, out=out / f"act-{act.act_number}.pdf", tz=TZ)
        spent["ours_sep"] += time.perf_counter() - t

        t = time.perf_counter()
        for act in chunk:
            bare.one(act, out / f"bare-{act.act_number}.pdf")
        spent["bare_sep"] += time.perf_counter() - t

        t = time.perf_counter()
        render_acts(chunk, out=out / f"acts-{round_}.pdf", tz=TZ)
        spent["ours_one"] += time.perf_counter() - t

        t = time.perf_counter()
        bare.many(chunk, out / f"bare-all-{round_}.pdf")
        spent["bare_one"] += time.perf_counter() - t
    return spent


def report(title: str, count: int, spent: dict[str, float], out: Path) -> None:
    rate = {key: count / seconds for key, seconds in spent.items()}
    size_ours = sum(p.stat().st_size for p in out.glob("act-*.pdf")) / count / 1024
    size_bare = sum(p.stat().st_size for p in out.glob("bare-А*.pdf")) / count / 1024
    print(title)
    print(f"  {'':30}{'ours':>9}{'bare':>9}{'ours/bare':>11}")
    for label, ours, base in (
        ("separate files, acts/s", "ours_sep", "bare_sep"),
        ("one combined PDF, acts/s", "ours_one", "bare_one"),
    ):
        ratio = rate[ours] / rate[base]
        print(f"  {label:30}{rate[ours]:9.1f}{rate[base]:9.1f}{ratio:11.2f}")
    for label, ours, base in (
        ("separate files, ms/act", "ours_sep", "bare_sep"),
        ("one combined PDF, ms/act", "ours_one", "bare_one"),
    ):
        print(f"  {label:30}{1000 / rate[ours]:9.2f}{1000 / rate[base]:9.2f}")
    print(f"  {'file size per act, KB':30}{size_ours:9.1f}{size_bare:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="acts per way (default 1000)")
    parser.add_argument(
        "--variant",
        choices=("signed", "unsigned", "both"),
        default="both",
        help="acts with a captured signature, without, or both (default)",
    )
    args = parser.parse_args()
    count = max(args.count, ROUNDS)
    variants = ("signed", "unsigned") if args.variant == "both" else (args.variant,)

    bare = Bare()
    print(
        f"{count} acts of 1 block x 6 lines, {ROUNDS} interleaved rounds; "
        f"reportlab {reportlab.Version}, useA85={rl_config.useA85}"
    )
    for variant in variants:
        acts = make_acts(count, signed=variant == "signed")
        with tempfile.TemporaryDirectory(prefix="fsm-acts-") as tmp:
            out = Path(tmp)
            # warm-up, not timed: imports, font parsing, Babel's locale data
            render_act(acts[0], out=out / "warm.pdf", tz=TZ)
            bare.one(acts[0], out / "warm-bare.pdf")
            spent = measure(acts, bare, out)
            report(f"{variant} acts:", count, spent, out)
    print("goal: ours/bare >= 0.80 both ways")


if __name__ == "__main__":
    main()
