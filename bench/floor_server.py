"""The floor: a minimal Milvus gRPC server that answers Search with a canned result.

It does no work besides building (once per nq, then cached) a top-k answer, so the latency that
``MilvusClient.search`` sees against it is the pure round-trip cost of pymilvus + gRPC + protobuf
on this machine (t_floor). Run: ``python bench/floor_server.py --port P [--dim 128]``.
"""

from __future__ import annotations

import argparse
import signal
import threading
from concurrent import futures
from typing import Any

import grpc
from pymilvus.grpc_gen import common_pb2, milvus_pb2, milvus_pb2_grpc, schema_pb2


def _ok() -> common_pb2.Status:
    return common_pb2.Status(error_code=common_pb2.Success, code=0)


class FloorServicer(milvus_pb2_grpc.MilvusServiceServicer):
    def __init__(self, dim: int, topk: int) -> None:
        self.dim = dim
        self.topk = topk
        self._cache: dict[tuple[int, int], milvus_pb2.SearchResults] = {}
        self._lock = threading.Lock()

    def Connect(self, request: Any, context: Any) -> milvus_pb2.ConnectResponse:
        info = common_pb2.ServerInfo(build_tags="floor", deploy_mode="floor")
        return milvus_pb2.ConnectResponse(status=_ok(), server_info=info, identifier=1)

    def GetVersion(self, request: Any, context: Any) -> milvus_pb2.GetVersionResponse:
        return milvus_pb2.GetVersionResponse(status=_ok(), version="floor")

    def DescribeCollection(self, request: Any, context: Any) -> milvus_pb2.DescribeCollectionResponse:
        pk = schema_pb2.FieldSchema(fieldID=100, name="id", is_primary_key=True,
                                    data_type=schema_pb2.DataType.Int64)
        vec = schema_pb2.FieldSchema(
            fieldID=101, name="vector", data_type=schema_pb2.DataType.FloatVector,
            type_params=[common_pb2.KeyValuePair(key="dim", value=str(self.dim))],
        )
        schema = schema_pb2.CollectionSchema(name=request.collection_name or "floor", fields=[pk, vec])
        return milvus_pb2.DescribeCollectionResponse(
            status=_ok(), schema=schema, collectionID=1, collection_name=request.collection_name,
            shards_num=1,
        )

    def _canned(self, nq: int, topk: int) -> milvus_pb2.SearchResults:
        key = (nq, topk)
        with self._lock:
            res = self._cache.get(key)
            if res is None:
                data = schema_pb2.SearchResultData(
                    num_queries=nq, top_k=topk, topks=[topk] * nq,
                    scores=[float(i % topk) for i in range(nq * topk)],
                    ids=schema_pb2.IDs(
                        int_id=schema_pb2.LongArray(data=[i % topk for i in range(nq * topk)])
                    ),
                    primary_field_name="id",
                )
                res = milvus_pb2.SearchResults(status=_ok(), results=data, collection_name="floor")
                self._cache[key] = res
        return res

    def Search(self, request: Any, context: Any) -> milvus_pb2.SearchResults:
        nq = int(request.nq) or 1
        topk = self.topk
        for kv in request.search_params:
            if kv.key in ("topk", "limit"):
                try:
                    topk = int(kv.value)
                except ValueError:
                    pass
        return self._canned(nq, topk)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--topk", type=int, default=10)
    ap.add_argument("--max-workers", type=int, default=10)
    args = ap.parse_args()
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=args.max_workers),
        options=[("grpc.max_receive_message_length", 512 << 20), ("grpc.max_send_message_length", 512 << 20)],
    )
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(FloorServicer(args.dim, args.topk), server)
    server.add_insecure_port(f"{args.host}:{args.port}")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(1).wait()


if __name__ == "__main__":
    main()
