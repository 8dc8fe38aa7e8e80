"""Helpers shared by the storage tests: reading a whole WAL channel, a WAL read blocked until
something ends it, and crash tests in which a child process reports each acknowledged write
and is killed (for the WAL: appends from several threads)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from elanus.storage import Wal, WalRecord
from elanus.storage.wal.base import WalReader

REPO_ROOT = Path(__file__).resolve().parents[2]

_WRITER_LOOP = """
import threading

wal.create_channel("c")
out = threading.Lock()

def worker(t):
    i = 0
    while True:
        data = f"{t}:{i}"
        offset = wal.append("c", data.encode())
        with out:
            sys.stdout.write(f"{offset} {data}\\n")
            sys.stdout.flush()
        i += 1

for t in range(4):
    threading.Thread(target=worker, args=(t,), daemon=True).start()
threading.Event().wait()
"""


def read_all(wal: Wal, channel: str = "c", start: int = 0) -> list[WalRecord]:
    """Every record of ``channel`` from ``start`` to its end."""
    reader = wal.reader(channel, start)
    try:
        out: list[WalRecord] = []
        while batch := reader.read(max_records=100):
            out.extend(batch)
        return out
    finally:
        reader.close()


def blocked_read(
    reader: WalReader, action: Callable[[], None], settle: float = 0.05, wake_within: float = 5.0
) -> list[WalRecord] | BaseException:
    """Blocks ``reader.read(timeout=None)`` in a thread and runs ``action`` once the read has
    waited ``settle`` seconds; returns what the read returned or raised, failing if it ended
    before ``action`` or had not ended ``wake_within`` seconds after it."""
    outcome: list[list[WalRecord] | BaseException] = []

    def consume() -> None:
        try:
            outcome.append(reader.read(timeout=None))
        except BaseException as exc:
            outcome.append(exc)

    th = threading.Thread(target=consume)
    th.start()
    time.sleep(settle)
    assert not outcome, "the read must wait while nothing is visible"
    action()
    th.join(wake_within)
    assert not th.is_alive(), f"the read did not end within {wake_within} s"
    return outcome[0]


def lines_before_sigkill(script: str, arg: str, count: int) -> list[str]:
    """Runs ``python -c script arg`` (``elanus`` importable), reads ``count`` lines of its
    output, then SIGKILLs it. Each line is something the child had done when it wrote it."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", script, arg], stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdout is not None
    lines: list[str] = []
    try:
        while len(lines) < count:
            line = child.stdout.readline()
            assert line, f"child exited early with {child.poll()}"
            lines.append(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return lines


def kill_writer_after(open_wal_code: str, arg: str, acked_records: int) -> dict[int, bytes]:
    """Runs a child that binds ``wal`` with ``open_wal_code`` (``sys.argv[1]`` is ``arg``), then
    appends to channel "c" from four threads; SIGKILLs it once it acknowledged
    ``acked_records`` records. Returns them, offset to payload."""
    acked: dict[int, bytes] = {}
    for line in lines_before_sigkill(f"import sys\n{open_wal_code}\n{_WRITER_LOOP}", arg, acked_records):
        offset_text, data_text = line.split()
        acked[int(offset_text)] = data_text.encode()
    return acked


def check_acked(wal: Wal, acked: dict[int, bytes]) -> None:
    """Channel "c" of ``wal`` holds a gapless prefix with every acknowledged record, and a new
    writer continues at its end."""
    end = wal.end_offset("c")
    records = read_all(wal)
    assert [r.offset for r in records] == list(range(end)), "a gapless prefix"
    assert end > max(acked)
    stored = {r.offset: r.payload for r in records}
    assert all(stored[offset] == data for offset, data in acked.items())
    assert wal.append("c", b"after") == end, "a new writer continues at the end"
