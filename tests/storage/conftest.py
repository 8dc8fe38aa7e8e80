"""Backend fixtures for the storage contract tests.

Every ``test_*_contract.py`` test takes one of the fixtures below and runs once
per backend listed in ``META_BACKENDS`` / ``OBJECT_BACKENDS`` / ``WAL_BACKENDS``.
A new backend (etcd, S3, NATS, object-store WAL) joins by adding its name to
the list and a branch to the matching ``_open_*`` function that opens a store
on a location private to the test (e.g. a unique key prefix, bucket or stream
namespace), and calls ``pytest.skip`` when its server is not available.

Each ``*_opener`` fixture returns a function that opens a *new* instance on the
same location, which is how the contract tests check durability across
close/reopen. Instances are closed at teardown (close is idempotent).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

# The package is not installed into the venv; make `import elanus` work however pytest is started.
_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from elanus.storage import MetaStore, ObjectStore, Wal, open_meta, open_objects, open_wal  # noqa: E402

META_BACKENDS = ["local"]
OBJECT_BACKENDS = ["local"]
WAL_BACKENDS = ["local"]

T = TypeVar("T")


def _opener(open_one: Callable[[], T]) -> tuple[Callable[[], T], list[T]]:
    opened: list[T] = []

    def open_new() -> T:
        store = open_one()
        opened.append(store)
        return store

    return open_new, opened


def _open_meta(backend: str, tmp_path: Path) -> Callable[[], MetaStore]:
    if backend == "local":
        return lambda: open_meta(f"local://{tmp_path / 'meta'}")
    raise AssertionError(f"unknown meta backend {backend}")


def _open_objects(backend: str, tmp_path: Path) -> Callable[[], ObjectStore]:
    if backend == "local":
        return lambda: open_objects(f"local://{tmp_path / 'objects'}")
    raise AssertionError(f"unknown object backend {backend}")


def _open_wal(backend: str, tmp_path: Path) -> Callable[[], Wal]:
    if backend == "local":
        return lambda: open_wal(f"local://{tmp_path / 'wal'}")
    raise AssertionError(f"unknown WAL backend {backend}")


@pytest.fixture(params=META_BACKENDS)
def meta_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], MetaStore]]:
    open_new, opened = _opener(_open_meta(request.param, tmp_path))
    yield open_new
    for store in opened:
        store.close()


@pytest.fixture
def meta(meta_opener: Callable[[], MetaStore]) -> MetaStore:
    return meta_opener()


@pytest.fixture(params=OBJECT_BACKENDS)
def objects_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], ObjectStore]]:
    open_new, opened = _opener(_open_objects(request.param, tmp_path))
    yield open_new
    for store in opened:
        store.close()


@pytest.fixture
def objects(objects_opener: Callable[[], ObjectStore]) -> ObjectStore:
    return objects_opener()


@pytest.fixture(params=WAL_BACKENDS)
def wal_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Wal]]:
    open_new, opened = _opener(_open_wal(request.param, tmp_path))
    yield open_new
    for wal in opened:
        wal.close()


@pytest.fixture
def wal(wal_opener: Callable[[], Wal]) -> Wal:
    return wal_opener()
