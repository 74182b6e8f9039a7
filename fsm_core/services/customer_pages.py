"""The customer's pages (страницы заказчика): what a person who scanned an object's label,
or followed an order's status link, may see and do — with no account and no password.

Two kinds of token lead here: an object's passport token (the QR label) and an order's
status link token. Whatever is wrong with a token — unknown, rotated, revoked, expired,
an object no longer serviced, a malformed one — is the same :class:`PageNotFound`: a
holder learns nothing from trying.

What the pages show is chosen here, not by the front end: the object's own data, its
customer's name, stages in plain words, the technician's short name; never internal ids,
prices, or another customer's data.

Who acts: the server reads as the user its account is bound to; whatever a visitor
*does* (a request, a message, a rating) is done as a customer principal of the token's
customer (:func:`requester`, :func:`visitor`), so the permission checks, the history and
the audit trail see "Ольга Смирнова (по QR)", not the server's admin.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from fsm_core import clock
from fsm_core.access import Principal, Role, authorize, principal_of, requires
from fsm_core.errors import FsmError, InvalidInput, NotFound
from fsm_core.models import (
    AppUser,
    Company,
    Contact,
    Employee,
    Message,
    Order,
    OrderSource,
    ServiceObject,
    Stage,
    UserKind,
    Visit,
)
from fsm_core.models.orders import StageCategory
from fsm_core.services import settings as company_settings
from fsm_core.services.arrival import Arrival
from fsm_core.services.settings import CompanySettings

DESCRIPTION_LENGTH = 2000
NAME_LENGTH = 200
MESSAGE_LENGTH = 1000
PHOTO_MAX_BYTES = 10 * 1024 * 1024
"""What a phone's photo may weigh as sent (a 12-megapixel JPEG is 3–6 MB)."""
PHOTO_MAX_PIXELS = 50_000_000
PHOTO_SIDE = 2048
"""The longest side of the photo as kept: enough to see a fault, a tenth of the bytes."""
MESSAGES_SHOWN = 50
HISTORY_SHOWN = 10


class PageNotFound(FsmError):
    """No page at this token: unknown, revoked, rotated, expired or malformed alike."""

    def __init__(self) -> None:
        super().__init__(
            "this page does not exist or is no longer available",
            ru="такой страницы нет или она больше недоступна",
        )


# --- plain words ---------------------------------------------------------------------------

_BY_CODE = {
    "assigned": ("A technician has been assigned", "Назначен исполнитель"),
    "en_route": ("The technician is on the way", "Специалист в пути"),
    "in_progress": ("Work is under way", "Идут работы"),
}
_BY_CATEGORY = {
    StageCategory.NEW.value: ("Received, waiting to be assigned", "Принята, ждёт назначения"),
    StageCategory.ACTIVE.value: ("In work", "В работе"),
    StageCategory.PAUSED.value: ("On hold", "Приостановлена"),
    StageCategory.DONE.value: ("Done", "Выполнена"),
    StageCategory.CLOSED.value: ("Done and closed", "Выполнена и закрыта"),
    StageCategory.CANCELLED.value: ("Cancelled", "Отменена"),
}


def stage_words(code: str, category: str, lang: str) -> str:
    """An order's stage as a customer would say it."""
    en, ru = _BY_CODE.get(code) or _BY_CATEGORY.get(category, (code, code))
    return ru if lang == "ru" else en


def via(name: str, lang: str) -> str:
    """How the history names a visitor: "Ольга Смирнова (по QR)"."""
    return f"{name} ({'по QR' if lang == 'ru' else 'via QR'})"


# --- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class Brand:
    """The service company as its pages show it."""

    name: str
    phone: str
    logo: Path | None
    lang: str
    tz: str
    settings: CompanySettings
    """all of the company's settings, read once for the page"""


@dataclass(frozen=True)
class OrderLine:
    number: str
    stage: str
    description: str
    created_at: datetime
    planned_start: datetime | None
    planned_end: datetime | None


@dataclass(frozen=True)
class PassportPage:
    token: str
    name: str
    customer: str
    address: str | None
    location_hint: str | None
    building: str | None
    floor: str | None
    serial_number: str | None
    inventory_number: str | None
    open_orders: tuple[OrderLine, ...]
    history: tuple[OrderLine, ...] | None
    """the recent finished orders, only where the company's ``passport_history`` allows"""


@dataclass(frozen=True)
class ChatLine:
    author: str
    from_customer: bool
    text: str
    at: datetime


@dataclass(frozen=True)
class StatusPage:
    number: str
    object_name: str | None
    address: str | None
    description: str
    stage: str
    category: str
    done: bool
    cancelled: bool
    planned_start: datetime | None
    planned_end: datetime | None
    technician: str | None
    arrival: Arrival | None
    messages: tuple[ChatLine, ...]
    may_write: bool
    act: bool
    may_rate: bool
    rating: tuple[int, int, int, str | None, str] | None
    """promptness, accuracy, communication, comment, mean"""
    changes_at: datetime | None = None
    """the first moment the page may show something else with nothing written: the link
    expires (``status_link_days`` after the order closed), the arrival estimate's minute
    moves on or its basis changes (:func:`~fsm_core.services.arrival.estimate_until`);
    None: the clock alone never changes it"""


def logo_path(value: str) -> Path | None:
    """The ``company_logo`` setting's file if it is a readable PNG or JPEG (checked by its
    first bytes, not its name); None otherwise."""
    if not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return None
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        return path
    return None


@requires("settings.read")
def brand(*, session: Session, accept_language: str | None = None) -> Brand:
    """The company's name, phone and logo, and the language to speak: the browser's first
    of Russian and English it accepts, else the company's ``company_language``, else Russian."""
    from fsm_core.values import format_phone

    cfg = company_settings.load(session=session)
    lang = pick_language(accept_language, cfg["company_language"])
    return Brand(
        name=cfg["company_name"],
        phone=format_phone(cfg["company_phone"]),
        logo=logo_path(cfg["company_logo"]),
        lang=lang,
        tz=cfg["timezone"],
        settings=cfg,
    )


def pick_language(accept_language: str | None, company: str) -> str:
    """``ru`` or ``en`` from an Accept-Language header (by its q-values), else the
    company's language, else ``ru``."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()[:2]
        if tag not in ("ru", "en"):
            continue
        q = 1.0
        for extra in pieces[1:]:
            key, _, value = extra.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        candidate = (-q, position, tag)
        if best is None or candidate < best:
            best = candidate
    if best is not None:
        return best[2]
    return company if company in ("ru", "en") else "ru"


def _object(session: Session, token: str) -> ServiceObject:
    from fsm_core.services.passports import object_by_token

    if not token or len(token) > 64:
        raise PageNotFound
    try:
        return object_by_token(session=session, scanned=token)
    except (NotFound, InvalidInput):  # unknown, rotated, malformed, no longer serviced
        raise PageNotFound from None


def _line(order: Order, category: str, lang: str) -> OrderLine:
    return OrderLine(
        number=order.number,
        stage=stage_words(order.stage_code, category, lang),
        description=order.description,
        created_at=order.created_at,
        planned_start=order.planned_start,
        planned_end=order.planned_end,
    )


def _place(session: Session, object_id: int) -> tuple[str | None, float | None, float | None]:
    """The object's address and point, its own or inherited from its site."""
    from fsm_core.services.planning.loading import places

    place = places(session=session, object_ids=[object_id]).get(object_id)
    if place is None:
        return None, None, None
    point = place.point
    return place.address, point[0] if point else None, point[1] if point else None


_PARENT = aliased(ServiceObject)
"""An object's parent (its site), made once: an alias made per call costs milliseconds."""

OPEN = (StageCategory.NEW.value, StageCategory.ACTIVE.value, StageCategory.PAUSED.value)
FINISHED = (StageCategory.DONE.value, StageCategory.CLOSED.value)


@requires("parties.read")
def passport_page(*, session: Session, token: str, brand: Brand) -> PassportPage:
    """What the passport page shows for the object a label's token names (an object
    no longer serviced, like an unknown token, is :class:`PageNotFound`)."""
    if not token or len(token) > 64:
        raise PageNotFound
    parent = _PARENT
    found = session.execute(
        select(ServiceObject, Company.name, parent.address)
        .join(Company, Company.id == ServiceObject.customer_id)
        .outerjoin(parent, parent.id == ServiceObject.parent_id)
        .where(ServiceObject.passport_token == token)
    ).first()
    if found is None or not found[0].active:
        raise PageNotFound
    obj, customer, parent_address = found
    categories = list(OPEN)
    if brand.settings["passport_history"] == "yes":
        categories += FINISHED
    rows = session.execute(
        select(Order, Stage.category)
        .join(Stage, Stage.code == Order.stage_code)
        .where(Order.object_id == obj.id, col(Stage.category).in_(categories))
        .order_by(col(Order.created_at).desc())
        .limit(40)
    ).all()
    lang = brand.lang
    open_orders = tuple(_line(o, c, lang) for o, c in rows if c in OPEN)[:20]
    history = None
    if brand.settings["passport_history"] == "yes":
        history = tuple(_line(o, c, lang) for o, c in rows if c in FINISHED)[:HISTORY_SHOWN]
    assert obj.id is not None
    return PassportPage(
        token=obj.passport_token,
        name=obj.name,
        customer=customer,
        address=obj.address or parent_address or _place(session, obj.id)[0],
        location_hint=obj.location_hint,
        building=obj.building,
        floor=obj.floor,
        serial_number=obj.serial_number,
        inventory_number=obj.inventory_number,
        open_orders=open_orders,
        history=history,
    )


# --- the request form ------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """The request form, checked: what the order service is given."""

    description: str
    name: str | None
    phone: str | None


def check_request(*, description: str | None, name: str | None, phone: str | None) -> Request:
    """The form's fields, cleaned; a wrong one raises :class:`InvalidInput` naming it."""
    from fsm_core.values import normalize_phone

    text = (description or "").strip()
    if not text:
        raise InvalidInput(
            "describe what is wrong", field="description", ru="опишите, что случилось"
        )
    if len(text) > DESCRIPTION_LENGTH:
        raise InvalidInput(
            f"at most {DESCRIPTION_LENGTH} characters (this is {len(text)})",
            field="description",
            ru=f"не больше {DESCRIPTION_LENGTH} символов (здесь {len(text)})",
        )
    who = " ".join((name or "").split()) or None
    if who is not None and len(who) > NAME_LENGTH:
        raise InvalidInput(
            f"a name is at most {NAME_LENGTH} characters",
            field="name",
            ru=f"имя — не больше {NAME_LENGTH} символов",
        )
    number = None
    if phone and phone.strip():
        try:
            number = normalize_phone(phone, field="phone")
        except InvalidInput:
            raise InvalidInput(
                f"cannot read the phone number {phone.strip()[:40]!r}: e.g. +7 921 345-67-01",
                field="phone",
                ru=f"не удалось прочитать номер {phone.strip()[:40]!r}: например +7 921 345-67-01",
            ) from None
    for value, field in ((text, "description"), (who, "name")):
        if value and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            raise InvalidInput(
                "control characters are not taken",
                field=field,
                ru="управляющие символы не принимаются",
            )
    return Request(text, who, number)


def clean_photo(data: bytes) -> bytes:
    """The photo as kept: checked to be an image (PNG, JPEG, WebP, HEIF as Pillow reads
    them), turned upright, at most :data:`PHOTO_SIDE` pixels a side, re-encoded as JPEG
    with no metadata at all — the EXIF block (and the GPS position a phone writes into
    it) is not copied."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    def refused() -> InvalidInput:
        return InvalidInput(
            "this file is not a photo (JPEG or PNG)",
            field="photo",
            ru="этот файл — не фотография (JPEG или PNG)",
        )

    if len(data) > PHOTO_MAX_BYTES:
        raise InvalidInput(
            f"the photo is over {PHOTO_MAX_BYTES // 1048576} MB",
            field="photo",
            ru=f"фотография больше {PHOTO_MAX_BYTES // 1048576} МБ",
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("JPEG", "PNG", "WEBP", "GIF", "MPO"):
                raise refused()
            if probe.width * probe.height > PHOTO_MAX_PIXELS:
                raise refused()
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            picture = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise refused() from None
    picture.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85, optimize=True)  # no exif= : none is written
    return out.getvalue()


@requires("parties.read")
def requester(
    *, session: Session, token: str, name: str | None, phone: str | None, lang: str
) -> Principal:
    """The customer principal a request from the passport ``token`` is made as: the
    contact the phone matches (else the name given) of the object's customer."""
    obj = _object(session, token)
    shown = name
    if phone:
        contact = session.execute(
            select(Contact).where(Contact.company_id == obj.customer_id, Contact.phone == phone)
        ).scalar_one_or_none()
        if contact is not None:
            shown = contact.full_name
    server = principal_of(session)
    return Principal(
        login="qr",
        name=via(shown or ("заказчик" if lang == "ru" else "customer"), lang)[:100],
        roles=frozenset({Role.CUSTOMER}),
        customer_id=obj.customer_id,
        account=server.account,
    )


def _known_phone(session: Session, obj: ServiceObject, phone: str) -> bool:
    """Whether a contact of the object's customer has ``phone`` (normalised)."""
    found = session.execute(
        select(Contact.id).where(Contact.company_id == obj.customer_id, Contact.phone == phone)
    ).first()
    return found is not None


@requires("orders.create", scoped=True)
def submit_request(
    *, session: Session, token: str, request: Request, photo: bytes | None = None
) -> Order:
    """A request from the passport page, as the :func:`requester`: an order of the
    object's customer (source "qr", SLA from the policy, the contact matched by phone or
    created) with the photo, cleaned by :func:`clean_photo`, attached."""
    from fsm_core.services import execution, passports

    obj = _object(session, token)
    who = principal_of(session)
    if request.phone and not request.name and not _known_phone(session, obj, request.phone):
        raise InvalidInput(
            "this number is new to us: give your name too",
            field="name",
            ru="этот номер нам пока не знаком: укажите имя",
        )
    order = passports.create_order_from_scan(
        session=session,
        scanned=obj.passport_token,
        description=request.description,
        actor=who.history_name[:100],
        contact_name=request.name,
        contact_phone=request.phone,
        source=OrderSource.QR,
    )
    if photo is not None:
        with tempfile.TemporaryDirectory(prefix="fsm-photo-") as folder:
            path = os.path.join(folder, f"photo-{order.number}.jpg")
            with open(path, "wb") as f:
                f.write(photo)
            execution.attach(
                session=session, order_id=order.id, path=path, actor=who.history_name[:100]
            )
    return order


# --- the status page -------------------------------------------------------------------------


def _order(session: Session, token: str) -> Order:
    from fsm_core.services.status_links import order_by_token

    try:
        return order_by_token(session=session, token=token)
    except NotFound:
        raise PageNotFound from None


@requires("orders.read")
def status_token(*, session: Session, order_id: int) -> str:
    """The token of the order's status page (made on first use)."""
    from fsm_core.services.status_links import ensure_link

    return ensure_link(session=session, order_id=order_id).token


@requires("orders.read")
def status_page(
    *, session: Session, token: str, brand: Brand, now: datetime | None = None
) -> StatusPage:
    """What the status page of the order a status link's token names shows."""
    from fsm_core.models.customer import OrderRating, StatusLink
    from fsm_core.services import arrival

    now = now or clock.now()
    if not token or len(token) > 40:
        raise PageNotFound
    parent = _PARENT
    found = session.execute(
        select(
            Order,
            Stage.category,
            Employee.short_name,
            ServiceObject.name,
            ServiceObject.address,
            parent.address,
            OrderRating,
        )
        .join(StatusLink, StatusLink.order_id == Order.id)
        .join(Stage, Stage.code == Order.stage_code)
        .outerjoin(Employee, Employee.id == Order.assignee_id)
        .outerjoin(ServiceObject, ServiceObject.id == Order.object_id)
        .outerjoin(parent, parent.id == ServiceObject.parent_id)
        .outerjoin(OrderRating, OrderRating.order_id == Order.id)
        .where(StatusLink.token == token)
    ).first()
    if found is None:
        raise PageNotFound
    order, category, technician, obj_name, address, parent_address, rated = found
    assert order.id is not None
    days = int(brand.settings["status_link_days"])
    gone_at = None
    if order.closed_at is not None:
        gone_at = order.closed_at + timedelta(days=days)
        if now > gone_at:
            raise PageNotFound  # as status_links.order_by_token: expired is not found
    if address is None and parent_address is None and order.object_id is not None:
        address = _place(session, order.object_id)[0]  # deeper in the tree
    if technician is None:  # a crew's order: the technician of its latest visit
        technician = session.execute(
            select(Employee.short_name)
            .join(Visit, Visit.employee_id == Employee.id)
            .where(Visit.order_id == order.id)
            .order_by(col(Visit.start_at).desc())
            .limit(1)
        ).scalar()
    estimate, until = arrival.estimate_until(
        session=session, order=order, category=category, cfg=brand.settings, now=now
    )
    moments = [t for t in (gone_at, until) if t is not None]
    if estimate is not None:
        moments.append(_next_minute(now, estimate))
    done = category in FINISHED
    return StatusPage(
        number=order.number,
        object_name=obj_name,
        address=address or parent_address,
        description=order.description,
        stage=stage_words(order.stage_code, category, brand.lang),
        category=category,
        done=done,
        cancelled=category == StageCategory.CANCELLED.value,
        planned_start=order.planned_start,
        planned_end=order.planned_end,
        technician=technician or (estimate.technician if estimate else None),
        arrival=estimate,
        messages=_chat(session, order.id),
        may_write=order.contact_id is not None,
        act=done and _has_act(session, order.id),
        may_rate=done and rated is None,
        rating=_scores(rated),
        changes_at=min(moments, default=None),
    )


def _next_minute(now: datetime, estimate: Arrival) -> datetime:
    """The first moment one of the estimate's times, as the page shows them (to the
    minute), may read otherwise: each may be "now" plus a fixed time, so each reaches
    its next minute as much later as it is short of it now."""
    return min(
        now + timedelta(minutes=1) - timedelta(seconds=t.second, microseconds=t.microsecond)
        for t in (estimate.at, estimate.earliest, estimate.latest)
    )


def _scores(rated: Any) -> tuple[int, int, int, str | None, str] | None:
    """The rating as the page shows it: the three scores, the comment, the mean."""
    from fsm_core.services.ratings import mean

    if rated is None:
        return None
    scores = (rated.promptness, rated.accuracy, rated.communication)
    return (*scores, rated.comment, str(mean(*scores)))


def _has_act(session: Session, order_id: int) -> bool:
    """Whether the order has work or materials recorded: what an act is made of."""
    from sqlalchemy import exists, or_

    from fsm_core.models import MaterialUse, WorkEntry

    return bool(
        session.execute(
            select(
                or_(
                    exists().where(WorkEntry.order_id == order_id),
                    exists().where(MaterialUse.order_id == order_id),
                )
            )
        ).scalar()
    )


def _chat(session: Session, order_id: int) -> tuple[ChatLine, ...]:
    from fsm_core.models import Channel

    rows = session.execute(
        select(Message.text, Message.created_at, AppUser.display_name, AppUser.kind)
        .join(AppUser, col(AppUser.id) == Message.author_user_id)
        .where(Message.order_id == order_id, Message.channel == Channel.CUSTOMER.value)
        .order_by(col(Message.id).desc())
        .limit(MESSAGES_SHOWN)
    ).all()
    return tuple(
        ChatLine(author=name, from_customer=kind == UserKind.CUSTOMER.value, text=text, at=at)
        for text, at, name, kind in reversed(rows)
    )


@requires("orders.read")
def visitor(*, session: Session, token: str, lang: str, author: bool = False) -> Principal:
    """The customer principal whoever holds the order's status link acts as: the order's
    contact's user (made for them with ``author``, when a message needs one), else the
    customer's, unnamed. The server's account is kept as the one that connected."""
    from fsm_core.identity import principal_for

    order = _order(session, token)
    server = principal_of(session)
    contact = session.get(Contact, order.contact_id) if order.contact_id else None
    user = None
    if contact is not None:
        user = session.execute(
            select(AppUser).where(AppUser.contact_id == contact.id)
        ).scalar_one_or_none()
        if user is None and author:
            user = _contact_user(session, contact)
    if user is not None and user.active and user.kind == UserKind.CUSTOMER.value:
        found = principal_for(session, user, account=server.account)
        return replace(found, name=via(found.name, lang)[:100])
    name = contact.full_name if contact else ("заказчик" if lang == "ru" else "customer")
    return Principal(
        login="qr",
        name=via(name, lang)[:100],
        roles=frozenset({Role.CUSTOMER}),
        customer_id=order.customer_id,
        account=server.account,
    )


def _contact_user(session: Session, contact: Contact) -> AppUser:
    from fsm_core.services.users import create_user

    base = f"contact-{contact.id}"
    login, n = base, 1
    while session.execute(select(AppUser.id).where(AppUser.login == login)).first():
        n += 1
        login = f"{base}-{n}"
    return create_user(session=session, login=login, kind=UserKind.CUSTOMER, contact_id=contact.id)


@requires("chat.write", scoped=True)
def post_message(*, session: Session, token: str, text: str | None) -> Message:
    """A message from the status page to the order's customer channel, by the order's
    contact (the session's principal must be their user: :func:`visitor` with ``author``)."""
    from fsm_core.services import chat

    order = _order(session, token)
    authorize(session, "chat.write", order_id=order.id)
    who = principal_of(session)
    user = session.get(AppUser, who.user_id) if who.user_id is not None else None
    if user is None:
        raise InvalidInput(
            "this request was left without a name or phone: call us to write here",
            field="text",
            ru="заявка оставлена без имени и телефона: позвоните нам, чтобы написать сюда",
        )
    body = (text or "").strip()
    if not body:
        raise InvalidInput("write a message", field="text", ru="напишите сообщение")
    if len(body) > MESSAGE_LENGTH:
        raise InvalidInput(
            f"a message is at most {MESSAGE_LENGTH} characters",
            field="text",
            ru=f"сообщение — не больше {MESSAGE_LENGTH} символов",
        )
    (message,) = chat.send_message(
        session=session, order_id=order.id, user=user, text=body, channel="customer"
    )
    return message


@requires("ratings.give", scoped=True)
def give_rating(
    *,
    session: Session,
    token: str,
    promptness: object,
    accuracy: object,
    communication: object,
    comment: str | None,
) -> None:
    """The customer's rating of the order the status link names, once."""
    from fsm_core.services import ratings

    order = _order(session, token)
    assert order.id is not None
    authorize(session, "ratings.give", order_id=order.id)
    ratings.rate(
        session=session,
        order_id=order.id,
        promptness=promptness,
        accuracy=accuracy,
        communication=communication,
        comment=comment,
        actor=principal_of(session).history_name[:100],
    )


@requires("orders.documents", scoped=True)
def act_pdf(*, session: Session, token: str, lang: str) -> tuple[str, bytes]:
    """The act of the finished order the status link names: its file name and PDF."""
    from fsm_core.documents.act import render_act
    from fsm_core.services import execution

    order = _order(session, token)
    assert order.id is not None
    authorize(session, "orders.documents", order_id=order.id)
    stage = session.get(Stage, order.stage_code)
    if stage is None or stage.category not in (
        StageCategory.DONE.value,
        StageCategory.CLOSED.value,
    ):
        raise PageNotFound
    document = execution.act_document(session=session, order_id=order.id, lang=lang)
    out = io.BytesIO()
    render_act(document, out=out, lang=lang, tz=company_settings.load(session=session).tz)
    return f"act-{order.number}.pdf", out.getvalue()
