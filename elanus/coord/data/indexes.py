"""The data coordinator's index table: field indexes per collection, persisted.

Holds what was created (``field-index/{coll}/{index_id}``); which segments have
an index file is in the segment table. Creation applies
:mod:`elanus.coord.data.index_rules`; describe and drop answer with Milvus's
errors; describing matches nothing gives an empty list (the proxy answers
index not found, 700), dropping a missing index succeeds, as in Milvus.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from elanus.cluster.types import IndexInfo
from elanus.coord.data import codec, index_rules
from elanus.coord.data.codec import IndexRecord
from elanus.coord.data.index_rules import Checked
from elanus.core import scalar_index
from elanus.core.errors import UNEXPECTED, MilvusError
from elanus.core.index.build_params import expand_params
from elanus.storage.meta.base import MetaStore

AMBIGUOUS_INDEX_NAME = "there are multiple indexes, please specify the index_name"


class IndexTable:
    """See the module docstring. Thread-safe."""

    def __init__(self, meta: MetaStore) -> None:
        self._meta = meta
        self._lock = threading.Lock()
        self._by_collection: dict[int, dict[int, IndexRecord]] = {}
        for kv in meta.get_prefix(codec.FIELD_INDEX_PREFIX):
            record = codec.decode_index(kv.value)
            self._by_collection.setdefault(record.info.collection_id, {})[record.info.id] = record

    def create(self, collection_id: int, checked: Checked, index_name: str, params: Mapping[str, str],
               alloc: Callable[[], tuple[int, int]]) -> tuple[IndexRecord, bool]:
        """Create the validated index (``alloc`` gives (index id, created ts)); returns
        (record, created). An identical existing index is returned with created=False."""
        with self._lock:
            existing = list(self._by_collection.get(collection_id, {}).values())
            name = index_rules.resolve_name(existing, checked, index_name)
            same = index_rules.check_conflicts(existing, checked, name, params)
            if same is not None:
                return same, False
            index_id, created_ts = alloc()
            field = checked.field
            info = IndexInfo(index_id, collection_id, field.name, field.field_id, name, dict(params),
                             created_ts, checked.json_pointer)
            kind = "" if checked.spec is not None else scalar_index.build_kind(field, expand_params(params)) or ""
            record = IndexRecord(info, checked.spec, kind)
            self._meta.put(codec.field_index_key(collection_id, index_id), codec.encode_index(record))
            self._by_collection.setdefault(collection_id, {})[index_id] = record
            return record, True

    def collections(self) -> list[int]:
        """Collections that have at least one index."""
        with self._lock:
            return sorted(c for c, records in self._by_collection.items() if records)

    def records(self, collection_id: int) -> list[IndexRecord]:
        with self._lock:
            return sorted(self._by_collection.get(collection_id, {}).values(), key=lambda r: r.info.id)

    def vector_records(self, collection_id: int) -> list[IndexRecord]:
        return [r for r in self.records(collection_id) if r.is_vector]

    def built_records(self, collection_id: int) -> list[IndexRecord]:
        """The indexes segments get files of (vector and built scalar indexes)."""
        return [r for r in self.records(collection_id) if r.is_built]

    def get(self, collection_id: int, index_id: int) -> IndexRecord | None:
        with self._lock:
            return self._by_collection.get(collection_id, {}).get(index_id)

    def vector_by_field(self, collection_id: int, field_name: str) -> IndexRecord | None:
        """The vector index of ``field_name`` (a scalar field may have several indexes)."""
        for record in self.vector_records(collection_id):
            if record.info.field_name == field_name:
                return record
        return None

    def describe(self, collection_id: int, index_name: str = "", field_name: str = "") -> list[IndexInfo]:
        return [r.info for r in self.records(collection_id)
                if (not index_name or r.info.index_name == index_name)
                and (not field_name or r.info.field_name == field_name)]

    def drop(self, collection_id: int, index_name: str) -> IndexRecord | None:
        """Remove the named index (the only one when ``index_name`` is empty); None if absent."""
        with self._lock:
            records = list(self._by_collection.get(collection_id, {}).values())
            if not index_name and len(records) > 1:
                raise MilvusError(UNEXPECTED, AMBIGUOUS_INDEX_NAME)
            victims = [r for r in records if not index_name or r.info.index_name == index_name]
            if not victims:
                return None
            record = victims[0]
            self._meta.delete(codec.field_index_key(collection_id, record.info.id))
            del self._by_collection[collection_id][record.info.id]
            return record

    def drop_collection(self, collection_id: int) -> None:
        with self._lock:
            self._meta.delete_prefix(f"{codec.FIELD_INDEX_PREFIX}{collection_id}/")
            self._by_collection.pop(collection_id, None)
