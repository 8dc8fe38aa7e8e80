"""Fixtures of the cluster tests; every test under tests/cluster is marked ``cluster``.

``cluster`` is session-scoped and parametrized over the WAL backend (``nats``,
``objectstore``): the whole cluster suite runs once per backend against one set of
processes; the infrastructure (etcd, moto S3, NATS) is shared, each cluster using its own
meta-store prefix, bucket prefix and WAL namespace.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymilvus import MilvusClient

from elanus.cluster import infra
from elanus.storage import open_meta
from elanus.storage.meta.base import MetaStore
from tests.cluster.harness import Cluster, cluster_env

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.cluster)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that used a cluster gets the tails of its processes' logs in its report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if report.failed and isinstance(cluster, Cluster):
        report.sections.append(("cluster logs", cluster.logs(40)))


@pytest.fixture(scope="session")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.Service]:
    """One etcd for the session's in-process tests (each test uses its own key prefix)."""
    service = infra.start_etcd(tmp_path_factory.mktemp("etcd"))
    yield service
    service.stop()


@pytest.fixture(params=["local", "etcd"])
def meta(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetaStore]:
    """A meta store of each backend: the local one, and a fresh key prefix of the session's etcd."""
    if request.param == "local":
        store = open_meta(str(tmp_path / "meta"))
    else:
        service: infra.Service = request.getfixturevalue("etcd")
        store = open_meta(f"{service.url}/t-{uuid.uuid4().hex[:10]}")
    yield store
    store.close()


@pytest.fixture(scope="session")
def infrastructure(tmp_path_factory: pytest.TempPathFactory, etcd: infra.Service) -> Iterator[dict[str, infra.Service]]:
    """etcd, an S3 endpoint (moto) and NATS JetStream, shared by the clusters of the session."""
    s3 = infra.start_s3()
    nats = infra.start_nats(tmp_path_factory.mktemp("nats"))
    yield {"etcd": etcd, "s3": s3, "nats": nats}
    nats.stop()
    s3.stop()


@pytest.fixture(scope="session", params=["nats", "objectstore"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            infrastructure: dict[str, infra.Service]) -> Iterator[Cluster]:
    """mixcoord, 2 proxies, 2 query nodes, a data node and an index node, on one WAL backend."""
    backend = request.param
    ns = f"{backend}-{uuid.uuid4().hex[:6]}"
    s3 = infrastructure["s3"]
    endpoint = s3.url.split("?", 1)[1]
    objects = f"s3://{infra.DEFAULT_BUCKET}/{ns}?{endpoint}"
    wal = f"{infrastructure['nats'].url}/{ns.replace('-', '_')}" if backend == "nats" else "objectstore"
    meta = f"{infrastructure['etcd'].url}/{ns}"
    c = Cluster(tmp_path_factory.mktemp(f"cluster-{backend}"), cluster_env(meta, objects, wal, s3.env), meta)
    try:
        # All at once, in no particular order: each finds the others through the meta store.
        for name, role in (("mixcoord-1", "mixcoord"), ("querynode-1", "querynode"), ("querynode-2", "querynode"),
                           ("datanode-1", "datanode"), ("indexnode-1", "indexnode"),
                           ("proxy-1", "proxy"), ("proxy-2", "proxy")):
            c.spawn(name, role)
        c.wait_ready({"querynode": 2, "datanode": 1, "indexnode": 1, "proxy": 2})
        yield c
    finally:
        c.shutdown()


@pytest.fixture(scope="session")
def uri(cluster: Cluster) -> str:
    return cluster.uri("proxy-1")


@pytest.fixture(scope="session")
def uri2(cluster: Cluster) -> str:
    return cluster.uri("proxy-2")


@pytest.fixture()
def client(uri: str) -> Iterator[MilvusClient]:
    c = MilvusClient(uri=uri, timeout=60)
    yield c
    c.close()


@pytest.fixture()
def name(uri: str) -> Iterator[str]:
    """A fresh collection name; afterwards every collection named after it is dropped, so
    the session-long cluster does not keep tailing the channels of finished tests."""
    base = "c_" + uuid.uuid4().hex[:12]
    yield base
    c = MilvusClient(uri=uri, timeout=60)
    try:
        for db in c.list_databases():
            c.use_database(db)
            for coll in c.list_collections():
                if coll.startswith(base):
                    c.drop_collection(coll)
    finally:
        c.close()
