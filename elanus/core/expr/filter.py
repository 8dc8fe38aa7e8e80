"""The public face of the engine: compile a filter once, evaluate it per batch.

Compilation is parse (cached by text, see :mod:`parser`) + bind (per schema and
parameters, see :mod:`binder`). A :class:`Filter` is immutable and holds no per-batch
state, so one instance may be evaluated by many threads at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from elanus.core.errors import QUERY_PLAN, MilvusError
from elanus.core.expr.binder import Binder
from elanus.core.expr.errors import ExprError, FilterError
from elanus.core.expr.logic import ConstPred
from elanus.core.expr.parser import parse
from elanus.core.expr.pinning import pinned
from elanus.core.expr.runtime import EvalContext, Predicate
from elanus.core.expr.syntax import Index, Key, Name
from elanus.core.schema import CollectionSchema, FieldSchema


class Filter:
    """A compiled boolean filter over the rows of one collection schema.

    ``fields`` are the names of the columns :meth:`evaluate` reads (``"$meta"`` for
    dynamic keys); ``expr`` is the source text (empty for "no filter").
    """

    __slots__ = ("_pk", "_root", "expr", "fields")

    def __init__(self, expr: str, root: Predicate, schema: CollectionSchema) -> None:
        self.expr = expr
        self._root = root
        self.fields: frozenset[str] = frozenset(f.name for f in root.fields())
        self._pk = next((f.name for f in schema.fields if f.is_primary), None)

    @property
    def root(self) -> Predicate:
        """The bound plan tree (read-only; a planner may build a new Filter around a rewrite)."""
        return self._root

    @property
    def always_true(self) -> bool:
        """Whether the filter accepts every row (empty expression, or folded to ``true``)."""
        return isinstance(self._root, ConstPred) and self._root.value

    def evaluate(self, columns: Mapping[str, Any], num_rows: int) -> np.ndarray:
        """The rows that pass, as a new bool array of length ``num_rows``.

        ``columns`` maps every name in :attr:`fields` to that column for the batch:
        Bool → ``np.bool_``; Int8/16/32/64 → the matching numpy ints; Float → float32;
        Double → float64; VarChar → object array of ``str`` (or a pyarrow string array);
        JSON and ``$meta`` → object array of parsed values (dict/list/str/number/None);
        Array → object array of Python lists (None for null rows). A nullable field may
        add ``columns[name + "$valid"]`` (bool, False = null); absent means no nulls.
        Comparisons with null are not true (SQL semantics).
        """
        value, _ = self._root.eval(EvalContext(columns, num_rows))
        if value.shape != (num_rows,):  # pragma: no cover - a plan node broke the contract
            raise ValueError(f"filter produced {value.shape} for {num_rows} rows")
        return value

    def pk_values(self) -> list[Any] | None:
        """If the whole filter is ``pk in [...]`` / ``pk == v`` (ORed), those primary-key
        values (deduplicated, in order); otherwise None."""
        return None if self._pk is None else pinned(self._root, self._pk, exact=True)

    def pinned_values(self, field: str, exact: bool = True) -> list[Any] | None:
        """Like :meth:`pk_values` for any scalar field. With ``exact=False``, a superset
        guarantee instead: every matching row has one of the returned values (ANDed
        conditions may narrow further) — enough for partition-key pruning."""
        return pinned(self._root, field, exact=exact)

    def __repr__(self) -> str:
        return f"Filter({self.expr!r})"


def compile_filter(expr: str, schema: CollectionSchema, params: Mapping[str, Any] | None = None) -> Filter:
    """Compile ``expr`` (Milvus filter syntax) against ``schema``, binding template
    variables ``{name}`` from ``params`` (Milvus ``expr_params``). An empty or blank
    expression accepts every row. Raises :class:`FilterError` (code 1100) on any syntax,
    name or type error."""
    if not expr or expr.isspace():
        return Filter(expr, ConstPred(True), schema)
    try:
        root = Binder(schema, params, expr).predicate(parse(expr))
    except ExprError as e:
        raise FilterError.from_expr_error(expr, e) from None
    except RecursionError:  # only reachable by rendering a pathological tree into a message
        raise FilterError(expr, "expression is nested too deeply") from None
    return Filter(expr, root, schema)


def validate(expr: str, schema: CollectionSchema, params: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`FilterError` if ``expr`` would not compile (parse + type check only)."""
    compile_filter(expr, schema, params)


def resolve_identifier(text: str, schema: CollectionSchema) -> tuple[FieldSchema, tuple[Key, ...]]:
    """Milvus's ``ParseIdentifier``: the field and JSON path that ``text`` names — a field
    (``j``), a path inside a JSON field (``j['a'][0]``) or a key of the dynamic field
    (``k['a']`` → ``$meta`` with path ``('k', 'a')``). Anything else is a
    :class:`~elanus.core.errors.MilvusError` (code 2201) ``cannot parse identifier: <text>...``."""
    prefix = f"cannot parse identifier: {text}"
    try:
        node = parse(text)
        if not isinstance(node, Name | Index):
            raise MilvusError(QUERY_PLAN, f"{prefix}: query plan failed")
        ref = Binder(schema, None, text).column(node)
    except ExprError as e:
        raise MilvusError(QUERY_PLAN, f"{prefix}: {e.detail}") from None
    return ref.field, ref.path
