"""Tests specific to the SQLite meta store."""

from __future__ import annotations

from pathlib import Path

import pytest

from elanus.storage import StorageError
from elanus.storage.meta import LocalMetaStore
from tests.storage.store_helpers import lines_before_sigkill

_CHILD = """
import sys
from elanus.storage.meta import LocalMetaStore

store = LocalMetaStore(sys.argv[1])
i = 0
while True:
    rev = store.put(f"k/{i:06d}", str(i).encode())
    sys.stdout.write(f"{i} {rev}\\n")
    sys.stdout.flush()
    i += 1
"""


@pytest.mark.timeout(60)
def test_sigkill_loses_no_acknowledged_put(tmp_path: Path) -> None:
    acked: dict[int, int] = {}
    for line in lines_before_sigkill(_CHILD, str(tmp_path), 50):
        index_text, rev_text = line.split()
        acked[int(index_text)] = int(rev_text)

    store = LocalMetaStore(tmp_path)
    for i, rev in acked.items():
        kv = store.get(f"k/{i:06d}")
        assert kv is not None and kv.value == str(i).encode() and kv.mod_revision == rev
    assert store.revision() >= max(acked.values())
    store.close()


def test_second_open_is_refused(tmp_path: Path) -> None:
    store = LocalMetaStore(tmp_path)
    with pytest.raises(StorageError):
        LocalMetaStore(tmp_path)
    store.close()
    LocalMetaStore(tmp_path).close()


def test_close_from_a_watch_callback(tmp_path: Path) -> None:
    store = LocalMetaStore(tmp_path)
    store.watch_prefix("", lambda event: store.close())
    store.put("k", b"v")
    store._dispatcher._thread.join(5.0)  # the dispatcher stops without waiting for itself
    assert not store._dispatcher._thread.is_alive()
