"""Segments holding Float16/BFloat16/Int8/Binary and nullable vector fields: exact search on
growing rows, index search on sealed ones, null vectors never returned, raw bytes kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus.core import vectors
from elanus.core.index import BinaryIndex, binary_search, brute_force_search
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.core.segment import GrowingSegment, SealedSegment
from elanus.storage import open_objects
from elanus.storage.objects.base import ObjectStore
from tests.worker.segdata import COLL, PART, query_req, search_req, write_segment

DIM, N = 16, 40


def schema_of(dtype: DataType, nullable: bool = False) -> CollectionSchema:
    return CollectionSchema("c", (FieldSchema(100, "id", DataType.INT64, is_primary=True),
                                  FieldSchema(101, "vec", dtype, params={"dim": str(DIM)}, nullable=nullable)))


def column(dtype: DataType, n: int = N, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype is DataType.BINARY_VECTOR:
        return rng.integers(0, 256, (n, DIM // 8)).astype(np.uint8)
    if dtype is DataType.INT8_VECTOR:
        return rng.integers(-100, 100, (n, DIM)).astype(np.int8)
    return vectors.from_float32(dtype, rng.standard_normal((n, DIM)).astype(np.float32))


def columns(dtype: DataType, nullable: bool) -> dict[str, np.ndarray]:
    values = column(dtype)
    cols = {"id": np.arange(N, dtype=np.int64), "vec": values}
    if nullable:
        valid = np.arange(N) % 4 != 0
        values[~valid] = 0
        cols["vec$valid"] = valid
    return cols


def queries_for(dtype: DataType, cols: dict[str, np.ndarray]) -> np.ndarray:
    rows = cols["vec"][[1, 2]]
    return rows if dtype is DataType.BINARY_VECTOR else vectors.to_float32(dtype, rows)


def metric_for(dtype: DataType) -> str:
    return "HAMMING" if dtype is DataType.BINARY_VECTOR else "L2"


TYPES = [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR, DataType.BINARY_VECTOR]


@pytest.mark.parametrize("nullable", [False, True])
@pytest.mark.parametrize("dtype", TYPES)
def test_growing_exact_search_and_raw_output(dtype: DataType, nullable: bool) -> None:
    schema = schema_of(dtype, nullable)
    cols = columns(dtype, nullable)
    seg = GrowingSegment(1, COLL, PART, schema, capacity=8)
    seg.append(cols, 10)
    q = queries_for(dtype, cols)
    hits = seg.search(search_req(q, N, 10, metric=metric_for(dtype), output_fields=("vec",)), None)
    returned = hits.pks[hits.valid]
    expected_rows = N - (N // 4 if nullable else 0)
    assert hits.valid.sum(axis=1).tolist() == [expected_rows, expected_rows]
    if nullable:
        assert not np.isin(returned, np.arange(0, N, 4)).any()  # null vectors are never results
    assert hits.pks[:, 0].tolist() == [1, 2] and hits.scores[:, 0].tolist() == [0.0, 0.0]
    got = hits.fields["vec"].reshape(2, N, -1)[:, 0]
    assert got.dtype == cols["vec"].dtype and got.tobytes() == cols["vec"][[1, 2]].tobytes()
    res = seg.query(query_req(10, output_fields=("vec",)))
    assert res.columns["vec"].tobytes() == cols["vec"].tobytes()
    if nullable:
        assert res.columns["vec$valid"].tolist() == cols["vec$valid"].tolist()


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR])
def test_growing_scores_are_float32_scores(dtype: DataType) -> None:
    cols = columns(dtype, False)
    seg = GrowingSegment(1, COLL, PART, schema_of(dtype), capacity=64)
    seg.append(cols, 10)
    q = queries_for(dtype, cols)
    for metric in ("L2", "IP", "COSINE"):
        hits = seg.search(search_req(q, 5, 10, metric=metric), None)
        want_s, want_o = brute_force_search(vectors.to_float32(dtype, cols["vec"]), q, 5, metric)
        assert hits.pks.tolist() == want_o.tolist()
        np.testing.assert_allclose(hits.scores, want_s, rtol=1e-6)


@pytest.mark.parametrize("metric", ["HAMMING", "JACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE"])
def test_growing_binary_metrics(metric: str) -> None:
    cols = columns(DataType.BINARY_VECTOR, False)
    seg = GrowingSegment(1, COLL, PART, schema_of(DataType.BINARY_VECTOR), capacity=64)
    seg.append(cols, 10)
    q = cols["vec"][[5]]
    hits = seg.search(search_req(q, 3, 10, metric=metric), None)
    want_s, want_o = binary_search(cols["vec"], q, 3, metric)
    np.testing.assert_array_equal(hits.scores, want_s)
    assert hits.pks[hits.valid].tolist() == want_o[want_o >= 0].tolist()


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return open_objects(str(tmp_path / "objects"))


@pytest.mark.parametrize(("index_type", "metric"), [("BIN_FLAT", "HAMMING"), ("BIN_IVF_FLAT", "JACCARD"),
                                                    ("BIN_FLAT", "SUPERSTRUCTURE")])
def test_sealed_binary_index_drops_the_column_and_skips_nulls(objects: ObjectStore, index_type: str,
                                                              metric: str) -> None:
    schema = schema_of(DataType.BINARY_VECTOR, nullable=True)
    cols = columns(DataType.BINARY_VECTOR, True)
    info = write_segment(objects, schema, 3, cols, 10,
                         index={"index_type": index_type, "metric_type": metric, "nlist": "4"})
    seg = SealedSegment.load(objects, schema, info)
    assert seg.indexed_fields == ("vec",) and seg.column("vec") is None  # the index holds the rows
    assert isinstance(seg._indexes["vec"], BinaryIndex)
    hits = seg.search(search_req(cols["vec"][[1]], N, 20, metric=metric, output_fields=("vec",)), None)
    returned = hits.pks[hits.valid]
    assert len(returned) and not np.isin(returned, np.arange(0, N, 4)).any()
    assert hits.pks[0, 0] == 1 and hits.scores[0, 0] == 0.0
    assert hits.fields["vec"][0].tobytes() == cols["vec"][1].tobytes()
    res = seg.query(query_req(20, output_fields=("vec",)))
    assert res.columns["vec"].tobytes() == cols["vec"].tobytes()


@pytest.mark.parametrize("dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR])
def test_sealed_float_index_over_other_types_keeps_raw_rows(objects: ObjectStore, dtype: DataType) -> None:
    schema = schema_of(dtype, nullable=True)
    cols = columns(dtype, True)
    info = write_segment(objects, schema, 4, cols, 10, index={"index_type": "HNSW", "metric_type": "L2"})
    seg = SealedSegment.load(objects, schema, info)
    raw = seg.column("vec")
    assert raw is not None and raw.dtype == cols["vec"].dtype  # exact rows kept for output
    q = queries_for(dtype, cols)
    hits = seg.search(search_req(q, 5, 20, output_fields=("vec",)), None)
    assert hits.pks[:, 0].tolist() == [1, 2]
    assert not np.isin(hits.pks[hits.valid], np.arange(0, N, 4)).any()
    assert hits.fields["vec"].reshape(2, 5, -1)[:, 0].tobytes() == cols["vec"][[1, 2]].tobytes()
    unindexed = SealedSegment.load(objects, schema, write_segment(objects, schema, 5, cols, 10))
    assert unindexed.search(search_req(q, 1, 20), None).pks[:, 0].tolist() == [1, 2]
