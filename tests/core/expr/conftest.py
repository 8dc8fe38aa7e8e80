"""Shared data for the filter-expression tests.

One schema covering every filterable type, and a small random batch generated as Python
row dicts (None = null) from which the numpy columns are built exactly as segments hand
them to ``Filter.evaluate``. Tests compute the expected mask from the row dicts in plain
Python, with SQL three-valued logic spelled out by the helpers below.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from elanus.core.expr import compile_filter
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

N_ROWS = 300
MISSING = object()  # reference-side marker of an absent JSON key

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}


def make_schema(dynamic: bool = True) -> CollectionSchema:
    fields = [
        FieldSchema(100, "id", DataType.INT64, is_primary=True),
        FieldSchema(101, "i8", DataType.INT8),
        FieldSchema(102, "i16", DataType.INT16),
        FieldSchema(103, "i32", DataType.INT32, nullable=True),
        FieldSchema(104, "i64", DataType.INT64),
        FieldSchema(105, "f", DataType.FLOAT),
        FieldSchema(106, "d", DataType.DOUBLE, nullable=True),
        FieldSchema(107, "b", DataType.BOOL, nullable=True),
        FieldSchema(108, "s", DataType.VARCHAR, nullable=True, params={"max_length": "64"}),
        FieldSchema(109, "j", DataType.JSON, nullable=True),
        FieldSchema(110, "ai", DataType.ARRAY, element_type=DataType.INT64, nullable=True),
        FieldSchema(111, "astr", DataType.ARRAY, element_type=DataType.VARCHAR),
        FieldSchema(112, "af", DataType.ARRAY, element_type=DataType.FLOAT),
        FieldSchema(113, "ab", DataType.ARRAY, element_type=DataType.BOOL),
        FieldSchema(114, "txt", DataType.TEXT),
        FieldSchema(115, "v", DataType.FLOAT_VECTOR, params={"dim": "4"}),
    ]
    if dynamic:
        fields.append(FieldSchema(116, "$meta", DataType.JSON, is_dynamic=True))
    return CollectionSchema("c", tuple(fields), enable_dynamic_field=dynamic)


WORDS = ["apple", "apricot", "banana", "band", "cherry", "", "a%b", "a_b", "Ünïcode", "x\\y", "app"]


def _json_value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.08:
        return None  # null JSON field
    if roll < 0.14:
        return [rng.randint(0, 5) for _ in range(rng.randint(0, 3))]  # a top-level array
    doc: dict[str, Any] = {}
    kind = rng.randrange(7)
    if kind < 6:  # "n": mostly numbers, sometimes another type; kind 6: missing
        doc["n"] = [rng.randint(-5, 5), rng.uniform(-5, 5), rng.choice(WORDS), rng.random() < 0.5,
                    None, [1, 2], rng.randint(-5, 5)][kind]
    if rng.random() < 0.8:
        doc["s"] = rng.choice(WORDS)
    if rng.random() < 0.7:
        items = [1, 2, 3, 2.0, "a", "b", True, False, [1, 2]]
        doc["l"] = [rng.choice(items) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.6:
        doc["o"] = {"k": rng.randint(0, 3)} if rng.random() < 0.8 else {"k": None}
    if rng.random() < 0.1:
        doc["e"] = {}
    return doc


def _meta(rng: random.Random) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if rng.random() < 0.8:
        doc["age"] = rng.randint(0, 90) if rng.random() < 0.9 else str(rng.randint(0, 90))
    if rng.random() < 0.7:
        doc["color"] = rng.choice(["red", "green", "blue"])
    if rng.random() < 0.5:
        doc["tags"] = rng.sample(["a", "b", "c", "d"], rng.randint(0, 3))
    return doc


def make_rows(seed: int = 7, n: int = N_ROWS) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        nullable = lambda v: None if rng.random() < 0.15 else v  # noqa: E731 - tiny local helper
        rows.append({
            "id": i * 3 + 1,
            "i8": rng.randint(-128, 127),
            "i16": rng.randint(-300, 300),
            "i32": nullable(rng.randint(-50, 50)),
            "i64": rng.choice([rng.randint(-10, 10), rng.randint(-(2**62), 2**62)]),
            "f": float(np.float32(rng.uniform(-2, 2))),
            "d": nullable(round(rng.uniform(-2, 2), 2)),
            "b": nullable(rng.random() < 0.5),
            "s": nullable(rng.choice(WORDS)),
            "j": _json_value(rng),
            "ai": nullable([rng.randint(0, 6) for _ in range(rng.randint(0, 4))]),
            "astr": [rng.choice(WORDS) for _ in range(rng.randint(0, 3))],
            "af": [float(np.float32(rng.choice([0.1, 0.5, 1.5, 2.0]))) for _ in range(rng.randint(0, 3))],
            "ab": [rng.random() < 0.5 for _ in range(rng.randint(0, 3))],
            "txt": rng.choice(WORDS),
            "$meta": _meta(rng),
        })
    return rows


_NUMPY = {DataType.INT8: np.int8, DataType.INT16: np.int16, DataType.INT32: np.int32, DataType.INT64: np.int64,
          DataType.FLOAT: np.float32, DataType.DOUBLE: np.float64, DataType.BOOL: np.bool_}


def make_columns(rows: list[dict[str, Any]], schema: CollectionSchema) -> dict[str, Any]:
    """Columns in the segment representation (nulls: junk data + ``name$valid``)."""
    cols: dict[str, Any] = {}
    for field in schema.fields:
        if field.dtype.is_vector:
            cols[field.name] = np.zeros((len(rows), field.dim), dtype=np.float32)
            continue
        values = [r[field.name] for r in rows]
        if field.dtype in _NUMPY:
            cols[field.name] = np.array([0 if v is None else v for v in values], dtype=_NUMPY[field.dtype])
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values  # lists stay Python lists (one object per row)
            cols[field.name] = arr
        if field.nullable:
            cols[field.name + "$valid"] = np.array([v is not None for v in values], dtype=np.bool_)
    return cols


# -- reference helpers (three-valued: True / False / None = unknown; and3 etc.: tests.three_valued)

def cmp(x: Any, op: str, c: Any) -> bool | None:
    """A typed column compared with a constant (None = null)."""
    return None if x is None else OPS[op](x, c)


def f32(x: float) -> float:
    return float(np.float32(x))


def jget(value: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(value, dict):
            value = value.get(str(key), MISSING)
        elif isinstance(value, list) and isinstance(key, int):
            value = value[key] if key < len(value) else MISSING
        else:
            return MISSING
    return value


def jkind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "num"
    if isinstance(v, str):
        return "str"
    return "other"


def jcmp(v: Any, op: str, c: Any) -> bool | None:
    """Milvus JSON comparison: only same-kind values compare, others are null."""
    if v is MISSING or jkind(v) == "other" or jkind(v) != jkind(c):
        return None
    return OPS[op](v, c)


def jin(v: Any, values: list[Any]) -> bool | None:
    """``v in values`` for a JSON value: unknown when missing, null, or of a kind (number,
    string, bool, list) that no listed value has (Milvus casts each row to the list's type)."""
    if v is MISSING or v is None:
        return None
    if values and all(jkind(v) != jkind(c) for c in values):
        return None
    return any(jkind(v) == jkind(c) and v == c for c in values)


@pytest.fixture(scope="session")
def schema() -> CollectionSchema:
    return make_schema()


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    return make_rows()


@pytest.fixture(scope="session")
def columns(rows: list[dict[str, Any]], schema: CollectionSchema) -> dict[str, Any]:
    return make_columns(rows, schema)


Check = Callable[..., None]


@pytest.fixture()
def check(schema: CollectionSchema, rows: list[dict[str, Any]], columns: dict[str, Any]) -> Check:
    """``check(expr, ref, params=None)``: the filter's mask equals ``ref(row) is True`` per row."""

    def run(expr: str, ref: Callable[[dict[str, Any]], bool | None],
            params: dict[str, Any] | None = None) -> None:
        flt = compile_filter(expr, schema, params)
        got = flt.evaluate({k: columns[k] for k in columns if k.split("$valid")[0] in flt.fields}, len(rows))
        want = np.array([ref(r) is True for r in rows], dtype=np.bool_)
        assert got.dtype == np.bool_ and got.shape == (len(rows),)
        bad = np.flatnonzero(got != want)
        assert not len(bad), f"{expr}: rows {bad[:5].tolist()} differ, e.g. {rows[bad[0]]} -> {got[bad[0]]}"

    return run
