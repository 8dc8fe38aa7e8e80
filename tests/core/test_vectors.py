"""Column forms of the dense vector types and their float32 views (elanus.core.vectors)."""

from __future__ import annotations

import numpy as np
import pytest

from elanus.core import vectors
from elanus.core.schema import DataType


def test_column_shapes_and_bytes() -> None:
    assert vectors.width(DataType.BINARY_VECTOR, 128) == 16
    assert vectors.width(DataType.FLOAT16_VECTOR, 8) == 8
    assert vectors.row_bytes(DataType.FLOAT16_VECTOR, 8) == 16
    assert vectors.row_bytes(DataType.BFLOAT16_VECTOR, 8) == 16
    assert vectors.row_bytes(DataType.INT8_VECTOR, 8) == 8
    assert vectors.row_bytes(DataType.FLOAT_VECTOR, 8) == 32
    zeros = vectors.zeros(DataType.BFLOAT16_VECTOR, 4, 3)
    assert zeros.dtype == np.uint16 and zeros.shape == (3, 4) and not zeros.any()
    assert vectors.is_dense(DataType.INT8_VECTOR) and not vectors.is_dense(DataType.SPARSE_FLOAT_VECTOR)
    assert DataType.FLOAT_VECTOR not in vectors.BYTE_VECTOR_TYPES


@pytest.mark.parametrize("dtype", sorted(vectors.DENSE_VECTOR_TYPES))
def test_bytes_round_trip(dtype: DataType) -> None:
    rng = np.random.default_rng(1)
    width = vectors.width(dtype, 16)
    matrix = rng.integers(0, 120, (5, width)).astype(vectors.column_dtype(dtype))
    data = vectors.to_bytes(dtype, matrix)
    assert len(data) == 5 * vectors.row_bytes(dtype, 16)
    back = vectors.from_bytes(dtype, data, 16)
    assert back.dtype == matrix.dtype and back.tobytes() == matrix.tobytes()
    assert vectors.from_bytes(dtype, data).shape == (5 * width,)
    with pytest.raises(ValueError):
        vectors.from_bytes(dtype, data[: vectors.column_dtype(dtype).itemsize * (width - 1)], 16)


def test_float16_and_int8_widen_exactly() -> None:
    h = np.array([[0.5, -2.0, 65504.0, 1e-3]], dtype=np.float16)
    np.testing.assert_array_equal(vectors.to_float32(DataType.FLOAT16_VECTOR, h), h.astype(np.float32))
    i = np.array([[-128, 0, 127]], dtype=np.int8)
    assert vectors.to_float32(DataType.INT8_VECTOR, i).tolist() == [[-128.0, 0.0, 127.0]]
    assert vectors.from_float32(DataType.FLOAT16_VECTOR, [0.1]).dtype == np.float16


def test_bfloat16_is_the_upper_half_of_float32() -> None:
    x = np.array([1.0, -2.5, 3.14159, 1e30, 0.0], dtype=np.float32)
    bits = vectors.from_float32(DataType.BFLOAT16_VECTOR, x)
    assert bits.dtype == np.uint16
    np.testing.assert_array_equal(bits, (x.view(np.uint32) >> 16).astype(np.uint16))  # truncation
    wide = vectors.to_float32(DataType.BFLOAT16_VECTOR, bits)
    assert wide.dtype == np.float32 and wide[0] == 1.0 and wide[1] == -2.5
    assert abs(float(wide[2]) - 3.14159) < 0.02
    # every bfloat16 pattern survives narrow(widen(bits))
    every = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    np.testing.assert_array_equal(
        vectors.from_float32(DataType.BFLOAT16_VECTOR, vectors.to_float32(DataType.BFLOAT16_VECTOR, every)),
        every)


def test_finite_masks() -> None:
    h = np.array([1.0, np.inf, np.nan], dtype=np.float16)
    assert vectors.finite_rows_mask(DataType.FLOAT16_VECTOR, h).tolist() == [True, False, False]
    b = vectors.from_float32(DataType.BFLOAT16_VECTOR, np.array([1.0, np.inf, -np.inf, np.nan], np.float32))
    assert vectors.finite_rows_mask(DataType.BFLOAT16_VECTOR, b).tolist() == [True, False, False, False]
    assert vectors.finite_rows_mask(DataType.INT8_VECTOR, np.zeros(3, np.int8)).all()
