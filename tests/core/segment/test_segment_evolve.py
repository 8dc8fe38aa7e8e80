"""Schema evolution on the read side: rows written before a field existed read as its default
value or null, in growing and sealed segments and in the data node's batches."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from pymilvus.grpc_gen import schema_pb2

from elanus.core import batch
from elanus.core.schema import CollectionSchema, DataType, FieldSchema, field_from_proto
from elanus.core.segment import GrowingSegment, SealedSegment
from elanus.core.segment.evolve import absent_column, arrow_with_defaults, with_absent_fields
from elanus.storage import open_objects
from elanus.storage.objects.base import ObjectStore
from tests.worker.segdata import COLL, PART, make_columns, make_schema, query_req, search_req, write_segment

BASE = make_schema()
TAG = FieldSchema(105, "tag", DataType.VARCHAR, params={"max_length": "8"}, nullable=True)
LEVEL = FieldSchema(106, "level", DataType.INT32, nullable=True, default_value=5)
ARR = FieldSchema(107, "arr", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": "4"},
                  nullable=True)


def evolved(*fields: FieldSchema, version: int = 1) -> CollectionSchema:
    return replace(BASE, fields=(*BASE.fields, *fields), version=version, _by_name={}, _by_id={})


def test_absent_column_is_default_or_null() -> None:
    values, valid = absent_column(TAG, 3)
    assert values.tolist() == ["", "", ""] and valid is not None and not valid.any()
    values, valid = absent_column(LEVEL, 2)
    assert values.dtype == np.int32 and values.tolist() == [5, 5] and valid is not None and valid.all()
    json_default = field_from_proto(schema_pb2.FieldSchema(
        fieldID=108, name="j", data_type=DataType.JSON, nullable=True,
        default_value=schema_pb2.ValueField(bytes_data=b'{"a": [1]}')))
    values, valid = absent_column(json_default, 2)
    assert values.tolist() == [{"a": [1]}, {"a": [1]}] and values[0] is not values[1]
    plain = FieldSchema(109, "p", DataType.DOUBLE, default_value=1.5)
    values, valid = absent_column(plain, 2)
    assert values.tolist() == [1.5, 1.5] and valid is None


def test_with_absent_fields_adds_only_missing() -> None:
    cols = make_columns(BASE, np.arange(3))
    out = with_absent_fields(cols, evolved(TAG, LEVEL), 3)
    assert set(out) == set(cols) | {"tag", "tag$valid", "level", "level$valid"}
    assert out["id"] is cols["id"]
    assert with_absent_fields(cols, BASE, 3) is cols


def test_growing_segment_adopts_newer_schema() -> None:
    seg = GrowingSegment(1, COLL, PART, BASE, capacity=4)
    seg.append(make_columns(BASE, np.arange(3)), 10)
    schema = evolved(TAG, LEVEL, ARR)
    seg.update_schema(schema)
    seg.update_schema(BASE)  # older: ignored
    assert seg.schema is schema
    cols = {**make_columns(BASE, np.arange(3, 6)), "tag": batch.object_array(["a", "b", ""], 3),
            "tag$valid": np.array([True, True, False]), "arr": batch.object_array([[1], None, [2, 3]], 3),
            "arr$valid": np.array([True, False, True])}
    seg.append(cols, 20)  # grows past the initial capacity; no "level": rows get its default
    res = seg.query(query_req(20, output_fields=("tag", "level", "arr")))
    assert res.columns["tag"].tolist() == ["", "", "", "a", "b", ""]
    assert res.columns["tag$valid"].tolist() == [False] * 3 + [True, True, False]
    assert res.columns["level"].tolist() == [5] * 6 and res.columns["level$valid"].all()
    assert res.columns["arr$valid"].tolist() == [False] * 3 + [True, False, True]
    assert seg.query(query_req(20, filter="tag is null")).count == 4
    assert seg.query(query_req(20, filter="level == 5 and arr is not null")).count == 2
    assert seg.query(query_req(10, filter="tag is null", count_only=True)).count == 3


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return open_objects(str(tmp_path / "objects"))


def test_sealed_segment_file_without_the_field(objects: ObjectStore) -> None:
    info = write_segment(objects, BASE, 11, make_columns(BASE, np.arange(10)), 10)
    schema = evolved(TAG, LEVEL)
    seg = SealedSegment.load(objects, schema, info)
    assert seg.query(query_req(10, filter="tag is null and level == 5", count_only=True)).count == 10
    q = make_columns(BASE, np.arange(1))["vec"]
    hits = seg.search(search_req(q, 3, 10, output_fields=("tag", "level")), None)
    assert hits.fields["tag$valid"].tolist() == [False] * 3
    assert hits.fields["level"].tolist() == [5] * 3


def test_sealed_segment_update_schema(objects: ObjectStore) -> None:
    info = write_segment(objects, BASE, 12, make_columns(BASE, np.arange(10)), 10,
                         index={"index_type": "FLAT", "metric_type": "L2"})
    seg = SealedSegment.load(objects, BASE, info)
    with pytest.raises(Exception, match="tag"):
        seg.query(query_req(10, filter="tag is null"))
    seg.update_schema(evolved(TAG))
    seg.update_schema(evolved(TAG, LEVEL, version=2))  # a later version: adds only what it lacks
    assert seg.column("vec") is None  # the index still holds the vectors
    res = seg.query(query_req(10, filter="tag is null", output_fields=("tag", "level")))
    assert len(res.columns["id"]) == 10 and res.columns["level"].tolist() == [5] * 10


def test_arrow_with_defaults_fills_only_defaulted_fields() -> None:
    schema = evolved(TAG, LEVEL)
    old = batch.to_arrow(make_columns(BASE, np.arange(2)), BASE)
    new_cols = {**make_columns(BASE, np.arange(2, 4)), "tag": batch.object_array(["x", "y"], 2),
                "level": np.array([7, 8], dtype=np.int32)}
    new = batch.to_arrow(new_cols, schema)
    patched = arrow_with_defaults(old, schema)
    assert "level" in patched.schema.names and "tag" not in patched.schema.names
    assert arrow_with_defaults(new, schema) is new
    table = pa.concat_tables([pa.Table.from_batches([patched]), pa.Table.from_batches([new])],
                             promote_options="default")
    cols = batch.from_arrow(table, schema)
    assert cols["level"].tolist() == [5, 5, 7, 8]
    assert cols["tag$valid"].tolist() == [False, False, True, True]
