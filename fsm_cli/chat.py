"""``fsm chat``: order chats (сообщения) — the team and the customer channel."""

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import MAX_INT, Json, Limit

if TYPE_CHECKING:
    from fsm_core.services.chat import MessageView

app = typer.Typer(
    no_args_is_help=True,
    help="Order chats (сообщения): team and customer channels, unread counts, live watch.",
)

Number = Annotated[str, typer.Argument(help="Order number, e.g. 26-0012.")]
ChannelOption = Annotated[
    str | None,
    typer.Option("--channel", "-c", help="team (чат с командой) or customer (чат с заказчиком)."),
]


def _channel_name(code: str) -> str:
    return {"team": _t("team", "команда"), "customer": _t("customer", "заказчик")}[code]


def _channel(value: str | None) -> Any:
    from fsm_core.services.chat import parse_channel

    return parse_channel(value) if value else None


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def _message_lines(m: "MessageView", tz: Any, *, with_order: bool = False) -> list[Any]:
    from rich.text import Text

    from fsm_core.formatting import moment

    head = Text()
    head.append(f"#{m.id} ", style="dim")
    if with_order:
        head.append(f"{m.number} ", style="bold cyan")
    head.append(
        f"[{_channel_name(m.channel)}] ",
        style="magenta" if m.channel == "customer" else "blue",
    )
    head.append(moment(m.created_at, tz, lang=STATE.language) + "  ", style="dim")
    head.append(m.author, style="bold")
    lines = [head]
    if m.forwarded_from:
        f = m.forwarded_from
        lines.append(
            Text(
                "  ↪ "
                + _t("forwarded from ", "пересланное от ")
                + f"{f['author']}, {f['number']} ({_channel_name(f['channel'])})",
                style="italic dim",
            )
        )
    for part in (m.text or "").splitlines() or ([""] if not m.attachments else []):
        lines.append(Text("  " + part))
    for a in m.attachments:
        lines.append(
            Text(f"  📎 {a['name']} ({_size(a['size'])}, #{a['id']})", style="dim"),
        )
    return lines


def _print_messages(messages: list["MessageView"], tz: Any, *, with_order: bool) -> None:
    console = output.console()
    for m in messages:
        for line in _message_lines(m, tz, with_order=with_order):
            console.print(line)


def _json_messages(messages: list["MessageView"]) -> list[dict[str, Any]]:
    return [m.as_dict() for m in messages]


@app.command("list")
def list_(
    unread_only: Annotated[
        bool, typer.Option("--unread", help="Only chats with messages you have not read.")
    ] = False,
    limit: Limit = 50,
    json_: Json = False,
) -> None:
    """Orders with chats, latest conversation first, with your unread counts."""
    from rich.text import Text

    from fsm_core.formatting import moment
    from fsm_core.services import chat

    user = STATE.app_user()
    with STATE.reader() as session:
        rows = chat.chat_list(
            session=session, user=user, unread_only=unread_only, limit=limit or None
        )
        total = chat.unread(session=session, user=user)
        tz = company(session).tz
    if json_:
        output.emit_json(rows)
        return
    body = []
    for r in rows:
        unread = Text(chat.badge(r["unread"]), style="bold red") if r["unread"] else Text("")
        body.append(
            [
                r["number"],
                unread,
                r["customer"],
                r["object"] or "",
                moment(r["last_at"], tz, lang=STATE.language),
                f"{r['last_author']} [{_channel_name(r['last_channel'])}]",
                " ".join(r["last_text"].split()) or "📎",
            ]
        )
    squeeze = {"squeeze": True}
    badge = chat.badge(total.total) or "0"
    output.table(
        [
            (_t("Order", "Заявка"), {"no_wrap": True, "style": "bold"}),
            (_t("Unread", "Новые"), {"justify": "right"}),
            (_t("Customer", "Заказчик"), {**squeeze, "max_width": 20}),
            (_t("Object", "Объект"), {**squeeze, "max_width": 22}),
            (_t("Last", "Последнее"), {"no_wrap": True}),
            (_t("From", "От"), {**squeeze, "max_width": 26}),
            (_t("Message", "Сообщение"), squeeze),
        ],
        body,
        title=f"{_t('Messages', 'Сообщения')} {badge}  ({user.display_name})",
    )


@app.command("show")
def show(
    number: Number,
    channel: ChannelOption = None,
    keep_unread: Annotated[
        bool, typer.Option("--keep-unread", help="Do not mark the messages as read.")
    ] = False,
    json_: Json = False,
) -> None:
    """An order's chat in time order (both channels unless --channel); marks it read."""
    from fsm_core.services import chat, lookup

    user = STATE.app_user()
    wanted = _channel(channel)
    with STATE.reader() as session:
        order = lookup.resolve_order(session=session, ref=number)
        messages = chat.messages(session=session, order_id=order.id, user=user, channel=wanted)
        tz = company(session).tz
        order_id, order_number = order.id, order.number
        elsewhere = _in_other_channel(session, order_id, user, wanted) if not messages else 0
    if not keep_unread:
        with STATE.transaction() as session:
            chat.mark_read(session=session, user=user, order_id=order_id, channel=wanted)
    if json_:
        output.emit_json(_json_messages(messages))
        return
    if not messages:
        output.done(_empty_chat(order_number, wanted, elsewhere))
        return
    from rich.text import Text

    output.console().print(Text(order_number, style="bold"))
    _print_messages(messages, tz, with_order=False)


def _in_other_channel(session: Any, order_id: int, user: Any, wanted: Any) -> int:
    """How many messages the other channel holds (that this user may read)."""
    from fsm_core.errors import FsmError
    from fsm_core.models import Channel
    from fsm_core.services import chat

    if wanted is None:
        return 0
    other = Channel.TEAM if wanted == Channel.CUSTOMER else Channel.CUSTOMER
    try:
        return len(chat.messages(session=session, order_id=order_id, user=user, channel=other))
    except FsmError:  # not this user's to read
        return 0


def _empty_chat(number: str, wanted: Any, elsewhere: int) -> str:
    """'No messages' that says which channel is empty, and what the other one holds."""
    if wanted is None:
        return _t(f"No messages on {number} yet.", f"В заявке {number} сообщений нет.")
    customer = wanted.value == "customer"
    text = _t(
        f"The {'customer' if customer else 'team'} channel of {number} has no messages",
        f"В {'чате с заказчиком' if customer else 'чате с командой'} заявки {number} сообщений нет",
    )
    if elsewhere:
        text += _t(
            f" (the {'team' if customer else 'customer'} channel has {elsewhere}).",
            f" (в {'чате с командой' if customer else 'чате с заказчиком'}: {elsewhere}).",
        )
    else:
        text += "."
    return text


@app.command("read")
def read(number: Number, channel: ChannelOption = None) -> None:
    """Mark an order's chat as read."""
    from fsm_core.services import chat, lookup

    user = STATE.app_user()
    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        count = chat.mark_read(
            session=session, user=user, order_id=order.id, channel=_channel(channel)
        )
    output.done(_t(f"{count} message(s) marked read.", f"Прочитано сообщений: {count}."))


@app.command("send")
def send(
    number: Number,
    text: Annotated[str, typer.Argument(help="The message; '-' reads it from standard input.")],
    channel: ChannelOption = None,
    also_customer: Annotated[
        bool,
        typer.Option(
            "--also-customer", help="Also send it to the customer chat (также заказчику)."
        ),
    ] = False,
    attach: Annotated[
        list[str] | None, typer.Option("--attach", "-a", help="A file to attach; repeatable.")
    ] = None,
    json_: Json = False,
) -> None:
    """Write to an order's chat (the team channel unless --channel customer)."""
    from fsm_core.services import chat, lookup

    if text == "-":
        text = sys.stdin.read()
    user = STATE.app_user()
    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        written = chat.send_message(
            session=session,
            order_id=order.id,
            user=user,
            text=text,
            channel=_channel(channel) or "team",
            also_customer=also_customer,
            files=list(attach or []),
        )
        ids = [m.id for m in written]
        channels = [m.channel for m in written]
        order_number = order.number
    if json_:
        output.emit_json({"order": order_number, "ids": ids, "channels": channels})
        return
    output.plain(" ".join(str(i) for i in ids))
    where = ", ".join(_channel_name(c) for c in channels)
    output.done(_t(f"Sent to {order_number} ({where}).", f"Отправлено в {order_number} ({where})."))


@app.command("forward")
def forward(
    message: Annotated[
        int, typer.Argument(min=1, max=MAX_INT, help="The message #id (fsm chat show).")
    ],
    number: Number,
    channel: ChannelOption = None,
    json_: Json = False,
) -> None:
    """Forward a message (and its files) to a channel of this or another order."""
    from fsm_core.services import chat, lookup

    user = STATE.app_user()
    with STATE.transaction() as session:
        order = lookup.resolve_order(session=session, ref=number)
        copy = chat.forward_message(
            session=session,
            message_id=message,
            order_id=order.id,
            user=user,
            channel=_channel(channel) or "team",
        )
        copy_id, order_number, target = copy.id, order.number, copy.channel
    if json_:
        output.emit_json({"id": copy_id, "order": order_number, "channel": target})
        return
    output.plain(str(copy_id))
    output.done(
        _t(
            f"Forwarded #{message} to {order_number} ({_channel_name(target)}).",
            f"Сообщение #{message} переслано в {order_number} ({_channel_name(target)}).",
        )
    )


@app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words to find (case- and ё-insensitive).")],
    order: Annotated[str | None, typer.Option("--order", help="Only in this order.")] = None,
    limit: Limit = 50,
    json_: Json = False,
) -> None:
    """Find messages across every chat you can read, newest first."""
    from fsm_core.services import chat, lookup

    user = STATE.app_user()
    with STATE.reader() as session:
        order_id = lookup.resolve_order(session=session, ref=order).id if order else None
        found = chat.search(
            session=session, user=user, text=text, order_id=order_id, limit=limit or 50
        )
        tz = company(session).tz
    if json_:
        output.emit_json(_json_messages(found))
        return
    if not found:
        output.done(_t("Nothing found.", "Ничего не найдено."))
        return
    _print_messages(found, tz, with_order=True)


@app.command("attachment")
def attachment(
    attachment_id: Annotated[
        int, typer.Argument(min=1, max=MAX_INT, help="The attachment #id (fsm chat show).")
    ],
    out: Annotated[str, typer.Option("--output", "-o", help="File or folder to save it to.")],
) -> None:
    """Save a message's attachment to a file."""
    from fsm_core import attachments
    from fsm_core.services import chat

    user = STATE.app_user()
    with STATE.reader() as session:
        found = chat.attachment(session=session, attachment_id=attachment_id, user=user)
        target = attachments.copy_out(session, found, out)
    output.done(str(target))


@app.command("watch")
def watch(
    order: Annotated[str | None, typer.Option("--order", help="Only this order.")] = None,
    channel: ChannelOption = None,
    count: Annotated[
        int,
        typer.Option(
            "--count", min=0, max=MAX_INT, help="Stop after this many messages (0: never)."
        ),
    ] = 0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Stop after this many seconds (0: never).")
    ] = 0,
    json_: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print new messages as they arrive (from any process), until Ctrl-C."""
    import time

    from fsm_core import live
    from fsm_core.services import chat, lookup

    user = STATE.app_user()
    wanted = _channel(channel)
    database = STATE.database()
    with STATE.reader() as session:
        order_id = lookup.resolve_order(session=session, ref=order).id if order else None
        tz = company(session).tz
        last_id = chat.last_message_id(session=session)
    shown = 0
    deadline = time.monotonic() + timeout if timeout else None
    try:
        with live.subscribe(database) as subscription:
            output.done(  # on stderr, once listening: scripts may wait for this line
                _t(
                    "Watching for new messages (Ctrl-C stops)...",
                    "Жду новые сообщения (Ctrl-C — выход)...",
                )
            )
            while True:
                wait = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
                changes = [c for c in subscription.poll(wait) if c.kind == "message"]
                if changes:
                    with STATE.reader() as session:
                        known = [c.ids for c in changes]
                        if all(ids is not None for ids in known):
                            ids = sorted({i for group in known for i in group or ()})
                            fresh = chat.messages_by_id(session=session, ids=ids, user=user)
                        else:
                            fresh = chat.messages_after(
                                session=session, after_id=last_id, user=user
                            )
                    for m in fresh:
                        last_id = max(last_id, m.id)
                        if order_id is not None and m.order_id != order_id:
                            continue
                        if wanted is not None and m.channel != wanted.value:
                            continue
                        if json_:
                            output.emit_lines([m.as_dict()])
                        else:
                            _print_messages([m], tz, with_order=True)
                        sys.stdout.flush()
                        shown += 1
                        if count and shown >= count:
                            return
                if deadline is not None and time.monotonic() >= deadline:
                    return
    except KeyboardInterrupt:
        return
