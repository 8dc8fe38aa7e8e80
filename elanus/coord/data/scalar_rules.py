"""Milvus's rules for scalar and JSON-path indexes, with Milvus's error texts.

Follows the proxy's ``createIndexTask.parseIndexParams``/``checkTrain``, the scalar
checkers of ``internal/util/indexparamcheck`` and the data coordinator's JSON-path
handling, in that order:

1. ``json_cast_type`` / ``json_cast_function`` are compared upper-cased and trimmed;
2. an unknown ``index_type`` (or ``HYBRID``, which Milvus keeps for itself) is rejected;
3. no type or ``AUTOINDEX`` resolves to Milvus's default scalar type for the data type
   (``scalarAutoIndex.params.build``: bool → BITMAP, int/float/varchar/JSON → HYBRID,
   JSON with cast ``JSON`` → INVERTED, timestamptz → STL_SORT, geometry → RTREE);
4. a JSON index without ``json_path`` indexes the path named by the request's field
   name (the whole JSON field, or the dynamic key);
5. the checker of the type validates the field's data type, then its parameters;
6. for a JSON (or dynamic) field, ``json_path`` is parsed like a filter identifier and
   must name the same field; it becomes a JSON pointer (``my_json['a'][0]`` → ``/a/0``,
   dynamic key ``k['a']`` → ``/k/a``).

These are the validation rules only. What is built per sealed segment (and used by the
filter planner) is decided by :func:`elanus.core.scalar_index.build_kind`: STL_SORT,
INVERTED, BITMAP, Trie and HYBRID on scalar, Array and JSON (DOUBLE / VARCHAR / BOOL cast)
targets; the rest (NGRAM, RTREE, JSON casts to JSON or ARRAY_*) stays metadata only.
"""

from __future__ import annotations

from collections.abc import Mapping

from elanus.core.errors import PARAMETER_INVALID, PARAMETER_MISSING, MilvusError, compose, invalid_parameter
from elanus.core.expr import resolve_identifier
from elanus.core.index import AUTOINDEX
from elanus.core.index.build_params import INDEX_TYPE_KEY, expand_params
from elanus.core.schema import CollectionSchema, DataType, FieldSchema

JSON_PATH_KEY = "json_path"
JSON_CAST_TYPE_KEY = "json_cast_type"
JSON_CAST_FUNCTION_KEY = "json_cast_function"
BITMAP_LIMIT_KEY = "bitmap_cardinality_limit"
MAX_BITMAP_CARDINALITY_LIMIT = 1000

# Vector index types Milvus knows (for the "only supports vector data type" text on scalars).
VECTOR_TYPES = frozenset({
    "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "IVF_FLAT_CC", "IVF_SQ_CC", "IVF_RABITQ",
    "SCANN", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ", "DISKANN", "AISAQ", "BIN_FLAT", "BIN_IVF_FLAT",
    "SPARSE_INVERTED_INDEX", "SPARSE_WAND", "MINHASH_LSH", "GPU_CAGRA", "GPU_IVF_FLAT",
    "GPU_IVF_PQ", "GPU_BRUTE_FORCE",
})
_STL_SORT = ("STL_SORT", "Asceneding")
_TRIE = ("TRIE", "Trie", "marisa-trie")
_SCALAR_TYPES = frozenset({*_STL_SORT, *_TRIE, "INVERTED", "BITMAP", "NGRAM", "RTREE"})

_INVERTED_CASTS = ("BOOL", "DOUBLE", "VARCHAR", "ARRAY_BOOL", "ARRAY_DOUBLE", "ARRAY_VARCHAR", "JSON")
_STL_SORT_CASTS = ("DOUBLE", "VARCHAR")
_BITMAP_CASTS = ("BOOL", "VARCHAR")
_HYBRID_CASTS = ("BOOL", "DOUBLE", "VARCHAR")


def _missing(param: str, detail: str) -> MilvusError:
    """merr ``WrapErrParameterMissing(param, detail)``."""
    return MilvusError(PARAMETER_MISSING, f"{detail}: {compose(PARAMETER_MISSING, fields={'missing_param': param})}")


def _is_bitmap_type(dtype: DataType) -> bool:
    return dtype == DataType.BOOL or dtype.is_integer or dtype.is_string


def check_scalar(schema: CollectionSchema, field: FieldSchema, requested: str,
                 params: Mapping[str, str]) -> str:
    """Validate a scalar index on ``field`` (named ``requested`` in the request; see the
    module docstring). Returns the JSON pointer of the indexed path for a JSON or dynamic
    field, ``""`` otherwise. Raises :class:`MilvusError` with Milvus's texts."""
    flat = expand_params(params)
    for key in (JSON_CAST_TYPE_KEY, JSON_CAST_FUNCTION_KEY):
        if key in flat:
            flat[key] = flat[key].strip().upper()
    dtype = field.dtype
    if dtype == DataType.TEXT:
        raise invalid_parameter("TEXT field does not support user-created scalar index")
    kind = flat.get(INDEX_TYPE_KEY, "")
    if kind and kind != AUTOINDEX and kind not in _SCALAR_TYPES and kind not in VECTOR_TYPES:
        raise MilvusError(PARAMETER_INVALID,
                          f"invalid parameter[expected=valid index][actual=invalid index type: {kind}]")
    if kind in ("", AUTOINDEX):
        kind = _auto_type(field, flat)
    is_json = dtype == DataType.JSON
    if is_json:
        flat.setdefault(JSON_PATH_KEY, requested)
    _check_data_type(kind, field)
    _check_train(kind, dtype, flat)
    if not is_json:
        return ""
    if JSON_CAST_TYPE_KEY not in flat:  # the data coordinator's own check
        raise invalid_parameter(f"{JSON_CAST_TYPE_KEY} not found")
    return json_pointer(schema, field, flat[JSON_PATH_KEY])


def json_pointer(schema: CollectionSchema, field: FieldSchema, path: str) -> str:
    """Milvus's ``ParseAndVerifyNestedPath``: ``path`` (filter identifier syntax) must name
    ``field``; returns its JSON pointer (``""`` for the whole field)."""
    target, keys = resolve_identifier(path, schema)
    if target.field_id != field.field_id:
        raise invalid_parameter("fieldID not match with field name")
    if not keys:
        return ""
    return "".join("/" + str(k).replace("~", "~0").replace("/", "~1") for k in keys)


def _auto_type(field: FieldSchema, flat: Mapping[str, str]) -> str:
    """Milvus's default scalar index type (``scalarAutoIndex.params.build``)."""
    dtype = field.element_type if field.dtype == DataType.ARRAY else field.dtype
    if dtype == DataType.BOOL:
        return "BITMAP"
    if dtype.is_numeric or dtype.is_string:
        return "HYBRID"
    if dtype == DataType.TIMESTAMPTZ:
        return "STL_SORT"
    if field.dtype == DataType.JSON:
        return "INVERTED" if flat.get(JSON_CAST_TYPE_KEY) == "JSON" else "HYBRID"
    if field.dtype == DataType.GEOMETRY:
        return "RTREE"
    inner = invalid_parameter(f"create auto index on type:{field.dtype.display} is not supported")
    raise MilvusError(PARAMETER_INVALID,
                      f"invalid parameter[expected=supported field][actual={inner.message}]")


def _check_data_type(kind: str, field: FieldSchema) -> None:
    """The checkers' ``CheckValidDataType``."""
    dtype, elem = field.dtype, field.element_type
    if kind in VECTOR_TYPES:
        raise invalid_parameter(f"index {kind} only supports vector data type")
    if dtype == DataType.JSON and kind not in (*_TRIE, "RTREE", "NGRAM"):
        return
    if kind == "INVERTED":
        if not (dtype == DataType.BOOL or dtype.is_numeric or dtype.is_string or dtype == DataType.ARRAY):
            raise invalid_parameter(f"INVERTED are not supported on {dtype.display} field")
    elif kind in _STL_SORT:
        if not (dtype.is_numeric or dtype.is_string or dtype == DataType.TIMESTAMPTZ):
            raise invalid_parameter(
                f"STL_SORT are only supported on numeric, varchar or timestamptz field, got {dtype.display}")
    elif kind in _TRIE:
        if not dtype.is_string:
            raise invalid_parameter("TRIE are only supported on varchar field")
    elif kind == "BITMAP":
        if field.is_primary:
            raise invalid_parameter("create bitmap index on primary key not supported")
        if not (_is_bitmap_type(dtype) or dtype == DataType.ARRAY):
            raise invalid_parameter("bitmap index are only supported on bool, int, string and array field")
        if dtype == DataType.ARRAY and not _is_bitmap_type(elem):
            raise invalid_parameter("bitmap index are only supported on bool, int, string for array field")
    elif kind == "HYBRID":
        if not (_is_bitmap_type(dtype) or dtype.is_float or dtype == DataType.ARRAY):
            raise invalid_parameter("hybrid index are only supported on bool, int, float, string and array field")
        if dtype == DataType.ARRAY and not (_is_bitmap_type(elem) or elem.is_float):
            raise invalid_parameter("hybrid index are only supported on bool, int, float, string for array field")
    elif kind == "NGRAM":
        if not (dtype.is_string or dtype == DataType.JSON):
            raise invalid_parameter("ngram index can only be created on VARCHAR or JSON field")
    elif kind == "RTREE" and dtype != DataType.GEOMETRY:
        raise invalid_parameter(f"RTREE index can only be built on geometry field, got {dtype.display}")


def _check_train(kind: str, dtype: DataType, flat: Mapping[str, str]) -> None:
    """The checkers' ``CheckTrain`` (JSON cast types, ngram and hybrid parameters)."""
    if kind == "NGRAM":
        _check_ngram(dtype, flat)
        return
    if kind == "HYBRID" and BITMAP_LIMIT_KEY in flat:
        limit = flat[BITMAP_LIMIT_KEY]
        if not (limit.lstrip("+-").isdigit() and 1 <= int(limit) <= MAX_BITMAP_CARDINALITY_LIMIT):
            raise invalid_parameter("failed to check bitmap cardinality limit, should be larger than 0 "
                                    f"and smaller than {MAX_BITMAP_CARDINALITY_LIMIT}")
    if dtype != DataType.JSON:
        return
    casts = {"INVERTED": _INVERTED_CASTS, "BITMAP": _BITMAP_CASTS, "HYBRID": _HYBRID_CASTS,
             **{k: _STL_SORT_CASTS for k in _STL_SORT}}.get(kind)
    if casts is None:
        return
    cast = flat.get(JSON_CAST_TYPE_KEY)
    if cast is None:
        raise _missing(JSON_CAST_TYPE_KEY, "json index must specify cast type")
    if cast not in casts:
        suffix = "" if kind == "INVERTED" else f" for {'STL_SORT' if kind in _STL_SORT else kind} index"
        raise invalid_parameter(f"json_cast_type {cast} is not supported{suffix}")
    function = flat.get(JSON_CAST_FUNCTION_KEY)
    if kind == "INVERTED" and function is not None:
        if function != "STRING_TO_DOUBLE":
            raise invalid_parameter(f"json_cast_function {function} is not supported")
        if cast != "DOUBLE":
            raise invalid_parameter(f"json_cast_function {function} is not supported for json_cast_type {cast}")


def _check_ngram(dtype: DataType, flat: Mapping[str, str]) -> None:
    if dtype == DataType.JSON:
        cast = flat.get(JSON_CAST_TYPE_KEY)
        if cast is None:
            raise MilvusError(PARAMETER_MISSING,
                              "JSON field with ngram index must specify json_cast_type: missing parameter")
        if cast != "VARCHAR":
            raise invalid_parameter(f"JSON field with ngram index only supports VARCHAR cast type, got: {cast}")
    low, high = flat.get("min_gram"), flat.get("max_gram")
    if low is None or high is None:
        raise MilvusError(PARAMETER_MISSING,
                          "Ngram index must specify both min_gram and max_gram: missing parameter")
    for key, text in (("min_gram", low), ("max_gram", high)):
        if not text.lstrip("+-").isdigit():
            raise invalid_parameter(f"{key} for Ngram index must be an integer, got: {text}")
    lo, hi = int(low), int(high)
    if lo <= 0 or hi <= 0 or lo > hi:
        raise invalid_parameter(f"invalid min_gram or max_gram value for Ngram index, min_gram: {lo}, max_gram: {hi}")
