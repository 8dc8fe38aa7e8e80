"""The interface every vector index of a sealed segment offers.

A ``VectorIndex`` is immutable once built: it indexes rows ``0..ntotal-1``
of one segment, and every offset it returns is such a row position (the
segment maps offsets to primary keys). Deletions and visibility never
modify an index; they reach a search as the ``valid`` mask.

Result contract of :meth:`VectorIndex.search` (shared with
:func:`~elanus.core.index.brute_force.brute_force_search`):

- ``scores`` float32 (nq, k), ``offsets`` int64 (nq, k), row ``i`` answering
  query ``i``, best first;
- scores are Milvus's: L2 = squared distance (smaller is better), IP and
  COSINE = similarity (larger is better), COSINE within ``[-1, 1]``;
- a row holds ``min(k, kept)`` real results, where ``kept`` is the number of
  rows the mask allows; the remaining slots have offset ``-1`` and score
  ``+inf`` (L2) or ``-inf`` (IP, COSINE);
- no offset whose mask entry is False is ever returned.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from elanus.core.index.search_params import SearchParams
from elanus.core.index.spec import IndexSpec


@runtime_checkable
class VectorIndex(Protocol):
    """A searchable, serializable index over one segment's vectors (see module docstring)."""

    @property
    def spec(self) -> IndexSpec:
        """How the index was built."""
        ...

    @property
    def dim(self) -> int: ...

    @property
    def ntotal(self) -> int:
        """Number of indexed rows; offsets are in ``[0, ntotal)``."""
        ...

    @property
    def memory_bytes(self) -> int:
        """Approximate resident size, for load accounting (within a few percent)."""
        ...

    @property
    def has_raw_data(self) -> bool:
        """Whether :meth:`reconstruct` returns the exact inserted vectors, in the
        field's column form.

        False for lossy indexes (IVF_SQ8, IVF_PQ), for COSINE indexes, which
        store normalised vectors, and for Float16/BFloat16/Int8 fields (indexed as
        float32); callers then read vectors from the segment.
        """
        ...

    def search(self, queries: npt.ArrayLike, k: int, params: SearchParams | None = None,
               valid: npt.ArrayLike | None = None
               ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Top-``k`` (k >= 1) for float32 ``queries`` (nq, dim), or packed uint8
        ``queries`` (nq, dim / 8) for binary indexes.

        ``params`` defaults to the index's defaults (HNSW ef = max(k, 16), IVF
        nprobe = 8); its metric must equal the index's (MilvusError 1100
        otherwise, as must an explicit HNSW ef below k). ``valid`` is a bool mask
        of length ``ntotal`` (None: all rows). Raises ValueError on shape errors.
        Safe to call from many threads at once.
        """
        ...

    def reconstruct(self, offsets: npt.ArrayLike) -> npt.NDArray[Any]:
        """The stored vectors of ``offsets``: (len, dim) float32, or (len, dim / 8)
        packed uint8 for binary indexes.

        Requires :attr:`has_raw_data` (ValueError otherwise); offsets outside
        ``[0, ntotal)`` raise IndexError.
        """
        ...

    def serialize(self) -> bytes:
        """A self-describing blob that ``load`` turns back into an equal index
        (identical search results)."""
        ...
