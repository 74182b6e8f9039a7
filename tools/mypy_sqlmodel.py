"""A mypy plugin: a table model's field read on the class is a column, not a value.

SQLModel declares ``Order.number: str``, so mypy types ``Order.number`` as ``str`` and
``Order.number == x`` as ``bool``, while at run time it is SQLAlchemy's
``InstrumentedAttribute[str]`` and builds SQL. This plugin gives class-level reads of the
fields of every subclass of ``fsm_core.models.base.Table`` that type, once for the whole
code base, instead of ``col()`` or ``type: ignore`` at each of a thousand column expressions.
Instance reads (``order.number``) keep their plain Python type, except the primary key
``id`` of a stored row, which is an ``int`` (see ``_stored_id``).
"""

from collections.abc import Callable

from mypy.nodes import TypeInfo, Var
from mypy.plugin import AttributeContext, Plugin
from mypy.typeops import make_simplified_union
from mypy.types import Instance, NoneType, Type, UnionType, get_proper_type

TABLE_BASE = "fsm_core.models.base.Table"
COLUMN = "sqlalchemy.orm.attributes.InstrumentedAttribute"


class SQLModelColumns(Plugin):
    def get_additional_deps(self, file: object) -> list[tuple[int, str, int]]:
        return [(10, "sqlalchemy.orm.attributes", -1)]

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        if fullname.startswith("fsm_core.models."):
            return self._column
        return None

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        if fullname.startswith("fsm_core.models.") and fullname.endswith(".id"):
            return self._stored_id
        return None

    def _stored_id(self, ctx: AttributeContext) -> Type:
        """``order.id`` of a stored row, and ``Order.id`` selected from the table: an ``int``.

        The models declare ``id: int | None`` because the database assigns it at the first
        flush; every service flushes before it hands a row on, so outside the constructor
        the ``None`` is noise at each of some hundred call sites.
        """
        typ = get_proper_type(ctx.type)
        if ctx.is_lvalue or not isinstance(typ, Instance):
            return ctx.default_attr_type
        if not any(base.fullname == TABLE_BASE for base in typ.type.mro[1:]):
            return ctx.default_attr_type
        return _without_none(ctx.default_attr_type)

    def _column(self, ctx: AttributeContext) -> Type:
        owner, _, name = _split(ctx)
        if owner is None or name.startswith("_") or ctx.is_lvalue:
            return ctx.default_attr_type
        if not any(base.fullname == TABLE_BASE for base in owner.mro[1:]):
            return ctx.default_attr_type
        node = owner.get(name)
        if node is None or not isinstance(node.node, Var) or node.node.is_classvar:
            return ctx.default_attr_type
        column = self.lookup_fully_qualified(COLUMN)
        if column is None or not isinstance(column.node, TypeInfo):
            return ctx.default_attr_type
        value = _without_none(ctx.default_attr_type) if name == "id" else ctx.default_attr_type
        return Instance(column.node, [value])


def _without_none(typ: Type) -> Type:
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        return make_simplified_union(
            [t for t in proper.items if not isinstance(get_proper_type(t), NoneType)]
        )
    return typ


def _split(ctx: AttributeContext) -> tuple[TypeInfo | None, str, str]:
    """The class whose attribute is read, and the attribute's name."""
    from mypy.nodes import MemberExpr
    from mypy.types import CallableType, TypeType

    expr = ctx.context
    name = expr.name if isinstance(expr, MemberExpr) else ""
    typ = get_proper_type(ctx.type)
    if isinstance(typ, CallableType) and typ.is_type_obj():
        return typ.type_object(), "", name
    if isinstance(typ, TypeType):
        item = get_proper_type(typ.item)
        if hasattr(item, "type"):
            return item.type, "", name
    return None, "", name


def plugin(version: str) -> type[Plugin]:
    return SQLModelColumns
