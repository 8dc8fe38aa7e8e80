"""S3ObjectStore beyond the shared contract: URLs, bucket creation, paging, batching, errors."""

from __future__ import annotations

import time
import uuid

import pytest

from elanus.cluster import infra
from elanus.storage import StorageClosed, open_objects
from elanus.storage.objects import s3
from elanus.storage.objects.s3 import S3ObjectStore, parse_s3_url


def test_parse_s3_url() -> None:
    assert parse_s3_url("s3://b") == ("b", "", None, None)
    assert parse_s3_url("s3://b/x/y/?endpoint=http://h:9000&region=eu-west-1") == (
        "b",
        "x/y/",
        "http://h:9000",
        "eu-west-1",
    )
    for bad in ["s3:///prefix", "http://b", "s3://b?endpont=http://h", "s3://b?x"]:
        with pytest.raises(ValueError):
            parse_s3_url(bad)


def _url(service: infra.Service, bucket: str, prefix: str = "") -> str:
    endpoint = service.url.partition("?")[2]
    return f"s3://{bucket}{'/' + prefix if prefix else ''}?{endpoint}"


def test_missing_bucket_is_created(s3_service: infra.Service) -> None:
    bucket = f"fresh-{uuid.uuid4().hex[:10]}"
    store = open_objects(_url(s3_service, bucket))
    again = open_objects(_url(s3_service, bucket))  # exists now: opened as is
    try:
        store.put("a", b"1")
        assert again.get("a") == b"1"
    finally:
        store.close()
        again.close()


def test_prefixes_keep_stores_apart(s3_service: infra.Service, unique_prefix: str) -> None:
    a = open_objects(_url(s3_service, "elanus-test", f"{unique_prefix}/a"))
    b = open_objects(_url(s3_service, "elanus-test", f"{unique_prefix}/b"))
    outer = open_objects(_url(s3_service, "elanus-test", unique_prefix))
    try:
        a.put("k", b"a")
        b.put("k", b"b")
        assert outer.list() == ["a/k", "b/k"]
        assert a.delete_prefix("") == 1
        assert outer.list() == ["b/k"] and b.get("k") == b"b"
    finally:
        for store in (a, b, outer):
            store.close()


def test_listing_pages_and_deleting_in_batches(
    s3_service: infra.Service, unique_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3, "_LIST_PAGE", 4)
    monkeypatch.setattr(s3, "_DELETE_BATCH", 3)
    store = open_objects(_url(s3_service, "elanus-test", unique_prefix))
    try:
        keys = [f"p/{i:02d}" for i in range(11)]
        for key in keys:
            store.put(key, b"x")
        store.put("q", b"x")
        assert store.list("p/") == keys
        assert store.delete_prefix("p/") == 11
        assert store.list() == ["q"]
    finally:
        store.close()


def test_local_path_is_none_and_close(s3_service: infra.Service, unique_prefix: str) -> None:
    store = open_objects(_url(s3_service, "elanus-test", unique_prefix))
    store.put("k", b"v")
    assert store.local_path("k") is None
    assert store.local_path("missing") is None
    store.close()
    store.close()
    with pytest.raises(StorageClosed):
        store.get("k")


def test_unreachable_endpoint_raises_connection_error(s3_service: infra.Service) -> None:
    # (s3_service: for its credentials in the environment, which boto3 needs to sign the request)
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        S3ObjectStore(f"s3://b?endpoint=http://127.0.0.1:{infra.free_port()}")
    assert time.monotonic() - started < 10
