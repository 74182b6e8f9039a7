"""The monthly management report (PDF) of the hand-computed world of
tests/core/test_analytics.py: its figures are in the text, in Russian and in English."""

from __future__ import annotations

import pytest

from fsm_core.services.analytics.monthly import management_data
from tests.core.test_analytics import MSK, NOVEMBER, Company


@pytest.fixture
def data(db, world):
    from fsm_core.services import settings

    with db.transaction() as s:
        settings.set_value(session=s, key="timezone", value="Europe/Moscow")
        settings.set_value(session=s, key="company_name", value="ООО «Сервис-Север»")
    Company(db, world)
    with db.reader() as s:
        return management_data(session=s, period=NOVEMBER)


def text_of(path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ru", ["Управленческий отчёт", "ООО «Сервис-Север»", "01.11.2026 – 30.11.2026",
                "Поступило", "Иванов К. П.", "6,0", "Оценённых заявок: 3, средняя 4,11",
                "Фреон R410A", "Склад 134", "701,00", "Кондиционер Daikin FTXB35C"]),
        ("en", ["Management report", "Received", "Петров А. С.", "5.5", "3 rated orders, mean 4.11",
                "33.3 %", "SLA by customer", "Open orders by age"]),
    ],
)  # fmt: skip
def test_the_report_carries_the_figures(data, tmp_path, lang, words):
    from fsm_core.documents.management import render_management_report

    target = tmp_path / f"report-{lang}.pdf"
    render_management_report(data, out=str(target), lang=lang, tz=MSK)
    text = " ".join(text_of(target).split())
    for word in words:
        assert word in text, word
    # the ranks "N/M" beside each figure
    assert "1/3" in text


def test_an_unknown_language_is_refused(data, tmp_path):
    from fsm_core.documents.management import render_management_report
    from fsm_core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown language"):
        render_management_report(data, out=str(tmp_path / "x.pdf"), lang="de", tz=MSK)
