"""Contract tests of ObjectStore, run against every backend (see conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from elanus.storage import InvalidKey, ObjectNotFound, ObjectStore


def test_put_get_overwrite(objects: ObjectStore) -> None:
    objects.put("a/b/c.parquet", b"hello")
    assert objects.get("a/b/c.parquet") == b"hello"
    objects.put("a/b/c.parquet", b"world!")
    assert objects.get("a/b/c.parquet") == b"world!"
    objects.put("empty", b"")
    assert objects.get("empty") == b""
    assert objects.size("empty") == 0


def test_missing_object(objects: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        objects.get("nope")
    with pytest.raises(KeyError):  # ObjectNotFound is a KeyError
        objects.get("a/nope")
    with pytest.raises(ObjectNotFound):
        objects.get_range("nope", 0, 1)
    with pytest.raises(ObjectNotFound):
        objects.size("nope")
    assert objects.exists("nope") is False
    objects.put("dir/file", b"x")
    assert objects.exists("dir") is False, "a prefix of other keys is not an object"
    with pytest.raises(ObjectNotFound):
        objects.get("dir")


def test_exists_and_size(objects: ObjectStore) -> None:
    objects.put("x/y", b"12345")
    assert objects.exists("x/y")
    assert objects.size("x/y") == 5


def test_get_range(objects: ObjectStore) -> None:
    data = bytes(range(256)) * 40
    objects.put("blob", data)
    assert objects.get_range("blob", 0, 10) == data[:10]
    assert objects.get_range("blob", 1000, 3000) == data[1000:4000]
    assert objects.get_range("blob", len(data) - 5, 100) == data[-5:], "short at the end"
    assert objects.get_range("blob", len(data) + 10, 5) == b""
    assert objects.get_range("blob", 7, 0) == b""
    with pytest.raises(ValueError):
        objects.get_range("blob", -1, 5)
    with pytest.raises(ValueError):
        objects.get_range("blob", 0, -5)


def test_put_if_absent(objects: ObjectStore) -> None:
    assert objects.put_if_absent("once", b"first") is True
    assert objects.put_if_absent("once", b"second") is False
    assert objects.get("once") == b"first"
    objects.delete("once")
    assert objects.put_if_absent("once", b"third") is True
    assert objects.get("once") == b"third"


def test_put_if_absent_race_has_one_winner(objects: ObjectStore) -> None:
    for round_ in range(5):
        key = f"race/{round_}/manifest"
        barrier = threading.Barrier(8)
        wins: list[int] = []

        def worker(
            t: int, key: str = key, barrier: threading.Barrier = barrier, wins: list[int] = wins
        ) -> None:
            barrier.wait()
            if objects.put_if_absent(key, f"writer-{t}".encode() * 100):
                wins.append(t)

        pool = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        assert len(wins) == 1
        assert objects.get(key) == f"writer-{wins[0]}".encode() * 100


def test_list_is_recursive_sorted_and_by_string_prefix(objects: ObjectStore) -> None:
    keys = ["a/b/c", "a/b/d", "a/bc", "a/b/e/f", "a/c", "b", "ab/x"]
    for key in keys:
        objects.put(key, b".")
    assert objects.list("") == sorted(keys)
    assert objects.list() == sorted(keys)
    assert objects.list("a/b/") == ["a/b/c", "a/b/d", "a/b/e/f"]
    assert objects.list("a/b") == ["a/b/c", "a/b/d", "a/b/e/f", "a/bc"]
    assert objects.list("a") == ["a/b/c", "a/b/d", "a/b/e/f", "a/bc", "a/c", "ab/x"]
    assert objects.list("a/b/c") == ["a/b/c"]
    assert objects.list("zz") == []
    assert objects.list("nope/deeper/") == []


def test_delete(objects: ObjectStore) -> None:
    objects.put("d/1", b"x")
    objects.delete("d/1")
    assert not objects.exists("d/1")
    objects.delete("d/1")  # missing is fine
    objects.delete("never/was")
    assert objects.list("d/") == []
    objects.put("d/1", b"y")  # the emptied "directory" can be used again
    assert objects.get("d/1") == b"y"


def test_delete_prefix(objects: ObjectStore) -> None:
    for key in ["seg/1/a", "seg/1/b", "seg/10/a", "seg/2/a", "other"]:
        objects.put(key, b"x")
    assert objects.delete_prefix("seg/1") == 3
    assert objects.list("") == ["other", "seg/2/a"]
    assert objects.delete_prefix("seg/1") == 0
    assert objects.delete_prefix("") == 2
    assert objects.list("") == []


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "..", "a/./b", "a//b", "a/b/", "./a"])
def test_invalid_keys(objects: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        objects.put(key, b"x")
    with pytest.raises(ValueError):  # InvalidKey is a ValueError
        objects.get(key)


def test_local_path(objects: ObjectStore) -> None:
    objects.put("files/col.parquet", b"PAR1data")
    path = objects.local_path("files/col.parquet")
    if path is None:
        return  # a remote backend: nothing more to check
    with open(path, "rb") as f:
        assert f.read() == b"PAR1data"
    with pytest.raises(ObjectNotFound):
        objects.local_path("files/missing")


def test_objects_survive_reopen(objects_opener: Callable[[], ObjectStore]) -> None:
    store = objects_opener()
    store.put("p/1", b"one")
    assert store.put_if_absent("p/2", b"two")
    store.put("q", b"gone")
    store.delete("q")
    store.close()
    store = objects_opener()
    assert store.list("") == ["p/1", "p/2"]
    assert store.get("p/1") == b"one" and store.get("p/2") == b"two"


def test_large_object(objects: ObjectStore) -> None:
    data = bytes(range(256)) * (8 * 1024)  # 2 MiB
    objects.put("big", data)
    assert objects.size("big") == len(data)
    assert objects.get("big") == data
    assert objects.get_range("big", 1_000_000, 70_000) == data[1_000_000:1_070_000]
