"""Data node and schema evolution: SCHEMA is appended in order, and a segment whose batches
straddle an added field is written with the field's default (else null) for the older rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from elanus.cluster.types import CollectionInfo
from elanus.core.messages import MsgType
from elanus.core.schema import DataType, FieldSchema
from tests.worker.datapath_fakes import DataStack, make_collection, rows
from tests.worker.test_data_node import wal_messages

LEVEL = FieldSchema(103, "level", DataType.INT32, nullable=True, default_value=5)
NOTE = FieldSchema(104, "note", DataType.VARCHAR, params={"max_length": "8"}, nullable=True)


class Describer:
    """The root coordinator's ``describe_collection`` by id, for the flusher."""

    def __init__(self) -> None:
        self.infos: dict[int, CollectionInfo] = {}

    def describe_collection(self, db: str, name: str = "", collection_id: int = 0) -> CollectionInfo:
        return self.infos[collection_id]


@pytest.fixture()
def stack(tmp_path: Path) -> Iterator[DataStack]:
    s = DataStack(tmp_path, index_node=False)
    yield s
    s.close()


def test_schema_message_and_mixed_segment(stack: DataStack) -> None:
    old = make_collection()
    ch, part = old.channels[0], old.partitions[0].id
    stack.node.watch_channel(ch)
    new_schema = replace(old.schema, fields=(*old.schema.fields, LEVEL, NOTE), version=1, _by_name={}, _by_id={})
    new = replace(old, schema=new_schema, schema_bytes=b"schema-v1")
    describer = Describer()
    describer.infos[old.id] = new
    stack.registry.root_coord.describe_collection = describer.describe_collection
    t_old = stack.node.insert(old, ch, part, rows(0, 3))
    t_schema = stack.node.update_schema(new, ch)
    t_new = stack.node.insert(new, ch, part, {**rows(3, 2), "level": np.array([7, 8], dtype=np.int32),
                                              "note": np.array(["x", "y"], dtype=object)})
    assert t_old < t_schema < t_new and stack.node.last_ts(ch) == t_new
    kinds = [(m.type, m.body) for m in wal_messages(stack, ch) if m.type != MsgType.TIMETICK]
    assert kinds[1] == (MsgType.SCHEMA, b"schema-v1")
    stack.flush_and_wait(new)
    (seg,) = stack.flushed(new)
    table = stack.read_segment(seg)
    assert table.column("level").to_pylist() == [5, 5, 5, 7, 8]  # older rows: the default
    assert table.column("note").to_pylist() == [None, None, None, "x", "y"]  # no default: null
