"""Syntax tree + schema + parameters → executable plan, with type checking.

The binder resolves names against the collection schema (an unknown name becomes a key of
the dynamic field ``$meta`` when the schema has one), substitutes template parameters,
folds constants, checks operand types with Milvus's rules and error texts, and builds the
plan nodes of :mod:`compare`, :mod:`membership`, :mod:`pattern`, :mod:`logic` and
:mod:`values`. Every problem is raised as :class:`ExprError` with Milvus's detail text.

A binder is cheap and single-use: one per ``compile_filter`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from elanus.core.expr import sample
from elanus.core.expr import syntax as s
from elanus.core.expr.compare import FLIP, BoolValue, CompareConst, CompareExprs, Range
from elanus.core.expr.errors import ExprError
from elanus.core.expr.logic import And, ConstPred, Exists, IsNull, Not, Or
from elanus.core.expr.membership import Term
from elanus.core.expr.params import param_value
from elanus.core.expr.pattern import Like, translate
from elanus.core.expr.runtime import Predicate, ValueExpr
from elanus.core.expr.typerules import (
    ARITH_NAMES,
    INT64_MAX,
    INT64_MIN,
    check_int64,
    comparable,
    fold_arith,
    fold_compare,
    fold_unary,
    literal_checker,
    literal_fits,
    type_name,
)
from elanus.core.expr.values import Arith, ColumnRef, Const, Negate
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

Bound = ValueExpr | Predicate
_NONE = object()
# Plans are evaluated recursively; a bound on nesting keeps binding and evaluation far from
# Python's recursion limit. Flat chains (`a or b or ...`, long lists) do not nest.
MAX_DEPTH = 200


def _plain_literal(node: s.Node) -> Any:
    """The value of a literal or negated number literal (the bulk of long id lists, bound
    here without the general machinery), else ``_NONE``."""
    sign = 1
    if type(node) is s.Unary and node.op == "-":
        node, sign = node.operand, -1
        if type(node) is not s.Literal or type(node.value) not in (int, float):
            return _NONE
    if type(node) is not s.Literal:
        return _NONE
    value = node.value if sign == 1 else -node.value  # type: ignore[operator]  # a number
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        check_int64(value, node.text if sign == 1 else "-" + node.text)
    return value


def describe(bound: Bound) -> str:
    """Type of a bound expression as Milvus names it in messages."""
    if isinstance(bound, Predicate):
        return DataType.BOOL.display
    return type_name(bound.dtype, bound.element_type)


def _cmp_type(bound: ValueExpr) -> DataType:
    return bound.element_type if bound.dtype == DataType.ARRAY else bound.dtype


def _is_whole_array(bound: Bound) -> bool:
    return isinstance(bound, ColumnRef) and bound.dtype == DataType.ARRAY


class Binder:
    """Binds one expression (``text`` is used in root-level messages only)."""

    def __init__(self, schema: CollectionSchema, params: Mapping[str, Any] | None, text: str) -> None:
        self.schema = schema
        self.params = params or {}
        self.text = text
        self.dynamic = schema.dynamic_field if schema.enable_dynamic_field else None
        self._depth = 0
        self._dispatch: dict[type, Callable[[Any], Bound]] = {
            s.Literal: self._literal, s.ListLit: self._list, s.Template: self._template, s.Name: self.column,
            s.Index: self.column, s.Unary: self._unary, s.Not: self._not, s.BinOp: self._binop,
            s.Compare: self._compare, s.In: self._in, s.Like: self._like, s.BoolOp: self._boolop,
            s.IsNull: self._is_null, s.Exists: self._exists, s.Call: self._call,
            s.Regex: self._regex, s.BadLiteral: self._bad_literal,
        }

    # -- entry points ---------------------------------------------------------------------

    def predicate(self, node: s.Node) -> Predicate:
        """The plan of a whole filter expression (boolean, or a bare Bool field). A
        ``random_sample(f)`` is taken here: as the whole filter, or the last operand of the
        top-level ``and`` (see :mod:`sample`)."""
        if sample.is_sample(node):
            return sample.RandomSample(ConstPred(True), sample.sample_factor(self, node))
        if isinstance(node, s.BoolOp) and node.op == "and" and sample.is_sample(node.operands[-1]):
            factor = sample.sample_factor(self, node.operands[-1])
            rest = node.operands[:-1]
            return sample.RandomSample(self.predicate(rest[0] if len(rest) == 1 else s.BoolOp("and", rest)),
                                       factor)
        bound = self.bind(node)
        message = f"predicate is not a boolean expression: {self.text}, data type: {describe(bound)}"
        return self.as_predicate(bound, message)

    def bind(self, node: s.Node) -> Bound:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ExprError(f"expression is nested too deeply (more than {MAX_DEPTH} levels)")
            return self._dispatch[type(node)](node)
        finally:
            self._depth -= 1

    def as_predicate(self, bound: Bound, message: str) -> Predicate:
        """``bound`` used as a condition: predicates, bool constants and Bool-typed values
        (a bare Bool field, ``flags[0]``); anything else raises ``message``."""
        if isinstance(bound, Predicate):
            return bound
        if isinstance(bound, Const):
            if isinstance(bound.value, bool):
                return ConstPred(bound.value)
        elif bound.dtype == DataType.BOOL:
            return BoolValue(bound)
        raise ExprError(message)

    # -- names ----------------------------------------------------------------------------

    def _field(self, name: str) -> tuple[FieldSchema, tuple[s.Key, ...]]:
        if name == "$meta":
            if self.dynamic is None:
                raise ExprError("field $meta not exist")
            return self.dynamic, ()
        field = self.schema.get(name)
        if field is not None and not field.is_dynamic:
            if field.dtype == DataType.TEXT:
                raise ExprError(f"filter on text field ({name}) is not supported yet")
            return field, ()
        if name.lower() == "null":
            raise ExprError("NULL literal is not supported in expressions; "
                            "use '<field> is null' or '<field> is not null' instead")
        if self.dynamic is not None:
            return self.dynamic, (name,)
        raise ExprError(f"field {name} not exist")

    def column(self, node: s.Name | s.Index) -> ColumnRef:
        """A field, JSON path or array element named by ``node``."""
        keys: list[s.Key] = []
        base: s.Node = node
        while isinstance(base, s.Index):
            keys.insert(0, base.key)
            base = base.base
        if not isinstance(base, s.Name):
            raise ExprError(f"invalid identifier: {s.render(node)} (only fields can be indexed)")
        field, prefix = self._field(base.name)
        if keys and not prefix:
            if field.dtype not in (DataType.JSON, DataType.ARRAY):
                raise ExprError(f"{field.dtype.display} data type not supported accessed with []")
            if field.dtype == DataType.ARRAY:
                if any(isinstance(k, str) for k in keys):
                    raise ExprError("can only access array field with integer index")
                if len(keys) > 1:
                    raise ExprError(f"array field supports a single index, got: {s.render(node)}")
        return ColumnRef(field, prefix + tuple(keys))

    # -- constants ------------------------------------------------------------------------

    def _literal(self, node: s.Literal) -> Const:
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            check_int64(node.value, node.text)
        return Const(node.value)

    def _bad_literal(self, node: s.BadLiteral) -> Const:
        raise ExprError(node.detail, node.line, node.column)

    def _list(self, node: s.ListLit) -> Const:
        values = []
        for item in node.items:
            value = _plain_literal(item)
            if value is not _NONE:
                values.append(value)
                continue
            bound = self.bind(item)
            if not isinstance(bound, Const):
                raise ExprError(f"array element type must be generic value, but got: {s.render(item)}")
            values.append(bound.value)
        return Const(values)

    def _template(self, node: s.Template) -> Const:
        if node.name not in self.params:
            raise ExprError(f"the value of expression template variable name {{{node.name}}} is not found")
        return Const(param_value(self.params[node.name], node.name))

    # -- arithmetic -----------------------------------------------------------------------

    def _unary(self, node: s.Unary) -> Bound:
        if node.op == "-" and isinstance(node.operand, s.Literal) and node.operand.value == INT64_MAX + 1:
            return Const(-(INT64_MAX + 1))  # -9223372036854775808 is a valid int64
        operand = self.bind(node.operand)
        if isinstance(operand, Const):
            return Const(fold_unary(node.op, operand.value))
        if isinstance(operand, Predicate) or not (operand.dtype.is_numeric or operand.dtype == DataType.JSON):
            raise ExprError(f"unary {node.op} cannot apply on {describe(operand)}: {s.render(node)}")
        if node.op == "~" and operand.dtype.is_float:
            raise ExprError("bitwise operations can only apply on integer types")
        if node.op == "+":
            return operand
        # the result is a number even for a JSON operand (non-numbers become null)
        return Negate(node.op, operand, dtype=DataType.INT64 if operand.dtype.is_integer else DataType.DOUBLE)

    def _binop(self, node: s.BinOp) -> Bound:
        if node.op in ("<<", ">>"):
            raise ExprError(f"shift is not supported: {s.render(node)}")
        left, right = self.bind(node.left), self.bind(node.right)
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(fold_arith(node.op, left.value, right.value))
        if isinstance(left, Predicate) or isinstance(right, Predicate):
            raise ExprError(f"invalid arithmetic expression, left: {s.render(node.left)}, op: {node.op}, "
                            f"right: {s.render(node.right)}")
        for side in (left, right):
            if _is_whole_array(side):
                raise ExprError("can not comparisons array fields directly")
            if not (side.dtype.is_numeric or side.dtype == DataType.JSON):
                other = right if side is left else left
                raise ExprError(f"'{ARITH_NAMES[node.op]}' cannot perform arithmetic between "
                                f"{describe(left)} field and {describe(other)}")
        integral = all(b.dtype.is_integer or b.dtype == DataType.JSON for b in (left, right))
        if node.op in ("%", "&", "|", "^") and not integral:
            what = "modulo" if node.op == "%" else "bitwise operations"
            raise ExprError(f"{what} can only apply on integer types")
        if node.op in ("/", "%") and isinstance(right, Const) and right.value == 0:
            raise ExprError("division or modulus by zero")
        ints = left.dtype.is_integer and right.dtype.is_integer and node.op != "**"
        return Arith(node.op, left, right, dtype=DataType.INT64 if ints else DataType.DOUBLE)

    # -- comparisons ----------------------------------------------------------------------

    def _compare(self, node: s.Compare) -> Bound:
        ops, operands = node.ops, node.operands
        if len(ops) == 1:
            return self.compare(self.bind(operands[0]), ops[0], self.bind(operands[1]), node)
        if len(ops) == 2 and (set(ops) <= {"<", "<="} or set(ops) <= {">", ">="}):
            return self._range(node)
        raise ExprError(f"chained comparison {s.render(node)} is not a range: use 'lo < x <= hi' "
                        "(both operators < / <=, or both > / >=)")

    def compare(self, left: Bound, op: str, right: Bound, node: s.Node) -> Bound:
        """``left op right`` (``node`` for messages)."""
        text = s.render(node)
        if isinstance(left, Predicate) or isinstance(right, Predicate):
            raise ExprError(f"comparison operands must be values, not boolean expressions: {text}")
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(fold_compare(op, left.value, right.value, text))
        lt, rt = _cmp_type(left), _cmp_type(right)
        both_arrays = left.dtype == DataType.ARRAY and right.dtype == DataType.ARRAY
        if not (comparable(lt, rt) or (both_arrays and DataType.NONE in (lt, rt))):
            raise ExprError(f"comparisons between {describe(left)} and {describe(right)} are not supported")
        if isinstance(left, Const):
            left, op, right = right, FLIP[op], left
        if isinstance(right, Const):
            return self._compare_const(left, op, right)
        if DataType.JSON in (left.dtype, right.dtype):
            raise ExprError("two column comparison with JSON type is not supported")
        if _is_whole_array(left) or _is_whole_array(right):
            raise ExprError("can not comparisons array fields directly")
        return CompareExprs(left, op, right)

    def _compare_const(self, expr: ValueExpr, op: str, const: Const) -> Predicate:
        value = const.value
        is_list = isinstance(value, list)
        equality = op in ("==", "!=")
        if _is_whole_array(expr):
            if not equality:
                raise ExprError("can not comparisons array fields directly")
            fits = is_list
        elif is_list:
            fits = expr.dtype == DataType.JSON and equality  # JSON arrays compare whole
        else:
            fits = literal_fits(expr.dtype, value)
        if not fits:
            raise ExprError(f"comparisons between {describe(expr)} and {describe(const)} are not supported")
        return CompareConst(expr, op, value)

    def _range(self, node: s.Compare) -> Predicate:
        (op1, op2), (first, middle, last) = node.ops, node.operands
        if op1 in ("<", "<="):
            lower, upper, lower_incl, upper_incl = first, last, op1 == "<=", op2 == "<="
        else:
            lower, upper, lower_incl, upper_incl = last, first, op2 == ">=", op1 == ">="
        operand = self.bind(middle)
        if isinstance(operand, Const | Predicate):
            raise ExprError("range operations are only supported on single fields now, "
                            f"got: {s.render(middle)}")
        if _is_whole_array(operand):
            raise ExprError("can not comparisons array fields directly")
        lo, hi = self.bind(lower), self.bind(upper)
        if not isinstance(lo, Const):
            raise ExprError(f"lowerbound cannot be a non-const expression: {s.render(lower)}")
        if not isinstance(hi, Const):
            raise ExprError(f"upperbound cannot be a non-const expression: {s.render(upper)}")
        if operand.dtype == DataType.BOOL:
            raise ExprError("invalid range operations on boolean expr")
        for bound in (lo, hi):
            if isinstance(bound.value, list | bool) or not literal_fits(operand.dtype, bound.value):
                raise ExprError(f"invalid range operations: {describe(operand)} between {describe(lo)} "
                                f"and {describe(hi)}")
        try:
            empty = lo.value >= hi.value if not (lower_incl and upper_incl) else lo.value > hi.value
        except TypeError:
            raise ExprError(f"invalid range operations: bounds {s.render(lower)} and {s.render(upper)} "
                            "are not comparable") from None
        if empty:
            raise ExprError("invalid range: lowerbound is greater than upperbound")
        return Range(operand, lo.value, lower_incl, hi.value, upper_incl)

    # -- membership and patterns ----------------------------------------------------------

    def _in(self, node: s.In) -> Predicate:
        operand = self.bind(node.operand)
        if isinstance(operand, Const):
            raise ExprError("'term' can only be used on non-const expression, "
                            f"but got: {s.render(node.operand)}")
        if not isinstance(operand, ColumnRef):
            raise ExprError(f"'term' can only be used on single field, but got: {s.render(node.operand)}")
        if _is_whole_array(operand) or operand.dtype.is_vector:
            raise ExprError(f"'in' on a {describe(operand)} field is not supported: {s.render(node)}")
        values = self.bind(node.values)
        if not isinstance(values, Const):
            raise ExprError(f"value '{s.render(node.values)}' in list cannot be a non-const expression")
        if not isinstance(values.value, list):
            raise ExprError(f"the right-hand side of 'in' must be a list, but got: {s.render(node.values)}")
        fits = literal_checker(operand.dtype)
        bad = next((v for v in values.value if not fits(v)), _NONE)
        if bad is not _NONE:
            raise ExprError(f"value '{s.render_value(bad)}' in list cannot be casted to "
                            f"{operand.dtype.display}")
        return Term(operand, list(values.value), negated=node.negated)

    def _like(self, node: s.Like) -> Predicate:
        operand = self.bind(node.operand)
        if isinstance(operand, Const | Predicate):
            raise ExprError("the left operand of like is invalid")
        if not isinstance(operand, ColumnRef):
            raise ExprError("like operation on complicated expr is unsupported")
        if _is_whole_array(operand):
            raise ExprError("can not comparisons array fields directly")
        if not (operand.dtype.is_string or operand.dtype == DataType.JSON):
            raise ExprError("like operation on non-string or no-json field is unsupported")
        pattern = self.bind(node.pattern)
        if not isinstance(pattern, Const) or not isinstance(pattern.value, str):
            raise ExprError(f"like pattern should be a string literal or template variable, "
                            f"got: {s.render(node.pattern)}")
        return Like(operand, translate(pattern.value))

    # -- logic, nulls ---------------------------------------------------------------------

    def _not(self, node: s.Not) -> Bound:
        if sample.is_sample(node.operand):
            raise sample.misplaced("unary")
        operand = self.bind(node.operand)
        if isinstance(operand, Const):
            if not isinstance(operand.value, bool):
                raise ExprError("not op can only be applied on boolean expression")
            return Const(not operand.value)
        return Not(self.as_predicate(operand, "not op can only be applied on boolean expression"))

    def _boolop(self, node: s.BoolOp) -> Bound:
        if any(map(sample.is_sample, node.operands)):
            raise sample.misplaced("and" if node.op == "and" else "logical or")
        message = f"'{node.op}' can only be used between boolean expressions"
        absorbing = node.op == "or"  # `true or x` is true; `false and x` is false
        children: list[Predicate] = []
        for operand in node.operands:
            bound = self.bind(operand)
            if isinstance(bound, Const):
                if not isinstance(bound.value, bool):
                    raise ExprError(message)
                if bound.value == absorbing:
                    return Const(absorbing)
                continue
            pred = self.as_predicate(bound, message)
            nested = And if node.op == "and" else Or
            children.extend(pred.children if isinstance(pred, nested) else [pred])
        if not children:
            return Const(not absorbing)
        if len(children) == 1:
            return children[0]
        return And(children) if node.op == "and" else Or(children)

    def _null_target(self, operand: s.Node, what: str) -> ColumnRef:
        if not isinstance(operand, s.Name | s.Index):
            raise ExprError(f"{what} operations are only supported on single fields now, "
                            f"got: {s.render(operand)}")
        return self.column(operand)

    def _is_null(self, node: s.IsNull) -> Predicate:
        column = self._null_target(node.operand, "IsNull/IsNotNull")
        if column.field.dtype.is_vector:
            raise ExprError("IsNull/IsNotNull operations are not supported on vector fields")
        if column.path:
            if column.is_element:
                raise ExprError("IsNull/IsNotNull operations are not supported on array element access, "
                                f"got: {s.render(node)}")
            # A JSON key is null when it does not exist (Milvus rewrites to `exists`).
            return Exists(column) if node.negated else Not(Exists(column))
        return IsNull(column, node.negated)

    def _exists(self, node: s.Exists) -> Predicate:
        column = self._null_target(node.operand, "exists")
        if column.field.dtype != DataType.JSON:
            raise ExprError("exists operations are only supportted on json field, "
                            f"got:{column.field.dtype.display}")
        if not column.path:
            raise ExprError("exists operations are only supportted on json key")
        return Exists(column)

    def _regex(self, node: s.Regex) -> Bound:
        from elanus.core.expr.regex import bind_regex  # needs the binder; avoid a cycle

        return bind_regex(self, node)

    def _call(self, node: s.Call) -> Bound:
        from elanus.core.expr.functions import bind_call  # functions need the binder; avoid a cycle

        return bind_call(self, node)
