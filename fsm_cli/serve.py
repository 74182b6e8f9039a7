"""``fsm serve``: the HTTP server (technicians' phones send their positions to it; customers
open the passport and status pages on it).

Starlette and uvicorn are imported only when the command runs: the rest of ``fsm``
starts without them.
"""

from __future__ import annotations

import signal
import socket
from typing import Annotated, Any

import typer

from fsm_cli.context import STATE
from fsm_cli.context import say as _t

app = typer.Typer(add_completion=False)


class _Stopped(Exception):
    """SIGTERM, turned into an exception once the server has shut down cleanly."""


def _stop(signum: int, frame: Any) -> None:
    raise _Stopped


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (port 0: any free one), or a one-line
    error saying why not."""
    from fsm_core.errors import FsmError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FsmError(f"cannot listen on {host}:{port}: {reason}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise FsmError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="another program may use that port: try --port with another number",
            ru=f"не удалось открыть {host}:{port}: {exc.strerror or exc}",
            hint_ru="возможно, порт занят другой программой: укажите другой --port",
        ) from None
    sock.set_inheritable(True)
    return sock


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on: 127.0.0.1 (this machine only), 0.0.0.0 (every "
            "network); on the internet put an HTTPS reverse proxy in front.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="TCP port (0: any free one).")
    ] = 8080,
    batch_ms: Annotated[
        int,
        typer.Option(
            "--batch-ms",
            min=0,
            max=1000,
            help="Milliseconds the writer waits for more positions before writing them "
            "together (0: it writes what gathered while it wrote the last batch).",
        ),
    ] = 0,
    notify_interval: Annotated[
        int,
        typer.Option(
            "--notify-every",
            min=0,
            max=3600,
            help="Seconds between passes of the notification sender (0: none; then run "
            "`fsm notify run` elsewhere).",
        ),
    ] = 30,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Print a line for every request.")
    ] = False,
) -> None:
    """Serve HTTP: phones send positions to /gps/osmand (Traccar Client, OsmAnd, GPSLogger);
    customers open the passport pages (/p/TOKEN, the labels' QR codes) and their orders'
    status pages (/s/TOKEN)."""
    import uvicorn

    from fsm_web.server import make_app

    database = STATE.database()
    database.ensure_schema()  # an old or foreign database: one line now, not on each request
    from fsm_core.access import demand

    # the server acts as the user its account or login is bound to (phones' positions are
    # recorded in that user's name): an unbound account stops it here, in one line
    demand(database.principal, "gps.record")
    sock = listen(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    config = uvicorn.Config(
        make_app(database, batch_window=batch_ms / 1000, notify_interval=notify_interval),
        http="httptools",
        loop="asyncio",
        lifespan="on",
        access_log=access_log,
        log_level="info" if access_log else "warning",
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    url = f"http://{shown}:{bound_port}"
    typer.echo(
        _t(
            f"fsm serve: listening on {url} (database {database.display_url}); "
            f"phones send positions to {url}/gps/osmand; Ctrl-C stops",
            f"fsm serve: слушает {url} (база {database.display_url}); "
            f"телефоны шлют позиции на {url}/gps/osmand; Ctrl-C — остановить",
        )
    )
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Stopped):
        pass  # uvicorn shut down cleanly first, then passed the signal on
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()
    typer.echo(_t("fsm serve: stopped", "fsm serve: остановлен"))
