"""``fsm ratings``: the customers' ratings of finished orders (оценки) — promptness,
accuracy and communication, 1–5 each, their mean, and the customer's comment."""

from typing import TYPE_CHECKING, Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import Json, JsonLines, Limit, UntilDay

if TYPE_CHECKING:
    from decimal import Decimal

app = typer.Typer(no_args_is_help=True)


@app.callback()
def main() -> None:
    """Customers' ratings of finished orders (оценки): promptness, accuracy and
    communication, 1–5 each, their mean, and a comment."""


@app.command("list")
def list_(
    customer: Annotated[
        list[str] | None,
        typer.Option("--customer", "-c", help="Customer: name, INN or external id; repeatable."),
    ] = None,
    obj: Annotated[
        list[str] | None,
        typer.Option("--object", "-o", help="Object (with the equipment under it); repeatable."),
    ] = None,
    employee: Annotated[
        list[str] | None,
        typer.Option(
            "--employee",
            "-e",
            help="The order's assignee (short name, e-mail, phone...); repeatable.",
        ),
    ] = None,
    at_most: Annotated[
        int | None,
        typer.Option(
            "--at-most",
            min=1,
            max=5,
            help="Only orders rated at most this (the mean of the three scores): the unhappy ones.",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Rated on or after this day (e.g. 01.11.2026).")
    ] = None,
    until: UntilDay = None,
    limit: Limit = 50,
    json_: Json = False,
    nl: JsonLines = False,
) -> None:
    """Ratings, newest first: the three scores, their mean and the comment."""
    from fsm_core.services import lookup, ratings
    from fsm_core.services.object_tree import descendant_ids
    from fsm_core.timeparse import day_range

    with STATE.reader() as session:
        tz = company(session).tz
        start, end = day_range(since, until, tz=tz)
        customer_ids = [lookup.resolve_company(session=session, ref=c).id for c in customer or ()]
        object_ids = [lookup.resolve_object(session=session, ref=o).id for o in obj or ()]
        if object_ids:
            object_ids = descendant_ids(session=session, object_ids=object_ids)
        employee_ids = [lookup.resolve_employee(session=session, ref=e).id for e in employee or ()]
        rows = ratings.list_ratings(
            session=session,
            since=start,
            until=end,
            customer_ids=customer_ids,
            object_ids=object_ids,
            employee_ids=employee_ids,
            at_most=at_most,
            limit=limit or None,
        )
    if output.emit_records([row.as_json() for row in rows], json_, nl):
        return
    if not rows:
        output.done(_t("No ratings match.", "Оценок не найдено."))
        return
    from rich.text import Text

    from fsm_core.formatting import moment
    from fsm_core.i18n import label

    lang = STATE.language
    squeeze = {"squeeze": True}
    output.table(
        [
            (label("number", lang), {"no_wrap": True, "style": "bold"}),
            (_t("Rated", "Оценена"), {"no_wrap": True}),
            (label("customer", lang), {**squeeze, "max_width": 22}),
            (label("object", lang), {**squeeze, "max_width": 24}),
            (label("assignee", lang), {**squeeze, "max_width": 16}),
            (_t("Prompt.", "Опер."), {"justify": "right"}),
            (_t("Accur.", "Точн."), {"justify": "right"}),
            (_t("Comm.", "Общ."), {"justify": "right"}),
            (_t("Rating", "Оценка"), {"justify": "right", "no_wrap": True}),
            (_t("Comment", "Комментарий"), {"ratio": 1, "overflow": "fold"}),
        ],
        [
            [
                row.number,
                moment(row.rated_at, tz, lang=lang),
                row.customer or "",
                row.object or "",
                row.assignee or "",
                row.promptness,
                row.accuracy,
                row.communication,
                Text(rating_text(row.rating, lang), style=rating_style(row.rating)),
                row.comment or "",
            ]
            for row in rows
        ],
        caption=_t(f"{len(rows)} rating(s)", f"Оценок: {len(rows)}"),
    )


def rating_text(value: "Decimal", lang: str) -> str:
    """4.67 as the language writes it (4,67 in Russian)."""
    from fsm_core.formatting import number

    return number(value, lang=lang)


RATING_STYLE = {"low": "bold red", "fair": "yellow", "good": "green"}


def rating_style(value: "Decimal") -> str:
    from fsm_core.services.order_feedback import rating_level

    return RATING_STYLE[rating_level(value)]
