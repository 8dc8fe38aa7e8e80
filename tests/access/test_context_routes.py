"""The proxy's cached read routes (loaded? and channel -> delegator), and how they are dropped."""

from __future__ import annotations

from typing import Any

import pytest

from elanus.access import context as ctx_mod
from elanus.access.context import ProxyContext
from elanus.access.scatter import require_loaded, to_leaders
from elanus.cluster.types import CollectionInfo
from elanus.coord.query import loadinfo, placement
from elanus.core.errors import MilvusError


class _QueryCoord:
    def __init__(self) -> None:
        self.calls = 0
        self.loaded = True
        self.leaders = {"ch0": 1, "ch1": 2}

    def is_loaded(self, collection_id: int) -> bool:
        self.calls += 1
        return self.loaded

    def shard_leaders(self, collection_id: int) -> dict[str, int]:
        self.calls += 1
        return dict(self.leaders)


class _Node:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def search(self, channel: str) -> str:
        if self.fail:
            raise MilvusError(2, "service unavailable")
        return channel


class _Registry:
    def __init__(self) -> None:
        self.qc = _QueryCoord()
        self.nodes = {1: _Node(), 2: _Node()}

    def query_coord(self) -> _QueryCoord:
        return self.qc

    def query_node(self, node_id: int) -> _Node:
        return self.nodes[node_id]


def _info() -> Any:
    return type("Info", (), {"id": 7, "name": "c", "channels": ("ch0", "ch1")})()


def test_prefixes_match_the_query_coordinator_records() -> None:
    assert ctx_mod.LOADINFO_PREFIX == loadinfo.PREFIX
    assert ctx_mod.PLACEMENT_PREFIX == placement.PREFIX


def test_routes_are_cached_until_invalidated() -> None:
    reg = _Registry()
    ctx = ProxyContext(reg)  # type: ignore[arg-type]
    info: CollectionInfo = _info()
    assert require_loaded(ctx, info, ()) == {"ch0": 1, "ch1": 2}
    calls = reg.qc.calls
    assert require_loaded(ctx, info, ()) == {"ch0": 1, "ch1": 2}
    assert reg.qc.calls == calls  # served from the cache
    ctx.invalidate_leaders(info.id)
    reg.qc.loaded = False
    with pytest.raises(MilvusError) as exc:
        require_loaded(ctx, info, ())
    assert exc.value.code == 101


def test_partial_leaders_are_not_cached() -> None:
    reg = _Registry()
    reg.qc.leaders = {"ch0": 1}  # still loading: one channel has no delegator yet
    ctx = ProxyContext(reg)  # type: ignore[arg-type]
    info: CollectionInfo = _info()
    require_loaded(ctx, info, ())
    calls = reg.qc.calls
    require_loaded(ctx, info, ())
    assert reg.qc.calls > calls


def test_a_failed_delegator_call_drops_the_route() -> None:
    reg = _Registry()
    ctx = ProxyContext(reg)  # type: ignore[arg-type]
    info: CollectionInfo = _info()
    leaders = require_loaded(ctx, info, ())
    assert to_leaders(ctx, info, leaders, lambda node, ch: node.search(ch)) == ["ch0", "ch1"]
    reg.nodes[2].fail = True
    with pytest.raises(MilvusError):
        to_leaders(ctx, info, leaders, lambda node, ch: node.search(ch))
    calls = reg.qc.calls
    require_loaded(ctx, info, ())
    assert reg.qc.calls > calls  # asked the coordinator again


def test_route_records_drop_only_their_collection(tmp_path: Any) -> None:
    """Load and channel-leader records drop that collection's route; segment records none."""
    import time

    from elanus.storage import open_meta

    meta = open_meta(str(tmp_path / "meta"))
    try:
        ctx = ProxyContext(_Registry(), meta)  # type: ignore[arg-type]
        ctx._leaders.update({7: {"ch0": 1}, 8: {"ch0": 2}})

        def settled(expected: set[int]) -> bool:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if set(ctx._leaders) == expected:
                    return True
                time.sleep(0.01)
            return False

        # Watch events arrive in revision order: once the channel record of 7 has dropped 7,
        # the earlier segment record of 8 has been seen too, and must have left 8 cached.
        meta.put(placement.PREFIX + "8/segment/100", b"{}")
        meta.put(placement.PREFIX + "7/channel/ch0", b"3")
        assert settled({8})
        meta.put(loadinfo.PREFIX + "8", b"{}")
        assert settled(set())
    finally:
        meta.close()
