"""Physical scalar indexes of sealed segments and the planner that uses them.

- :mod:`.base` — the :class:`ScalarIndex` / :class:`Selection` contract and key domains;
- one module per kind: :mod:`.stl_sort` (sorted keys + row ids), :mod:`.inverted` (distinct
  keys + posting lists; scalars, Array elements, JSON paths), :mod:`.bitmap` (a packed
  bitmap per distinct key), :mod:`.trie` (sorted-array trie for VarChar prefixes),
  :mod:`.json_path` (keys at a JSON path cast to DOUBLE / VARCHAR / BOOL or their ARRAY_ forms);
- :mod:`.build` — which requests are built and how; :mod:`.blob` — the byte format;
- :mod:`.planner` — rewrites a compiled filter so leaf predicates on indexed targets are
  answered from the indexes (or scanned, by a cost rule).
"""

from __future__ import annotations

from elanus.core.scalar_index import blob
from elanus.core.scalar_index.base import BITMAP, INVERTED, STL_SORT, TRIE, ScalarIndex, Selection
from elanus.core.scalar_index.bitmap import BitmapIndex
from elanus.core.scalar_index.build import build, build_kind
from elanus.core.scalar_index.common import KeyedIndex, Target
from elanus.core.scalar_index.inverted import InvertedIndex
from elanus.core.scalar_index.stl_sort import StlSortIndex
from elanus.core.scalar_index.trie import TrieIndex

_KINDS: dict[str, type[StlSortIndex] | type[InvertedIndex] | type[BitmapIndex]] = {
    STL_SORT: StlSortIndex, INVERTED: InvertedIndex, TRIE: TrieIndex, BITMAP: BitmapIndex,
}


def load(data: bytes | memoryview) -> KeyedIndex:
    """An index from :meth:`ScalarIndex.serialize` bytes (numeric arrays are views of ``data``)."""
    meta, arrays = blob.unpack(data)
    cls = _KINDS.get(meta["kind"])
    if cls is None:
        raise ValueError(f"unknown scalar index kind {meta['kind']!r}")
    return cls.from_arrays(Target.from_meta(meta), meta, arrays)


def file_key(field_name: str, index_id: int) -> str:
    """The key of a scalar index in ``SegmentInfo.index_files`` (and its object folder):
    ``{field}#{index id}`` — a field may hold several (JSON paths), and ``#`` is in no field
    name, so it never clashes with a vector index (keyed by the field name alone)."""
    return f"{field_name}#{index_id}"


def is_file_key(key: str) -> bool:
    """Whether an ``index_files`` key names a scalar index (see :func:`file_key`)."""
    return "#" in key


def is_scalar_index(data: bytes | memoryview) -> bool:
    """Whether ``data`` is a serialised scalar index (vs a vector index)."""
    return bytes(memoryview(data)[:len(blob.MAGIC)]) == blob.MAGIC


__all__ = ["BITMAP", "INVERTED", "STL_SORT", "TRIE", "BitmapIndex", "InvertedIndex", "KeyedIndex", "ScalarIndex",
           "Selection", "StlSortIndex", "Target", "TrieIndex", "build", "build_kind", "file_key", "is_file_key",
           "is_scalar_index", "load"]
