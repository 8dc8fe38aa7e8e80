"""Query node and delegator: a SCHEMA message (a field added) reaches growing segments, sealed
copies on other nodes, copies handed off later, and rows inserted after it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pymilvus.grpc_gen import schema_pb2

from elanus.core import batch
from elanus.core.messages import Message, MsgType
from elanus.core.schema import CollectionSchema, DataType, FieldSchema, from_proto
from elanus.worker.query_node import QueryNodeImpl
from tests.worker.segdata import COLL, insert_msg, make_columns, query_req, write_segment
from tests.worker.test_query_node import CH, COLLECTION, FLAT, SCHEMA, Env

TAG = FieldSchema(105, "tag", DataType.VARCHAR, params={"max_length": "8"}, nullable=True)


def _schema_v1() -> tuple[CollectionSchema, bytes]:
    """(schema, serialised proto) of SCHEMA plus the nullable ``tag`` field, version 1."""
    sp = schema_pb2.CollectionSchema(name="c", version=1)
    for f in (*SCHEMA.fields, TAG):
        fp = sp.fields.add(fieldID=f.field_id, name=f.name, data_type=int(f.dtype), is_primary_key=f.is_primary,
                           nullable=f.nullable)
        for k, v in f.params.items():
            fp.type_params.add(key=k, value=v)
    return from_proto(sp), sp.SerializeToString()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    yield e
    e.close()


def rows(node: QueryNodeImpl, guarantee: int, flt: str) -> list[int]:
    res = node.query(CH, query_req(0, guarantee_ts=guarantee, filter=flt, output_fields=("tag",)))
    return sorted(res.columns["id"].tolist())


def test_schema_message_updates_growing_sealed_and_later_handoffs(env: Env) -> None:
    schema, body = _schema_v1()
    sealed = write_segment(env.objects, SCHEMA, 50, make_columns(SCHEMA, np.arange(100, 110)), 90, index=FLAT)
    later = write_segment(env.objects, SCHEMA, 52, make_columns(SCHEMA, np.arange(200, 205)), 95)
    env.nodes[1].load_segment(COLLECTION, sealed, [])
    env.nodes[1].load_segment(COLLECTION, later, [])  # loaded with the old schema, handed off after
    env.insert(np.arange(5), seg=1)
    node = env.nodes[0]
    node.watch_channel(COLLECTION, CH, 0, [50, 52], ())
    node.handoff(CH, sealed, 2)
    t_schema = env.next_ts()
    env.put(Message(MsgType.SCHEMA, t_schema, COLL, 0, 0, body).encode())
    new = {**make_columns(schema, np.arange(5, 8)), "tag": batch.object_array(["a", "b", ""], 3),
           "tag$valid": np.array([True, True, False])}
    t_new = env.next_ts()
    env.put(insert_msg(schema, new, t_new, seg=1))
    assert rows(node, t_new, "tag is not null") == [5, 6]
    assert rows(node, t_new, "tag is null") == [0, 1, 2, 3, 4, 7, *range(100, 110)]
    delegator = node.delegator(CH)
    assert delegator is not None and delegator.schema.version == 1
    assert delegator.collection.schema_bytes == body
    node.handoff(CH, later, 2)  # this copy learns the schema at handoff
    assert rows(node, t_new, "tag is null")[-5:] == list(range(200, 205))
    # A reload of a held copy with the old schema keeps the newer one it had.
    env.nodes[1].load_segment(COLLECTION, sealed, [])
    assert env.nodes[1].segment(50).schema.version == 1
    # Replaying the message (older or equal version) changes nothing.
    env.put(Message(MsgType.SCHEMA, env.next_ts(), COLL, 0, 0, body).encode())
    assert rows(node, env.ts, 'tag == "a"') == [5]


def test_delegator_started_with_newer_schema_ignores_old_message(env: Env) -> None:
    schema, body = _schema_v1()
    env.insert(np.arange(3), seg=1)  # written before the field: no tag column
    env.put(Message(MsgType.SCHEMA, env.next_ts(), COLL, 0, 0, body).encode())
    node = env.nodes[0]
    node.watch_channel(replace(COLLECTION, schema=schema, schema_bytes=body), CH, 0, [], ())
    assert rows(node, env.ts, "tag is null") == [0, 1, 2]
