"""Several shards: rows spread over the channels by primary key and every read merges all shards."""

from __future__ import annotations

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

from elanus.cluster.standalone import Standalone
from elanus.cluster.types import SegmentState
from elanus.core.hashing import shard_of

DIM = 8


@pytest.mark.parametrize("pk_type", ["int64", "varchar"])
def test_multi_shard_insert_search_query(client: MilvusClient, server: Standalone, name: str,
                                         pk_type: str) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    if pk_type == "int64":
        schema.add_field("pk", DataType.INT64, is_primary=True)
    else:
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=16)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=DIM)
    index_params = client.prepare_index_params()
    index_params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index_params, num_shards=3,
                             consistency_level="Strong")
    assert client.describe_collection(name)["num_shards"] == 3
    n = 600
    vecs = np.random.default_rng(5).random((n, DIM), dtype=np.float32)
    keys = [i if pk_type == "int64" else f"k{i}" for i in range(n)]
    client.insert(name, [{"pk": keys[i], "v": vecs[i].tolist()} for i in range(n)])
    assert client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == n
    got = client.get(name, ids=keys[:50])
    assert sorted(str(r["pk"]) for r in got) == sorted(str(k) for k in keys[:50])
    # the global top-k over all shards equals the exact answer
    q = vecs[:5]
    res = client.search(name, q.tolist(), limit=10)
    exact = np.argsort(((vecs[None] - q[:, None]) ** 2).sum(-1), axis=1)[:, :10]
    for i, hits in enumerate(res):
        assert [str(h["pk"]) for h in hits] == [str(keys[j]) for j in exact[i]]
    # offset pages across shards line up
    page = client.search(name, q[:1].tolist(), limit=5, offset=5)
    assert [str(h["pk"]) for h in page[0]] == [str(keys[j]) for j in exact[0][5:10]]
    client.delete(name, ids=keys[:100])
    assert client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"] == n - 100
    # after a flush, each channel's segments hold exactly the rows the pk hash sends there
    client.flush(name)
    info = server.root.describe_collection("default", name)
    rows_per_channel = dict.fromkeys(info.channels, 0)
    for seg in server.data_coord.list_segments(info.id):
        if seg.state == SegmentState.FLUSHED:
            rows_per_channel[seg.channel] += seg.num_rows
    pk_array = np.asarray(keys, dtype=np.int64 if pk_type == "int64" else object)
    expected = np.bincount(shard_of(pk_array, 3), minlength=3)
    assert [rows_per_channel[ch] for ch in info.channels] == expected.tolist()
    assert (expected > 0).all()
