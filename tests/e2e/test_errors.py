"""Bad input gets Milvus's status codes and texts, and changes nothing."""

from __future__ import annotations

import grpc
import pytest
from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException
from pymilvus.grpc_gen import milvus_pb2, milvus_pb2_grpc

DIM = 8


def _code(exc: pytest.ExceptionInfo[MilvusException]) -> int:
    return int(exc.value.code)


def test_collection_not_found(client: MilvusClient, name: str) -> None:
    with pytest.raises(MilvusException) as exc:
        client.describe_collection(name)
    assert _code(exc) == 100
    assert f"can't find collection[database=default][collection={name}]" in exc.value.message
    assert not client.has_collection(name)
    client.drop_collection(name)  # dropping a missing collection succeeds


def test_not_loaded_and_partition_errors(client: MilvusClient, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    client.release_collection(name)
    with pytest.raises(MilvusException) as exc:
        client.search(name, [[0.1] * DIM], limit=3)
    assert _code(exc) == 101
    with pytest.raises(MilvusException) as exc:
        client.query(name, filter="id > 0", partition_names=["nope"])
    assert _code(exc) == 200


def test_index_and_database_not_found(client: MilvusClient, uri: str, name: str) -> None:
    client.create_collection(name, dimension=DIM)
    # pymilvus turns 700 into None; check the wire status with pymilvus's own stub.
    assert client.describe_index(name, "nope") is None
    with grpc.insecure_channel(uri.removeprefix("http://")) as channel:
        resp = milvus_pb2_grpc.MilvusServiceStub(channel).DescribeIndex(
            milvus_pb2.DescribeIndexRequest(collection_name=name, index_name="nope"))
    assert resp.status.code == 700
    with pytest.raises(MilvusException) as exc:
        client.use_database("no_such_db_" + name)
        client.list_collections()
    assert _code(exc) == 800


def test_invalid_parameters(client: MilvusClient, name: str) -> None:
    with pytest.raises(MilvusException) as exc:
        client.create_collection("1bad-name", dimension=DIM)
    assert _code(exc) == 1100
    client.create_collection(name, dimension=DIM, consistency_level="Strong")
    with pytest.raises(MilvusException) as exc:
        client.insert(name, [{"id": 1, "vector": [0.1] * (DIM + 1)}])
    assert _code(exc) == 1100
    with pytest.raises(MilvusException) as exc:
        client.search(name, [[0.1] * DIM], limit=3, filter="id === 3")
    assert _code(exc) == 1100
    with pytest.raises(MilvusException) as exc:
        client.search(name, [[0.1] * DIM], limit=20000)
    assert _code(exc) == 1100
    with pytest.raises(MilvusException) as exc:
        client.query(name, filter="")
    assert _code(exc) == 1100
    # nothing was written by the rejected calls
    assert client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == 0


def test_unimplemented_rpc_is_not_retried(uri: str) -> None:
    """An RPC Elanus does not serve answers gRPC UNIMPLEMENTED at once (pymilvus does not retry it)."""
    with grpc.insecure_channel(uri.removeprefix("http://")) as channel:
        stub = milvus_pb2_grpc.MilvusServiceStub(channel)
        with pytest.raises(grpc.RpcError) as exc:
            stub.GetReplicateInfo(milvus_pb2.GetReplicateInfoRequest())
    assert exc.value.code() == grpc.StatusCode.UNIMPLEMENTED
