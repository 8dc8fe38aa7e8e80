"""FieldData ↔ Columns, checked against pymilvus's own encoder and decoders.

Inserts go through ``GrpcHandler.insert_rows`` / ``upsert_rows`` (what ``MilvusClient``
calls) against a fake stub whose ``DescribeCollection`` returns our schema the way Milvus
does (dynamic field hidden); results are decoded by ``GrpcHandler.query`` and
``SearchResult``. Error texts are Milvus's (internal/proxy/validate_util.go, util.go).
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from pymilvus.client.grpc_handler import GrpcHandler
from pymilvus.client.search_result import SearchResult
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

from elanus.access.fielddata import (
    JSON_MAX_LENGTH,
    columns_from_insert,
    field_data_from_columns,
    ids_from_columns,
    pk_array_from_ids,
    with_auto_ids,
)
from elanus.core.batch import Columns
from elanus.core.errors import OPERATION_NOT_SUPPORTED, PARAMETER_INVALID, MilvusError
from elanus.core.schema import DataType, from_proto

_addresses = itertools.count()


def fschema(fid: int, name: str, dtype: DataType, default: schema_pb2.ValueField | None = None,
            **kw: Any) -> schema_pb2.FieldSchema:
    params = {k: str(kw.pop(k)) for k in ("dim", "max_length", "max_capacity") if k in kw}
    fp = schema_pb2.FieldSchema(fieldID=fid, name=name, data_type=int(dtype), **kw)
    for k, v in params.items():
        fp.type_params.add(key=k, value=v)
    if default is not None:
        fp.default_value.CopyFrom(default)
    return fp


def cschema(*fields: schema_pb2.FieldSchema, dynamic: bool = False) -> schema_pb2.CollectionSchema:
    sp = schema_pb2.CollectionSchema(name="c", enable_dynamic_field=dynamic, fields=fields)
    if dynamic:
        sp.fields.append(fschema(100 + len(fields), "$meta", DataType.JSON, is_dynamic=True))
    return sp


def all_types(dynamic: bool = True, auto_id: bool = False) -> schema_pb2.CollectionSchema:
    return cschema(
        fschema(100, "id", DataType.INT64, is_primary_key=True, autoID=auto_id),
        fschema(101, "v", DataType.FLOAT_VECTOR, dim=4),
        fschema(102, "b", DataType.BOOL),
        fschema(103, "i8", DataType.INT8),
        fschema(104, "i16", DataType.INT16),
        fschema(105, "i32", DataType.INT32),
        fschema(106, "f", DataType.FLOAT),
        fschema(107, "d", DataType.DOUBLE),
        fschema(108, "s", DataType.VARCHAR, max_length=8),
        fschema(109, "j", DataType.JSON),
        fschema(110, "ai", DataType.ARRAY, element_type=DataType.INT16, max_capacity=4),
        fschema(111, "as", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=4, max_length=4),
        fschema(112, "ad", DataType.ARRAY, element_type=DataType.DOUBLE, max_capacity=4),
        dynamic=dynamic)


def nullable_schema() -> schema_pb2.CollectionSchema:
    return cschema(
        fschema(100, "pk", DataType.VARCHAR, is_primary_key=True, max_length=16),
        fschema(101, "v", DataType.FLOAT_VECTOR, dim=2, nullable=True),
        fschema(102, "age", DataType.INT32, nullable=True),
        fschema(103, "score", DataType.DOUBLE, default=schema_pb2.ValueField(double_data=1.5)),
        fschema(104, "name", DataType.VARCHAR, max_length=8, nullable=True,
                default=schema_pb2.ValueField(string_data="anon")),
        fschema(105, "j", DataType.JSON, nullable=True),
        fschema(106, "tags", DataType.ARRAY, element_type=DataType.INT64, max_capacity=3, nullable=True),
        fschema(107, "flag", DataType.BOOL, nullable=True))


class FakeMilvus:
    """Stub for GrpcHandler: answers DescribeCollection as Milvus does, records writes."""

    def __init__(self, sp: schema_pb2.CollectionSchema) -> None:
        self.sp = sp
        self.requests: list[Any] = []
        self.query_result: milvus_pb2.QueryResults | None = None

    def DescribeCollection(self, request: Any, timeout: Any = None, metadata: Any = None) -> Any:
        shown = schema_pb2.CollectionSchema()
        shown.CopyFrom(self.sp)
        del shown.fields[:]
        shown.fields.extend([f for f in self.sp.fields if not f.is_dynamic])  # Milvus hides $meta
        return milvus_pb2.DescribeCollectionResponse(status=common_pb2.Status(), schema=shown, collectionID=1)

    def Insert(self, request: Any, timeout: Any = None, metadata: Any = None) -> Any:
        self.requests.append(request)
        return milvus_pb2.MutationResult(status=common_pb2.Status(), insert_cnt=request.num_rows)

    Upsert = Insert

    def Query(self, request: Any, timeout: Any = None, metadata: Any = None) -> Any:
        return self.query_result


def client(sp: schema_pb2.CollectionSchema) -> tuple[GrpcHandler, FakeMilvus]:
    fake = FakeMilvus(sp)
    handler = GrpcHandler.__new__(GrpcHandler)
    handler._stub = fake
    handler._address = f"fake-{next(_addresses)}:19530"  # pymilvus caches schemas per address
    return handler, fake


def encode(sp: schema_pb2.CollectionSchema, rows: list[dict[str, Any]], upsert: bool = False) -> Any:
    """The InsertRequest/UpsertRequest pymilvus's MilvusClient sends for ``rows``."""
    handler, fake = client(sp)
    (handler.upsert_rows if upsert else handler.insert_rows)("c", rows)
    return fake.requests[0]


def convert(sp: schema_pb2.CollectionSchema, req: Any, **kw: Any) -> Columns:
    return columns_from_insert(req.fields_data, req.num_rows, from_proto(sp), **kw)


def raises(text: str, sp: schema_pb2.CollectionSchema, req: Any, **kw: Any) -> None:
    with pytest.raises(MilvusError) as ei:
        convert(sp, req, **kw)
    assert ei.value.code == PARAMETER_INVALID
    assert ei.value.message == text


def query_rows(sp: schema_pb2.CollectionSchema, fds: list[schema_pb2.FieldData],
               output_fields: list[str]) -> list[dict[str, Any]]:
    """Decode result FieldData the way pymilvus's query does."""
    handler, fake = client(sp)
    fake.query_result = milvus_pb2.QueryResults(status=common_pb2.Status(), fields_data=fds,
                                                output_fields=output_fields)
    return [dict(r) for r in handler.query("c", "id > 0", output_fields=output_fields)]


def row(i: int) -> dict[str, Any]:
    return {"id": i, "v": [i, 0.5, -1.0, 2.25], "b": i % 2 == 0, "i8": -i, "i16": 300 * i, "i32": -70000 * i,
            "f": 0.25 * i, "d": 1 / (i + 1), "s": f"s{i}é", "j": {"k": [i, None, "x"]} if i % 2 else [i, "y"],
            "ai": list(range(i % 4)), "as": ["ab", "ç"][: i % 3], "ad": [0.1 * i], "color": f"c{i}"}


# ------------------------------------------------------------------- insert: all types

def test_insert_all_types_through_pymilvus() -> None:
    sp = all_types()
    rows = [row(i) for i in range(5)]
    cols = convert(sp, encode(sp, rows))
    assert list(cols) == ["id", "v", "b", "i8", "i16", "i32", "f", "d", "s", "j", "ai", "as", "ad", "$meta"]
    assert cols["id"].dtype == np.int64 and cols["id"].tolist() == [0, 1, 2, 3, 4]
    assert cols["v"].dtype == np.float32 and cols["v"].shape == (5, 4)
    assert cols["v"][3].tolist() == [3, 0.5, -1.0, 2.25]
    expected_dtypes = {"b": np.bool_, "i8": np.int8, "i16": np.int16, "i32": np.int32, "f": np.float32,
                       "d": np.float64, "s": object, "j": object, "ai": object, "$meta": object}
    for name, dt in expected_dtypes.items():
        assert cols[name].dtype == dt, name
    for i, r in enumerate(rows):
        for name in ("b", "i8", "i16", "i32", "f", "s", "j", "ai", "as", "ad"):
            assert cols[name][i] == r[name], name
        assert cols["d"][i] == np.float64(r["d"])
        assert cols["$meta"][i] == {"color": f"c{i}"}
    assert cols["ai"][0] == [] and isinstance(cols["ai"][1], list)


def test_round_trip_through_pymilvus_query_decoder() -> None:
    sp = all_types()
    rows = [row(i) for i in range(6)]
    cols = convert(sp, encode(sp, rows))
    names = ["id", "v", "b", "i8", "i16", "i32", "f", "d", "s", "j", "ai", "as", "ad", "$meta"]
    decoded = query_rows(sp, field_data_from_columns(cols, from_proto(sp), names), names)
    for got, want in zip(decoded, rows, strict=True):
        assert [float(x) for x in got.pop("v")] == want.pop("v")
        assert got == want


def test_dynamic_keys_restriction() -> None:
    sp = all_types()
    rows = [dict(row(i), size=i) for i in range(3)]
    cols = convert(sp, encode(sp, rows))
    fds = field_data_from_columns(cols, from_proto(sp), ["id", "$meta"], dynamic_keys=["size"])
    assert fds[1].is_dynamic and fds[1].field_id == 113
    assert [json.loads(b) for b in fds[1].scalars.json_data.data] == [{"size": 0}, {"size": 1}, {"size": 2}]
    assert query_rows(sp, fds, ["id", "size"]) == [{"id": i, "size": i} for i in range(3)]
    whole = field_data_from_columns(cols, from_proto(sp), ["id", "$meta"])
    assert query_rows(sp, whole, ["id", "$meta"])[2] == {"id": 2, "color": "c2", "size": 2}


def test_no_dynamic_data_gives_empty_objects() -> None:
    sp = all_types()
    req = encode(sp, [row(0)])
    fds = [fd for fd in req.fields_data if not fd.is_dynamic]
    cols = columns_from_insert(fds, 1, from_proto(sp))
    assert cols["$meta"].tolist() == [{}]


# ------------------------------------------------------------- nulls and default values

def test_nullable_and_default_filling() -> None:
    sp = nullable_schema()
    rows = [
        {"pk": "a", "v": [1, 2], "age": 7, "score": 2.5, "name": "bob", "j": {"x": 1}, "tags": [1, 2],
         "flag": True},
        {"pk": "b", "v": None, "age": None, "score": None, "name": None, "j": None, "tags": None,
         "flag": None},
        {"pk": "c"},  # every other field omitted
        {"pk": "d", "v": [3, 4], "j": [1], "tags": []},
    ]
    cols = convert(sp, encode(sp, rows))
    assert cols["pk"].tolist() == ["a", "b", "c", "d"]
    assert cols["v"].tolist() == [[1, 2], [0, 0], [0, 0], [3, 4]]
    assert cols["v$valid"].tolist() == [True, False, False, True]
    assert cols["age"].tolist() == [7, 0, 0, 0] and cols["age$valid"].tolist() == [True, False, False, False]
    assert cols["score"].tolist() == [2.5, 1.5, 1.5, 1.5] and "score$valid" not in cols  # default, not null
    assert cols["name"].tolist() == ["bob", "anon", "anon", "anon"]
    assert cols["name$valid"].tolist() == [True] * 4  # nullable + default: default wins
    assert cols["j"].tolist() == [{"x": 1}, None, None, [1]]
    assert cols["tags"].tolist() == [[1, 2], None, None, []]
    assert cols["flag"].tolist() == [True, False, False, False]

    names = ["pk", "v", "age", "score", "name", "j", "tags", "flag"]
    fds = field_data_from_columns(cols, from_proto(sp), names)
    v = fds[1]
    assert list(v.valid_data) == [True, False, False, True] and len(v.vectors.float_vector.data) == 4
    assert len(fds[2].scalars.int_data.data) == 4  # scalars stay full length
    assert not fds[3].valid_data  # non-nullable: no valid_data
    decoded = query_rows(sp, fds, names)
    assert decoded[1] == {"pk": "b", "v": None, "age": None, "score": 1.5, "name": "anon", "j": None,
                          "tags": None, "flag": None}
    assert [list(d["v"]) if d["v"] is not None else None for d in decoded] == [[1, 2], None, None, [3, 4]]
    assert decoded[3]["tags"] == [] and decoded[3]["j"] == [1]


def test_search_result_decoding() -> None:
    sp = nullable_schema()
    rows = [{"pk": "a", "v": [1, 2], "age": 7}, {"pk": "b", "v": None}, {"pk": "c", "v": [5, 6], "age": 1}]
    cols = convert(sp, encode(sp, rows))
    data = schema_pb2.SearchResultData(num_queries=1, top_k=3, topks=[3], scores=[0.5, 0.25, 0.125],
                                       output_fields=["v", "age", "name"], primary_field_name="pk")
    data.ids.CopyFrom(ids_from_columns(cols["pk"]))
    data.fields_data.extend(field_data_from_columns(cols, from_proto(sp), ["v", "age", "name"]))
    hits = SearchResult(data)[0]
    assert [h.id for h in hits] == ["a", "b", "c"] and hits[0]["pk"] == "a"
    ents = [h["entity"] for h in hits]
    assert [list(e["v"]) if e["v"] is not None else None for e in ents] == [[1, 2], None, [5, 6]]
    assert [e["age"] for e in ents] == [7, None, 1] and ents[1]["name"] == "anon"


def test_zero_rows_output_is_decodable() -> None:
    sp = all_types()
    cols = convert(sp, encode(sp, [row(1)]))
    empty = {k: v[:0] for k, v in cols.items()}
    names = ["id", "v", "b", "s", "j", "ai", "$meta"]
    fds = field_data_from_columns(empty, from_proto(sp), names)
    assert all(fd.WhichOneof("field") for fd in fds)
    assert query_rows(sp, fds, names) == []


# ------------------------------------------------------------------ primary keys / ids

def test_ids_round_trip_and_mutation_result() -> None:
    ints = np.array([3, -1, 1 << 40], dtype=np.int64)
    ids = ids_from_columns(ints)
    assert ids.WhichOneof("id_field") == "int_id" and pk_array_from_ids(ids).tolist() == ints.tolist()
    strs = np.array(["a", "bé"], dtype=object)
    assert pk_array_from_ids(ids_from_columns(strs)).tolist() == ["a", "bé"]
    assert pk_array_from_ids(schema_pb2.IDs()).dtype == np.int64
    assert ids_from_columns(np.zeros(0, np.int64)).WhichOneof("id_field") == "int_id"
    from pymilvus.client.abstract import MutationResult
    res = MutationResult(milvus_pb2.MutationResult(status=common_pb2.Status(), IDs=ids, insert_cnt=3))
    assert res.primary_keys == ints.tolist()


def test_auto_id_insert_and_with_auto_ids() -> None:
    sp = all_types(auto_id=True)
    rows = [{k: v for k, v in row(i).items() if k != "id"} for i in range(3)]
    cols = convert(sp, encode(sp, rows))
    assert "id" not in cols
    full = with_auto_ids(cols, from_proto(sp), np.array([10, 11, 12]))
    assert full["id"].tolist() == [10, 11, 12] and full["id"].dtype == np.int64
    vsp = cschema(fschema(100, "pk", DataType.VARCHAR, is_primary_key=True, autoID=True, max_length=4),
                  fschema(101, "v", DataType.FLOAT_VECTOR, dim=2))
    vcols = convert(vsp, encode(vsp, [{"v": [1, 2]}]))
    assert with_auto_ids(vcols, from_proto(vsp), np.array([1 << 50]))["pk"].tolist() == [str(1 << 50)]


def test_auto_id_pk_supplied() -> None:
    sp = all_types(auto_id=True)
    req = encode(sp, [row(0), row(1)])  # pymilvus forwards the pk when the rows carry it
    raises("more fieldData has pass in: invalid parameter[expected=14][actual=15]", sp, req)
    cols = convert(sp, req, allow_insert_auto_id=True)
    assert cols["id"].tolist() == [0, 1]


def test_upsert() -> None:
    sp = all_types(auto_id=True)
    cols = convert(sp, encode(sp, [row(5)], upsert=True), is_upsert=True)
    assert cols["id"].tolist() == [5]  # the pk to replace; the caller allocates the new one
    plain = all_types()
    req = encode(plain, [row(1)], upsert=True)
    fds = [fd for fd in req.fields_data if fd.field_name != "id"]
    with pytest.raises(MilvusError, match=r"^fieldSchema\(id\) has no corresponding fieldData pass in"):
        columns_from_insert(fds, 1, from_proto(plain), is_upsert=True)


# ------------------------------------------------------------------ validation errors

def small() -> schema_pb2.CollectionSchema:
    return cschema(fschema(100, "id", DataType.INT64, is_primary_key=True),
                   fschema(101, "v", DataType.FLOAT_VECTOR, dim=4),
                   fschema(102, "age", DataType.INT64),
                   fschema(103, "s", DataType.VARCHAR, max_length=8))


def small_req(n: int = 2) -> Any:
    return encode(small(), [{"id": i, "v": [0.0, 1.0, 2.0, float(i)], "age": i, "s": "x"} for i in range(n)])


def field(req: Any, name: str) -> schema_pb2.FieldData:
    return next(fd for fd in req.fields_data if fd.field_name == name)


def drop(req: Any, name: str) -> None:
    kept = [fd for fd in req.fields_data if fd.field_name != name]
    del req.fields_data[:]
    req.fields_data.extend(kept)


def test_missing_field() -> None:
    req = small_req()
    drop(req, "age")
    raises("fieldSchema(age) has no corresponding fieldData pass in: invalid parameter", small(), req)


def test_unknown_field_without_dynamic_schema() -> None:
    req = small_req()
    req.fields_data.add(field_name="extra", type=int(DataType.INT64)).scalars.long_data.data.extend([1, 2])
    raises("fieldName extra not exist in collection schema, fieldType Int64, fieldId 0: invalid parameter",
           small(), req)
    req = small_req()
    meta = req.fields_data.add(field_name="$meta", type=int(DataType.JSON), is_dynamic=True)
    meta.scalars.json_data.data.extend([b"{}", b"{}"])
    raises("fieldName $meta not exist in collection schema, fieldType JSON, fieldId 0: invalid parameter",
           small(), req)


def test_duplicated_field_and_num_rows() -> None:
    req = small_req()
    req.fields_data.append(field(req, "age"))
    raises("duplicated field age found: invalid parameter", small(), req)
    req = small_req()
    req.num_rows = 0
    raises("num_rows should be greater than 0: invalid parameter[expected=invalid num_rows][actual=0]",
           small(), req)


@pytest.mark.parametrize(("name", "text"), [
    ("age", "field 'age' is illegal, array type mismatch: invalid parameter"
            "[expected=need long int array][actual=got nil]"),
    ("s", "varchar field 's' is illegal, array type mismatch: invalid parameter"
          "[expected=need string array][actual=got nil]"),
    ("v", "float vector field 'v' is illegal, array type mismatch: invalid parameter"
          "[expected=need float vector][actual=got nil]"),
])
def test_type_mismatch(name: str, text: str) -> None:
    req = small_req()
    field(req, name).scalars.double_data.data.extend([1.0, 2.0])  # replaces the oneof
    raises(text, small(), req)


def test_type_mismatch_other_types() -> None:
    sp = all_types()
    req = encode(sp, [row(1)])
    field(req, "j").scalars.long_data.data.append(1)
    raises("json field 'j' is illegal, array type mismatch: invalid parameter"
           "[expected=need json array][actual=got nil]", sp, req)
    req = encode(sp, [row(1)])
    field(req, "ai").scalars.long_data.data.append(1)
    raises("array field 'ai' is illegal, array type mismatch: invalid parameter"
           "[expected=need Int16 array][actual=got nil]", sp, req)
    req = encode(sp, [row(1)])
    field(req, "b").scalars.long_data.data.append(1)  # Milvus has no Bool check: the row count fails
    raises("the num_rows (0) of field (b) is not equal to passed num_rows (1): invalid parameter"
           "[expected=1][actual=0]", sp, req)
    tsp = cschema(fschema(100, "id", DataType.INT64, is_primary_key=True), fschema(101, "t", DataType.TEXT))
    treq = encode(tsp, [{"id": 1, "t": "hello"}])
    field(treq, "t").scalars.long_data.data.append(1)
    raises("invalid parameter[expected=need text array][actual=text field 't' is illegal]", tsp, treq)


def test_vector_dim_and_length() -> None:
    sp = small()
    req = encode(sp, [{"id": i, "v": [1.0, 2.0], "age": i, "s": "x"} for i in range(2)])  # 2-d rows
    raises("the dim (2) of field data(v) is not equal to schema dim (4): invalid parameter"
           "[expected=4][actual=2]", sp, req)
    req = encode(sp, [{"id": 0, "v": [1.0, 2.0, 3.0], "age": 0, "s": "x"}])
    raises("the length(3) of float data should divide the dim(4): invalid parameter", sp, req)
    req = small_req(3)
    del field(req, "v").vectors.float_vector.data[-4:]
    raises("the num_rows (2) of field (v) is not equal to passed num_rows (3): invalid parameter"
           "[expected=3][actual=2]", sp, req)


@pytest.mark.parametrize(("value", "text"), [(math.nan, "NaN"), (math.inf, "+Inf"), (-math.inf, "-Inf")])
def test_non_finite_vectors(value: float, text: str) -> None:
    req = small_req()
    field(req, "v").vectors.float_vector.data[5] = value
    raises(f"value '{text}' is not a number or infinity: invalid parameter", small(), req)


def test_non_finite_scalars() -> None:
    sp = all_types()
    req = encode(sp, [row(1)])
    field(req, "d").scalars.double_data.data[0] = math.nan
    raises("value 'NaN' is not a number or infinity: invalid parameter", sp, req)


def test_row_count_mismatch() -> None:
    req = small_req(3)
    del field(req, "age").scalars.long_data.data[-1]
    raises("the num_rows (2) of field (age) is not equal to passed num_rows (3): invalid parameter"
           "[expected=3][actual=2]", small(), req)


def test_varchar_max_length_counts_utf8_bytes() -> None:
    sp = small()
    # 5 chars pass pymilvus's client-side char check; 10 UTF-8 bytes exceed max_length 8
    req = encode(sp, [{"id": i, "v": [0.0] * 4, "age": i, "s": s} for i, s in enumerate(["ok", "ééééé"])])
    raises("length of varchar field s exceeds max length, row number: 1, length: 10, max length: 8: "
           "invalid parameter", sp, req)
    ok = encode(sp, [{"id": 0, "v": [0.0] * 4, "age": 0, "s": "12345678"}])
    assert convert(sp, ok)["s"].tolist() == ["12345678"]


def test_int_overflow() -> None:
    sp = all_types()
    req = encode(sp, [row(1), row(2)])
    field(req, "i8").scalars.int_data.data[1] = 300
    raises("the 1th element (300) out of range: [-128, 127]: invalid parameter"
           "[expected=integer doesn't overflow][actual=out of range]", sp, req)
    req = encode(sp, [row(1)])
    field(req, "ai").scalars.array_data.data[0].int_data.data.append(40000)
    raises("the 1th element (40000) out of range: [-32768, 32767]: invalid parameter"
           "[expected=integer doesn't overflow][actual=out of range]", sp, req)


def test_array_errors() -> None:
    sp = all_types()
    req = encode(sp, [row(1), row(2)])
    field(req, "ai").scalars.array_data.data[1].int_data.data.extend([1, 2, 3])
    raises("the length (5) of 1th array exceeds max capacity (4): invalid parameter"
           "[expected=valid length array][actual=array length exceeds max capacity]", sp, req)
    req = encode(sp, [row(1)])
    cell = field(req, "ai").scalars.array_data.data[0]
    cell.long_data.data.append(1)  # the oneof now says long_data
    raises("insert data does not match: invalid parameter"
           "[expected=int array][actual=*schemapb.ScalarField_LongData array]", sp, req)
    req = encode(sp, [row(1)])
    field(req, "ai").scalars.array_data.data[0].Clear()
    raises("insert data does not match: invalid parameter[expected=int array][actual=nil array]", sp, req)
    req = encode(sp, [row(2)])
    field(req, "as").scalars.array_data.data[0].string_data.data[1] = "ççç"  # 6 bytes > 4
    raises('length of Array array field "as" exceeds max length, row number: 0, array index: 1, '
           "length: 6, max length: 4: invalid parameter", sp, req)


def test_json_errors() -> None:
    sp = all_types()
    req = encode(sp, [row(1)])
    field(req, "j").scalars.json_data.data[0] = b'"' + b"x" * JSON_MAX_LENGTH + b'"'
    raises(f"the length ({JSON_MAX_LENGTH + 2}) of json field (j) exceeds max length ({JSON_MAX_LENGTH}): "
           "invalid parameter[expected=valid length json string][actual=length exceeds max length]", sp, req)
    req = encode(sp, [row(1)])
    field(req, "j").scalars.json_data.data[0] = b"{oops"
    with pytest.raises(MilvusError, match=r"^invalid JSON data of field j, row number: 0: .+: invalid param"):
        convert(sp, req)


@pytest.mark.parametrize(("payload", "text"), [
    (b"[1]", "invalid dynamic field data, only json map is supported: json: cannot unmarshal array into "
             "Go value of type map[string]interface {}: invalid parameter"),
    (b'{"$meta": 1}', "cannot set json key to: $meta: invalid parameter"),
    (b'{"age": 1}', "dynamic field name cannot include the static field name: age: invalid parameter"),
    (b'{"k": "' + b"x" * JSON_MAX_LENGTH + b'"}',
     f"the length ({JSON_MAX_LENGTH + 9}) of dynamic field exceeds max length ({JSON_MAX_LENGTH}): "
     "invalid parameter[expected=valid length dynamic field][actual=length exceeds max length]"),
])
def test_dynamic_errors(payload: bytes, text: str) -> None:
    sp = cschema(fschema(100, "id", DataType.INT64, is_primary_key=True), fschema(101, "age", DataType.INT64),
                 dynamic=True)
    req = encode(sp, [{"id": 1, "age": 2, "other": 3}])
    field(req, "$meta").scalars.json_data.data[0] = payload
    raises(text, sp, req)


def test_valid_data_errors() -> None:
    sp = nullable_schema()
    req = encode(sp, [{"pk": "a", "age": 1}, {"pk": "b", "age": None}])
    del field(req, "age").valid_data[-1]
    raises("the length of valid_data of field(age) is wrong: invalid parameter[expected=2][actual=1]",
           sp, req)
    req = encode(sp, [{"pk": "a", "age": 1}, {"pk": "b", "age": None}])
    field(req, "age").scalars.int_data.data.append(5)  # compact data must match the valid count
    raises("the length of field is wrong: invalid parameter[expected=1][actual=2]", sp, req)
    req = small_req()
    field(req, "age").valid_data.extend([True, True])  # not nullable: no valid_data allowed
    raises("the length of valid_data of field(age) is wrong: invalid parameter[expected=0][actual=2]",
           small(), req)


def test_unsupported_field_type() -> None:
    sp = cschema(fschema(100, "id", DataType.INT64, is_primary_key=True),
                 fschema(101, "h", DataType.GEOMETRY))
    fd = schema_pb2.FieldData(field_name="id", type=int(DataType.INT64))
    fd.scalars.long_data.data.append(1)
    with pytest.raises(MilvusError) as ei:
        columns_from_insert([fd], 1, from_proto(sp))
    assert ei.value.code == OPERATION_NOT_SUPPORTED and "Geometry" in ei.value.message


# ------------------------------------------------------------------------------- speed
