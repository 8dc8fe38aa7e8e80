"""Backend fixtures for the storage contract tests.

Every ``test_*_contract.py`` test takes one of the fixtures below and runs once
per backend listed in ``META_BACKENDS`` / ``OBJECT_BACKENDS`` / ``WAL_BACKENDS``.
A new backend (etcd, S3, NATS, object-store WAL) joins by adding its name to
the list and a branch to the matching ``_open_*`` function that opens a store
on a location private to the test (e.g. a unique key prefix, bucket or stream
namespace). Servers are started by session-scoped fixtures through
:mod:`elanus.cluster.infra` (one of each per test session, stopped at its end);
a server that cannot be started makes the tests FAIL, never skip.

Each ``*_opener`` fixture returns a function that opens a *new* instance on the
same location, which is how the contract tests check durability across
close/reopen. Instances are closed at teardown (close is idempotent).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

# The package is not installed into the venv; make `import elanus` work however pytest is started.
_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from elanus.cluster import infra  # noqa: E402
from elanus.storage import MetaStore, ObjectStore, Wal, open_meta, open_objects, open_wal  # noqa: E402

META_BACKENDS = ["local", "etcd"]
OBJECT_BACKENDS = ["local", "s3"]
# objectstore-local: the object-store WAL on the local object and meta stores;
# objectstore-s3: the same on moto's S3 server and etcd.
WAL_BACKENDS = ["local", "nats", "objectstore-local", "objectstore-s3"]

T = TypeVar("T")


def _opener(open_one: Callable[[], T]) -> tuple[Callable[[], T], list[T]]:
    opened: list[T] = []

    def open_new() -> T:
        store = open_one()
        opened.append(store)
        return store

    return open_new, opened


@pytest.fixture(scope="session")
def etcd_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.Service]:
    """One etcd for the whole session; tests keep apart by key prefix (see ``unique_prefix``)."""
    with infra.start_etcd(tmp_path_factory.mktemp("etcd")) as service:
        yield service


@pytest.fixture(scope="session")
def s3_service() -> Iterator[infra.Service]:
    """One moto S3 server for the whole session, its fake credentials in ``os.environ`` meanwhile."""
    with infra.start_s3() as service, pytest.MonkeyPatch.context() as patch:
        for name, value in service.env.items():
            patch.setenv(name, value)
        yield service


@pytest.fixture
def unique_prefix() -> str:
    """A key prefix no other test uses, for stores shared across the session."""
    return f"t-{uuid.uuid4().hex[:12]}"


def _s3_url_with_prefix(url: str, prefix: str) -> str:
    base, _, query = url.partition("?")
    return f"{base}/{prefix}?{query}"


def _open_meta(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], MetaStore]:
    if backend == "local":
        return lambda: open_meta(f"local://{tmp_path / 'meta'}")
    if backend == "etcd":
        url = f"{request.getfixturevalue('etcd_service').url}/{request.getfixturevalue('unique_prefix')}"
        return lambda: open_meta(url)
    raise AssertionError(f"unknown meta backend {backend}")


def _open_objects(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], ObjectStore]:
    if backend == "local":
        return lambda: open_objects(f"local://{tmp_path / 'objects'}")
    if backend == "s3":
        service: infra.Service = request.getfixturevalue("s3_service")
        assert os.environ.get("AWS_ACCESS_KEY_ID"), "s3_service puts moto's credentials in the environment"
        url = _s3_url_with_prefix(service.url, request.getfixturevalue("unique_prefix"))
        return lambda: open_objects(url)
    raise AssertionError(f"unknown object backend {backend}")


@pytest.fixture(scope="session")
def nats_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.Service]:
    """One nats-server (JetStream) for the whole session; tests keep apart by namespace."""
    with infra.start_nats(tmp_path_factory.mktemp("nats")) as service:
        yield service


def _open_wal(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Wal]:
    if backend == "local":
        return lambda: open_wal(f"local://{tmp_path / 'wal'}")
    if backend == "nats":
        namespace = request.getfixturevalue("unique_prefix").replace("-", "_")
        url = f"{request.getfixturevalue('nats_service').url}/{namespace}"
        return lambda: open_wal(url)
    if backend.startswith("objectstore-"):
        # Every WAL instance of a test shares one object store and one meta store, as the
        # instances of one process (or of successive processes) would.
        kind = backend.removeprefix("objectstore-")
        objects = _open_objects(kind, request, tmp_path)()
        request.addfinalizer(objects.close)
        meta = _open_meta("local" if kind == "local" else "etcd", request, tmp_path)()
        request.addfinalizer(meta.close)
        return lambda: open_wal("objectstore://wal-test", objects, meta)
    raise AssertionError(f"unknown WAL backend {backend}")


@pytest.fixture(params=META_BACKENDS)
def meta_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], MetaStore]]:
    open_new, opened = _opener(_open_meta(request.param, request, tmp_path))
    yield open_new
    for store in opened:
        store.close()


@pytest.fixture
def meta(meta_opener: Callable[[], MetaStore]) -> MetaStore:
    return meta_opener()


@pytest.fixture(params=OBJECT_BACKENDS)
def objects_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], ObjectStore]]:
    open_new, opened = _opener(_open_objects(request.param, request, tmp_path))
    yield open_new
    for store in opened:
        store.close()


@pytest.fixture
def objects(objects_opener: Callable[[], ObjectStore]) -> ObjectStore:
    return objects_opener()


@pytest.fixture(params=WAL_BACKENDS)
def wal_opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Wal]]:
    open_new, opened = _opener(_open_wal(request.param, request, tmp_path))
    yield open_new
    for wal in opened:
        wal.close()


@pytest.fixture
def wal(wal_opener: Callable[[], Wal]) -> Wal:
    return wal_opener()
