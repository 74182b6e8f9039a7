"""How fast are QR label sheets made, and does every code on them scan?

Renders ``--count`` labels (1,000 by default) on A4 3 × 8 sheets twice, interleaved run by
run so that the machine's noise hits both alike:

  fixed:      the QR mask fixed (``qr.LABEL_MASK``), as ``render_labels`` does by default
  automatic:  segno's own choice of the best of eight masks per code (the reference)

and prints the best and median wall time of each and their ratio (goal: fixed under 3 s for
1,000 labels). Then it renders every page of each PDF at 150 dpi with pypdfium2, decodes it
with zxing-cpp (a decoder independent of segno) and prints the share of labels whose code
decoded to their own URL inside their own cell of the grid (goal: 100 %).

    python bench/labels.py                 # 1,000 labels, 3 runs each
    python bench/labels.py --count 240 --runs 5

It prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fsm_core.documents.labels import LAYOUTS, LabelData, render_labels  # noqa: E402
from fsm_core.documents.qr import LABEL_MASK  # noqa: E402

OBJECTS = (
    "Кондиционер Daikin FTXB35C (торговый зал)",
    "Сплит-система Mitsubishi Electric MSZ-LN25VGW (кабинет директора)",
    "Котёл газовый Viessmann Vitopend 100-W 24 кВт",
    "Холодильная витрина Ариада «Рио» № 3",
    "Приточная установка П1",
    "Щит ВРУ-1",
    "Чиллер Carrier 30RB-0262",
    "Тепловая завеса Тепломаш КЭВ-9П",
)
CUSTOMERS = (
    "ООО «СМ-Трейд»",
    "АО «Невский берег»",
    "ГБУЗ «Городская поликлиника № 17»",
    "ИП Смирнова Анна Сергеевна",
    None,
)
ADDRESSES = (
    "Санкт-Петербург, Невский пр., 114",
    "Санкт-Петербург, ул. Савушкина, д. 141, лит. А, пом. 2-Н",
    "Ленинградская обл., г. Мурино, ул. Шувалова, д. 11, корп. 2",
    None,
)
TOKEN_CHARS = string.ascii_letters + string.digits + "-_"


def make_labels(count: int, seed: int = 7) -> list[LabelData]:
    """``count`` realistic labels; links as the product makes them (22-character tokens)."""
    rng = random.Random(seed)
    return [
        LabelData(
            url="https://fsm.example/p/" + "".join(rng.choices(TOKEN_CHARS, k=22)),
            title=rng.choice(OBJECTS),
            customer=rng.choice(CUSTOMERS),
            address=rng.choice(ADDRESSES),
            inventory_number=f"СМТ-{i:06d}" if i % 7 else None,
            company_phone="+7 812 600-10-10",
        )
        for i in range(count)
    ]


def decoded_share(path: Path, labels: list[LabelData], *, dpi: int = 150) -> tuple[int, int]:
    """(labels decoded to their own URL inside their own cell, pages) for the PDF at ``path``."""
    import pypdfium2
    import zxingcpp

    layout = LAYOUTS["a4-3x8"]
    scale = dpi / 72
    good = 0
    pdf = pypdfium2.PdfDocument(path)
    try:
        for page_number, page in enumerate(pdf):
            image = page.render(scale=scale).to_pil().convert("L")
            height = image.height
            first = page_number * layout.per_page
            for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
                points = (code.position.top_left, code.position.bottom_right)
                cx = sum(p.x for p in points) / 2 / scale
                cy = (height - sum(p.y for p in points) / 2) / scale
                for position in range(layout.per_page):
                    x, y, w, h = layout.cell(position)
                    index = first + position
                    if x <= cx <= x + w and y <= cy <= y + h and index < len(labels):
                        good += code.text == labels[index].url
                        break
        return good, len(pdf)
    finally:
        pdf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="labels to render (1000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each variant (3)")
    args = parser.parse_args()

    labels = make_labels(args.count)
    render_labels(labels[:24], layout="a4-3x8", out=io.BytesIO())  # fonts, imports: not timed
    variants = {"fixed": LABEL_MASK, "automatic": None}
    times: dict[str, list[float]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"labels-{name}.pdf" for name in variants}
        for _ in range(args.runs):
            for name, mask in variants.items():
                started = time.perf_counter()
                render_labels(labels, layout="a4-3x8", out=paths[name], mask=mask)
                times[name].append(time.perf_counter() - started)

        print(f"{args.count} labels on A4 3 x 8 sheets, {args.runs} runs each")
        for name, mask in variants.items():
            size = paths[name].stat().st_size
            print(
                f"  {name:<9} mask={mask!s:<4}  best {min(times[name]):.3f} s, "
                f"median {statistics.median(times[name]):.3f} s, "
                f"{min(times[name]) / args.count * 1000:.2f} ms/label, {size / 1024:.0f} KiB"
            )
        ratio = min(times["automatic"]) / min(times["fixed"])
        print(f"  automatic / fixed (best times): {ratio:.2f}")

        for name in variants:
            started = time.perf_counter()
            good, pages = decoded_share(paths[name], labels)
            took = time.perf_counter() - started
            print(
                f"  decoded at 150 dpi ({name}): {good}/{len(labels)} = "
                f"{good / len(labels):.1%} on {pages} pages ({took:.1f} s to check)"
            )
    layout = LAYOUTS["a4-3x8"]
    print(f"  label {layout.label_width} x {layout.label_height} mm, QR {layout.qr_side} mm square")


if __name__ == "__main__":
    main()
