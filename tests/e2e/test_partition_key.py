"""Partition-key collections through pymilvus: rows are routed to ``_default_i`` by Milvus's
hashing (checked with a reference hash written here), and searches/queries whose filter pins
the key read only the partitions the pinned values hash to (checked through the pruning
log) while returning exactly what a full scan returns (checked against numpy references)."""

from __future__ import annotations

import logging
import zlib
from typing import Any

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, DataType, MilvusClient, MilvusException, RRFRanker

N = 400
NUM_PARTITIONS = 7  # not a power of two: the crc32 of VarChar keys is used unmasked
LOGGER = "elanus.access.partition_key"


def _murmur3_int64(key: int) -> int:
    """Reference murmur3_32 (seed 0) of an int64's 8 little-endian bytes, in plain Python."""
    data = (key & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    h = 0
    for i in (0, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * 0xCC9E2D51) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * 0x1B873593) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    h ^= 8
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def _slot(key: Any) -> int:
    if isinstance(key, str):
        return zlib.crc32(key.encode()[:100]) % NUM_PARTITIONS
    return (_murmur3_int64(key) & 0x7FFFFFFF) % NUM_PARTITIONS


def _setup(client: MilvusClient, name: str, key_type: DataType) -> tuple[list[Any], np.ndarray]:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    if key_type == DataType.VARCHAR:
        schema.add_field("k", DataType.VARCHAR, max_length=32, is_partition_key=True)
        keys: list[Any] = [f"key-{i % 23}" for i in range(N)]
    else:
        schema.add_field("k", DataType.INT64, is_partition_key=True)
        keys = [(i % 23) * 1_000_003 - 5 for i in range(N)]
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=4)
    client.create_collection(name, schema=schema, num_partitions=NUM_PARTITIONS,
                             consistency_level="Strong")
    vecs = np.random.default_rng(1).standard_normal((N, 4)).astype(np.float32)
    client.insert(name, [{"id": i, "k": keys[i], "v": vecs[i].tolist()} for i in range(N)])
    client.flush(name)
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_index(name, params)
    client.load_collection(name)
    return keys, vecs


@pytest.mark.parametrize("key_type", [DataType.VARCHAR, DataType.INT64])
def test_routing_and_pruning(client: MilvusClient, name: str, key_type: DataType,
                             caplog: pytest.LogCaptureFixture) -> None:
    keys, vecs = _setup(client, name, key_type)
    # routing: each partition holds exactly the rows whose key hashes to it
    counts = np.bincount([_slot(k) for k in keys], minlength=NUM_PARTITIONS)
    for i in range(NUM_PARTITIONS):
        stats = client.get_partition_stats(name, f"_default_{i}")
        assert stats["row_count"] == counts[i]

    pinned = [keys[3], keys[8]]
    literal = ", ".join(repr(k) if isinstance(k, str) else str(k) for k in pinned).replace("'", '"')
    expr = f"k in [{literal}] and id >= 10"
    expected_parts = {f"_default_{_slot(k)}" for k in pinned}
    caplog.set_level(logging.DEBUG, logger=LOGGER)

    caplog.clear()
    got = client.query(name, expr, output_fields=["k"])
    want = sorted(i for i in range(N) if keys[i] in pinned and i >= 10)
    assert sorted(r["id"] for r in got) == want
    _assert_pruned(caplog, expected_parts)

    caplog.clear()
    q = vecs[5] + 0.1
    res = client.search(name, [q.tolist()], anns_field="v", limit=10, filter=expr)
    dist = ((vecs.astype(np.float64) - q) ** 2).sum(axis=1)
    ref = sorted(want, key=lambda i: (dist[i], i))[:10]
    assert [h["id"] for h in res[0]] == ref
    _assert_pruned(caplog, expected_parts)

    caplog.clear()  # a filter that does not pin the key reads every partition
    assert len(client.query(name, "id < 50", output_fields=["k"])) == 50
    assert not [r for r in caplog.records if r.name == LOGGER]

    caplog.clear()  # equality pins one partition; count(*) is pruned too
    eq = f'k == "{keys[4]}"' if isinstance(keys[4], str) else f"k == {keys[4]}"
    count = client.query(name, eq, output_fields=["count(*)"])[0]["count(*)"]
    assert count == sum(1 for k in keys if k == keys[4])
    _assert_pruned(caplog, {f"_default_{_slot(keys[4])}"})


def _assert_pruned(caplog: pytest.LogCaptureFixture, expected: set[str]) -> None:
    records = [r for r in caplog.records if r.name == LOGGER]
    assert records, "no pruning happened"
    names = set(records[-1].getMessage().rsplit(" ", 1)[1].split(","))
    assert names == expected


def test_partition_names_rejected_in_key_mode(client: MilvusClient, name: str) -> None:
    _, vecs = _setup(client, name, DataType.VARCHAR)
    msg = "not support manually specifying the partition names if partition key mode is used"
    with pytest.raises(MilvusException, match=msg):
        client.query(name, "id > 0", partition_names=["_default_1"], limit=3)
    with pytest.raises(MilvusException, match=msg):
        client.search(name, [vecs[0].tolist()], limit=3, partition_names=["_default_1"])
    with pytest.raises(MilvusException, match=msg):
        client.hybrid_search(name, [AnnSearchRequest([vecs[0].tolist()], "v", {}, limit=3)], RRFRanker(),
                             limit=3, partition_names=["_default_1"])
    with pytest.raises(MilvusException, match=msg):
        client.insert(name, [{"id": 1, "k": "a", "v": [0.0] * 4}], partition_name="_default_1")
    with pytest.raises(MilvusException, match=msg):
        client.upsert(name, [{"id": 1, "k": "a", "v": [0.0] * 4}], partition_name="_default_1")
    with pytest.raises(MilvusException, match=msg):
        client.delete(name, filter="id > 3", partition_name="_default_1")


def test_delete_by_expression_prunes(client: MilvusClient, name: str, caplog: pytest.LogCaptureFixture) -> None:
    keys, _ = _setup(client, name, DataType.VARCHAR)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    victim = keys[2]
    client.delete(name, filter=f'k == "{victim}" and id > 100')
    _assert_pruned(caplog, {f"_default_{_slot(victim)}"})
    left = {r["id"] for r in client.query(name, "id >= 0", output_fields=["id"])}
    assert left == {i for i in range(N) if not (keys[i] == victim and i > 100)}


def test_partition_apis_and_num_partitions_checks(client: MilvusClient, name: str) -> None:
    _setup(client, name, DataType.INT64)
    with pytest.raises(MilvusException, match="disable load partitions if partition key mode is used"):
        client.load_partitions(name, ["_default_0"])
    with pytest.raises(MilvusException, match="disable release partitions if partition key mode is used"):
        client.release_partitions(name, ["_default_0"])
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=4)
    with pytest.raises(MilvusException, match="num_partitions should only be specified with partition key field"):
        client.create_collection(name + "_x", schema=schema, num_partitions=8)
