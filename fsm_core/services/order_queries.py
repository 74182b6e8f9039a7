"""Reading orders: the board (filtered, paged lists and counts), one order's details and
its change history. Nothing here writes; the lifecycle is in :mod:`fsm_core.services.orders`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from enum import Enum
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    any_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Join
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from fsm_core import clock, search_index
from fsm_core.access import order_filter, requires
from fsm_core.db import folded, search_fold, text_filter
from fsm_core.models import (
    Company,
    Contact,
    Crew,
    Employee,
    Order,
    OrderHistory,
    ServiceObject,
    SlaStatus,
    Stage,
)
from fsm_core.services import settings as company_settings
from fsm_core.services import sla
from fsm_core.services.object_tree import descendant_ids, effective_address
from fsm_core.services.stages import FINAL_CATEGORIES, load_workflow

REFERENCE_FIELDS: dict[str, tuple[type, str]] = {
    "customer_id": (Company, "name"),
    "object_id": (ServiceObject, "name"),
    "contact_id": (Contact, "full_name"),
    "assignee_id": (Employee, "short_name"),
    "crew_id": (Crew, "name"),
}


@requires("orders.read", scoped=True)
def display_value(*, session: Session, name: str, value: Any) -> str | None:
    """How a value is kept in the history: names rather than ids, UTC ISO times."""
    if value is None:
        return None
    if name in REFERENCE_FIELDS:
        model, attribute = REFERENCE_FIELDS[name]
        record = session.get(model, value)
        return str(getattr(record, attribute)) if record is not None else f"#{value}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def history_field(name: str) -> str:
    return name.removesuffix("_id") if name in REFERENCE_FIELDS else name


# a moment as display_value stores it: 2026-12-08T07:00+00:00
_ISO_MOMENT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)"
)


@dataclass(frozen=True)
class HistoryLine:
    """One history row as a person reads it: names, not codes; local times."""

    at: datetime
    actor: str
    what: str
    old: str
    new: str


@requires("orders.read")
def history_lines(*, session: Session, order_id: int, lang: str, tz: tzinfo) -> list[HistoryLine]:
    """The order's history for a screen or a terminal, in ``lang`` and the zone ``tz``.

    The stored rows keep codes and UTC ISO times (they are the record); this is the one
    place that turns them into stage and criticality names and local times."""
    from fsm_core.formatting import local_time
    from fsm_core.i18n import criticality_name, history_name

    stages = {
        code: stage.name(lang) for code, stage in load_workflow(session=session).stages.items()
    }

    def moment(match: re.Match[str]) -> str:
        return local_time(datetime.fromisoformat(match.group(0)), tz, lang=lang)

    def shown(field: str | None, value: str | None) -> str:
        if not value:
            return ""
        if field == "stage":
            return stages.get(value, value)
        if field == "criticality":
            return criticality_name(value, lang)
        return _ISO_MOMENT.sub(moment, value)

    def created(value: str | None) -> str:
        # "26-0001; stage=new; criticality=high; assignee=..." (see orders._CREATION_HISTORY)
        parts = (value or "").split("; ")
        out = parts[:1]
        for part in parts[1:]:
            name, sep, code = part.partition("=")
            if not sep:
                out.append(part)
                continue
            out.append(f"{history_name(name, lang).lower()}: {shown(name, code)}")
        return "; ".join(out)

    lines = []
    for h in history(session=session, order_id=order_id):
        new = created(h.new_value) if h.action == "create" else shown(h.field, h.new_value)
        lines.append(
            HistoryLine(
                at=h.at,
                actor=h.actor,
                # a deadline the SLA policy recomputed says so
                what=history_name(h.field or h.action, lang)
                + (" (SLA)" if h.action == "sla" else ""),
                old=shown(h.field, h.old_value),
                new=new,
            )
        )
    return lines


@requires("orders.read")
def history(*, session: Session, order_id: int) -> Sequence[OrderHistory]:
    query = (
        sqlmodel_select(OrderHistory)
        .where(OrderHistory.order_id == order_id)
        .order_by(col(OrderHistory.at), col(OrderHistory.id))
    )
    return session.exec(query).all()


@dataclass
class OrderFilter:
    """What a dispatcher narrows the board by; empty means no restriction."""

    stages: Sequence[str] = ()
    assignee_ids: Sequence[int] = ()
    unassigned: bool = False
    crew_ids: Sequence[int] = ()
    customer_ids: Sequence[int] = ()
    object_ids: Sequence[int] = ()
    criticalities: Sequence[str] = ()
    sla: Sequence[SlaStatus] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    open_only: bool = False
    include_sub_objects: bool = True


_LIST_COLUMNS = (
    Order.id,
    Order.number,
    Order.external_id,
    Order.created_at,
    Order.updated_at,
    Order.stage_code,
    Order.criticality,
    Order.customer_id,
    Order.object_id,
    Order.assignee_id,
    Order.crew_id,
    Order.planned_start,
    Order.planned_end,
    Order.reaction_due,
    Order.resolution_due,
    Order.closed_at,
    Order.description,
    Order.source,
    Order.version,
)


UNASSIGNED_WORDS = ("none", "-", "нет", "никто")


@requires("orders.read", scoped=True)
def filter_from_text(
    *,
    session: Session,
    stages: Sequence[str] | None = None,
    assignees: Sequence[str] | None = None,
    crews: Sequence[str] | None = None,
    customers: Sequence[str] | None = None,
    objects: Sequence[str] | None = None,
    criticalities: Sequence[str] | None = None,
    sla_statuses: Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    text: str | None = None,
    open_only: bool = False,
) -> OrderFilter:
    """An :class:`OrderFilter` from what a person typed: names, codes, day-first dates.

    ``assignees`` may contain ``none`` for unassigned orders; ``since``/``until`` are
    calendar days in the company's time zone, both included.
    """
    from fsm_core.services import lookup
    from fsm_core.vocabulary import parse_criticality

    flt = OrderFilter(open_only=open_only, text=text)
    if stages:
        workflow = load_workflow(session=session)
        flt.stages = [workflow.stage(s).code for s in stages]
    if assignees:
        wanted = [a for a in assignees if a.strip().lower() not in UNASSIGNED_WORDS]
        flt.unassigned = len(wanted) < len(assignees)
        flt.assignee_ids = [lookup.resolve_employee(session=session, ref=a).id for a in wanted]
    flt.crew_ids = [lookup.resolve_crew(session=session, ref=c).id for c in crews or ()]
    flt.customer_ids = [lookup.resolve_company(session=session, ref=c).id for c in customers or ()]
    flt.object_ids = [lookup.resolve_object(session=session, ref=o).id for o in objects or ()]
    flt.criticalities = [parse_criticality(c).value for c in criticalities or ()]
    flt.sla = [sla.parse_status(s) for s in sla_statuses or ()]
    if since or until:
        from fsm_core.services.settings import load as load_settings
        from fsm_core.timeparse import local_day_bounds, parse_date

        tz = load_settings(session=session).tz
        if since:
            day = parse_date(since, tz=tz, field="since")
            flt.created_from = local_day_bounds(day, tz)[0] if day else None
        if until:
            day = parse_date(until, tz=tz, field="until")
            flt.created_to = local_day_bounds(day, tz)[1] if day else None
    return flt


@requires("orders.read", scoped=True)
def apply_filter(
    *,
    query: Any,
    session: Session,
    flt: OrderFilter,
    now: datetime,
    page: bool = False,
    capped: bool = False,
    direct: bool = False,
) -> Any:
    """``query`` narrowed to the orders ``flt`` matches. ``page``: the query reads the
    first rows in date order (a page), not all of them; ``capped``: it reads the first
    :data:`COUNT_CAP` in any order; ``direct``: it reads few orders, the newest
    (see :func:`text_condition`). Only the orders the
    session's principal may see are ever matched (a technician's own, a customer's
    company's)."""
    visible = order_filter(session)
    if visible is not None:
        query = query.where(visible)
    if flt.stages:
        query = query.where(col(Order.stage_code).in_(flt.stages))
    if flt.open_only:
        final = sqlmodel_select(Stage.code).where(col(Stage.category).in_(sorted(FINAL_CATEGORIES)))
        query = query.where(col(Order.stage_code).not_in(final))
    if flt.assignee_ids and flt.unassigned:
        query = query.where(
            col(Order.assignee_id).in_(flt.assignee_ids) | col(Order.assignee_id).is_(None)
        )
    elif flt.assignee_ids:
        ids = list(flt.assignee_ids)
        query = query.where(
            Order.assignee_id == ids[0] if len(ids) == 1 else col(Order.assignee_id).in_(ids)
        )
    elif flt.unassigned:
        query = query.where(col(Order.assignee_id).is_(None), col(Order.crew_id).is_(None))
    if flt.crew_ids:
        query = query.where(col(Order.crew_id).in_(flt.crew_ids))
    if flt.customer_ids:
        query = query.where(col(Order.customer_id).in_(flt.customer_ids))
    if flt.object_ids:
        ids = (
            descendant_ids(session=session, object_ids=flt.object_ids)
            if flt.include_sub_objects
            else list(flt.object_ids)
        )
        query = query.where(col(Order.object_id).in_(ids))
    if flt.criticalities:
        query = query.where(col(Order.criticality).in_([str(c) for c in flt.criticalities]))
    if flt.created_from is not None:
        query = query.where(Order.created_at >= flt.created_from)
    if flt.created_to is not None:
        query = query.where(Order.created_at < flt.created_to)
    if flt.sla:
        query = query.where(sla.status_expression(now).in_([s.value for s in flt.sla]))
    if flt.text:
        query = query.where(
            *text_condition(flt.text, session, page=page, capped=capped, direct=direct)
        )
    return query


MIN_INDEXED_TERM = 3
"""The text index holds trigrams: a shorter term is looked for by reading the orders."""


COMMON_TERM = 2_000
"""A term that many orders match is common: a page of its orders is found soonest by
walking the orders in date order (the first 50 come early); and one that many orders' own
texts hold PostgreSQL counts soonest by reading the table, as without the index."""

COUNT_CAP = 1_000
"""With a search term the board counts at most this many matching orders and shows more
as "1000+" (:func:`board_counts`): an exact count of a term most orders hold reads every
one of them (0.19 s for 100,000 on PostgreSQL), whatever the index; the first thousand
are read in a few ms."""

CAPPED_SCAN_TERM = 5_000
"""A term whose own texts at least this many orders hold is counted up to the cap by
reading the orders in table order, which reaches the cap soonest (at 100,000 orders,
within 20,000 rows); a rarer one through the index (whose cost grows with the matches)."""


@requires("orders.read", scoped=True)
def text_condition(
    text: str,
    session: Session | None = None,
    *,
    page: bool = False,
    capped: bool = False,
    direct: bool = False,
) -> list[Any]:
    """``[condition]``: the order's number, description or external id contains ``text``,
    or its customer's name or its object's name or address does (case- and ё-insensitive,
    ``%`` and ``_`` literal); ``[]`` when there is nothing to search for.

    The customers and objects that match are found first, in their own (small) tables, so
    each order row costs three comparisons rather than six, and the counts need no joins.
    A term of three characters or more is found through the text index that migration
    0008 built (SQLite's FTS5 trigram table, PostgreSQL's pg_trgm indexes) where there is
    one (``session`` tells which database): the same orders, without reading them all --
    unless the term is common (``COMMON_TERM``) and the query reads a ``page`` (or runs
    on PostgreSQL), which the reading in date order answers sooner; or the query reads
    the first orders up to a cap (``capped``) and the orders' own texts hold it often
    (``CAPPED_SCAN_TERM``): the reading in table order reaches the cap soonest then.
    PostgreSQL's capped counts, and a ``direct`` query (the page among the newest orders,
    see :func:`list_orders`), test the orders' own texts and the matching customers' and
    objects' ids given as arrays (:func:`_direct_condition`), so that its planner, which
    then knows how many orders the term matches, reads them through the indexes or in
    order as is cheaper, and stops at the limit; the other pages take the ids the index
    finds (fewer than ``COMMON_TERM``) as they are, so the index is not read twice (see
    :func:`_first_ids`).
    """
    key = search_fold(text.strip()) if text else None
    if not key:
        return []
    if session is not None and len(key) >= MIN_INDEXED_TERM:
        index = text_index(session)
        if index is not None:
            if index == "pg_trgm" and (capped or direct):
                return [_direct_condition(key, session)]
            own = _fts5_ids(key, session) if index == "fts5" else [_trigram_ids(key)]
            if index == "pg_trgm" and page:
                ids = _first_ids(session, _matching_union(key, *own), COMMON_TERM)
                if ids is not None:
                    return [col(Order.id) == any_(bindparam("fsm_ids", ids, ARRAY(Integer)))]
            elif capped:
                if not _common(session, own[0], CAPPED_SCAN_TERM):
                    return [col(Order.id).in_(_matching_union(key, *own))]
            elif page:
                if not _common(session, _matching_union(key, *own)):
                    return [col(Order.id).in_(_matching_union(key, *own))]
            elif index == "fts5" or not _common(session, own[0]):
                return [col(Order.id).in_(_matching_union(key, *own))]
    return _scanning_condition(text)


def _common(session: Session, found: Any, threshold: int | None = None) -> bool:
    """Whether the index finds at least ``threshold`` (``COMMON_TERM``) orders (it stops
    there: a few ms)."""
    threshold = COMMON_TERM if threshold is None else threshold
    first = found.limit(threshold).subquery()
    return int(session.execute(select(func.count()).select_from(first)).scalar_one()) >= threshold


_NAMED_IDS = "fsm_search_named_ids"  # session.info: (transaction, term, its names' ids)


def _direct_condition(key: str, session: Session) -> Any:
    """See :func:`_direct_parts`: either part (the customers' and objects' first, which
    costs less to test)."""
    own, named = _direct_parts(key, session)
    return own if named is None else or_(named, own)


def _direct_parts(key: str, session: Session) -> tuple[Any, Any]:
    """PostgreSQL: the order's folded number, description or external id contains ``key``
    (what its pg_trgm indexes answer), or its customer or object is one of those whose
    names contain it, their ids read first (two small tables) and given as arrays: with
    the values in hand the planner estimates how many orders match and chooses between
    the indexes (a rare term: a bitmap of the trigram and customer/object indexes, read
    until the limit) and reading the orders in table or date order (a common one: the
    first rows hold enough)."""
    # read once a transaction per term (a page may be looked for twice, see list_orders)
    transaction = session.get_transaction()
    known = session.info.get(_NAMED_IDS)
    if known is not None and known[0] is transaction and known[1] == key:
        ids: dict[str, list[int]] = known[2]
    else:
        customers, objects = _named_elsewhere(key)
        both = union_all(
            select(literal_column("'c'").label("kind"), customers.subquery().c.id),
            select(literal_column("'o'").label("kind"), objects.subquery().c.id),
        )
        ids = {"c": [], "o": []}
        for kind, found in session.execute(both):
            ids[kind].append(int(found))
        session.info[_NAMED_IDS] = (transaction, key, ids)
    named: list[Any] = []
    if ids["c"]:
        listed = bindparam("fsm_customer_ids", ids["c"], ARRAY(Integer))
        named.append(col(Order.customer_id) == any_(listed))
    if ids["o"]:
        listed = bindparam("fsm_object_ids", ids["o"], ARRAY(Integer))
        named.append(col(Order.object_id) == any_(listed))
    own = or_(
        *(
            folded(column).contains(key, autoescape=True)
            for column in (Order.number, Order.description, Order.external_id)
        )
    )
    return own, (or_(*named) if named else None)


def _first_ids(session: Session, found: Any, limit: int) -> list[int] | None:
    """The ids ``found`` (the index's union), or None when there are ``limit`` or more.

    PostgreSQL's trigram indexes cost the most of a search on a term of common trigrams
    (10 ms for "заявка 42", 1,111 orders of 100,000); read once here, the ids are handed
    to the page's or the count's query as an array parameter (``id = ANY(...)``), which
    it reads by primary key and stops at its limit. Given as a subquery instead, the
    index was read twice, and with ``IN`` the planner misjudged the number of ids and
    hashed them against the whole table."""
    ids = list(session.execute(found.limit(limit)).scalars())
    return None if len(ids) >= limit else sorted(set(ids))


@requires("orders.read", scoped=True)
def text_index(session: Session) -> str | None:
    """The order text index this database has: ``"fts5"``, ``"pg_trgm"`` or None (its
    SQLite has no trigram tokenizer, its server no pg_trgm). Asked once a connection."""
    connection = session.connection()
    known = connection.info.get("fsm_text_index", False)
    if known is not False:
        return known  # type: ignore[no-any-return]
    if connection.dialect.name == "sqlite":
        found = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'order_search'"
        ).scalar()
        index = "fts5" if found else None
    else:
        found = connection.exec_driver_sql(
            "SELECT 1 FROM pg_indexes WHERE tablename = 'orders' "
            "AND indexname = 'ix_orders_description_trgm'"
        ).scalar()
        index = "pg_trgm" if found else None
    connection.info["fsm_text_index"] = index
    return index


# The orders table under the names the search's subqueries read it by: made once, as an
# alias builds each column's SQL expression anew the first time it is used (an alias per
# search cost 6 ms of Python a search, more than the query on a rare term).
_PENDING_ORDERS = aliased(Order, name="search_pending")
_OWN_ORDERS = aliased(Order, name="search_own")
_NAMED_ORDERS = aliased(Order, name="search_orders")


def _named_elsewhere(key: str) -> tuple[Any, Any]:
    """The customers and the objects whose names (or address) contain ``key``."""
    customers = sqlmodel_select(Company.id).where(*text_filter(key, Company.name))
    objects = sqlmodel_select(ServiceObject.id).where(
        *text_filter(key, ServiceObject.name, ServiceObject.address)
    )
    return customers, objects


def _fts5_ids(key: str, session: Session) -> list[Any]:
    """The ids from the FTS5 table: a phrase query, i.e. the term's trigrams in a row,
    which is the term as a substring (``%`` and ``_`` are plain characters there); and
    those of the orders an import published that are not indexed yet."""
    phrase = '"' + key.replace('"', '""') + '"'
    match = sql_text("order_search MATCH :fsm_phrase").bindparams(fsm_phrase=phrase)
    rowid: Any = literal_column("rowid").label("id")
    found: Any = select(rowid).select_from(table("order_search")).where(match)
    if not search_index.has_pending_table(session.connection()):
        return [found]
    return [found, _pending_ids(key)]


def _pending_ids(key: str) -> Any:
    """The ids of the orders of the ranges not indexed yet (see fsm_core/search_index.py)
    whose number, description or external id contain ``key``: read one by one, as
    without the index (none, at once, when nothing is pending)."""
    pending = table(search_index.PENDING, column("lo"), column("hi"))
    other = _PENDING_ORDERS
    return (
        select(other.id)
        .select_from(pending)
        .join(other, col(other.id).between(pending.c.lo, pending.c.hi))
        .where(*text_filter(key, other.number, other.description, other.external_id))
    )


def _trigram_ids(key: str) -> Any:
    """The ids of the orders whose folded columns, as the pg_trgm indexes hold them, are
    LIKE the term (PostgreSQL combines the three indexes' bitmaps)."""
    other = _OWN_ORDERS
    return select(other.id).where(
        or_(
            *(
                folded(column).contains(key, autoescape=True)
                for column in (other.number, other.description, other.external_id)
            )
        )
    )


def _matching_union(key: str, *found: Any) -> Any:
    """The ids of the matching orders as one set: ``found`` (through the text index) and
    the orders of matching customers and objects (through theirs). ``Order.id IN`` it
    makes the database read the orders by id, instead of walking them all in date order
    to test each (as it does with an OR of the tests)."""
    customers, objects = _named_elsewhere(key)
    other = _NAMED_ORDERS
    return union_all(
        *found,
        select(other.id).where(col(other.customer_id).in_(customers)),
        select(other.id).where(col(other.object_id).in_(objects)),
    )


def _scanning_condition(text: str) -> list[Any]:
    """The search without a text index: every order's columns are compared."""
    own = text_filter(text, Order.number, Order.description, Order.external_id)
    if not own:
        return []
    customers, objects = _named_elsewhere(text)
    return [
        or_(
            *own,
            col(Order.customer_id).in_(customers),
            col(Order.object_id).in_(objects),
        )
    ]


def with_names(query: Any) -> Any:
    return (
        query.join(Company, Company.id == Order.customer_id)
        .outerjoin(ServiceObject, ServiceObject.id == Order.object_id)
        .outerjoin(Employee, Employee.id == Order.assignee_id)
        .outerjoin(Crew, Crew.id == Order.crew_id)
    )


@requires("orders.read", scoped=True)
def list_orders(
    *,
    session: Session,
    filters: OrderFilter | None = None,
    limit: int | None = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The orders matching ``filters``, newest first, with names and the SLA status."""
    flt = filters or OrderFilter()
    now = now or clock.now()
    query = with_names(
        select(
            *_LIST_COLUMNS,
            Company.name.label("customer"),
            ServiceObject.name.label("object"),
            ServiceObject.address.label("address"),
            Employee.short_name.label("assignee"),
            Crew.name.label("crew"),
            sla.status_expression(now).label("sla_status"),
        ).select_from(Order)
    )
    if limit is not None and flt.text and offset + limit < PAGE_WINDOW:
        newest = _newest_window(session, flt)
        if newest is not None:
            # the page among the newest orders first: if they hold it, it is the page
            # (every other order is older than all of them)
            within = apply_filter(query=query, session=session, flt=flt, now=now, direct=True)
            within = within.where(col(Order.created_at) >= newest)
            within = within.order_by(col(Order.created_at).desc(), col(Order.id).desc())
            rows = session.execute(within.offset(offset).limit(limit)).all()
            if len(rows) == limit:
                return [dict(row._mapping) for row in rows]
            # fewer: the term is rare among the newest orders, and likely rare. The
            # matching orders are found first, on their own (OFFSET 0 keeps the subquery
            # apart from the sorting: its planner, which knows how many match, reads them
            # through the indexes rather than in date order), the page's ids taken from
            # them by date, and only those rows joined to their names
            found = select(Order.id, Order.created_at).select_from(Order).correlate(None)
            found = apply_filter(query=found, session=session, flt=flt, now=now, direct=True)
            matching = found.offset(0).subquery("search_matching")
            first = select(matching.c.id).order_by(
                matching.c.created_at.desc(), matching.c.id.desc()
            )
            query = query.where(col(Order.id).in_(first.offset(offset).limit(limit)))
            query = query.order_by(col(Order.created_at).desc(), col(Order.id).desc())
            return [dict(row._mapping) for row in session.execute(query)]
    query = apply_filter(query=query, session=session, flt=flt, now=now, page=limit is not None)
    query = query.order_by(col(Order.created_at).desc(), col(Order.id).desc())
    query = query.offset(offset).limit(limit)
    return [dict(row._mapping) for row in session.execute(query)]


PAGE_WINDOW = 2_000
"""PostgreSQL looks for a term's first page among this many newest orders first (see
:func:`_newest_window`)."""


def _newest_window(session: Session, flt: OrderFilter) -> Any:
    """PostgreSQL, a term its trigram indexes answer: the creation time of the
    :data:`PAGE_WINDOW`-th newest order (a scalar subquery), below which the first page
    is looked for first (None: not this way). A term many orders hold fills a page from
    the newest ones at once (reading 2,000 orders costs 1-4 ms), where through the index
    every matching order is read (22 ms for the 11,111 of "заявка 9"); a rarer one is
    looked for through the index after all (see :func:`text_condition`)."""
    key = search_fold(flt.text.strip()) if flt.text else None
    if not key or len(key) < MIN_INDEXED_TERM or text_index(session) != "pg_trgm":
        return None
    newest = select(Order.created_at).order_by(col(Order.created_at).desc())
    # a subquery of the page's query, not a round trip of its own (none is NULL: a
    # database of fewer orders has no window, and the page is looked for as usual)
    return newest.offset(PAGE_WINDOW - 1).limit(1).scalar_subquery()


@requires("orders.read", scoped=True)
def count_orders(
    *, session: Session, filters: OrderFilter | None = None, now: datetime | None = None
) -> int:
    flt = filters or OrderFilter()
    query = select(func.count()).select_from(Order)
    return int(
        session.execute(
            apply_filter(query=query, session=session, flt=flt, now=now or clock.now())
        ).scalar_one()
    )


@requires("orders.read", scoped=True)
def stage_counts(
    *, session: Session, filters: OrderFilter | None = None, now: datetime | None = None
) -> dict[str, int]:
    """How many orders match in each stage (the board's column headers)."""
    flt = filters or OrderFilter()
    query = select(Order.stage_code, func.count()).select_from(Order)
    query = apply_filter(query=query, session=session, flt=flt, now=now or clock.now()).group_by(
        Order.stage_code
    )
    return {code: int(n) for code, n in session.execute(query)}


@dataclass(frozen=True)
class BoardCounts:
    """How many orders the board's filters match, by stage and in all. ``capped``: more
    than ``total`` (:data:`COUNT_CAP`) match -- "1000+" -- and each stage's number is how
    many of the first ones counted are in it: at least that many."""

    by_stage: dict[str, int]
    total: int
    capped: bool = False


@requires("orders.read", scoped=True)
def board_counts(
    *, session: Session, filters: OrderFilter | None = None, now: datetime | None = None
) -> BoardCounts:
    """The board's counts. Without a search term exact (:func:`stage_counts`); with one,
    the first :data:`COUNT_CAP` matching orders are counted, and ``capped`` says whether
    there are more (the rest is read only if the list is paged through)."""
    flt = filters or OrderFilter()
    now = now or clock.now()
    if not (flt.text and search_fold(flt.text.strip())):
        by_stage = stage_counts(session=session, filters=flt, now=now)
        return BoardCounts(by_stage, sum(by_stage.values()))
    cap = COUNT_CAP
    first = _streamed_first(session, flt, now, cap)
    if first is None:
        first = _pg_capped_first(session, flt, now, cap)
    if first is None:
        query = select(Order.stage_code).select_from(Order)
        first = (
            apply_filter(query=query, session=session, flt=flt, now=now, capped=True)
            .limit(cap + 1)
            .subquery()
        )
    rows = session.execute(select(first.c.stage_code, func.count()).group_by(first.c.stage_code))
    by_stage = {code: int(n) for code, n in rows}
    total = sum(by_stage.values())
    return BoardCounts(by_stage, min(total, cap), capped=total > cap)


def _streamed_first(session: Session, flt: OrderFilter, now: datetime, cap: int) -> Any:
    """SQLite's first ``cap + 1`` matching orders (their ``stage_code``) as a subquery that
    reads the text index's ids as they come, without collecting them first, and stops
    there; None where it does not apply (see :func:`board_counts`).

    The ids of the union (:func:`_matching_union`: the FTS5 table's, then the matching
    customers' and objects' orders) are read one by one, each order looked up by id and
    tested against the other filters, duplicates dropped as they come (an order can match
    by its description and its customer): a term most orders hold is done after about
    ``cap`` ids (1.3 ms at 100,000 orders, where ``Order.id IN`` the union first listed
    all 100,000, and the reading in table order took 25 ms for "заявка 9"). ``CROSS JOIN``
    keeps SQLite from materializing the union before the join (its planner may not
    reorder a cross join, so the union is read as a co-routine). Filters that narrow the
    orders by an index of their own (an assignee, a crew, a customer, an object, a
    technician's or a customer's own orders) keep the reading of
    :func:`text_condition`: those orders are fewer than the term's."""
    key = search_fold(flt.text.strip()) if flt.text else None
    if not key or len(key) < MIN_INDEXED_TERM or text_index(session) != "fts5":
        return None
    narrowed = flt.assignee_ids or flt.unassigned or flt.crew_ids
    if narrowed or flt.customer_ids or flt.object_ids or order_filter(session) is not None:
        return None
    found = _matching_union(key, *_fts5_ids(key, session)).subquery("search_found")
    orders = Order.__table__  # type: ignore[attr-defined]
    joined = _CrossJoin(found, orders, col(Order.id) == found.c.id)
    query = select(Order.id, Order.stage_code).select_from(joined).distinct()
    others = replace(flt, text=None)
    return apply_filter(query=query, session=session, flt=others, now=now).limit(cap + 1).subquery()


def _pg_capped_first(session: Session, flt: OrderFilter, now: datetime, cap: int) -> Any:
    """PostgreSQL's first ``cap + 1`` matching orders (their ``stage_code``) as a
    subquery; None where it does not apply (no trigram index, a short term, or no
    customer or object matches: then :func:`text_condition`'s one condition serves).

    The orders of matching customers and objects and those whose own texts match are
    read apart, the first ``cap + 1`` of each, and joined without duplicates: each part
    is planned for itself, by its own index or in table order. Tested together, the
    planner read the table in order for a customer's name (16,040 orders of 100,000),
    and every other order cost three folded LIKEs: 30 ms, against 9 ms through the
    indexes. Either part holding more than ``cap`` orders makes the union hold more,
    and both under it make it exact."""
    key = search_fold(flt.text.strip()) if flt.text else None
    if not key or len(key) < MIN_INDEXED_TERM or text_index(session) != "pg_trgm":
        return None
    own, named = _direct_parts(key, session)
    if named is None:
        return None
    others = replace(flt, text=None)

    def first_of(condition: Any) -> Any:
        query = select(Order.id, Order.stage_code).select_from(Order).where(condition)
        return apply_filter(query=query, session=session, flt=others, now=now).limit(cap + 1)

    both = union(first_of(named), first_of(own)).subquery("search_first")
    return select(both.c.stage_code).limit(cap + 1).subquery()


class _CrossJoin(Join):
    """An inner join that SQLite writes ``CROSS JOIN``: its left side is read first, as
    a co-routine (see :func:`_streamed_first`); elsewhere a plain ``JOIN``."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _cross_join_sqlite(element: _CrossJoin, compiler: Any, **kw: Any) -> str:
    kw["asfrom"] = True
    left = element.left._compiler_dispatch(compiler, **kw)
    right = element.right._compiler_dispatch(compiler, **kw)
    onclause: Any = element.onclause
    on = onclause._compiler_dispatch(compiler, **{**kw, "asfrom": False})
    return f"{left} CROSS JOIN {right} ON {on}"


@requires("orders.read")
def order_details(*, session: Session, order: Order, now: datetime | None = None) -> dict[str, Any]:
    """Everything ``orders show`` prints: the order's fields with names resolved."""
    workflow = load_workflow(session=session)
    values = order.model_dump()
    for name in REFERENCE_FIELDS:
        values[history_field(name)] = display_value(
            session=session, name=name, value=getattr(order, name)
        )
    if order.contact_id is not None:
        contact = session.get(Contact, order.contact_id)
        values["contact_phone"] = contact.phone if contact else None
    if order.object_id is not None:
        obj = session.get(ServiceObject, order.object_id)
        values["address"] = effective_address(session=session, obj=obj) if obj else None
        values["location_hint"] = obj.location_hint if obj else None
    values["stage"] = order.stage_code
    values["stage_name_en"] = workflow.stages[order.stage_code].name_en
    values["stage_name_ru"] = workflow.stages[order.stage_code].name_ru
    values["sla_status"] = sla.status_of(order, now or clock.now()).value
    values["sla_manual"] = order.reaction_manual or order.resolution_manual
    # when the deadlines' clock runs (the policy's calendar as it is now), in both languages
    policy = sla.policy_for(
        session=session, customer_id=order.customer_id, criticality=order.criticality
    )
    values["sla_calendar"] = policy.calendar if policy is not None else None
    hours = company_settings.load(session=session).company_hours
    for lang in ("en", "ru"):
        values[f"sla_calendar_{lang}"] = (
            sla.describe_calendar(policy.calendar, company_hours=hours, lang=lang, short=True)
            if policy is not None
            else None
        )
    allowed = workflow.allowed_from(order.stage_code)
    values["allowed_stages"] = [s.code for s in allowed]
    values["allowed_stage_names_en"] = [s.name_en for s in allowed]
    values["allowed_stage_names_ru"] = [s.name_ru for s in allowed]
    return values
