"""Screenshots of what issue 14 added to the dashboard: the company details form (at
120×40 and at 80×24, where it scrolls), with a refused value beside its field, and the
dialog that withdraws a signature. Review with ``pytest tests/tui --snapshot-report``."""

from __future__ import annotations

from textual.widgets import Input

from tests.tui.conftest import build_app, palette, settle, snap
from tests.tui.test_field_snapshots import on_tab, visit


async def _company_details(pilot) -> None:
    await palette(pilot, "Реквизиты")


async def _refused(pilot) -> None:
    pilot.app.screen.query_one("#company_inn", Input).value = "7801234565"
    pilot.app.screen.query_one("#vat_rate", Input).value = "двадцать"
    await pilot.press("ctrl+s")
    await settle(pilot)


def test_company_details(snap_compare, sqlite_demo_url):
    assert snap(snap_compare, sqlite_demo_url, _company_details, _refused)


def test_company_details_at_80x24(snap_compare, sqlite_demo_url):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await _company_details(pilot)
        await _refused(pilot)

    assert snap_compare(build_app(sqlite_demo_url), terminal_size=(80, 24), run_before=run_before)


def test_withdraw_a_signature(snap_compare, sqlite_demo_url):
    visit(sqlite_demo_url)
    assert snap(
        snap_compare, sqlite_demo_url, on_tab(sqlite_demo_url, "execution"), "x", *"забыли помпу"
    )


def test_withdraw_a_signature_at_80x24(snap_compare, sqlite_demo_url):
    visit(sqlite_demo_url)
    step = on_tab(sqlite_demo_url, "execution")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await step(pilot)
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(build_app(sqlite_demo_url), terminal_size=(80, 24), run_before=run_before)
