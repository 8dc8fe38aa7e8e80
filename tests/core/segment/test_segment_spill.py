"""Spilled columns (memory-mapped from an unlinked file) and sealed segments that use them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from elanus.core.segment import SealedSegment
from elanus.core.segment import sealed as sealed_module
from elanus.core.segment.spill import clear_spill_dir, is_spilled, spill
from elanus.storage import open_objects
from elanus.storage.objects.base import ObjectStore
from tests.worker.segdata import make_columns, make_schema, query_req, search_req, write_segment

SCHEMA = make_schema()
N = 200


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return open_objects(str(tmp_path / "objects"))


def test_spill_maps_an_equal_read_only_copy_and_leaves_no_file(tmp_path: Path) -> None:
    col = np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32)
    out = spill(col, tmp_path)
    assert is_spilled(out) and not is_spilled(col)
    assert type(out) is np.ndarray and out.dtype == col.dtype and out.shape == col.shape
    np.testing.assert_array_equal(out, col)
    np.testing.assert_array_equal(out[[3, 1]], col[[3, 1]])
    assert not out.flags.writeable
    assert os.listdir(tmp_path) == []  # unlinked at once: the mapping holds the data


def _rss_file_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("RssFile:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_reading_a_few_rows_maps_only_a_little(tmp_path: Path) -> None:
    col = np.random.default_rng(0).random((20_000, 256), dtype=np.float32)  # 20 MiB
    out = spill(col, tmp_path)
    before = _rss_file_kib()
    rows = np.random.default_rng(1).integers(0, len(col), 20)
    np.testing.assert_array_equal(out[rows], col[rows])
    assert _rss_file_kib() - before < 8 * 1024  # ~64 KiB per row, not large page-cache folios


def test_spill_keeps_what_it_cannot_map(tmp_path: Path) -> None:
    empty = np.zeros((0, 4), np.float32)
    assert spill(empty, tmp_path) is empty
    col = np.ones((3, 2), np.float32)
    assert spill(col, tmp_path / "missing") is col  # I/O error: stays on the heap
    with pytest.raises(ValueError):
        spill(np.array(["a"], dtype=object), tmp_path)


def test_clear_spill_dir_creates_it_and_removes_leftovers(tmp_path: Path) -> None:
    d = tmp_path / "cache" / "qn"
    clear_spill_dir(d)
    (d / "tmp1.spill").write_bytes(b"x")
    (d / "keep.txt").write_bytes(b"x")
    clear_spill_dir(d)
    assert sorted(os.listdir(d)) == ["keep.txt"]


def _load(objects: ObjectStore, index: dict[str, str] | None, spill_dir: Path | None) -> SealedSegment:
    cols = make_columns(SCHEMA, np.arange(N) * 2)
    info = write_segment(objects, SCHEMA, 11, cols, 10, index=index)
    if spill_dir is not None:
        clear_spill_dir(spill_dir)
    return SealedSegment.load(objects, SCHEMA, info, None, None if spill_dir is None else str(spill_dir))


def test_cosine_raw_vectors_are_spilled_and_still_exact(objects: ObjectStore, tmp_path: Path) -> None:
    index = {"index_type": "HNSW", "metric_type": "COSINE", "M": "8", "efConstruction": "64"}
    seg = _load(objects, index, tmp_path / "spill")
    heap = _load(objects, index, None)
    raw = make_columns(SCHEMA, np.arange(N) * 2)["vec"]
    col = seg.column("vec")
    assert col is not None and is_spilled(col)
    assert heap.memory_bytes - seg.memory_bytes == raw.nbytes  # off the heap
    hits = seg.search(search_req(raw[:2].copy(), 3, 100, metric="COSINE", params={"ef": 32},
                                 output_fields=("vec",)), None)
    assert hits.pks[:, 0].tolist() == [0, 2]
    np.testing.assert_array_equal(hits.fields["vec"].reshape(2, 3, -1)[:, 0], raw[:2])
    np.testing.assert_array_equal(seg.query(query_req(100, output_fields=("vec",))).columns["vec"], raw)


def test_unindexed_vectors_stay_on_the_heap(objects: ObjectStore, tmp_path: Path) -> None:
    seg = _load(objects, None, tmp_path)  # brute force reads every row: no point mapping them
    col = seg.column("vec")
    assert col is not None and not is_spilled(col)


def test_vectors_an_index_holds_exactly_are_never_decoded(objects: ObjectStore,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[list[str] | None] = []
    real = pq.read_table

    def spy(source: object, columns: list[str] | None = None, **kw: object) -> object:
        read.append(columns)
        return real(source, columns=columns, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sealed_module.pq, "read_table", spy)
    seg = _load(objects, {"index_type": "HNSW", "metric_type": "L2", "M": "8", "efConstruction": "64"},
                None)
    assert read and all(cols is not None and "vec" not in cols for cols in read)
    assert seg.column("vec") is None
    raw = make_columns(SCHEMA, np.arange(N) * 2)["vec"]
    np.testing.assert_array_equal(seg.take("vec", np.array([4, 1])), raw[[4, 1]])
