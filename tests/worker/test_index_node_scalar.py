"""Scalar index builds: the index node builds from a segment's column (also for a field the
file predates, and over ranged reads), a sealed segment loads the files named in
``index_files`` and answers filters through them exactly as without, and the data
coordinator dispatches scalar builds and gates readiness on them like vector builds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from elanus.cluster.rpc.codec import schema_to_bytes
from elanus.cluster.types import CollectionInfo, QueryRequest, SegmentInfo, SegmentState
from elanus.core import batch, scalar_index
from elanus.core.errors import MilvusError
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.core.segment import SealedSegment
from elanus.storage import open_objects
from elanus.storage.objects.base import ObjectStore
from elanus.worker.index_node import IndexNodeImpl
from tests.worker.datapath_fakes import DataStack, make_collection, rows, wait_for
from tests.worker.test_index_node import RemoteLike

N = 200
SCHEMA = CollectionSchema("c", (
    FieldSchema(100, "id", DataType.INT64, is_primary=True),
    FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": "2"}),
    FieldSchema(102, "s", DataType.VARCHAR, nullable=True, params={"max_length": "16"}),
    FieldSchema(103, "meta", DataType.JSON, nullable=True),
    FieldSchema(104, "late", DataType.INT32, nullable=True),  # added after the file was written
))
SCHEMA_BYTES = schema_to_bytes(SCHEMA)
WORDS = ["apple", "apricot", "band", "zeta"]


def write_segment(objects: ObjectStore) -> SegmentInfo:
    s_valid = np.arange(N) % 5 != 0
    meta = np.empty(N, dtype=object)
    meta[:] = [None if i % 7 == 0 else {"a": [i % 10, str(i)][i % 2]} for i in range(N)]
    cols = {"id": np.arange(N, dtype=np.int64), "vec": np.zeros((N, 2), dtype=np.float32),
            "s": np.array([WORDS[i % 4] if s_valid[i] else "" for i in range(N)], dtype=object), "s$valid": s_valid,
            "meta": meta, "meta$valid": np.array([m is not None for m in meta.tolist()])}
    schema = CollectionSchema("c", SCHEMA.fields[:4])
    table = batch.to_arrow(cols, schema, extra={"$ts": np.full(N, 5, dtype=np.uint64)})
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table, sink)
    key = "insert_log/1/2/3/data.parquet"
    objects.put(key, sink.getvalue().to_pybytes())
    return SegmentInfo(3, 1, 2, "ch", SegmentState.FLUSHED, num_rows=N, data_path=key)


@pytest.fixture()
def objects(tmp_path: Path) -> ObjectStore:
    return open_objects(str(tmp_path / "objects"))


def build_all(objects: ObjectStore, node_objects: ObjectStore) -> tuple[SegmentInfo, dict[str, str]]:
    seg = write_segment(objects)
    node = IndexNodeImpl(node_objects)
    files = {
        "s#7": node.build_scalar_index(1, seg, SCHEMA_BYTES, "s", 7, {"index_type": "Trie"}),
        "meta#8": node.build_scalar_index(1, seg, SCHEMA_BYTES, "meta", 8,
                                          {"index_type": "INVERTED", "json_cast_type": "double",
                                           "json_path": "meta['a']"}, "/a"),
        "late#9": node.build_scalar_index(1, seg, SCHEMA_BYTES, "late", 9, {"index_type": "STL_SORT"}),
    }
    return seg, files


def test_index_node_builds_scalar_indexes(objects: ObjectStore) -> None:
    seg, files = build_all(objects, objects)
    assert files["s#7"].startswith("index_files/1/3/s#7/") and files["s#7"].endswith(".index")
    trie = scalar_index.load(objects.get(files["s#7"]))
    assert isinstance(trie, scalar_index.TrieIndex) and trie.sorted.keys.tolist() == sorted(WORDS)
    prefix = trie.prefix("ap")
    assert prefix is not None
    assert np.flatnonzero(prefix.mask()).tolist() == [i for i in range(N) if i % 5 and i % 4 in (0, 1)]
    meta = scalar_index.load(objects.get(files["meta#8"]))
    assert meta.path == ("a",) and meta.domain == "float64" and meta.valid is not None
    assert np.flatnonzero(meta.valid).tolist() == [i for i in range(N) if i % 7 and i % 2 == 0]
    late = scalar_index.load(objects.get(files["late#9"]))
    assert late.valid is not None and not late.valid.any()  # every row null
    with pytest.raises(MilvusError, match="no scalar index to build"):
        IndexNodeImpl(objects).build_scalar_index(1, seg, SCHEMA_BYTES, "s", 10,
                                                  {"index_type": "NGRAM", "min_gram": "1", "max_gram": "2"})


def test_ranged_reads_build_the_same_index(objects: ObjectStore) -> None:
    remote = RemoteLike(objects)
    _, files = build_all(objects, remote)  # type: ignore[arg-type]
    assert remote.bytes_read > 0
    assert scalar_index.load(objects.get(files["s#7"])).sorted.keys.tolist() == sorted(WORDS)


def test_sealed_segment_answers_filters_through_its_scalar_indexes(objects: ObjectStore) -> None:
    seg, files = build_all(objects, objects)
    plain = SealedSegment.load(objects, SCHEMA, seg)
    indexed = SealedSegment.load(objects, SCHEMA, replace(seg, index_files=files))
    assert len(indexed.scalar_indexes) == 3 and not plain.scalar_indexes
    assert indexed.memory_bytes > plain.memory_bytes
    for expr in ['s like "ap%"', 's in ["band", "x"]', "s is null", 'meta["a"] >= 4', 'meta["a"] in [2, 8]',
                 "late is null", 'not (s == "zeta") and meta["a"] < 6', "id < 50 or late > 3"]:
        want = plain.query(QueryRequest(1, (), expr, {}, ("id",), -1, 0, 0, mvcc_ts=10))
        got = indexed.query(QueryRequest(1, (), expr, {}, ("id",), -1, 0, 0, mvcc_ts=10))
        assert got.columns["id"].tolist() == want.columns["id"].tolist(), expr
        assert len(want.columns["id"]) > 0 or expr == "late > 3", expr


def test_data_coord_builds_scalar_indexes_and_gates_readiness(stack: DataStack) -> None:
    coll = make_collection()
    coll = replace(coll, schema_bytes=schema_to_bytes(coll.schema))
    stack.registry.root_coord.describe_collection = lambda db, name="", collection_id=0: coll
    stack.dc.create_index(coll, "tag", "", {"index_type": "INVERTED"})
    stack.dc.create_index(coll, "tag", "", {"index_type": "INVERTED"})  # the same again: a no-op
    stack.dc.create_index(coll, "vec", "", {"index_type": "FLAT", "metric_type": "L2"})
    stack.node.insert(coll, coll.channels[0], coll.partitions[0].id, rows(0, 30))
    (seg_id,) = stack.flush_and_wait(coll)
    (ready,) = wait_for(lambda: stack.registry.qc.ready_for(seg_id), what="segment_ready")
    tag = next(i for i in stack.dc.describe_indexes(coll.id) if i.field_name == "tag")
    key = f"tag#{tag.id}"
    assert set(ready.index_files) == {"vec", key}
    index = scalar_index.load(stack.objects.get(ready.index_files[key]))
    assert index.num_rows == 30 and index.kind == "INVERTED"
    assert stack.dc.index_progress(coll.id, tag.id) == (30, 30, 0)
    stack.dc.drop_index(coll.id, tag.index_name)
    assert stack.objects.list(f"index_files/{coll.id}/{seg_id}/{key}/") == []
    assert set(stack.dc.list_segments(coll.id)[0].index_files) == {"vec"}


def test_metadata_only_scalar_indexes_build_nothing(stack: DataStack, coll: CollectionInfo) -> None:
    schema = CollectionSchema("c", (*coll.schema.fields, FieldSchema(103, "j", DataType.JSON)))
    coll = replace(coll, schema=schema)
    stack.dc.create_index(coll, "j", "", {"index_type": "INVERTED", "json_cast_type": "JSON", "json_path": "j['x']"})
    stack.node.insert(coll, coll.channels[0], coll.partitions[0].id,
                      {**rows(0, 5), "j": np.array([{"x": 1}] * 5, dtype=object)})
    (seg_id,) = stack.flush_and_wait(coll)
    (ready,) = wait_for(lambda: stack.registry.qc.ready_for(seg_id), what="segment_ready")
    assert ready.index_files == {}
