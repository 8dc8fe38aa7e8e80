"""Test data for the read side: schemas, columns, segment files and WAL messages."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from elanus.cluster.types import (
    Checkpoint,
    CollectionInfo,
    Columns,
    ConsistencyLevel,
    DeltaLogInfo,
    PartitionInfo,
    QueryRequest,
    SearchRequest,
    SegmentInfo,
    SegmentState,
)
from elanus.core import batch
from elanus.core.index import build, parse_index_params
from elanus.core.messages import Message, MsgType, flush_body
from elanus.core.schema import CollectionSchema, DataType, FieldSchema
from elanus.storage.objects.base import ObjectStore

DIM = 8
COLL = 7
PART = 70


def make_schema(dim: int = DIM, varchar_pk: bool = False) -> CollectionSchema:
    pk = (FieldSchema(100, "id", DataType.VARCHAR, is_primary=True, params={"max_length": "64"})
          if varchar_pk else FieldSchema(100, "id", DataType.INT64, is_primary=True))
    return CollectionSchema("c", (
        pk,
        FieldSchema(101, "vec", DataType.FLOAT_VECTOR, params={"dim": str(dim)}),
        FieldSchema(102, "age", DataType.INT64),
        FieldSchema(103, "name", DataType.VARCHAR, params={"max_length": "64"}),
        FieldSchema(104, "score", DataType.DOUBLE, nullable=True),
    ))


def make_collection(schema: CollectionSchema | None = None, channels: tuple[str, ...] = ("ch0",),
                    cid: int = COLL) -> CollectionInfo:
    schema = schema or make_schema()
    return CollectionInfo(id=cid, db_id=1, db_name="default", name="c", schema=schema, schema_bytes=b"",
                          channels=channels, partitions=(PartitionInfo(PART, "_default", 0),
                                                         PartitionInfo(PART + 1, "p1", 0)),
                          consistency_level=ConsistencyLevel.STRONG, created_ts=0)


def make_columns(schema: CollectionSchema, pks: np.ndarray, seed: int = 0) -> Columns:
    rng = np.random.default_rng(seed)
    n = len(pks)
    dim = schema.get("vec").dim  # type: ignore[union-attr]
    if schema.primary.dtype == DataType.VARCHAR:
        pk_col = batch.object_array((f"k{int(p)}" for p in pks), n)
    else:
        pk_col = np.asarray(pks, dtype=np.int64)
    return {
        "id": pk_col,
        "vec": rng.standard_normal((n, dim)).astype(np.float32),
        "age": (np.asarray(pks, dtype=np.int64) % 100),
        "name": batch.object_array((f"n{int(p)}" for p in pks), n),
        "score": np.asarray(pks, dtype=np.float64) / 10.0,
        "score$valid": (np.asarray(pks) % 7) != 0,
    }


def write_segment(objects: ObjectStore, schema: CollectionSchema, seg_id: int, columns: Columns,
                  ts: np.ndarray | int, *, channel: str = "ch0", partition: int = PART,
                  index: dict[str, str] | None = None, coll: int = COLL) -> SegmentInfo:
    """Write a flushed segment's Parquet (and an index on ``vec`` when ``index`` is given)."""
    n = len(columns["id"])
    ts_arr = np.broadcast_to(np.asarray(ts, dtype=np.uint64), (n,)).copy()
    rb = batch.to_arrow(columns, schema, extra={"$ts": ts_arr})
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_batches([rb]), buf)
    key = f"insert_log/{coll}/{partition}/{seg_id}/data.parquet"
    objects.put(key, buf.getvalue())
    index_files: dict[str, str] = {}
    if index is not None:
        spec = parse_index_params(schema.get("vec"), index)  # type: ignore[arg-type]
        ikey = f"index_files/{coll}/{seg_id}/vec/1.index"
        objects.put(ikey, build(spec, columns["vec"]).serialize())
        index_files["vec"] = ikey
    return SegmentInfo(id=seg_id, collection_id=coll, partition_id=partition, channel=channel,
                       state=SegmentState.FLUSHED, num_rows=n, data_path=key,
                       min_ts=int(ts_arr.min()), max_ts=int(ts_arr.max()), index_files=index_files)


def write_delta(objects: ObjectStore, log_id: int, pks: np.ndarray, ts: int, channel: str = "ch0",
                coll: int = COLL) -> DeltaLogInfo:
    table = pa.table({"pk": pa.array(pks), "ts": pa.array(np.full(len(pks), ts, dtype=np.uint64))})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    key = f"delta_log/{coll}/{channel}/{log_id}.parquet"
    objects.put(key, buf.getvalue())
    return DeltaLogInfo(log_id, coll, channel, key, len(pks), ts, ts)


# --------------------------------------------------------------------------- requests
def search_req(queries: np.ndarray, k: int, t: int, **kw: object) -> SearchRequest:
    args: dict = dict(collection_id=COLL, partition_ids=(), anns_field="vec", queries=queries, k=k,
                      metric="L2", params={}, filter="", filter_params={}, output_fields=(),
                      guarantee_ts=0, mvcc_ts=t)
    args.update(kw)
    return SearchRequest(**args)


def query_req(t: int, **kw: object) -> QueryRequest:
    args: dict = dict(collection_id=COLL, partition_ids=(), filter="", filter_params={},
                      output_fields=(), limit=-1, offset=0, guarantee_ts=0, mvcc_ts=t)
    args.update(kw)
    return QueryRequest(**args)


# --------------------------------------------------------------------------- WAL messages
def insert_msg(schema: CollectionSchema, columns: Columns, ts: int, seg: int,
               part: int = PART, coll: int = COLL) -> bytes:
    body = batch.to_ipc(batch.to_arrow(columns, schema))
    return Message(MsgType.INSERT, ts, coll, part, seg, body).encode()


def delete_msg(pks: np.ndarray, ts: int, part: int = PART, coll: int = COLL, seg: int = 0) -> bytes:
    """A DELETE; ``seg=UPSERT_DELETE`` marks the first half of an upsert."""
    rb = pa.RecordBatch.from_arrays([pa.array(pks)], names=["pk"])
    return Message(MsgType.DELETE, ts, coll, part, seg, batch.to_ipc(rb)).encode()


def flush_msg(seg_ids: list[int], ts: int, coll: int = COLL) -> bytes:
    return Message(MsgType.FLUSH, ts, coll, 0, 0, flush_body(seg_ids)).encode()


def tick_msg(ts: int) -> bytes:
    return Message(MsgType.TIMETICK, ts).encode()


# --------------------------------------------------------------------------- fake data coordinator
@dataclass
class FakeDataCoord:
    """Just what the query coordinator reads."""

    segments: dict[int, SegmentInfo] = field(default_factory=dict)
    checkpoints: dict[str, Checkpoint] = field(default_factory=dict)
    deltas: list[DeltaLogInfo] = field(default_factory=list)

    def get_checkpoint(self, channel: str) -> Checkpoint | None:
        return self.checkpoints.get(channel)

    def list_segments(self, collection_id: int, states: tuple[int, ...] = ()) -> list[SegmentInfo]:
        return [s for s in self.segments.values()
                if s.collection_id == collection_id and (not states or s.state in states)]

    def list_delta_logs(self, collection_id: int, channel: str = "") -> list[DeltaLogInfo]:
        return [d for d in self.deltas if d.collection_id == collection_id
                and (not channel or d.channel == channel)]
