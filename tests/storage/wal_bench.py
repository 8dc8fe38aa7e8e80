"""Measure local WAL throughput and group commit (not a test; run by hand).

    .venv/bin/python tests/storage/wal_bench.py [directory] [--seconds 2] [--payload 1024]

For 1 and 8 appending threads (each calling the blocking ``append``, durable)
and for one thread pipelining ``append_async``, prints appends/s and how many
fsyncs the WAL issued per append. The directory should be on the disk you care
about (default: a temporary directory under /tmp).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from elanus.storage.wal.local import DEFAULT_LINGER_SECONDS, LocalWal


class FsyncCounter:
    def __init__(self) -> None:
        self.calls = 0
        self._real = os.fsync
        self._lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        with self._lock:
            self.calls += 1
        self._real(fd)


def run(
    directory: Path, threads: int, seconds: float, payload: bytes, pipelined: bool, linger: float
) -> None:
    wal = LocalWal(directory, linger_seconds=linger)
    channel = f"bench_{threads}_{int(pipelined)}"
    wal.create_channel(channel)
    counter = FsyncCounter()
    os.fsync = counter  # type: ignore[assignment]  # count only what the WAL does from here on
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def blocking(t: int) -> None:
        while time.monotonic() < stop:
            wal.append(channel, payload)
            counts[t] += 1

    def pipelining(t: int) -> None:
        while time.monotonic() < stop:
            futures = [wal.append_async(channel, payload) for _ in range(256)]
            for f in futures:
                f.result()
            counts[t] += len(futures)

    worker: Callable[[int], None] = pipelining if pipelined else blocking
    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    elapsed = time.monotonic() - started
    os.fsync = counter._real
    wal.close()
    total = sum(counts)
    mode = "append_async x256" if pipelined else "append"
    print(
        f"{threads} thread(s), {mode:>17}: {total / elapsed:9.0f} appends/s, "
        f"{counter.calls:6d} fsyncs for {total:7d} appends ({total / max(counter.calls, 1):6.1f} per fsync)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", nargs="?", type=Path)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--payload", type=int, default=1024)
    parser.add_argument(
        "--linger", type=float, default=DEFAULT_LINGER_SECONDS, help="LocalWal linger_seconds"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.directory) as tmp:
        payload = os.urandom(args.payload)
        for threads, pipelined in ((1, False), (8, False), (32, False), (1, True)):
            run(Path(tmp), threads, args.seconds, payload, pipelined, args.linger)


if __name__ == "__main__":
    main()
