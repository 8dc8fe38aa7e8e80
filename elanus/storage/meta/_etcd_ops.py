"""Reduce a transaction branch to writes etcd accepts in one ``Txn``.

etcd refuses a txn that puts one key twice or puts a key that a delete of the
same txn also covers ("duplicate key given in txn request"). The meta store
contract applies a branch's ops in order, so a branch is first rewritten to its
net effect, keeping the relative order of what remains:

* a put replaces any earlier put of the same key;
* a put cuts its key out of earlier deletes (a single-key delete of it
  disappears, a range delete is split around it);
* a delete (single key or range) drops earlier puts inside it.

Overlapping deletes are fine for etcd and are kept as they are.

Keys and ranges are raw etcd bytes. A single key is ``(key, b"")``; a range is
``[start, end)`` where ``end == b"\\0"`` means "no upper bound", as in etcd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from elanus.storage.meta.base import Op

_UNBOUNDED = b"\0"


@dataclass(frozen=True, slots=True)
class Step:
    """One write of the reduced branch: ``op`` (its kind, value, lease) applied to ``[start, end)``."""

    op: Op
    start: bytes
    end: bytes


def prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix`` (``b"\\0"``: none)."""
    end = bytearray(prefix)
    while end and end[-1] == 0xFF:
        end.pop()
    if not end:
        return _UNBOUNDED
    end[-1] += 1
    return bytes(end)


def _covers(step: Step, key: bytes) -> bool:
    if step.end == b"":
        return key == step.start
    if step.end == _UNBOUNDED:
        return key >= step.start
    return step.start <= key < step.end


def _cut(step: Step, key: bytes) -> list[Step]:
    """``step`` (a delete covering ``key``) without ``key``."""
    if step.end == b"":
        return []
    pieces = []
    if step.start < key:
        pieces.append(Step(step.op, step.start, key))
    after = key + b"\0"
    if step.end == _UNBOUNDED or after < step.end:
        pieces.append(Step(step.op, after, step.end))
    return pieces


def coalesce(ops: Sequence[tuple[Op, bytes, bytes]]) -> list[Step]:
    """The net writes of ``ops`` (each with its etcd key or range), in order, without overlaps."""
    steps: list[Step] = []
    for op, start, end in ops:
        new = Step(op, start, end)
        kept: list[Step] = []
        if op.kind == "put":
            for step in steps:
                if step.op.kind == "put":
                    if step.start != start:
                        kept.append(step)
                elif _covers(step, start):
                    kept.extend(_cut(step, start))
                else:
                    kept.append(step)
        else:
            kept = [s for s in steps if s.op.kind != "put" or not _covers(new, s.start)]
        kept.append(new)
        steps = kept
    return steps
