"""``fsm map``: the dashboard's map (its background of roads and water)."""

from pathlib import Path
from typing import Annotated

import typer

from fsm_cli import output
from fsm_cli.context import STATE, company
from fsm_cli.context import say as _t
from fsm_cli.options import Json

app = typer.Typer(no_args_is_help=True)


@app.callback()
def main() -> None:
    """The dashboard's map (F6): its background of roads and water."""


@app.command("background")
def background(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A GeoJSON file of roads and water (e.g. an OpenStreetMap extract); without"
            " it: what is loaded.",
            dir_okay=False,
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the background.")] = False,
    json_: Json = False,
) -> None:
    """Load the map's background from a GeoJSON file (lines and polygons; highway,
    waterway, natural=water, railway decide how each is drawn), remove it (--clear), or
    say what is loaded. Every dashboard on this database draws it, dimmed, under the
    markers."""
    from fsm_core.errors import InvalidInput
    from fsm_core.formatting import moment
    from fsm_core.services.gps import background as bg

    if clear and file is not None:
        raise InvalidInput("give a FILE or --clear, not both")
    if clear:
        with STATE.transaction() as session:
            removed = bg.clear_background(session=session)
        message = (
            _t("Map background removed", "Подложка карты удалена")
            if removed
            else _t("There was no map background", "Подложки карты не было")
        )
        output.result(json_, {"removed": removed}, message)
        return
    if file is None:
        with STATE.reader() as session:
            info = bg.background_info(session=session)
            tz = company(session).tz
        if info is None:
            if json_:
                output.emit_json(None)
                return
            output.plain(
                _t(
                    "No map background: load one with fsm map background FILE.geojson",
                    "Подложки карты нет: загрузите её командой fsm map background ФАЙЛ.geojson",
                ),
            )
            return
        value = {
            "name": info.name,
            "features": info.features,
            "lines": info.lines,
            "points": info.points,
            "bbox": list(info.bbox),
            "loaded_at": info.loaded_at,
            "loaded_by": info.loaded_by,
        }
        when = moment(info.loaded_at, tz, lang=STATE.language)
        if json_:
            output.emit_json(value)
            return
        output.plain(
            _t(
                f"Map background {info.name}: {info.lines} lines, {info.points} points"
                f" (from {info.features} features), loaded {when} by {info.loaded_by}",
                f"Подложка карты {info.name}: линий {info.lines}, точек {info.points}"
                f" (из {info.features} объектов), загружена {when}, {info.loaded_by}",
            ),
        )
        return
    try:
        with file.open("rb") as handle:
            raw = handle.read(bg.MAX_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read: {exc.strerror or exc}") from None
    parsed = bg.parse_geojson(raw, name=file.name)
    with STATE.transaction() as session:
        stored = bg.store_background(session=session, background=parsed, actor=STATE.actor)
    output.result(
        json_,
        {
            "name": stored.name,
            "features": stored.features,
            "lines": stored.lines,
            "points": stored.points,
        },
        _t(
            f"Map background {stored.name}: {stored.lines} lines, {stored.points} points"
            f" (from {stored.features} features)",
            f"Подложка карты {stored.name}: линий {stored.lines}, точек {stored.points}"
            f" (из {stored.features} объектов)",
        ),
    )
