"""The index node: builds one vector or scalar index for one flushed segment.

Stateless: everything it needs is in the arguments and the segment's Parquet
file; everything it produces is one object, ``index_files/{coll}/{seg}/{field}/
{build_id}.index`` (the serialised :class:`~elanus.core.index.VectorIndex`),
whose key it returns. ``build_id`` is random, so a retried or repeated build
never overwrites a file a query node may be reading; the data coordinator
deletes superseded files when the index or the collection is dropped.

Scalar indexes (:mod:`elanus.core.scalar_index`) are built the same way from one scalar,
Array or JSON column; their object folder is ``{field}#{index id}`` (a JSON field may have
several indexes, one per path).

Any dense vector type is built (:func:`~elanus.core.index.build` takes the column
form: float32 rows, Float16/BFloat16/Int8 rows, or packed binary rows). Only the
vector column is read from the segment (Parquet column projection,
over ranged reads when the object store has no local file), and the vectors
and the index are released before returning.
"""

from __future__ import annotations

import io
import logging
import secrets
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from elanus.cluster.types import SegmentInfo
from elanus.core import batch, scalar_index
from elanus.core.errors import invalid_parameter
from elanus.core.expr import resolve_identifier
from elanus.core.expr.syntax import Key
from elanus.core.index import build, parse_index_params
from elanus.core.index.build_params import expand_params
from elanus.core.memory import release_free_memory
from elanus.core.schema import CollectionSchema, DataType, FieldSchema, from_bytes
from elanus.core.segment.evolve import absent_column
from elanus.storage.objects.base import ObjectStore

log = logging.getLogger(__name__)


def index_file_key(coll: int, seg: int, field: str, build_id: int) -> str:
    return f"index_files/{coll}/{seg}/{field}/{build_id}.index"


class _RangedObject(io.RawIOBase):
    """A seekable read-only file over an object, fetching only the byte ranges read,
    so Parquet column projection does not download the other columns."""

    def __init__(self, objects: ObjectStore, key: str) -> None:
        self._objects = objects
        self._key = key
        self._size = objects.size(key)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self._objects.get_range(self._key, self._pos, len(view))
        view[:len(data)] = data
        self._pos += len(data)
        return len(data)


def _open(objects: ObjectStore, key: str) -> str | pa.PythonFile:
    path = objects.local_path(key)
    return path if path is not None else pa.PythonFile(_RangedObject(objects, key))


def read_scalar(objects: ObjectStore, key: str, field: FieldSchema) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, validity or None) of a scalar / Array / JSON column of a segment file, in the
    segment representation; a field the file predates reads as its default value, else null."""
    file = pq.ParquetFile(_open(objects, key))  # one footer read (ranged reads when remote)
    if field.name not in file.schema_arrow.names:
        return absent_column(field, file.metadata.num_rows)
    column = file.read(columns=[field.name]).column(0).combine_chunks()
    valid = None if column.null_count == 0 else column.is_valid().to_numpy(zero_copy_only=False)
    return batch.column_from_arrow(field, column), valid


def json_path_keys(schema: CollectionSchema, params: dict[str, str], json_pointer: str) -> tuple[Key, ...]:
    """The path a JSON index covers, as the filter binder spells it (``json_path`` parsed
    like a filter identifier; without one, the pointer's steps as member names)."""
    text = params.get("json_path")
    if text:
        return resolve_identifier(text, schema)[1]
    steps = json_pointer.split("/")[1:] if json_pointer else []
    return tuple(s.replace("~1", "/").replace("~0", "~") for s in steps)


def read_vectors(objects: ObjectStore, key: str, field: str, dim: int,
                 vector_type: DataType = DataType.FLOAT_VECTOR) -> np.ndarray:
    """The vector column ``field`` of a segment file in column form: (n, dim) float32 for
    FloatVector, see :mod:`elanus.core.vectors` for the others (null rows are zeros)."""
    table = pq.read_table(_open(objects, key), columns=[field])
    column = table.column(0).combine_chunks()
    del table
    if vector_type is not DataType.FLOAT_VECTOR:
        schema_field = FieldSchema(field_id=0, name=field, dtype=vector_type, params={"dim": str(dim)})
        return np.array(batch.column_from_arrow(schema_field, column))
    n = len(column)
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    flat = column.values.slice(column.offset * dim, n * dim)
    if flat.null_count:  # null rows of a nullable vector field: zero vectors
        flat = flat.fill_null(0.0)
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(n, dim)


class IndexNodeImpl:
    """Implements :class:`elanus.cluster.interfaces.IndexNode` (see the module docstring)."""

    def __init__(self, objects: ObjectStore) -> None:
        self._objects = objects

    def build_index(self, collection_id: int, segment: SegmentInfo, field_name: str,
                    dim: int, params: dict[str, str], metric: str, vector_type: int = 101) -> str:
        """Build the index ``params`` describe (``metric`` fills in a missing metric type)
        over the segment's ``field_name`` column (of Milvus type ``vector_type``); store it;
        return its object key.

        Raises MilvusError for invalid params, ObjectNotFound when the segment file is gone.
        """
        vtype = DataType(vector_type)
        field = FieldSchema(field_id=0, name=field_name, dtype=vtype, params={"dim": str(dim)})
        request = dict(params)
        if metric and "metric_type" not in request:
            request["metric_type"] = metric
        spec = parse_index_params(field, request)
        started = time.monotonic()
        vectors = read_vectors(self._objects, segment.data_path, field_name, dim, vtype)
        index = build(spec, vectors)
        rows = len(vectors)
        del vectors
        blob = index.serialize()
        del index  # before the put: the index and its blob are the build's peak
        key, size = self._store(collection_id, segment.id, field_name, blob)
        del blob
        release_free_memory()  # the build's vectors, index and blob
        log.info("built %s index of segment %d field %s: %d rows, %d bytes, %.2fs",
                 spec.index_type, segment.id, field_name, rows, size, time.monotonic() - started)
        return key

    def build_scalar_index(self, collection_id: int, segment: SegmentInfo, schema_bytes: bytes,
                           field_name: str, index_id: int, params: dict[str, str], json_pointer: str = "") -> str:
        """Build the scalar index ``index_id`` of ``field_name`` (see
        :func:`elanus.core.scalar_index.build_kind`) over the segment; store it under
        ``index_files/{coll}/{seg}/{field}#{index_id}/``; return its object key."""
        schema = from_bytes(schema_bytes)
        field = schema.get(field_name)
        flat = expand_params(params)
        kind = None if field is None else scalar_index.build_kind(field, flat)
        if field is None or kind is None:
            raise invalid_parameter(f"no scalar index to build for field {field_name} with {params}")
        started = time.monotonic()
        path = json_path_keys(schema, flat, json_pointer) if field.dtype == DataType.JSON else ()
        values, valid = read_scalar(self._objects, segment.data_path, field)
        index = scalar_index.build(kind, field, values, valid, flat, path)
        del values
        key, size = self._store(collection_id, segment.id, scalar_index.file_key(field_name, index_id),
                                index.serialize())
        log.info("built %s scalar index of segment %d field %s%s: %d rows, %d bytes, %.2fs", index.kind, segment.id,
                 field_name, json_pointer, index.num_rows, size, time.monotonic() - started)
        return key

    def _store(self, collection_id: int, segment_id: int, folder: str, blob: bytes) -> tuple[str, int]:
        """Put ``blob`` under a fresh build id in the index's folder; (object key, size)."""
        key = index_file_key(collection_id, segment_id, folder, secrets.randbits(62))
        self._objects.put(key, blob)
        return key, len(blob)
