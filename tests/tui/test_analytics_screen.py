"""The dashboard's Analytics (F8, or the command palette): last month's employees with
their ranks, sorted by any metric, month by month, and an employee's card."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Static

from fsm_tui.screens import analytics as analytics_screen
from fsm_tui.screens.analytics import AnalyticsScreen, EmployeeCard
from fsm_tui.widgets.line_table import LineTable
from tests.tui.conftest import SIZE, build_app, palette, screen_text, settle, wait_until


def _lines(app) -> list[tuple]:
    return [line.cells for line in app.screen.query_one("#analytics-lines", LineTable).lines]


def _text(cell) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


@pytest.mark.asyncio
async def test_last_months_employees_ranked_sorted_and_their_card(demo_url):
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(_lines(app)), what="the employees")
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        box = screen.query_one(".analytics")
        assert "01.10.2026 – 31.10.2026" in str(box.border_subtitle)  # "now" is 26.11.2026
        lines = _lines(app)
        m = screen.page.report.ranked_of
        assert len([c for c in lines if _text(c[1]).endswith(f"/{m}")]) == m
        closed = [int(_text(c[1]).split()[0]) for c in lines[:m]]
        assert closed == sorted(closed, reverse=True)  # by closed orders, most first
        await pilot.press("s")  # by SLA violations: the rank column goes 1, ... up
        await settle(pilot)
        ranks = [int(_text(c[2]).split()[-1].split("/")[0]) for c in _lines(app)[:m]]
        assert ranks == sorted(ranks)
        first = _text(_lines(app)[0][0])
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, EmployeeCard)
        card = str(app.screen.query_one("#employee-card-text", Static).render())
        assert "Closed orders" in card
        assert f"of {m})" in card
        assert first.split()[0] in card
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AnalyticsScreen)
        await pilot.press("left_square_bracket")
        await wait_until(
            pilot,
            lambda: "01.09.2026 – 30.09.2026" in str(box.border_subtitle),
            what="September",
        )
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, AnalyticsScreen)


@pytest.mark.asyncio
async def test_the_chart_is_drawn_before_the_employees_are_read(demo_url, monkeypatch):
    """The employees' figures (seconds on a big month, in Python) are read once the chart
    is on the screen, not while it is being drawn."""
    from fsm_core.services import analytics

    seen: list[bool] = []
    report = analytics.employee_report

    def recording(**kwargs):
        seen.append(isinstance(app.screen, AnalyticsScreen) and app.screen._chart_shown.is_set())
        return report(**kwargs)

    monkeypatch.setattr(analytics, "employee_report", recording)
    # the order is what is tested, not how long a loaded host takes to draw: the wait's
    # bound (one second) is only a guard against a chart that never comes
    monkeypatch.setattr(analytics_screen, "CHART_WAIT", 60.0)
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(_lines(app)), what="the employees")
        shown = screen_text(app)
    assert seen == [True]
    assert "received" in shown


@pytest.mark.asyncio
async def test_f8_opens_the_section_with_the_chart_in_its_first_frame(demo_url, monkeypatch):
    """The chart's figures are read before the screen is pushed, so its first frame has
    the chart; the employees come after."""
    from fsm_tui.app import FsmApp
    from fsm_tui.screens import analytics as section

    pushed: list[object] = []
    push = FsmApp.push_screen

    def recording(self, screen, *args, **kwargs):
        if isinstance(screen, AnalyticsScreen):
            pushed.append(screen.head)  # the chart, drawn already
        return push(self, screen, *args, **kwargs)

    monkeypatch.setattr(FsmApp, "push_screen", recording)
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: bool(_lines(app)), what="the employees")
        await pilot.press("f8")  # open already: nothing more
        await settle(pilot)
        days = app.screen.page.days
    [chart] = pushed
    assert chart.days == days  # the same figures the chart shows with the table
    assert len(chart._drawn) == 1  # drawn ahead at the width it was painted at
    assert section.HEAD_START_WAIT < 0.5


@pytest.mark.asyncio
async def test_a_slow_read_opens_the_section_without_the_chart_then_draws_it(demo_url, monkeypatch):
    """The figures late (a busy database): the screen opens after HEAD_START_WAIT and the
    chart comes when they do."""
    import time

    from fsm_core.services import analytics
    from fsm_tui.screens import analytics as section

    counts = analytics.daily_counts

    def slow(**kwargs):
        time.sleep(section.HEAD_START_WAIT * 3)
        return counts(**kwargs)

    monkeypatch.setattr(analytics, "daily_counts", slow)
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, AnalyticsScreen), what="screen")
        assert app.screen.head is None
        await wait_until(pilot, lambda: bool(_lines(app)), what="the employees")
        await settle(pilot)
        assert "received" in screen_text(app)


@pytest.mark.asyncio
async def test_the_chart_library_is_imported_ahead_off_the_screen_thread(demo_url, monkeypatch):
    """Once the dashboard is up it imports what the chart is drawn with, in a thread, so
    that the section's first open does not wait for it."""
    from fsm_tui.screens import analytics as screen

    calls: list[bool] = []
    monkeypatch.setattr(
        screen,
        "warm_up",
        lambda: calls.append(threading.current_thread() is threading.main_thread()),
    )
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.reload_catalog()  # a catalog read again warms nothing again
        await settle(pilot)
    assert calls == [False]


@pytest.mark.asyncio
async def test_the_palette_opens_it(demo_url):
    app = build_app(demo_url, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette(pilot, "analytics")
        assert isinstance(app.screen, AnalyticsScreen)


def test_the_analytics_section_snapshot(snap_compare, sqlite_demo_url):
    from tests.tui.conftest import snap

    assert snap(snap_compare, sqlite_demo_url, "f8")


def test_the_employee_card_snapshot(snap_compare, sqlite_demo_url):
    from tests.tui.conftest import snap

    assert snap(snap_compare, sqlite_demo_url, "f8", "enter")
