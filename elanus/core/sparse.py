"""Sparse float vectors (Milvus ``SparseFloatVector``, DataType 104): column form,
validation, Arrow form and the CSR view searches use.

Column form: a 1-D object array with one ``bytes`` per row, the row's wire bytes exactly
as pymilvus sends them in ``SparseFloatArray.contents``: packed little-endian
``(uint32 index, float32 value)`` pairs, indices strictly increasing. An empty row
(``b""``) is a vector with no non-zero dimension (and the value a null row holds).

Why bytes per row: the wire form *is* the storage form, so an insert travels to the WAL,
the Parquet file and back to a query result without re-encoding; a row stays one atomic
value, so every generic column operation (``take``, masks, ``concat``) works unchanged;
and turning a whole column into CSR arrays for a search is one ``b"".join`` plus one
``np.frombuffer`` (:func:`to_csr`), never a per-row Python decode. In Arrow (WAL records,
segment files) the column is ``pa.binary()`` holding those same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from elanus.core.errors import invalid_parameter

PAIR = np.dtype([("index", "<u4"), ("value", "<f4")])
PAIR_BYTES = PAIR.itemsize
MAX_INDEX = 2**32 - 2  # 2**32 - 1 is reserved by Milvus


@dataclass(frozen=True)
class Csr:
    """Rows in compressed sparse row form: row ``r`` holds ``indices[indptr[r]:indptr[r+1]]``
    with ``values`` at the same positions."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.uint32]
    values: npt.NDArray[np.float32]

    @property
    def num_rows(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self) -> npt.NDArray[np.int64]:
        """The row of every stored entry (aligned with ``indices``)."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(self.num_rows, dtype=np.int64), counts)


def empty_rows(n: int) -> np.ndarray:
    """``n`` empty rows (the null value of a sparse column)."""
    out = np.empty(n, dtype=object)
    out.fill(b"")
    return out


def as_column(rows: Iterable[bytes], n: int) -> np.ndarray:
    """An object column of the given row bytes."""
    return np.fromiter((bytes(r) for r in rows), dtype=object, count=n)


def encode_row(row: Mapping[int, float]) -> bytes:
    """Wire bytes of one ``{index: value}`` row (sorted by index); for tests and tools."""
    items = sorted((int(k), float(v)) for k, v in row.items())
    arr = np.array(items, dtype=PAIR) if items else np.zeros(0, dtype=PAIR)
    return arr.tobytes()


def decode_row(data: bytes) -> dict[int, float]:
    """``{index: value}`` of one row's wire bytes."""
    pairs = np.frombuffer(data, dtype=PAIR)
    return dict(zip(pairs["index"].tolist(), pairs["value"].tolist(), strict=True))


def row_lengths(rows: Sequence[bytes] | np.ndarray) -> npt.NDArray[np.int64]:
    """Byte length of every row."""
    return np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))


def to_csr(rows: Sequence[bytes] | np.ndarray) -> Csr:
    """CSR arrays of a column (rows must be whole pairs: see :func:`validate`)."""
    lengths = row_lengths(rows)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths // PAIR_BYTES, out=indptr[1:])
    pairs = np.frombuffer(b"".join(rows), dtype=PAIR) if len(rows) else np.zeros(0, dtype=PAIR)
    return Csr(indptr, np.ascontiguousarray(pairs["index"]), np.ascontiguousarray(pairs["value"]))


def validate(rows: Sequence[bytes] | np.ndarray) -> None:
    """Milvus's ``ValidateSparseFloatRows``: whole pairs, index < 2^32-1, strictly
    increasing indices, finite and non-negative values. Raises MilvusError 1100."""
    lengths = row_lengths(rows)
    bad = np.flatnonzero(lengths % PAIR_BYTES)
    if len(bad):
        raise invalid_parameter(f"invalid data length in sparse float vector: {int(lengths[bad[0]])}")
    csr = to_csr(rows)
    if len(csr.indices) == 0:
        return
    if (csr.indices > MAX_INDEX).any():
        raise invalid_parameter("invalid index in sparse float vector: must be less than 2^32-1")
    same_row = np.ones(len(csr.indices), dtype=np.bool_)
    starts = csr.indptr[:-1][np.diff(csr.indptr) > 0]
    same_row[starts] = False
    if (same_row[1:] & (csr.indices[1:] <= csr.indices[:-1])).any():
        raise invalid_parameter("unsorted or same indices in sparse float vector")
    values = csr.values
    if not np.isfinite(values).all():
        v = float(values[np.flatnonzero(~np.isfinite(values))[0]])
        text = "NaN" if v != v else ("+Inf" if v > 0 else "-Inf")
        raise invalid_parameter(f"value '{text}' is not a number or infinity")
    if (values < 0).any():
        raise invalid_parameter("negative value in sparse float vector")


def wire_dim(rows: Sequence[bytes] | np.ndarray) -> int:
    """``SparseFloatArray.dim`` of a set of rows: the largest index plus one (0 if none)."""
    csr = to_csr(rows)
    return int(csr.indices.max()) + 1 if len(csr.indices) else 0


def to_arrow(rows: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """``pa.binary()`` array of the rows (``valid`` False = null)."""
    mask = None if valid is None else ~np.asarray(valid, dtype=np.bool_)
    return pa.array(list(rows), type=pa.binary(), mask=mask)


def from_arrow(arr: pa.Array, name: str = "") -> np.ndarray:
    """Inverse of :func:`to_arrow`: the object column, ``b""`` at null rows."""
    if not (pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        raise ValueError(f"column {name} of type {arr.type} is not a sparse vector column")
    if arr.null_count:
        arr = arr.fill_null(b"")
    out = np.empty(len(arr), dtype=object)
    out[:] = arr.to_pylist()
    return out

