"""``fsm labels``: QR label sheets for objects and business cards for employees."""

from typing import Annotated

import typer
from sqlmodel import Session

from fsm_cli import output
from fsm_cli.context import STATE

app = typer.Typer(no_args_is_help=True, help="QR marking: object labels and business cards.")


def warn_placeholder(session: Session) -> None:
    from fsm_core.services.passports import placeholder_in_use

    if placeholder_in_use(session=session):
        output.done(
            "Warning: the QR codes lead to the example address https://fsm.example/p; set "
            "yours first: fsm settings set passport_base_url https://..."
        )


@app.command("objects")
def objects_labels(
    out: Annotated[str, typer.Option("--output", "-o", help="PDF file to write.")],
    customer: Annotated[list[str] | None, typer.Option("--customer", "-c")] = None,
    obj: Annotated[
        list[str] | None,
        typer.Option("--object", help="An object (a site prints its equipment too)."),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind of object.")] = None,
    layout: Annotated[
        str, typer.Option("--layout", help="a4-3x8, a4-2x7 or thermal-58x40.")
    ] = "a4-3x8",
    start: Annotated[
        int,
        typer.Option("--start", min=0, max=1000, help="Skip this many labels of a used sheet."),
    ] = 0,
) -> None:
    """Print QR labels (маркировка) for objects: each leads to the object's e-passport."""
    from fsm_core.documents.labels import render_labels
    from fsm_core.errors import InvalidInput
    from fsm_core.services import lookup, passports

    with STATE.reader() as session:
        customer_ids = [lookup.resolve_company(session=session, ref=c).id for c in customer or ()]
        object_ids = [lookup.resolve_object(session=session, ref=o).id for o in obj or ()]
        chosen = passports.objects_for_labels(
            session=session, object_ids=object_ids, customer_ids=customer_ids, kind=kind
        )
        if not chosen:
            raise InvalidInput("no objects match; nothing to print")
        labels = passports.label_data(session=session, objects=chosen)
        warn_placeholder(session)
    with output.progress_bar("Labels", total=None) as advance:
        pages = render_labels(
            labels,
            layout=layout,
            out=out,
            start=start,
            lang=STATE.language,
            progress=lambda done, total: advance(done, total),
        )
    output.done(f"Wrote {len(labels)} labels on {pages} page(s) to {out}.")


@app.command("vcard")
def vcard(
    employees: Annotated[
        list[str] | None, typer.Argument(help="Employees (default: every active one).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--output", "-o", help="PDF of business cards.")
    ] = None,
    png: Annotated[
        str | None, typer.Option("--png", help="Folder for one QR image per employee.")
    ] = None,
) -> None:
    """Business cards with a vCard QR code ("Сохранить контакт") for employees."""
    from pathlib import Path

    from fsm_core.documents.vcard import render_cards, save_card_png
    from fsm_core.services import lookup, parties, passports

    if not out and not png:
        raise typer.BadParameter("give --output FILE.pdf and/or --png DIR")
    with STATE.reader() as session:
        people = (
            [lookup.resolve_employee(session=session, ref=e) for e in employees]
            if employees
            else list(parties.list_employees(session=session))
        )
        cards = [(e, passports.business_card(session=session, employee=e)) for e in people]
    if out:
        pages = render_cards([c for _, c in cards], out=out, lang=STATE.language)
        output.done(f"Wrote {len(cards)} business card(s) on {pages} page(s) to {out}.")
    if png:
        folder = Path(png)
        folder.mkdir(parents=True, exist_ok=True)
        for employee, card in cards:
            name = employee.external_id or f"employee-{employee.id}"
            save_card_png(card, folder / f"{name}.png")
        output.done(f"Wrote {len(cards)} QR image(s) to {folder}/.")


@app.command("revoke")
def revoke(
    objects: Annotated[
        list[str],
        typer.Argument(help="Objects: name, inventory or serial number, external id."),
    ],
) -> None:
    """Stop an object's printed labels working at once (a stolen or torn-off label): its
    passport gets a new link; print new labels for it."""
    from fsm_cli.context import say as _t
    from fsm_core.services import lookup, passports
    from fsm_core.services import settings as company_settings

    with STATE.transaction() as session:
        chosen = [lookup.resolve_object(session=session, ref=o) for o in objects]
        chosen = list({o.id: o for o in chosen}.values())  # one object named twice
        base = company_settings.load(session=session)["passport_base_url"]
        urls = []
        for obj in chosen:
            assert obj.id is not None
            rotated = passports.rotate_token(session=session, object_id=obj.id)
            urls.append((rotated.name, passports.passport_url(base, rotated.passport_token)))
    for name, url in urls:
        output.plain(url)
        output.done(
            _t(
                f"{name}: the labels printed before no longer work; print new ones "
                f"(fsm labels objects --object ... -o labels.pdf).",
                f"{name}: напечатанные ранее этикетки больше не работают; напечатайте новые "
                f"(fsm labels objects --object ... -o labels.pdf).",
            )
        )
