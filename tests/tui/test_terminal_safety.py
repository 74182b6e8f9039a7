"""The dashboard draws text from data as text: a description or a chat message carrying
ESC, OSC, CSI or C1 controls is shown with visible signs, never sent to the terminal as a
command (one description used to blank the board on every repaint)."""

from __future__ import annotations

import pytest

from fsm_core import clock
from fsm_core.models import Channel
from fsm_core.services import chat, lookup, orders, users
from fsm_tui.safe_text import ControlCharacters
from tests.conftest import NOW
from tests.tui.conftest import SIZE, USER, build_app, settle

HOSTILE = (
    "Экран \x1b[2J\x1b[H стёрт \x1b]0;PWNED\x07 \x9b31m C1 [bold red]markup[/] [/] "
    "[link=http://evil.example]x[/link]"
)
COMMANDS = ("\x1b[2J", "\x1b]0;PWNED", "\x9b31m", "\x1b[H")


def terminal_output(app) -> str:
    """What the terminal would receive for the whole screen: Textual's own escapes
    (colours, cursor moves) and the text, after every line filter."""
    return app.screen._compositor.render_update(full=True).render_segments(app.console)


def seed(db):
    with clock.frozen(NOW), db.transaction() as s:
        obj = lookup.resolve_object(session=s, ref="СМТ-000114")
        order = orders.create_order(
            session=s,
            data={"customer_id": obj.customer_id, "object_id": obj.id, "description": HOSTILE},
            actor=USER,
        )
        author = users.find_user(session=s, name=USER)
        chat.send_message(
            session=s, order_id=order.id, user=author, channel=Channel.TEAM, text=HOSTILE
        )
        return order.number


def test_the_filter_keeps_the_width_and_shows_every_control():
    from rich.segment import Segment
    from textual.color import Color

    line = [Segment("ab\x1b[2Jcd"), Segment("\x9b1m", None), Segment("ef")]
    shown = ControlCharacters().apply(line, Color(0, 0, 0))
    text = "".join(s.text for s in shown)
    assert "\x1b" not in text
    assert "\x9b" not in text
    assert text.startswith("ab␛[2Jcd")
    assert len(text) == len("ab[2Jcd1mef")  # the signs take no more room than the line had
    plain = [Segment("обычная строка")]
    assert ControlCharacters().apply(plain, Color(0, 0, 0)) is plain


@pytest.mark.asyncio
async def test_hostile_text_never_reaches_the_terminal(demo_url, demo_db):
    number = seed(demo_db)
    app = build_app(demo_url)  # after the seed: the board's first page is read at start
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board_output = terminal_output(app)
        await pilot.press("enter")  # the order of the top row: the hostile one
        await settle(pilot)
        order_output = terminal_output(app)
        await pilot.press("5")  # its messages
        await settle(pilot)
        chat_output = terminal_output(app)
    for where, output in (("board", board_output), ("order", order_output), ("chat", chat_output)):
        for command in COMMANDS:
            assert command not in output, (where, command)
        assert "\x1b]8;" not in output, where  # the markup made no hyperlink
    assert "␛[2J" in board_output, board_output[board_output.find("Экран") - 50 :][:300]
    assert number in order_output
    assert "␛]0;PWNED" in chat_output
    assert "[bold red]markup[/]" in order_output  # read as text, not as markup
