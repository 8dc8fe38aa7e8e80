"""Milvus's rules for creating an index, as pure functions over the existing indexes.

- One index per field; an index name is unique in its collection.
- An empty index name resolves to the name of the field's existing index, else
  to the field name (Milvus datacoord ``CreateIndex``).
- Same name, same field, same parameters again is a no-op; same name with a
  different field or parameters, or a second name on a field, is an error with
  Milvus's text (code 65535, as Milvus's plain ``fmt.Errorf`` errors are).
- Vector fields are validated by :func:`elanus.core.index.parse_index_params`;
  scalar fields accept Milvus's scalar index types with Milvus's texts. Scalar
  indexes are metadata only (filters scan; nothing is built).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from elanus.coord.data.codec import IndexRecord
from elanus.core.errors import PARAMETER_INVALID, UNEXPECTED, MilvusError, invalid_parameter
from elanus.core.index import AUTOINDEX, IndexSpec, parse_index_params
from elanus.core.index.build_params import INDEX_TYPE_KEY, expand_params
from elanus.core.schema import DataType, FieldSchema

DISTINCT_PER_FIELD = "CreateIndex failed: at most one distinct index is allowed per field"
MULTIPLE_ON_FIELD = "CreateIndex failed: creating multiple indexes on same field is not supported"

# Vector index types Milvus knows (for the "only supports vector data type" text on scalars).
_VECTOR_TYPES = frozenset({
    "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "IVF_FLAT_CC", "IVF_SQ_CC", "IVF_RABITQ",
    "SCANN", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ", "DISKANN", "AISAQ", "BIN_FLAT", "BIN_IVF_FLAT",
    "SPARSE_INVERTED_INDEX", "SPARSE_WAND", "MINHASH_LSH", "GPU_CAGRA", "GPU_IVF_FLAT",
    "GPU_IVF_PQ", "GPU_BRUTE_FORCE",
})
_BITMAP_TYPES = frozenset({DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
                           DataType.VARCHAR, DataType.STRING, DataType.ARRAY})


def field_not_found(field_name: str) -> MilvusError:
    return MilvusError(UNEXPECTED, f"cannot create index on non-exist field: {field_name}")


def resolve_name(existing: Iterable[IndexRecord], field_name: str, index_name: str) -> str:
    """The index name to use: as given, or the field's existing index name, or the field name."""
    if index_name:
        return index_name
    for record in existing:
        if record.info.field_name == field_name:
            return record.info.index_name
    return field_name


def validate(field: FieldSchema, params: Mapping[str, str]) -> IndexSpec | None:
    """The build spec of a vector index, or None for a valid scalar index; raises MilvusError."""
    if field.dtype.is_vector:
        return parse_index_params(field, params)
    _validate_scalar(field, expand_params(params))
    return None


def _validate_scalar(field: FieldSchema, flat: Mapping[str, str]) -> None:
    kind = flat.get(INDEX_TYPE_KEY, "")
    dtype = field.dtype
    if kind in ("", AUTOINDEX):
        return
    if kind in _VECTOR_TYPES:
        raise invalid_parameter(f"index {kind} only supports vector data type")
    if kind == "STL_SORT":
        if not dtype.is_numeric:
            raise invalid_parameter("STL_SORT are only supported on numeric field")
    elif kind in ("TRIE", "Trie"):
        if not dtype.is_string:
            raise invalid_parameter("TRIE are only supported on varchar field")
    elif kind == "INVERTED":
        if dtype == DataType.JSON and "json_cast_type" not in flat:
            raise invalid_parameter("INVERTED are not supported on JSON field")
    elif kind == "BITMAP":
        if dtype not in _BITMAP_TYPES:
            raise invalid_parameter("bitmap index are only supported on bool, int, string and array field")
    elif kind not in ("HYBRID", "NGRAM", "RTREE"):
        raise MilvusError(PARAMETER_INVALID,
                          f"invalid parameter[expected=valid index][actual=invalid index type: {kind}]")


def check_conflicts(existing: Iterable[IndexRecord], field_name: str, index_name: str,
                    params: Mapping[str, str], spec: IndexSpec | None) -> IndexRecord | None:
    """The identical existing index (create is then a no-op), None when the new index may be
    created; raises Milvus's error when it conflicts with an existing one."""
    for record in existing:
        info = record.info
        if info.index_name == index_name:
            if info.field_name == field_name and _same(record, params, spec):
                return record
            raise MilvusError(UNEXPECTED, DISTINCT_PER_FIELD)
        if info.field_name == field_name:
            raise MilvusError(UNEXPECTED, MULTIPLE_ON_FIELD)
    return None


def _same(record: IndexRecord, params: Mapping[str, str], spec: IndexSpec | None) -> bool:
    if record.spec is not None or spec is not None:
        return record.spec == spec
    return expand_params(record.info.params) == expand_params(params)
