"""Sparse float vectors: column form and validation (elanus.core.sparse), the inverted index
and exact search (elanus.core.index.sparse_index), their parameters, each result compared
with a dense numpy reference computed from the same rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from elanus.core import batch, sparse
from elanus.core.errors import MilvusError
from elanus.core.index import build, exact_search, load, parse_index_params, parse_search_params
from elanus.core.index.sparse_index import SparseIndex, sparse_search
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

DIMS = 300


def _rows(n: int, seed: int = 0, empty_every: int = 0) -> list[dict[int, float]]:
    rng = np.random.default_rng(seed)
    out: list[dict[int, float]] = []
    for i in range(n):
        if empty_every and i % empty_every == 0:
            out.append({})
            continue
        idx = rng.choice(DIMS, size=int(rng.integers(1, 12)), replace=False)
        out.append({int(d): float(v) for d, v in zip(idx, rng.random(len(idx)), strict=True)})
    return out


def _column(rows: list[dict[int, float]]) -> np.ndarray:
    return sparse.as_column((sparse.encode_row(r) for r in rows), len(rows))


def _dense(rows: list[dict[int, float]]) -> np.ndarray:
    m = np.zeros((len(rows), DIMS), dtype=np.float64)
    for i, r in enumerate(rows):
        for d, v in r.items():
            m[i, d] = np.float32(v)
    return m


def _reference(rows: list[dict[int, float]], queries: list[dict[int, float]], k: int,
               valid: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
    """Top-k (offset, score) per query by a dense matrix product: positive scores only,
    best first, ties by smaller offset."""
    scores = _dense(queries) @ _dense(rows).T
    out = []
    for s in scores:
        ok = s > 0
        if valid is not None:
            ok &= valid
        cand = np.flatnonzero(ok)
        order = sorted(cand.tolist(), key=lambda r: (-s[r], r))[:k]
        out.append([(r, float(s[r])) for r in order])
    return out


def _check(scores: np.ndarray, offsets: np.ndarray, expected: list[list[tuple[int, float]]], k: int) -> None:
    assert scores.shape == offsets.shape == (len(expected), k)
    for i, exp in enumerate(expected):
        got = [int(o) for o in offsets[i] if o >= 0]
        assert got == [r for r, _ in exp]
        np.testing.assert_allclose(scores[i, :len(got)], [s for _, s in exp], rtol=1e-5)
        assert np.all(np.isneginf(scores[i, len(got):]))


def test_encode_decode_and_csr() -> None:
    rows = [{5: 0.5, 1: 2.0}, {}, {7: 1.0}]
    col = _column(rows)
    assert sparse.decode_row(col[0]) == {1: 2.0, 5: 0.5}
    csr = sparse.to_csr(col)
    assert csr.indptr.tolist() == [0, 2, 2, 3]
    assert csr.indices.tolist() == [1, 5, 7]
    assert csr.row_ids().tolist() == [0, 0, 2]
    assert sparse.wire_dim(col) == 8


@pytest.mark.parametrize(("row", "text"), [
    (b"\x01\x00\x00", "invalid data length in sparse float vector: 3"),
    (np.array([(3, 1.0), (2, 1.0)], dtype=sparse.PAIR).tobytes(), "unsorted or same indices"),
    (np.array([(3, 1.0), (3, 1.0)], dtype=sparse.PAIR).tobytes(), "unsorted or same indices"),
    (np.array([(2**32 - 1, 1.0)], dtype=sparse.PAIR).tobytes(), "must be less than 2^32-1"),
    (np.array([(1, -1.0)], dtype=sparse.PAIR).tobytes(), "negative value in sparse float vector"),
    (np.array([(1, np.nan)], dtype=sparse.PAIR).tobytes(), "value 'NaN' is not a number or infinity"),
])
def test_validate_rejects_with_milvus_texts(row: bytes, text: str) -> None:
    good = sparse.encode_row({1: 1.0, 9: 2.0})
    with pytest.raises(MilvusError) as err:
        sparse.validate([good, row])
    assert err.value.code == 1100
    assert text in err.value.message


def test_validate_accepts_sorted_rows_across_row_boundaries() -> None:
    # index 9 then index 1 is fine when they are in different rows
    sparse.validate([sparse.encode_row({1: 1.0, 9: 2.0}), sparse.encode_row({1: 0.0}), b""])


def test_batch_arrow_round_trip_with_nulls() -> None:
    schema = CollectionSchema("c", (
        FieldSchema(100, "id", DataType.INT64, is_primary=True),
        FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR, nullable=True),
    ))
    col = _column([{1: 1.0}, {2: 2.0, 4: 0.25}, {}])
    cols = {"id": np.arange(3, dtype=np.int64), "sp": col, "sp$valid": np.array([True, False, True])}
    rb = batch.to_arrow(cols, schema)
    assert rb.schema.field("sp").type == pa.binary()
    back = batch.from_arrow(batch.from_ipc(batch.to_ipc(rb)), schema)
    assert back["sp"].tolist() == [col[0], b"", col[2]]
    assert back["sp$valid"].tolist() == [True, False, True]
    assert batch.empty_column(schema.fields[1], 2).tolist() == [b"", b""]


@pytest.mark.parametrize("index_type", ["SPARSE_INVERTED_INDEX", "SPARSE_WAND"])
def test_index_matches_dense_reference(index_type: str) -> None:
    rows = _rows(500, seed=1, empty_every=17)
    queries = [*_rows(8, seed=2), {}, {DIMS - 1: 1.0}]
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    spec = parse_index_params(field, {"index_type": index_type, "metric_type": "IP"})
    index = build(spec, _column(rows))
    assert isinstance(index, SparseIndex)
    k = 10
    scores, offsets = index.search(_column(queries), k)
    _check(scores, offsets, _reference(rows, queries, k), k)
    # serialised and loaded: identical results
    again = load(index.serialize())
    s2, o2 = again.search(_column(queries), k)
    np.testing.assert_array_equal(o2, offsets)
    np.testing.assert_array_equal(s2, scores)


def test_valid_mask_and_exact_search_agree() -> None:
    rows = _rows(300, seed=3)
    queries = _rows(5, seed=4)
    valid = np.arange(300) % 3 != 0
    expected = _reference(rows, queries, 7, valid)
    s1, o1 = exact_search(DataType.SPARSE_FLOAT_VECTOR, _column(rows), _column(queries), 7, "IP", valid)
    _check(s1, o1, expected, 7)
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    index = build(parse_index_params(field, {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"}),
                  _column(rows))
    _s2, o2 = index.search(_column(queries), 7, valid=valid)
    np.testing.assert_array_equal(o1, o2)


def test_drop_ratio_search_ignores_smallest_query_values() -> None:
    rows = [{0: 1.0}, {1: 1.0}]
    query = [{0: 0.1, 1: 0.9}]
    _scores, offsets = sparse_search(_column(rows), _column(query), 2, drop_ratio=0.5)
    assert offsets[0].tolist() == [1, -1]
    spec_params = parse_search_params(
        parse_index_params(FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR),
                           {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"}),
        "IP", {"drop_ratio_search": 0.5})
    assert spec_params.drop_ratio_search == 0.5


def test_drop_ratio_build_drops_smallest_values() -> None:
    rows = [{0: 0.01}, {0: 1.0}, {0: 2.0}, {0: 3.0}]
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    index = build(parse_index_params(field, {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP",
                                             "drop_ratio_build": "0.25"}), _column(rows))
    _, offsets = index.search(_column([{0: 1.0}]), 4)
    assert offsets[0].tolist() == [3, 2, 1, -1]


@pytest.mark.parametrize(("params", "text"), [
    ({"index_type": "SPARSE_INVERTED_INDEX"}, "metric type not set for vector index"),
    ({"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "L2"},
     "only IP&BM25 is the supported metric type for sparse index: invalid parameter"
     "[expected=valid index params][actual=invalid index params]"),
    ({"index_type": "SPARSE_WAND", "metric_type": "IP", "inverted_index_algo": "NOPE"},
     "sparse inverted index algo NOPE not found or not supported, supported: [TAAT_NAIVE DAAT_WAND "
     "DAAT_MAXSCORE BLOCK_MAX_MAXSCORE BLOCK_MAX_WAND SINDI]: invalid parameter"),
    ({"index_type": "SPARSE_WAND", "metric_type": "IP", "drop_ratio_build": "1.5"}, "drop_ratio_build"),
    ({"index_type": "HNSW", "metric_type": "IP"}, "can't build with this index HNSW"),
    ({"index_type": "SPARSE_WAND", "metric_type": "IP", "inverted_index_codec": "x"},
     "inverted_index_codec x not found or not supported"),
    ({"index_type": "SPARSE_WAND", "metric_type": "IP", "block_max_block_size": "0"},
     "Out of range in json: param 'block_max_block_size' (0) should be in range [1, 2147483647]"),
])
def test_index_params_rejected(params: dict[str, str], text: str) -> None:
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    with pytest.raises(MilvusError) as err:
        parse_index_params(field, params)
    assert text in err.value.message


def test_autoindex_and_describe_params() -> None:
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    spec = parse_index_params(field, {"index_type": "AUTOINDEX"})
    assert str(spec.index_type) == "SPARSE_INVERTED_INDEX" and str(spec.metric_type) == "IP"
    spec = parse_index_params(field, {"index_type": "SPARSE_WAND", "metric_type": "IP",
                                      "inverted_index_algo": "TAAT_NAIVE"})
    assert spec.to_params()["inverted_index_algo"] == "TAAT_NAIVE"


def test_search_params_ranges() -> None:
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    spec = parse_index_params(field, {"index_type": "SPARSE_WAND", "metric_type": "IP"})
    with pytest.raises(MilvusError, match=r"should be in range \[0.500000, 1.300000\]"):
        parse_search_params(spec, "IP", {"dim_max_score_ratio": 1.4})
    with pytest.raises(MilvusError, match=r"metric type not match: invalid parameter\[expected=IP\]\[actual=L2\]"):
        parse_search_params(spec, "L2", {})


@pytest.mark.parametrize("nq", [1, 3, 9])
def test_exact_search_both_scorers(nq: int) -> None:
    # up to 4 queries score straight from the column, more through postings: same results
    rows = _rows(200, seed=8, empty_every=7)
    queries = _rows(nq, seed=9)
    scores, offsets = sparse_search(_column(rows), _column(queries), 6)
    _check(scores, offsets, _reference(rows, queries, 6), 6)


def test_empty_segment_index_round_trip() -> None:
    field = FieldSchema(101, "sp", DataType.SPARSE_FLOAT_VECTOR)
    spec = parse_index_params(field, {"index_type": "SPARSE_WAND", "metric_type": "IP"})
    for rows in ([], [{}, {}]):
        index = load(build(spec, _column(rows)).serialize())
        assert index.ntotal == len(rows)
        _, offsets = index.search(_column([{1: 1.0}]), 3)
        assert offsets.tolist() == [[-1, -1, -1]]
