"""A Standalone whose roles reach each other only through the internal gRPC transport.

The real role objects are served by one gRPC server; the registry the roles (and the
proxy) use is then filled with the clients, so every cross-role call of the pymilvus
flow below is encoded, sent over a loopback socket and decoded.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from elanus.cluster.rpc import (
    DataCoordClient,
    DataNodeClient,
    IndexNodeClient,
    QueryCoordClient,
    QueryNodeClient,
    RoleUnavailable,
    RootCoordClient,
    serve_roles,
)
from elanus.cluster.standalone import Standalone, StandaloneConfig
from elanus.cluster.types import QueryRequest, SealPolicy, SearchRequest, SegmentState
from elanus.core import errors
from elanus.core.errors import MilvusError

DIM = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Wired:
    """The standalone, the server of its roles, and the clients now in its registry."""

    def __init__(self, data_dir: Path) -> None:
        self.srv = Standalone(StandaloneConfig(data_dir=str(data_dir), port=_free_port(),
                                               seal_policy=SealPolicy(max_rows=2_000)))
        s = self.srv
        self.server, port = serve_roles(root=s.root, data_coord=s.data_coord, query_coord=s.query_coord,
                                        data_node=s.data_node, index_node=s.index_node, query_node=s.query_node)
        self.address = f"127.0.0.1:{port}"
        self.root = RootCoordClient(self.address)
        self.data_coord = DataCoordClient(self.address)
        self.query_coord = QueryCoordClient(self.address)
        self.data_node = DataNodeClient(self.address)
        self.index_node = IndexNodeClient(self.address)
        self.query_node = QueryNodeClient(self.address, s.query_node.node_id)
        reg = s.registry
        reg.set_root(self.root)
        reg.set_data_coord(self.data_coord)
        reg.set_query_coord(self.query_coord)
        # LocalRegistry has no "replace"; its lists are swapped in place (test-only wiring).
        reg._data_nodes[:] = [self.data_node]
        reg._index_nodes[:] = [self.index_node]
        reg.add_query_node(self.query_node)  # same node id: replaces the object
        s.start()

    def close(self) -> None:
        self.srv.stop()
        self.server.stop(None)
        for c in (self.root, self.data_coord, self.query_coord, self.data_node, self.index_node, self.query_node):
            c.close()


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wired]:
    w = Wired(tmp_path_factory.mktemp("rpc-standalone"))
    yield w
    w.close()


@pytest.fixture()
def client(wired: Wired) -> Iterator[MilvusClient]:
    c = MilvusClient(uri=f"http://{wired.srv.proxy.address}", timeout=60)
    yield c
    c.close()


def _schema(client: MilvusClient) -> object:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("tag", DataType.VARCHAR, max_length=16, nullable=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    schema.add_field("f16", DataType.FLOAT16_VECTOR, dim=DIM)
    return schema


def test_pymilvus_flow_over_the_transport(wired: Wired, client: MilvusClient) -> None:
    name = "rpc_flow"
    client.create_collection(name, schema=_schema(client))
    n = 3000
    rng = np.random.default_rng(0)
    vecs = rng.random((n, DIM), dtype=np.float32)
    rows = [{"pk": i, "tag": None if i % 7 == 0 else f"t{i % 5}", "vec": vecs[i].tolist(),
             "f16": vecs[i].astype(np.float16), "extra": {"i": i}} for i in range(n)]
    assert client.insert(name, rows[:2000])["insert_count"] == 2000
    client.flush(name)
    client.insert(name, rows[2000:])  # growing rows beside the flushed segment
    index_params = client.prepare_index_params()
    index_params.add_index("vec", index_type="HNSW", metric_type="L2", params={"M": 8, "efConstruction": 64})
    index_params.add_index("f16", index_type="FLAT", metric_type="IP")
    client.create_index(name, index_params)
    client.load_collection(name)
    assert client.get_load_state(name)["state"].name == "Loaded"
    hits = client.search(name, [vecs[2500].tolist(), vecs[5].tolist()], anns_field="vec", limit=3,
                         output_fields=["tag", "extra"], consistency_level="Strong")
    assert [h[0]["pk"] for h in hits] == [2500, 5]
    assert hits[0][0]["entity"]["tag"] == "t0" and hits[0][0]["entity"]["extra"] == {"i": 2500}
    got = client.query(name, filter="pk in [0, 1]", output_fields=["tag", "f16"], consistency_level="Strong")
    by_pk = {r["pk"]: r for r in got}
    assert by_pk[0]["tag"] is None and by_pk[1]["tag"] == "t1"
    client.delete(name, filter="pk < 100")
    count = client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")
    assert count[0]["count(*)"] == n - 100
    # the roles' views agree, read through the clients directly
    info = wired.root.describe_collection("default", name)
    assert info.schema.get("tag") is not None and info.schema.get("tag").nullable  # type: ignore[union-attr]
    assert info.id in {c.id for c in wired.root.all_collections()}
    flushed = wired.data_coord.list_segments(info.id, (int(SegmentState.FLUSHED),))
    assert flushed and all(s.state == SegmentState.FLUSHED for s in flushed)
    deadline = time.monotonic() + 60  # builds went DataCoord -> IndexNodeClient -> index node
    while not all({"vec", "f16"} <= set(s.index_files) for s in flushed) and time.monotonic() < deadline:
        time.sleep(0.2)
        flushed = wired.data_coord.list_segments(info.id, (int(SegmentState.FLUSHED),))
    assert all({"vec", "f16"} <= set(s.index_files) for s in flushed)
    assert wired.query_coord.is_loaded(info.id) and wired.query_coord.loaded_partitions(info.id) is not None
    served = wired.query_coord.served_segments(info.id)
    assert {s.id for s, node in served} <= {s.id for s in flushed} and all(node == 1 for _, node in served)
    leaders = wired.query_coord.shard_leaders(info.id)
    ch = info.channels[0]
    request = SearchRequest(info.id, (), "vec", vecs[:2], 4, "L2", {"ef": 32}, "pk >= 100", {}, ("tag",),
                            wired.data_node.last_ts(ch))
    direct = wired.query_node.search(ch, request)
    assert direct.scores.shape == (2, 4) and direct.fields["tag"].dtype == object
    assert wired.query_node.query(ch, QueryRequest(info.id, (), "", {}, (), -1, 0, 0, count_only=True)).count == n - 100
    assert leaders[ch] == 1
    client.release_collection(name)
    assert wired.query_coord.loaded_partitions(info.id) is None
    client.drop_collection(name)


def test_role_errors_reach_pymilvus_and_clients(wired: Wired, client: MilvusClient) -> None:
    with pytest.raises(MilvusError) as exc_info:
        wired.root.describe_collection("default", "no_such_collection")
    assert exc_info.value.code == errors.COLLECTION_NOT_FOUND
    with pytest.raises(Exception, match="can't find collection"):
        client.describe_collection("no_such_collection")
    with pytest.raises(MilvusError) as db_info:
        wired.root.drop_database("default")
    assert db_info.value.code != errors.SERVICE_INTERNAL


def test_client_fails_fast_when_the_role_is_gone(tmp_path: Path) -> None:
    port = _free_port()
    client = DataCoordClient(f"127.0.0.1:{port}")
    start = time.monotonic()
    with pytest.raises(RoleUnavailable):
        client.get_checkpoint("ch")
    assert time.monotonic() - start < 5
    client.close()
