"""The internal gRPC transport: codec round trips, the rpc tables, generated code, errors."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pymilvus.grpc_gen import common_pb2, schema_pb2

from elanus.cluster import interfaces
from elanus.cluster.rpc import (
    DataCoordClient,
    DataNodeClient,
    IndexNodeClient,
    QueryCoordClient,
    QueryNodeClient,
    RoleUnavailable,
    RootCoordClient,
    codec,
    codegen,
    serve_roles,
)
from elanus.cluster.rpc.gen import common_pb2 as wire
from elanus.cluster.rpc.methods import SERVICES, protocol_methods, service_methods
from elanus.cluster.types import (
    Checkpoint,
    CollectionInfo,
    ConsistencyLevel,
    DatabaseInfo,
    DeltaLogInfo,
    IndexInfo,
    LoadProgress,
    LoadState,
    PartitionInfo,
    QueryRequest,
    QueryResult,
    SearchHits,
    SearchRequest,
    SegmentInfo,
    SegmentState,
)
from elanus.core import errors
from elanus.core.batch import object_array
from elanus.core.errors import MilvusError
from elanus.core.expr.errors import FilterError
from elanus.core.schema import CollectionSchema, from_proto

# ---------------------------------------------------------------------------- helpers


def _array_roundtrip(arr: np.ndarray) -> np.ndarray:
    msg = wire.NdArray()
    codec.encode_array(msg, arr)
    again = wire.NdArray.FromString(msg.SerializeToString())
    return codec.decode_array(again)


def _same_array(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype == object:
        assert a.reshape(-1).tolist() == b.reshape(-1).tolist()
    else:
        assert a.tobytes() == b.tobytes()  # bit for bit (NaN, -0.0, bfloat16 patterns)


def _same_columns(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert list(a) == list(b)
    for key in a:
        _same_array(a[key], b[key])


def _roundtrip(value: Any) -> Any:
    msg = codec.to_message(value)
    again = type(msg).FromString(msg.SerializeToString())
    return codec.from_message(again, type(value))


def _schema() -> tuple[CollectionSchema, bytes]:
    kv = common_pb2.KeyValuePair
    fields = [
        schema_pb2.FieldSchema(fieldID=100, name="pk", data_type=schema_pb2.DataType.VarChar, is_primary_key=True,
                               type_params=[kv(key="max_length", value="64")]),
        schema_pb2.FieldSchema(fieldID=101, name="vec", data_type=schema_pb2.DataType.FloatVector,
                               type_params=[kv(key="dim", value="4")]),
        schema_pb2.FieldSchema(fieldID=102, name="n", data_type=schema_pb2.DataType.Int32, nullable=True,
                               default_value=schema_pb2.ValueField(int_data=7)),
        schema_pb2.FieldSchema(fieldID=103, name="f", data_type=schema_pb2.DataType.Float,
                               default_value=schema_pb2.ValueField(float_data=0.5)),
        schema_pb2.FieldSchema(fieldID=104, name="s", data_type=schema_pb2.DataType.VarChar,
                               type_params=[kv(key="max_length", value="8")],
                               default_value=schema_pb2.ValueField(string_data="dé")),
        schema_pb2.FieldSchema(fieldID=105, name="arr", data_type=schema_pb2.DataType.Array,
                               element_type=schema_pb2.DataType.Int64,
                               type_params=[kv(key="max_capacity", value="5")]),
        schema_pb2.FieldSchema(fieldID=106, name="b", data_type=schema_pb2.DataType.Bool, is_partition_key=False,
                               default_value=schema_pb2.ValueField(bool_data=True)),
        schema_pb2.FieldSchema(fieldID=107, name="big", data_type=schema_pb2.DataType.Int64, is_partition_key=True,
                               default_value=schema_pb2.ValueField(long_data=1 << 40)),
        schema_pb2.FieldSchema(fieldID=108, name="$meta", data_type=schema_pb2.DataType.JSON, is_dynamic=True),
    ]
    sp = schema_pb2.CollectionSchema(name="c", description="d", enable_dynamic_field=True, fields=fields, version=3)
    return from_proto(sp), sp.SerializeToString()


def _info() -> CollectionInfo:
    schema, raw = _schema()
    return CollectionInfo(
        id=11, db_id=1, db_name="default", name="c", schema=schema, schema_bytes=raw,
        channels=("by-dml_0_11v0", "by-dml_1_11v1"), partitions=(PartitionInfo(12, "_default", 99),),
        consistency_level=ConsistencyLevel.BOUNDED, created_ts=(1 << 60) + 5, properties={"a": "b"},
        aliases=("x", "y"))


def _columns(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(n)
    bits = (rng.random((n, 4), dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    cols: dict[str, np.ndarray] = {
        "i8": rng.integers(-128, 127, n).astype(np.int8), "i16": rng.integers(0, 9, n).astype(np.int16),
        "i32": rng.integers(0, 9, n).astype(np.int32), "i64": rng.integers(-(1 << 62), 1 << 62, n),
        "f32": rng.random(n, dtype=np.float32), "f64": rng.random(n), "flag": rng.random(n) < 0.5,
        "name": np.array([f"é{i}\u0000x" if i % 3 else "" for i in range(n)], dtype=object),
        "js": np.array([None if i % 4 == 0 else {"k": [i, 1.5, "ü", None], "big": 1 << 63} for i in range(n)],
                       dtype=object),
        "js$valid": np.array([i % 4 != 0 for i in range(n)], dtype=np.bool_),
        "arr": object_array(([i, i + 1] if i % 2 else None if i % 5 == 0 else [] for i in range(n)), n),
        "fv": rng.random((n, 4), dtype=np.float32), "f16": rng.random((n, 4)).astype(np.float16),
        "bf16": bits, "i8v": rng.integers(-128, 127, (n, 8)).astype(np.int8),
        "bin": rng.integers(0, 255, (n, 2)).astype(np.uint8), "$ts": np.arange(n, dtype=np.uint64) + (1 << 63),
    }
    if n:
        cols["f32"][0] = np.nan
        cols["f64"][-1] = -0.0
    return cols


# ---------------------------------------------------------------------------- codec


@pytest.mark.parametrize("n", [0, 1, 37])
def test_columns_roundtrip_every_kind(n: int) -> None:
    cols = _columns(n)
    msg = wire.Columns()
    codec.encode_columns(msg, cols)
    _same_columns(cols, codec.decode_columns(wire.Columns.FromString(msg.SerializeToString())))


def test_array_kinds_and_empty_shapes() -> None:
    for arr in (np.zeros((0, 128), np.float32), np.zeros((0, 16), np.uint8), np.array([], dtype=object),
                np.array([], dtype=np.int64), np.array(5, dtype=np.uint64), np.arange(12).reshape(2, 3, 2)):
        _same_array(arr, _array_roundtrip(arr))
    mixed = np.array(["a", 1, None], dtype=object)  # not all str: travels as JSON values
    assert list(_array_roundtrip(mixed)) == ["a", 1, None]
    numpy_inside = object_array([[np.int64(3), np.float32(0.5)], np.array([1, 2])], 2)
    assert list(_array_roundtrip(numpy_inside)) == [[3, 0.5], [1, 2]]
    msg = wire.NdArray()
    codec.encode_array(msg, np.array(["x", "yy"], dtype=object))
    assert msg.kind == wire.NdArray.STRINGS
    pks = np.array([["a", "b", "c"], ["d", "", "é"]], dtype=object)  # varchar pks of (nq, k) hits
    _same_array(pks, _array_roundtrip(pks))
    _same_array(np.empty((2, 0), dtype=object), _array_roundtrip(np.empty((2, 0), dtype=object)))
    surrogate = np.array(["\ud800", "x"], dtype=object)  # not UTF-8: travels as JSON text
    _same_array(surrogate, _array_roundtrip(surrogate))
    nones = np.empty((2, 2), dtype=object)
    _same_array(nones, _array_roundtrip(nones))
    with pytest.raises(TypeError):
        codec.encode_array(wire.NdArray(), np.zeros(2, dtype=[("a", object)]))


def test_schema_bytes_roundtrip() -> None:
    schema, _ = _schema()
    again = codec.schema_from_bytes(codec.schema_to_bytes(schema))
    assert again == schema
    assert [f.default_value for f in again.fields] == [f.default_value for f in schema.fields]
    assert again.version == 3 and again.dynamic_field is not None


def test_every_value_type_roundtrips() -> None:
    info = _info()
    back = _roundtrip(info)
    assert back == info and back.schema == info.schema
    samples: list[Any] = [
        DatabaseInfo(1, "default", 3, {"k": "v"}), PartitionInfo(2, "p", 4),
        IndexInfo(5, 11, "vec", 101, "idx", {"index_type": "HNSW", "M": "8"}, 77, "/a/0"),
        SegmentInfo(6, 11, 12, "ch", SegmentState.FLUSHED, 10, 3, "insert_log/x", 400, 1, (1 << 63) + 1,
                    {"vec": "index_files/1"}),
        SegmentInfo(7, 11, 12, "ch", SegmentState.GROWING),
        DeltaLogInfo(8, 11, "ch", "delta_log/8", 3, 1, 2), Checkpoint("ch", 42, 1 << 62),
        LoadProgress(LoadState.LOADING, 40),
        QueryRequest(11, (12,), "n > $x", {"x": [1, 2.5, "s", None, True]}, ("pk", "n"), -1, 0, 5, True, 9),
    ]
    for value in samples:
        assert _roundtrip(value) == value
    assert type(_roundtrip(samples[3]).state) is SegmentState


def test_search_request_hits_and_query_result_roundtrip() -> None:
    for queries in (np.ones((1, 4), np.float32), np.ones((3, 8), np.float16), np.zeros((2, 2), np.uint8),
                    np.ones((2, 4), np.int8), np.zeros((0, 4), np.float32)):
        req = SearchRequest(11, (), "vec", queries, 10, "L2", {"ef": 64, "nested": {"a": [1]}}, "", {},
                            ("pk",), 123, 0)
        back = _roundtrip(req)
        _same_array(req.queries, back.queries)
        assert back.params == req.params and back.partition_ids == () and back.output_fields == ("pk",)
        assert (back.guarantee_ts, back.k, back.metric, back.filter_params) == (123, 10, "L2", {})
    cols = _columns(6)
    hits = SearchHits(np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(6).reshape(2, 3),
                      np.ones((2, 3), bool), cols, "IP")
    back = _roundtrip(hits)
    for name in ("scores", "pks", "valid"):
        _same_array(getattr(hits, name), getattr(back, name))
    _same_columns(cols, back.fields)
    assert back.metric == "IP"
    str_pks = SearchHits(np.zeros(0, np.float32), np.array(["a", "b"], dtype=object), np.ones(2, bool), {}, "L2")
    assert list(_roundtrip(str_pks).pks) == ["a", "b"]
    result = QueryResult(_columns(5), 5)
    back_result = _roundtrip(result)
    _same_columns(result.columns, back_result.columns)
    assert back_result.count == 5
    assert _roundtrip(QueryResult({}, 0)).columns == {}


def _result_roundtrip(service: str, method: str, value: Any) -> Any:
    """``value`` as the result of ``service.method``, through serialised bytes."""
    spec = service_methods(service)[method]
    return spec.decode_response(spec.response_cls.FromString(spec.encode_response(value).SerializeToString()))


def test_optional_and_tuple_results() -> None:
    for value in (None, (), (1, 2)):
        assert _result_roundtrip("QueryCoord", "loaded_partitions", value) == value
    pairs = [(SegmentInfo(1, 2, 3, "c", SegmentState.FLUSHED, 5), 7),
             (SegmentInfo(4, 2, 3, "c", SegmentState.SEALED, 6), 8)]
    assert _result_roundtrip("QueryCoord", "served_segments", pairs) == pairs
    assert _result_roundtrip("DataCoord", "flush", ([1, 2], 99)) == ([1, 2], 99)
    assert _result_roundtrip("DataCoord", "index_progress", (10, 5, 1)) == (10, 5, 1)
    assert _result_roundtrip("DataCoord", "get_checkpoint", None) is None
    assert _result_roundtrip("DataCoord", "get_checkpoint", Checkpoint("c", 0, 0)) == Checkpoint("c", 0, 0)


# ---------------------------------------------------------------------------- tables and clients

CLIENTS = {"RootCoord": RootCoordClient, "DataCoord": DataCoordClient, "QueryCoord": QueryCoordClient,
           "DataNode": DataNodeClient, "IndexNode": IndexNodeClient, "QueryNode": QueryNodeClient}


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_protocol_method_has_an_rpc_and_a_client_method(service: str) -> None:
    protocol = SERVICES[service][0]
    specs = service_methods(service)  # raises if protos and Protocol differ
    assert set(specs) == set(protocol_methods(protocol))
    for name, method in protocol_methods(protocol).items():
        assert inspect.signature(getattr(CLIENTS[service], name)) == inspect.signature(method), name


def test_registry_cross_role_calls_are_in_protocols() -> None:
    assert "all_collections" in protocol_methods(interfaces.RootCoord)


def test_codegen_check_passes_on_committed_code() -> None:
    proc = subprocess.run([sys.executable, "-m", "elanus.cluster.rpc.codegen", "--check"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_codegen_check_notices_stale_code(tmp_path: Path) -> None:
    gen = tmp_path / "gen"
    shutil.copytree(codegen.GEN_DIR, gen)
    assert codegen.stale_files(gen) == []
    (gen / "common_pb2.py").write_text((gen / "common_pb2.py").read_text() + "\n# edited\n")
    (gen / "query_node_pb2.pyi").unlink()
    assert codegen.stale_files(gen) == ["query_node_pb2.pyi", "common_pb2.py"]


# ---------------------------------------------------------------------------- errors and health


class _Boom:
    """A fake index node / query node that fails in the ways errors must travel."""

    node_id = 3

    def build_index(self, collection_id: int, segment: SegmentInfo, field_name: str, dim: int,
                    params: dict[str, str], metric: str, vector_type: int = 101) -> str:
        if collection_id == 1:
            raise errors.collection_not_found("c1")
        if collection_id == 2:
            raise FilterError("a >", "unexpected end", 1, 3)
        if collection_id == 3:
            raise ZeroDivisionError("division by zero")
        if collection_id == 4:
            raise RoleUnavailable("QueryNode", "h:1", "gone")
        if collection_id == 5:
            raise FilterError("x" * 50_000, "far too long")
        return f"{segment.id}/{field_name}/{dim}/{params}/{metric}/{vector_type}"

    def channel_caught_up(self, channel: str) -> bool:
        return channel == "yes"


def test_errors_travel_with_class_code_and_message() -> None:
    boom = _Boom()
    server, port = serve_roles(index_node=boom, query_node=boom)
    address = f"127.0.0.1:{port}"
    client = IndexNodeClient(address)
    seg = SegmentInfo(9, 1, 2, "c", SegmentState.FLUSHED)
    try:
        assert client.build_index(0, seg, "v", 4, {"M": "8"}, "L2") == "9/v/4/{'M': '8'}/L2/101"
        with pytest.raises(MilvusError) as exc_info:
            client.build_index(1, seg, "v", 4, {}, "L2")
        assert type(exc_info.value) is MilvusError and exc_info.value.code == errors.COLLECTION_NOT_FOUND
        assert exc_info.value.message == errors.collection_not_found("c1").message
        with pytest.raises(FilterError) as filter_info:
            client.build_index(2, seg, "v", 4, {}, "L2")
        assert filter_info.value.code == errors.PARAMETER_INVALID
        assert (filter_info.value.expr, filter_info.value.line, filter_info.value.column) == ("a >", 1, 3)
        assert str(filter_info.value) == FilterError("a >", "unexpected end", 1, 3).message
        with pytest.raises(MilvusError) as internal:
            client.build_index(3, seg, "v", 4, {}, "L2")
        assert internal.value.code == errors.SERVICE_INTERNAL
        assert "ZeroDivisionError: division by zero" in internal.value.message
        with pytest.raises(RoleUnavailable) as nested:
            client.build_index(4, seg, "v", 4, {}, "L2")
        assert nested.value.address == "h:1"
        with pytest.raises(FilterError) as long_info:  # beyond the metadata budget: cut, not lost
            client.build_index(5, seg, "v", 4, {}, "L2")
        assert long_info.value.message.startswith("cannot parse expression: xxx") and "cut]" in long_info.value.message
        # the right node answers; a client that expects another node id sees it unavailable
        with QueryNodeClient(address, 3) as right, QueryNodeClient(address, 4) as wrong:
            assert right.channel_caught_up("yes") is True
            with pytest.raises(RoleUnavailable):
                wrong.channel_caught_up("yes")
        # health: SERVING overall and per registered service
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", "elanus.internal.IndexNode", "elanus.internal.QueryNode"):
                reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
        # a role not served here: the rpc is unimplemented, reported as an internal error
        with pytest.raises(MilvusError) as missing, RootCoordClient(address) as root:
            root.alloc_ids(1)
        assert missing.value.code == errors.SERVICE_INTERNAL and "UNIMPLEMENTED" in missing.value.message
    finally:
        server.stop(None)
    with pytest.raises(RoleUnavailable) as down:
        client.build_index(0, seg, "v", 4, {}, "L2")
    assert down.value.code == errors.SERVICE_UNAVAILABLE and address in down.value.message
    assert down.value.message.startswith("service unavailable[role=IndexNode]")
    client.close()
    with pytest.raises(RoleUnavailable):
        client.build_index(0, seg, "v", 4, {}, "L2")
