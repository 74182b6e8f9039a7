"""The customer's pages: the passport page a label's QR code leads to (``/p/{token}``, with
the request form), and an order's status page (``/s/{token}``: stage, visit, arrival,
chat, act, rating).

Thin, like every front end: each handler parses, calls one service of
:mod:`fsm_core.services.customer_pages`, and renders. The database is used from worker
threads (a write may wait for SQLite's lock; the event loop keeps answering meanwhile).
Reading SQLite in the event loop itself was tried and measured (bench/serve.py): half the
pages a second, twice the p95 — the threads overlap SQLite's own work, which releases the
interpreter lock.

On SQLite a page a phone opens is kept as rendered while nothing it shows can have changed
(:mod:`fsm_web.page_cache`): asked again, it is answered in the event loop with no thread,
session, query or template — the rate limits, the visitor's CSRF field and remembered name
and phone are still each request's own.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fsm_core.config import get_settings
from fsm_core.db import Database
from fsm_core.errors import DatabaseUnavailable, Duplicate, FsmError, InvalidInput
from fsm_core.services import customer_pages as cp
from fsm_web import guard
from fsm_web.page_cache import SLOTS, Changes, Page, PageCache
from fsm_web.pages import HERE, Words, html_response, message_page, render, render_html
from fsm_web.safety import Refused, read_body

T = TypeVar("T")
BRAND_SECONDS = 1.0
READERS = 4
"""Threads reading for the pages at once: more only fight for the interpreter lock
(bench/serve.py, 50 clients: p95 of the passport page 163 ms with 4, 209 ms with 40)."""
FORM_LIMIT = 16 * 1024
"""Bytes a form without a photo may have (a message, a rating)."""
REQUEST_LIMIT = cp.PHOTO_MAX_BYTES + 64 * 1024
"""Bytes the request form may have: the photo and a little more for the fields."""
BODY_TIMEOUT = 60.0
"""Seconds a phone has to upload its form (a photo on a slow mobile link)."""
FIELDS = ("description", "name", "phone", "photo")
WHO_COOKIE = "fsm_who"
WHO_DAYS = 365
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class Site:
    """What the pages share: the database, the CSRF secret, the rate limiter, the pages
    as rendered (SQLite; see :mod:`fsm_web.page_cache`)."""

    def __init__(self, database: Database, *, secret: bytes | None = None) -> None:
        self.database = database
        self.secret = secret or guard.load_secret(Path(get_settings().data_dir))
        self.limiter = guard.RateLimiter()
        self.css = (HERE / "static" / "site.css").read_bytes()
        self.readers: anyio.CapacityLimiter | None = None  # made in the event loop
        self.changes = Changes(database)
        self.pages = PageCache()
        self._brands: tuple[Hashable, dict[str, cp.Brand]] = (None, {})
        self._logo_setting = ""

    def version(self) -> Hashable | None:
        """What a kept page or brand was read under and is served only while it stays
        the same: the database's version (:class:`~fsm_web.page_cache.Changes`) and the
        logo file's size and time (the pages show a logo only while it is a PNG or JPEG:
        the file may change while the settings do not). None: nothing is kept (PostgreSQL)."""
        version = self.changes.version()
        if version is None:
            return None
        return (version, _file_stamp(self._logo_setting))

    def _stamp(self, version: Hashable | None) -> Hashable:
        if version is not None:
            return ("version", version)
        return ("second", time.monotonic() // BRAND_SECONDS)

    def kept_brand(self, accept_language: str | None, version: Hashable | None) -> cp.Brand | None:
        """The brand read before for these languages, if it is still current: while the
        database's version is the same (SQLite), else within the same second."""
        stamp, brands = self._brands
        if stamp != self._stamp(version):
            return None
        return brands.get((accept_language or "")[:200])

    def brand(
        self, session: Any, accept_language: str | None, version: Hashable | None = None
    ) -> cp.Brand:
        """The company's brand and settings for a browser's languages (a page a phone
        opens reads no settings of its own): read again once the database has changed
        (``version``, read before ``session`` began), or without one, once a second (a
        changed setting shows within a second)."""
        found = self.kept_brand(accept_language, version)
        if found is None:
            found = cp.brand(session=session, accept_language=accept_language)
            self._logo_setting = found.settings["company_logo"]
            stamp = self._stamp(version)
            kept_stamp, brands = self._brands
            if kept_stamp != stamp:
                brands = {}
                self._brands = (stamp, brands)
            if len(brands) < 256:
                brands[(accept_language or "")[:200]] = found
        return found


def _file_stamp(setting: str) -> tuple[int, int, int] | None:
    """The logo file's inode, size and modification time (None: no such file)."""
    if not setting.strip():
        return None
    try:
        found = Path(setting.strip()).expanduser().stat()
    except (OSError, ValueError):
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


async def _read(site: Site, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, a read, in one of a few worker threads."""
    if site.readers is None:
        site.readers = anyio.CapacityLimiter(READERS)
    return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=site.readers)


def _site(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _token(request: Request) -> str:
    token = str(request.path_params.get("token", ""))
    # a malformed token is looked up no further: the same "not found" as any other
    return token if 16 <= len(token) <= 64 and set(token) <= TOKEN_CHARS else ""


def _brand(site: Site, accept: str | None, version: Hashable | None) -> cp.Brand:
    with site.database.reader() as session:
        return site.brand(session, accept, version)


async def _current_brand(site: Site, request: Request) -> cp.Brand:
    """The brand for the request's languages: the one kept while it is current (no
    thread, no session), else read."""
    accept = request.headers.get("accept-language")
    version = site.version()
    found = site.kept_brand(accept, version)
    if found is not None:
        return found
    return await _read(site, _brand, site, accept, version)


def _csrf(site: Site, request: Request) -> tuple[str, str | None]:
    """The form's CSRF field, and a new cookie to set if the browser has none yet."""
    cookie = request.cookies.get(guard.CSRF_COOKIE)
    fresh = None
    if not cookie or len(cookie) > 64:
        cookie = fresh = guard.new_csrf_cookie()
    return guard.csrf_field(site.secret, cookie), fresh


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_csrf(response: Response, request: Request, fresh: str | None) -> Response:
    if fresh is not None:
        response.set_cookie(
            guard.CSRF_COOKIE,
            fresh,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/",
        )
    return response


def _remembered(request: Request) -> dict[str, str]:
    """The name and phone this phone sent last time (the ``fsm_who`` cookie)."""
    raw = request.cookies.get(WHO_COOKIE, "")
    if not raw or len(raw) > 1200:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data[k])[:200] for k in ("name", "phone") if isinstance(data.get(k), str)}


def _remember(response: Response, request: Request, name: str, phone: str) -> None:
    value = base64.urlsafe_b64encode(
        json.dumps({"name": name[:200], "phone": phone[:40]}, ensure_ascii=False).encode()
    ).decode()
    response.set_cookie(
        WHO_COOKIE,
        value.rstrip("="),
        max_age=WHO_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/p",
    )


# --- answers every page shares ---------------------------------------------------------------


async def _safe_brand(site: Site, request: Request) -> cp.Brand | None:
    try:
        return await _current_brand(site, request)
    except FsmError:
        return None


async def not_found(request: Request) -> Response:
    site = _site(request)
    brand = await _safe_brand(site, request)
    t = Words(brand.lang if brand else "ru")
    return message_page(brand, status=404, title=t("not_found_title"), text=t("not_found"))


async def _error(request: Request, status: int, text: str, **headers: str) -> Response:
    brand = await _safe_brand(_site(request), request)
    t = Words(brand.lang if brand else "ru")
    title = t("busy_title") if status == 429 else t("error_title")
    return message_page(brand, status=status, title=title, text=text, headers=headers)


Handler = Callable[[Request], Awaitable[Response]]


def page(kind: str) -> Callable[[Handler], Handler]:
    """Wrap a handler: rate limits of ``kind`` (``page`` or ``post``) per client address
    and token, and every refusal as a page of one line — never a traceback."""

    def wrap(handler: Handler) -> Handler:
        async def answer(request: Request) -> Response:
            site = _site(request)
            token = _token(request)
            for scope, key in ((f"{kind}-ip", _client(request)), (f"{kind}-token", token)):
                if not key:
                    continue
                wait = site.limiter.hit(scope, key)
                if wait:
                    brand = await _safe_brand(site, request)
                    t = Words(brand.lang if brand else "ru")
                    return await _error(
                        request, 429, t("busy", seconds=wait), **{"retry-after": str(wait)}
                    )
            if not token:
                return await not_found(request)
            try:
                return await handler(request)
            except cp.PageNotFound:
                return await not_found(request)
            except Refused as exc:
                brand = await _safe_brand(site, request)
                text = Words(brand.lang if brand else "ru")("too_big") if exc.status == 413 else ""
                return await _error(request, exc.status, text or exc.reason)
            except DatabaseUnavailable as exc:
                return await _error(request, 503, exc.one_line(), **{"retry-after": "10"})
            except FsmError as exc:
                brand = await _safe_brand(site, request)
                return await _error(request, 400, exc.one_line(brand.lang if brand else "ru"))

        return answer

    return wrap


async def _form(request: Request, *, limit: int) -> FormData:
    """The request's form, at most ``limit`` bytes, checked against CSRF."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise Refused(415, "send the page's form")
    body = await read_body(request, limit=limit, timeout=BODY_TIMEOUT)
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(
            max_files=1, max_fields=12, max_part_size=64 * 1024
        )
    except Exception:  # python-multipart's and Starlette's own errors about a bad body
        raise Refused(400, "the form cannot be read") from None
    site = _site(request)
    field = form.get("csrf")
    sent_field = field if isinstance(field, str) else None
    if not guard.csrf_ok(site.secret, request.cookies.get(guard.CSRF_COOKIE), sent_field):
        brand = await _safe_brand(site, request)
        raise Refused(403, Words(brand.lang if brand else "ru")("csrf"))
    return form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- the passport page -----------------------------------------------------------------------


def _read_passport(
    site: Site, token: str, accept: str | None, version: Hashable | None = None
) -> tuple[cp.Brand, cp.PassportPage]:
    with site.database.reader() as session:
        brand = site.brand(session, accept, version)
        return brand, cp.passport_page(session=session, token=token, brand=brand)


def _passport_kept(site: Site, token: str, accept: str | None, version: Hashable | None) -> Page:
    """The passport page with slots for a visitor's own values, rendered anew."""
    brand, passport = _read_passport(site, token, accept, version)
    html = render_html(
        "passport.html",
        brand=brand,
        p=passport,
        csrf=SLOTS["csrf"],
        values={"name": SLOTS["name"], "phone": SLOTS["phone"]},
        errors={},
    )
    return Page.of(html, version=version)


async def _kept_page(
    site: Site, kind: str, token: str, request: Request, read: Callable[..., Page]
) -> Response:
    """A page as kept while the database is unchanged (else read and rendered in a
    worker thread, and kept), with the visitor's CSRF field and, on the passport, the
    name and phone this phone sent last time."""
    accept = request.headers.get("accept-language")
    key = (kind, token, (accept or "")[:200])
    version = site.version()  # before the page's data is read: see page_cache
    page = site.pages.get(key, version)
    if page is None:
        page = await _read(site, read, site, token, accept, version)
        if version is not None:
            site.pages.put(key, page)
    csrf, fresh = _csrf(site, request)
    values = _remembered(request) if kind == "p" else {}
    return _set_csrf(html_response(page.fill(csrf=csrf, **values)), request, fresh)


async def _passport_form(
    request: Request,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    site = _site(request)
    if status == 200 and values is None and not errors:
        return await _kept_page(site, "p", _token(request), request, _passport_kept)
    brand, passport = await _read(
        site, _read_passport, site, _token(request), request.headers.get("accept-language")
    )
    csrf, fresh = _csrf(site, request)
    response = render(
        "passport.html",
        brand=brand,
        status=status,
        p=passport,
        csrf=csrf,
        values=values if values is not None else _remembered(request),
        errors=errors or {},
    )
    return _set_csrf(response, request, fresh)


@page("page")
async def passport(request: Request) -> Response:
    return await _passport_form(request)


def _submit(
    site: Site, token: str, request: cp.Request, photo: bytes | None, lang: str
) -> tuple[str, str]:
    with site.database.reader() as session:
        who = cp.requester(
            session=session, token=token, name=request.name, phone=request.phone, lang=lang
        )
    with site.database.transaction(principal=who) as session:
        order = cp.submit_request(session=session, token=token, request=request, photo=photo)
        assert order.id is not None
        return order.number, cp.status_token(session=session, order_id=order.id)


@page("post")
async def passport_post(request: Request) -> Response:
    site = _site(request)
    token = _token(request)
    form = await _form(request, limit=REQUEST_LIMIT)
    values = {k: _text(form, k) for k in ("description", "name", "phone")}
    upload = form.get("photo")
    brand = await _current_brand(site, request)
    try:
        checked = cp.check_request(
            description=values["description"], name=values["name"], phone=values["phone"]
        )
        photo = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(cp.PHOTO_MAX_BYTES + 1)
            if data:
                photo = await run_in_threadpool(cp.clean_photo, data)
        number, link = await run_in_threadpool(_submit, site, token, checked, photo, brand.lang)
    except InvalidInput as exc:
        field = exc.field if exc.field in FIELDS else "description"
        return await _passport_form(
            request, status=400, values=values, errors={field: exc.one_line(brand.lang)}
        )
    response = render("received.html", brand=brand, number=number, link=f"/s/{link}")
    _remember(response, request, values["name"].strip(), values["phone"].strip())
    return response


# --- the status page -------------------------------------------------------------------------


def _read_status(
    site: Site, token: str, accept: str | None, version: Hashable | None = None
) -> tuple[cp.Brand, cp.StatusPage]:
    with site.database.reader() as session:
        brand = site.brand(session, accept, version)
        return brand, cp.status_page(session=session, token=token, brand=brand)


def _status_kept(site: Site, token: str, accept: str | None, version: Hashable | None) -> Page:
    """The status page with a slot for the visitor's CSRF field, rendered anew; kept no
    longer than it reads the same with nothing written (the link expires, the arrival
    estimate moves on)."""
    brand, view = _read_status(site, token, accept, version)
    html = render_html(
        "status.html", brand=brand, s=view, token=token, csrf=SLOTS["csrf"], values={}, errors={}
    )
    return Page.of(html, version=version, until=view.changes_at)


async def _status_page(
    request: Request,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    site = _site(request)
    token = _token(request)
    if status == 200 and not values and not errors:
        return await _kept_page(site, "s", token, request, _status_kept)
    brand, view = await _read(
        site, _read_status, site, token, request.headers.get("accept-language")
    )
    csrf, fresh = _csrf(site, request)
    response = render(
        "status.html",
        brand=brand,
        status=status,
        s=view,
        token=token,
        csrf=csrf,
        values=values or {},
        errors=errors or {},
    )
    return _set_csrf(response, request, fresh)


@page("page")
async def status(request: Request) -> Response:
    return await _status_page(request)


def _post_message(site: Site, token: str, text: str, lang: str) -> None:
    with site.database.transaction() as session:
        who = cp.visitor(session=session, token=token, lang=lang, author=True)
    with site.database.transaction(principal=who) as session:
        cp.post_message(session=session, token=token, text=text)


@page("post")
async def message(request: Request) -> Response:
    site = _site(request)
    token = _token(request)
    form = await _form(request, limit=FORM_LIMIT)
    text = _text(form, "text")
    brand = await _current_brand(site, request)
    wait = site.limiter.hit("message-token", token)
    if wait:
        return await _error(
            request, 429, Words(brand.lang)("busy", seconds=wait), **{"retry-after": str(wait)}
        )
    try:
        await run_in_threadpool(_post_message, site, token, text, brand.lang)
    except InvalidInput as exc:
        return await _status_page(
            request, status=400, values={"text": text}, errors={"text": exc.one_line(brand.lang)}
        )
    return RedirectResponse(f"/s/{token}#chat", status_code=303)


def _rate(site: Site, token: str, form: dict[str, str], lang: str) -> None:
    with site.database.reader() as session:
        who = cp.visitor(session=session, token=token, lang=lang)
    with site.database.transaction(principal=who) as session:
        cp.give_rating(session=session, token=token, **form)


@page("post")
async def rate(request: Request) -> Response:
    site = _site(request)
    token = _token(request)
    form = await _form(request, limit=FORM_LIMIT)
    values = {k: _text(form, k) for k in ("promptness", "accuracy", "communication", "comment")}
    brand = await _current_brand(site, request)
    try:
        await run_in_threadpool(_rate, site, token, values, brand.lang)
    except Duplicate as exc:
        return await _status_page(
            request, status=409, values=values, errors={"rating": exc.one_line(brand.lang)}
        )
    except InvalidInput as exc:
        field = exc.field or "rating"
        return await _status_page(
            request, status=400, values=values, errors={field: exc.one_line(brand.lang)}
        )
    return RedirectResponse(f"/s/{token}#rating", status_code=303)


def _act(site: Site, token: str, accept: str | None) -> tuple[str, bytes]:
    with site.database.reader() as session:
        lang = cp.brand(session=session, accept_language=accept).lang
        who = cp.visitor(session=session, token=token, lang=lang)
    with site.database.reader(principal=who) as session:
        return cp.act_pdf(session=session, token=token, lang=lang)


@page("page")
async def act(request: Request) -> Response:
    site = _site(request)
    name, data = await run_in_threadpool(
        _act, site, _token(request), request.headers.get("accept-language")
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


# --- what the pages load ---------------------------------------------------------------------


async def css(request: Request) -> Response:
    return Response(
        _site(request).css,
        media_type="text/css",
        headers={"cache-control": "public, max-age=3600"},
    )


def _logo(site: Site) -> Path | None:
    with site.database.reader() as session:
        return cp.brand(session=session).logo


async def logo(request: Request) -> Response:
    path = await _read(_site(request), _logo, _site(request))
    if path is None:
        return await not_found(request)
    data = await run_in_threadpool(path.read_bytes)
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=kind, headers={"cache-control": "public, max-age=300"})


ROUTES = [
    Route("/p/{token}", passport, methods=["GET", "HEAD"]),
    Route("/p/{token}", passport_post, methods=["POST"]),
    Route("/s/{token}", status, methods=["GET", "HEAD"]),
    Route("/s/{token}/message", message, methods=["POST"]),
    Route("/s/{token}/rate", rate, methods=["POST"]),
    Route("/s/{token}/act.pdf", act, methods=["GET"]),
    Route("/static/site.css", css, methods=["GET", "HEAD"]),
    Route("/logo", logo, methods=["GET", "HEAD"]),
]
