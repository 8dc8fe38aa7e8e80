"""Root coordinator: ``add_collection_field`` assigns the next field id, bumps the schema version,
tells every channel (SCHEMA through its data node) before the catalog changes, and persists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymilvus.grpc_gen import schema_pb2

from elanus.cluster.types import CollectionInfo
from elanus.coord.root.evolve import schema_with_field
from elanus.core import errors
from elanus.core.schema import DataType
from tests.coord.test_root_coord import Env, create, raises


class SchemaLog:
    """Stands in for the data nodes' ``update_schema``: records what each channel was told and
    what the catalog held at that moment."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.calls: list[tuple[str, int, int]] = []  # (channel, schema version, catalog version)
        self.ts = 1000
        for node in env.nodes:
            node.update_schema = self.update_schema  # type: ignore[attr-defined]

    def update_schema(self, collection: CollectionInfo, channel: str) -> int:
        stored = self.env.root.describe_collection("", collection_id=collection.id)
        self.calls.append((channel, collection.schema.version, stored.schema.version))
        self.ts += 1
        return self.ts


@pytest.fixture()
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path / "meta")
    yield e
    e.close()


def field(name: str, dtype: DataType = DataType.INT64, **kw: Any) -> bytes:
    return schema_pb2.FieldSchema(name=name, data_type=dtype, nullable=True, **kw).SerializeToString()


def test_add_field_ids_version_channels_and_persistence(env: Env) -> None:
    log = SchemaLog(env)
    info = create(env.root, "c", shards=2, dynamic=True)
    assert [f.field_id for f in info.schema.fields] == [100, 101, 102, 103]  # id, vec, tag, $meta
    ts = env.root.add_collection_field("", "c", field("a"))
    assert ts == 1002  # the later of the two channels' SCHEMA timestamps
    # Both channels heard of version 1 while the catalog still held version 0.
    assert sorted(log.calls) == sorted((ch, 1, 0) for ch in info.channels)
    env.root.add_collection_field("", "c", field("b", DataType.VARCHAR))
    got = env.root.describe_collection("", "c")
    assert got.schema.version == 2
    assert [(f.name, f.field_id) for f in got.schema.fields][-2:] == [("a", 104), ("b", 105)]
    assert got.schema.get("a").nullable  # type: ignore[union-attr]
    stored = schema_pb2.CollectionSchema()
    stored.ParseFromString(got.schema_bytes)
    assert stored.version == 2 and stored.fields[-1].name == "b"
    again = env.restart().describe_collection("", "c")
    assert again.schema.version == 2 and again.schema_bytes == got.schema_bytes


def test_add_field_errors(env: Env) -> None:
    SchemaLog(env)
    create(env.root, "c")
    with raises(errors.PARAMETER_INVALID, "field already exists, name: tag: invalid parameter"):
        env.root.add_collection_field("", "c", field("tag"))
    with raises(errors.COLLECTION_NOT_FOUND):
        env.root.add_collection_field("", "nope", field("x"))
    assert env.root.describe_collection("", "c").schema.version == 0


def test_schema_with_field_uses_highest_id() -> None:
    sp = schema_pb2.CollectionSchema(name="c")
    sp.fields.add(name="id", fieldID=100, data_type=DataType.INT64, is_primary_key=True)
    sp.fields.add(name="late", fieldID=130, data_type=DataType.INT64)
    sp.fields.add(name="v", fieldID=101, data_type=DataType.FLOAT_VECTOR)
    out = schema_with_field(sp.SerializeToString(), schema_pb2.FieldSchema(name="x", data_type=DataType.BOOL))
    assert out.fields[-1].fieldID == 131 and out.version == 1
