"""Micro-benchmarks of the filter engine (not collected by pytest).

Run: ``.venv/bin/python -m tests.core.expr.expr_bench [rows]``. Prints the median time of
each case: compile (warm parse cache, and cold with a fresh text each time) and evaluate
over ``rows`` rows (default 100k).
"""

from __future__ import annotations

import random
import statistics
import string
import sys
import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from elanus.core.expr import Filter, compile_filter
from elanus.core.schema import CollectionSchema, DataType, FieldSchema


def _median_us(fn: Callable[[], object], repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e6


def main(n: int = 100_000) -> None:
    schema = CollectionSchema("bench", (
        FieldSchema(100, "id", DataType.INT64, is_primary=True), FieldSchema(101, "a", DataType.INT64),
        FieldSchema(102, "b", DataType.DOUBLE), FieldSchema(103, "tag", DataType.VARCHAR),
        FieldSchema(104, "meta", DataType.JSON), FieldSchema(105, "$meta", DataType.JSON, is_dynamic=True),
    ), enable_dynamic_field=True)
    rng = np.random.default_rng(0)
    r = random.Random(0)
    vocab = ["".join(r.choices(string.ascii_lowercase, k=8)) for _ in range(500)]
    # Fresh str objects per row, as decoding a segment produces (no shared interned strings).
    tags = np.array([(r.choice(vocab) + "!")[:-1] for _ in range(n)], dtype=object)
    meta = np.array([{"x": int(v), "s": vocab[int(v) % 500]} for v in rng.integers(0, 100, n)], dtype=object)
    dyn = np.array([{"age": int(v)} if v % 7 else {} for v in rng.integers(0, 90, n)], dtype=object)
    cols = {"id": np.arange(n, dtype=np.int64), "a": rng.integers(0, 100, n), "b": rng.random(n), "tag": tags,
            "meta": meta, "$meta": dyn}

    three = 'a > 10 and b < 0.5 and tag in ["x", "y"]'
    warm = _median_us(lambda: compile_filter(three, schema), 2000)
    print(f"compile, 3 clauses, parse cached : {warm:8.1f} us")
    counter = iter(range(10**9))

    def cold() -> object:
        return compile_filter(f'a > {next(counter)} and b < 0.5 and tag in ["x", "y"]', schema)

    print(f"compile, 3 clauses, cold parse   : {_median_us(cold, 300):8.1f} us")
    in50 = "tag in [" + ", ".join(f'"{w}"' for w in vocab[:50]) + "]"
    cases = [
        ("a > 10 and b < 0.5", 200),
        ("10 < a <= 50 or b > 0.9", 200),
        ("a in [1, 2, 3, 5, 8, 13, 21, 34]", 200),
        ("a % 7 == 3", 200),
        (in50, 30),
        ('tag == "abcdefgh"', 30),
        ('tag like "ab%"', 30),
        ('tag like "%ab%"', 30),
        ('tag like "a_c%"', 10),
        ('meta["x"] > 50', 10),
        ('meta["s"] in ["abc", "def"]', 10),
        ("age >= 18", 10),
    ]
    arrow_cols = {**cols, "tag": pa.array(tags.tolist(), pa.string())}
    flt = compile_filter(in50, schema)
    ms = _median_us(lambda: flt.evaluate(arrow_cols, n), 30) / 1000
    print(f"evaluate {n} rows: {'same, tag as a pyarrow StringArray':40} {ms:8.3f} ms")
    for expr, repeat in cases:
        flt = compile_filter(expr, schema)
        shown = expr if len(expr) < 40 else expr[:28] + "...(50 strings)]"

        def run(f: Filter = flt) -> object:
            return f.evaluate(cols, n)

        ms = _median_us(run, repeat) / 1000
        print(f"evaluate {n} rows: {shown:40} {ms:8.3f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
