"""Cost of the internal gRPC transport (elanus.cluster.rpc) on one query node.

A child process holds a Standalone with one collection (``--rows`` rows: int64 pk,
varchar tag, 128-d float vector, 1 shard, FLAT index, loaded) and serves its QueryNode
over gRPC, as a query node process does in cluster mode. The same calls are timed in
the child (direct method calls) and from this process through ``QueryNodeClient``, one
after the other (never both at once):

- nq=1 ``search`` (k=10, output ``tag``): p50/p99 of each path; the smallest rpc
  (``channel_caught_up``) for the bare round trip;
- a ``query`` returning every row (pk, tag, vector): time of each path, message size,
  and the codec's share (encode + serialise + parse + decode, no socket).

    .venv/bin/python bench/rpc_overhead.py [--rows 100000] [--searches 500]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

DIM = 128


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _ms(samples: list[float], q: float) -> float:
    return float(np.quantile(samples, q) * 1000)


def _requests(info: dict[str, Any]) -> tuple[Any, Any]:
    from elanus.cluster.types import QueryRequest, SearchRequest

    query = np.asarray(info["query"], dtype=np.float32).reshape(1, DIM)
    search = SearchRequest(info["collection_id"], (), "vec", query, 10, "L2", {}, "", {}, ("tag",), info["ts"])
    scan = QueryRequest(info["collection_id"], (), "", {}, ("pk", "tag", "vec"), -1, 0, info["ts"])
    return search, scan


def _measure(node: Any, channel: str, info: dict[str, Any], searches: int) -> dict[str, Any]:
    search, scan = _requests(info)
    _timed(lambda: node.search(channel, search), 20)  # warm up
    times = _timed(lambda: node.search(channel, search), searches)
    ping = _timed(lambda: node.channel_caught_up(channel), searches)
    scans = _timed(lambda: node.query(channel, scan), 5)
    return {"search_p50": _ms(times, .5), "search_p99": _ms(times, .99), "ping_p50": _ms(ping, .5),
            "query_ms": statistics.median(scans) * 1000}


def _serve(rows: int, searches: int) -> None:
    """Child: build the data, serve the query node, measure direct calls when told."""
    from pymilvus import DataType, MilvusClient

    from elanus.cluster.rpc import serve_roles
    from elanus.cluster.standalone import Standalone, StandaloneConfig
    from elanus.cluster.types import SealPolicy

    with tempfile.TemporaryDirectory() as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
        s.close()
        srv = Standalone(StandaloneConfig(data_dir=tmp, port=port, seal_policy=SealPolicy(max_rows=1 << 30)))
        srv.start()
        client = MilvusClient(uri=f"http://{srv.proxy.address}", timeout=600)
        schema = client.create_schema(auto_id=False)
        schema.add_field("pk", DataType.INT64, is_primary=True)
        schema.add_field("tag", DataType.VARCHAR, max_length=32)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
        client.create_collection("bench", schema=schema, num_shards=1)
        vecs = np.random.default_rng(0).random((rows, DIM), dtype=np.float32)
        for start in range(0, rows, 10_000):
            client.insert("bench", [{"pk": i, "tag": f"tag-{i % 1000}", "vec": vecs[i]}
                                    for i in range(start, min(rows, start + 10_000))])
        client.flush("bench")
        index = client.prepare_index_params()
        index.add_index("vec", index_type="FLAT", metric_type="L2")
        client.create_index("bench", index)
        client.load_collection("bench")
        client.close()
        info = srv.root.describe_collection("default", "bench")
        channel = info.channels[0]
        server, rpc_port = serve_roles(query_node=srv.query_node)
        ready = {"port": rpc_port, "node_id": srv.query_node.node_id, "channel": channel,
                 "collection_id": info.id, "ts": srv.data_node.last_ts(channel), "query": vecs[0].tolist()}
        print(json.dumps(ready), flush=True)
        sys.stdin.readline()  # the parent has measured the remote path
        print(json.dumps(_measure(srv.query_node, channel, ready, searches)), flush=True)
        sys.stdin.readline()
        server.stop(None)
        srv.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.rows, args.searches)
        return
    from elanus.cluster.rpc import QueryNodeClient
    from elanus.cluster.rpc.methods import service_methods

    child = subprocess.Popen([sys.executable, __file__, "--serve", "--rows", str(args.rows), "--searches",
                              str(args.searches)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        info = json.loads(child.stdout.readline())
        remote = QueryNodeClient(f"127.0.0.1:{info['port']}", info["node_id"])
        over = _measure(remote, info["channel"], info, args.searches)
        _, scan = _requests(info)
        result = remote.query(info["channel"], scan)
        spec = service_methods("QueryNode")["query"]
        size = spec.encode_response(result).ByteSize()
        codec = _timed(lambda: spec.decode_response(spec.response_cls.FromString(
            spec.encode_response(result).SerializeToString())), 5)
        remote.close()
        child.stdin.write("go\n")
        child.stdin.flush()
        direct = json.loads(child.stdout.readline())
        child.stdin.write("quit\n")
        child.stdin.flush()
    except BaseException:
        child.kill()  # it waits on stdin: without this the original error would wait 120 s and then be masked
        raise
    finally:
        child.wait(timeout=120)
    rows = len(result.columns["pk"])
    print(f"search nq=1 k=10 over {args.rows} rows: direct p50 {direct['search_p50']:.3f} ms "
          f"p99 {direct['search_p99']:.3f} ms; over gRPC from another process p50 {over['search_p50']:.3f} ms "
          f"p99 {over['search_p99']:.3f} ms; p50 overhead {over['search_p50'] - direct['search_p50']:.3f} ms; "
          f"smallest rpc p50 {over['ping_p50']:.3f} ms (direct {direct['ping_p50']:.4f} ms)")
    print(f"query of {rows} rows (pk, tag, {DIM}-d vector; {size / 2**20:.1f} MiB message): "
          f"direct {direct['query_ms']:.1f} ms; over gRPC {over['query_ms']:.1f} ms; "
          f"codec alone (encode+serialise+parse+decode) {statistics.median(codec) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
