"""Binary vector indexes (BIN_FLAT, BIN_IVF_FLAT): a :class:`~elanus.core.index.protocol.VectorIndex`
over one segment's packed bit rows.

A :class:`BinaryIndex` always holds the rows themselves (``codes``, ``(n, dim / 8)``
uint8), so it reconstructs them exactly (``has_raw_data``) and every metric can be
answered exactly (:func:`~elanus.core.index.exact.binary_search`). HAMMING also gets a
faiss index, as knowhere builds one:

========================= ==========================================================
BIN_FLAT + HAMMING        ``IndexBinaryFlat`` (its storage *is* ``codes``); masks
                          reach it as an ``IDSelectorBitmap``
BIN_IVF_FLAT + HAMMING    ``IndexBinaryIVF`` over ``min(nlist, n)`` lists, searched
                          with ``nprobe`` lists; faiss's binary IVF takes no ID
                          selector, so a masked search is exact instead, and any
                          query row left short of ``min(k, kept)`` results is redone
                          exactly
JACCARD, SUB/SUPERSTRUCTURE exact numpy over ``codes`` (BIN_IVF_FLAT + JACCARD too:
                          exact is what its probed lists approximate)
========================= ==========================================================

Immutable once built; searches may run from many threads at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from elanus.core.index import faiss_glue, serde
from elanus.core.index.base import IndexBase, pad_missing, short_rows
from elanus.core.index.brute_force import padding
from elanus.core.index.exact import binary_search
from elanus.core.index.faiss_glue import faiss
from elanus.core.index.search_params import SearchParams
from elanus.core.index.spec import IndexSpec, IndexType, MetricType
from elanus.core.index.threads import use_build_threads, use_search_threads

FloatMatrix = npt.NDArray[np.float32]
OffsetMatrix = npt.NDArray[np.int64]


class BinaryIndex(IndexBase):
    """Packed rows plus, for HAMMING, a faiss binary index (see the module docstring)."""

    def __init__(self, spec: IndexSpec, codes: npt.NDArray[np.uint8], index: Any | None = None) -> None:
        if not spec.index_type.is_binary:
            raise ValueError(f"{spec.index_type} is not a binary index type")
        width = spec.dim // 8
        if codes.ndim != 2 or codes.shape[1] != width:
            raise ValueError(f"codes must have shape (n, {width}), got {codes.shape}")
        if index is not None and (index.d != spec.dim or index.ntotal != codes.shape[0]):
            raise ValueError(f"faiss index d={index.d}, ntotal={index.ntotal} does not match the codes")
        super().__init__(spec, int(codes.shape[0]))
        self._index = index
        self._is_ivf = spec.index_type is IndexType.BIN_IVF_FLAT
        if index is not None and not self._is_ivf and self._ntotal:
            # IndexBinaryFlat stores exactly the codes: read them there, keep one copy.
            view = faiss.rev_swig_ptr(index.xb.data(), self._ntotal * width)
            codes = view.reshape(self._ntotal, width)
        codes.flags.writeable = False
        self._codes = codes
        self._nlist = int(index.nlist) if index is not None and self._is_ivf else 0

    # ---- properties (spec, dim, ntotal, nlist: IndexBase) ---------------------

    @property
    def memory_bytes(self) -> int:
        total = self._codes.nbytes
        if self._is_ivf and self._index is not None:
            # inverted lists: codes + int64 ids, plus the centroids
            total += self._ntotal * (self._codes.shape[1] + 8) + self._nlist * self._codes.shape[1]
        return int(total)

    @property
    def has_raw_data(self) -> bool:
        return True

    # ---- search ------------------------------------------------------------

    def search(self, queries: npt.ArrayLike, k: int, params: SearchParams | None = None,
               valid: npt.ArrayLike | None = None) -> tuple[FloatMatrix, OffsetMatrix]:
        """Top-``k`` for packed uint8 ``queries`` (nq, dim / 8); see the protocol."""
        q = np.ascontiguousarray(queries, dtype=np.uint8)
        p = self._search_params(q, self._codes.shape[1], k, params)
        metric = self._spec.metric_type
        mask = self._mask(valid)
        kept, rows = mask.kept, mask.valid
        nq = q.shape[0]
        if kept == 0 or nq == 0:
            return padding(nq, k, metric)
        if self._index is None or (self._is_ivf and rows is not None):
            return binary_search(self._codes, q, k, metric, rows)
        use_search_threads(nq)
        if self._is_ivf:
            scores, offsets = self._faiss_search(q, k, faiss_glue.ivf_params(p.nprobe, None), None)
            short = short_rows(offsets, k, kept)
            if short is not None:
                scores[short], offsets[short] = binary_search(self._codes, q[short], k, metric)
            return scores, offsets
        selector = None if rows is None else faiss_glue.Selector(rows)
        return self._faiss_search(q, k, faiss_glue.flat_params(selector), selector)

    def _faiss_search(self, q: npt.NDArray[np.uint8], k: int, params: Any,
                      keepalive: faiss_glue.Selector | None) -> tuple[FloatMatrix, OffsetMatrix]:
        distances, labels = faiss_glue.search_binary(self._index, q, k, params, keepalive)
        return pad_missing(distances.astype(np.float32), labels, self._spec.metric_type)

    # ---- vectors -----------------------------------------------------------

    def reconstruct(self, offsets: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """The packed rows at ``offsets`` (the column form of a BinaryVector field)."""
        out: npt.NDArray[np.uint8] = self._codes[self._offsets(offsets)]
        return out

    def serialize(self) -> bytes:
        # BIN_FLAT's faiss part is rebuilt from the codes at load: storing it would store them twice.
        return serde.encode_binary(self._spec, self._codes, self._index if self._is_ivf else None)


def build_binary(spec: IndexSpec, codes: npt.ArrayLike) -> BinaryIndex:
    """Build a BIN_FLAT/BIN_IVF_FLAT index over packed rows ``codes`` (n, dim / 8), n >= 0."""
    x = np.ascontiguousarray(codes, dtype=np.uint8)
    width = spec.dim // 8
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"codes must have shape (n, {width}), got {x.shape}")
    if spec.metric_type is not MetricType.HAMMING or x.shape[0] == 0:
        return BinaryIndex(spec, x.copy())
    use_build_threads()
    return BinaryIndex(spec, x.copy(), _faiss_hamming(spec, x))


def load_binary(data: bytes | bytearray | memoryview) -> BinaryIndex:
    """Restore a :meth:`BinaryIndex.serialize` blob (MilvusError if it is not one)."""
    spec, codes, index = serde.decode_binary(data)
    if index is None and spec.index_type is IndexType.BIN_FLAT and spec.metric_type is MetricType.HAMMING \
            and codes.shape[0]:
        index = _faiss_hamming(spec, codes)
    return BinaryIndex(spec, codes, index)


def _faiss_hamming(spec: IndexSpec, x: npt.NDArray[np.uint8]) -> Any:
    n = x.shape[0]
    if spec.index_type is IndexType.BIN_FLAT:
        index = faiss.IndexBinaryFlat(spec.dim)
        index.add(x)
        return index
    assert spec.nlist is not None
    quantizer = faiss.IndexBinaryFlat(spec.dim)
    index = faiss.IndexBinaryIVF(quantizer, spec.dim, max(1, min(spec.nlist, n)))
    index.own_fields = True
    quantizer.this.disown()
    index.cp.min_points_per_centroid = 1  # small segments are expected (see builder.py)
    index.train(x)
    index.add(x)
    return index
