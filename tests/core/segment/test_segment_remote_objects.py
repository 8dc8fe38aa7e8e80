"""Sealed segments load from an object store without local files (S3: ``local_path`` is None).

The readers fall back to reading the bytes (no memory map); results must match a
load from the local store, for data, index files, delta logs and spilled vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus.core.segment import SealedSegment
from elanus.storage import LocalObjectStore
from tests.worker.segdata import make_columns, make_schema, search_req, write_delta, write_segment

SCHEMA = make_schema()


class NoLocalFiles(LocalObjectStore):
    """The local store, minus its files: every reader must go through get/get_range."""

    def local_path(self, key: str) -> str | None:
        return None


@pytest.mark.parametrize("index", [None, {"index_type": "IVF_SQ8", "metric_type": "L2", "nlist": "4"}])
def test_sealed_load_without_local_files(tmp_path: Path, index: dict[str, str] | None) -> None:
    local = LocalObjectStore(tmp_path / "objects")
    remote = NoLocalFiles(tmp_path / "objects")
    cols = make_columns(SCHEMA, np.arange(300) * 2, seed=3)
    info = write_segment(local, SCHEMA, 7, cols, 10, index=index)
    delta = write_delta(local, 1, np.array([0, 4, 8]), 20)
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()

    expected = SealedSegment.load(local, SCHEMA, info, [delta])
    got = SealedSegment.load(remote, SCHEMA, info, [delta], spill_dir=str(spill_dir))

    assert got.num_rows == expected.num_rows == 300
    assert got.num_deleted == expected.num_deleted == 3
    assert got.indexed_fields == expected.indexed_fields
    queries = np.random.default_rng(5).standard_normal((3, 8)).astype(np.float32)
    request = search_req(queries, 5, 100, output_fields=("vec", "name"))
    a = expected.search(request, expected.visible_mask(100))
    b = got.search(request, got.visible_mask(100))
    np.testing.assert_array_equal(a.pks, b.pks)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5)
    np.testing.assert_array_equal(a.fields["vec"], b.fields["vec"])
    assert list(a.fields["name"]) == list(b.fields["name"])
