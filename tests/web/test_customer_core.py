"""The rules of the customer's pages that need no server: languages, plain words, the
request form's checks, photos and the logo."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from fsm_core.errors import InvalidInput
from fsm_core.services import customer_pages as cp


@pytest.mark.parametrize(
    ("header", "company", "expected"),
    [
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "en", "ru"),
        ("en-GB,en;q=0.9,ru;q=0.8", "ru", "en"),
        ("de-DE,de;q=0.9,en;q=0.5,ru;q=0.7", "en", "ru"),  # the better of the two we speak
        ("de-DE,fr;q=0.8", "en", "en"),  # neither: the company's
        ("", "", "ru"),
        (None, "en", "en"),
        ("ru;q=0,en;q=0.1", "ru", "en"),  # q=0 means "not this one"
        ("en;q=abc,ru", "en", "ru"),
    ],
)
def test_the_language_follows_the_browser_then_the_company(header, company, expected) -> None:
    assert cp.pick_language(header, company) == expected


def test_stages_in_plain_words() -> None:
    assert cp.stage_words("en_route", "active", "ru") == "Специалист в пути"
    assert cp.stage_words("repair_shop", "active", "en") == "In work"  # a company's own stage
    assert cp.stage_words("new", "new", "ru") == "Принята, ждёт назначения"
    assert cp.stage_words("closed", "closed", "en") == "Done and closed"


def test_the_request_form_is_checked_field_by_field() -> None:
    checked = cp.check_request(
        description="  Течёт  ", name="  Ольга   Смирнова ", phone="8 921 345 67 01"
    )
    assert checked == cp.Request("Течёт", "Ольга Смирнова", "+79213456701")
    assert cp.check_request(description="x", name="", phone=" ") == cp.Request("x", None, None)
    for fields, field in (
        ({"description": "", "name": None, "phone": None}, "description"),
        ({"description": "x" * 2001, "name": None, "phone": None}, "description"),
        ({"description": "x", "name": "И" * 201, "phone": None}, "name"),
        ({"description": "x", "name": None, "phone": "123"}, "phone"),
        ({"description": "a\x00b", "name": None, "phone": None}, "description"),
    ):
        with pytest.raises(InvalidInput) as caught:
            cp.check_request(**fields)
        assert caught.value.field == field


def jpeg(size=(800, 600), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, "JPEG", **save)
    return out.getvalue()


def test_a_photo_is_turned_upright_shrunk_and_stripped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the phone was held upright; the pixels lie on their side
    exif[0x8825] = {1: "N", 2: (59.0, 56.0, 1.0)}
    kept = cp.clean_photo(jpeg((4000, 3000), exif=exif))
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG"
        assert image.size == (1536, 2048)  # upright, at most 2048 a side
        assert not image.getexif()


def test_a_transparent_png_becomes_a_jpeg() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (255, 0, 0, 128)).save(out, "PNG")
    with Image.open(io.BytesIO(cp.clean_photo(out.getvalue()))) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (300, 200))


def bomb_png(width: int, height: int) -> bytes:
    """A PNG header claiming a huge picture (the pixels never come)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a but not really",
        b"%PDF-1.7\n" + b"0" * 100,
        jpeg()[:200],  # cut off
        bomb_png(30_000, 30_000),  # 900 megapixels: not decoded at all
    ],
)
def test_what_is_not_a_photo_is_refused_beside_the_field(data: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        cp.clean_photo(data)
    assert caught.value.field == "photo"


def test_a_photo_over_the_size_limit_is_refused() -> None:
    with pytest.raises(InvalidInput, match="over 10 MB") as caught:
        cp.clean_photo(b"\xff\xd8\xff" + b"\0" * cp.PHOTO_MAX_BYTES)
    assert caught.value.field == "photo"


def test_the_logo_must_be_a_png_or_a_jpeg(tmp_path) -> None:
    png = tmp_path / "logo.png"
    Image.new("RGB", (10, 10)).save(png)
    jpg = tmp_path / "logo.jpg"
    jpg.write_bytes(jpeg())
    fake = tmp_path / "fake.png"
    fake.write_text("<svg onload=alert(1)>")
    assert cp.logo_path(str(png)) == png
    assert cp.logo_path(str(jpg)) == jpg
    assert cp.logo_path(str(fake)) is None
    assert cp.logo_path(str(tmp_path / "missing.png")) is None
    assert cp.logo_path(str(tmp_path)) is None  # a folder
    assert cp.logo_path("  ") is None
