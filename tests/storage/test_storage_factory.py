"""The URL factories of elanus.storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from elanus.cluster import infra
from elanus.storage import (
    LocalMetaStore,
    LocalObjectStore,
    LocalWal,
    local_directory,
    open_meta,
    open_objects,
    open_wal,
)
from elanus.storage.meta.etcd import EtcdMetaStore
from elanus.storage.objects.s3 import S3ObjectStore


def test_local_urls_and_bare_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_directory(f"local://{tmp_path}/x") == tmp_path / "x"
    assert local_directory(str(tmp_path / "y")) == tmp_path / "y"
    monkeypatch.chdir(tmp_path)
    assert local_directory("rel/dir") == tmp_path / "rel" / "dir"
    assert local_directory("local:///with%20space") == Path("/with space")
    assert local_directory("s3://bucket/x") is None


@pytest.mark.parametrize("url", ["local://host/dir", "local:relative", "local://", ""])
def test_malformed_local_urls(url: str) -> None:
    with pytest.raises(ValueError):
        open_meta(url)


@pytest.mark.parametrize(
    ("opener", "url"),
    [
        (open_meta, "s3://bucket/prefix"),
        (open_meta, "nats://localhost:4222"),
        (open_objects, "etcd://127.0.0.1:2379"),
        (open_objects, "nats://localhost:4222"),
        (open_wal, "etcd://127.0.0.1:2379"),
        (open_wal, "s3://bucket/prefix"),
    ],
)
def test_unsupported_schemes(opener: Callable[[str], object], url: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        opener(url)


def test_factories_open_cluster_backends(
    etcd_service: infra.Service, s3_service: infra.Service, unique_prefix: str
) -> None:
    meta = open_meta(f"{etcd_service.url}/{unique_prefix}")
    bucket_url, _, query = s3_service.url.partition("?")
    objects = open_objects(f"{bucket_url}/{unique_prefix}?{query}")
    try:
        assert isinstance(meta, EtcdMetaStore)
        assert isinstance(objects, S3ObjectStore)
        meta.put("k", b"v")
        objects.put("k", b"v")
        assert meta.get("k") is not None and objects.get("k") == b"v"
    finally:
        meta.close()
        objects.close()


def test_factories_open_local_backends(tmp_path: Path) -> None:
    meta = open_meta(f"local://{tmp_path}/meta")
    objects = open_objects(str(tmp_path / "objects"))
    wal = open_wal(f"local://{tmp_path}/wal")
    try:
        assert isinstance(meta, LocalMetaStore)
        assert isinstance(objects, LocalObjectStore)
        assert isinstance(wal, LocalWal)
        assert (
            (tmp_path / "meta").is_dir() and (tmp_path / "objects").is_dir() and (tmp_path / "wal").is_dir()
        )
    finally:
        meta.close()
        objects.close()
        wal.close()
