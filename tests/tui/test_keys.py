"""Keys: every binding's id shown whole on the help screen (F1), and a keymap.toml that
names an id no key has is reported on start, with its file and line."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from fsm_tui.app import read_keymap
from fsm_tui.screens.help import HelpScreen
from tests.tui.conftest import build_app, settle

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_help_shows_every_binding_id_whole(demo_url, size):
    app = build_app(demo_url)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        table = screen.query_one("#bindings", DataTable)
        ids = [table.get_row_at(i)[3] for i in range(table.row_count)]
        ids = [str(i) for i in ids]
        longest = max(len(i) for i in ids)
        column = table.ordered_columns[3]
        assert column.get_render_width(table) - 2 * table.cell_padding >= longest
        # nothing is hidden to the right: the table needs no sideways scrolling
        assert table.virtual_size.width <= table.scrollable_content_region.width
        # and the dialog fits the screen
        dialog = screen.query_one(".dialog")
        assert dialog.region.right <= size[0]


async def test_an_unknown_id_in_the_keymap_is_reported_with_its_line(demo_url, tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text(
        '# my keys\nboard.new_order = "ctrl+n"\n\n[keymap]\n"board.new_ordr" = "ctrl+o"\n'
        'planer.place = "ctrl+y"\n',
        encoding="utf-8",
    )
    keymap = read_keymap(path)
    assert keymap.lines["board.new_ordr"] == 5
    notes: list[str] = []
    app = build_app(demo_url, keymap=keymap, keymap_file=path)
    async with app.run_test(size=(120, 40)) as pilot:
        original = app.notify

        def record(message, *args, **kwargs):
            notes.append(str(message))
            return original(message, *args, **kwargs)

        app.notify = record  # type: ignore[method-assign]
        app._check_keymap()  # what on_mount did before this test could listen
        await settle(pilot)
    shown = "\n".join(notes)
    assert f"{path}:5: " in shown
    assert "«board.new_ordr»" in shown
    assert f"{path}:6: " in shown
    assert "«planer.place»" in shown
    assert "board.new_order" not in shown.replace("board.new_ordr", "")


async def test_a_good_keymap_says_nothing(demo_url, tmp_path):
    path = tmp_path / "keymap.toml"
    path.write_text('board.new_order = "ctrl+n"\n', encoding="utf-8")
    app = build_app(demo_url, keymap=read_keymap(path), keymap_file=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app._notifications
