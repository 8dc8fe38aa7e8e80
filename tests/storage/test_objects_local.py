"""Tests specific to the local-directory object store."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from elanus.storage import InvalidKey
from elanus.storage.objects import LocalObjectStore


def test_layout_and_no_leftovers(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("a/b/c", b"1")
    assert store.put_if_absent("a/b/c", b"2") is False
    assert (tmp_path / "a" / "b" / "c").read_bytes() == b"1"
    assert store.local_path("a/b/c") == str(tmp_path / "a" / "b" / "c")
    assert os.listdir(tmp_path / ".staging") == [], "staging files are removed after every put"
    assert store.list("") == ["a/b/c"], "the staging area is not listed"


def test_staging_name_is_reserved(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    with pytest.raises(InvalidKey):
        store.put(".staging/x", b"1")
    store.put("x/.staging", b"fine below the root")


def test_deletes_prune_empty_directories(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("seg/1/insert_log/100/f1", b"x")
    store.put("seg/1/delta_log/f2", b"x")
    store.delete("seg/1/insert_log/100/f1")
    assert not (tmp_path / "seg" / "1" / "insert_log").exists()
    assert store.delete_prefix("seg/") == 1
    assert sorted(os.listdir(tmp_path)) == [".staging"]


def test_old_staging_orphans_are_removed_on_open(tmp_path: Path) -> None:
    LocalObjectStore(tmp_path).close()
    old, fresh = tmp_path / ".staging" / "old.tmp", tmp_path / ".staging" / "fresh.tmp"
    old.write_bytes(b"crashed put")
    fresh.write_bytes(b"put in progress elsewhere")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    LocalObjectStore(tmp_path)
    assert not old.exists() and fresh.exists()
