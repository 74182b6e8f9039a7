"""What the order's dialogs suggest, from the core: recorded work starts and ends at the
visit's planned time; a write-off comes from the nearest warehouse that has the item."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from fsm_core.formatting import local_time
from fsm_core.services import planning
from fsm_tui.screens.execution_forms import WorkScreen
from tests.conftest import NOW
from tests.tui.conftest import SIZE, dialog
from tests.tui.field import open_tab
from tests.tui.test_planner import TODAY

pytestmark = pytest.mark.asyncio


async def test_the_work_form_starts_with_the_visits_planned_time(app, demo_db):
    with demo_db.reader() as s:
        day = planning.schedule(s, first_day=TODAY, last_day=TODAY)
        visit = next(
            v
            for p in day.people
            for v in p.days[0].visits
            if v.end <= NOW and not v.done and v.stage_code != "new"
        )
        tz = day.tz
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(app, pilot, visit.order_id, "execution")
        form = await dialog(pilot, "w")
        assert isinstance(form, WorkScreen)
        assert form.query_one("#start", Input).value == local_time(visit.start, tz, lang="ru")
        assert form.query_one("#end", Input).value == local_time(visit.end, tz, lang="ru")
        assert "визита" in str(form.query_one("#work-window", Static).render())
