"""The embedded object store: one file per object under a root directory.

Key ``a/b/c`` lives at ``<root>/a/b/c``, so ``local_path`` can hand pyarrow a
real file to memory-map. New bytes are first written to a private file in
``<root>/.staging/`` and fsynced, then moved into place with one atomic
directory operation (``rename`` to replace, ``link`` to create-if-absent, which
fails with EEXIST if the name exists, so two racing creators cannot both win),
then the target directory is fsynced so the new name survives a crash.

Several processes may share a root: every mutation is a single atomic
filesystem step. The ``.staging`` directory is reserved (keys may not start
with it); orphans left there by a crash are removed on open once old enough
that no live writer can still own them.

Limitation of this backend: since keys are paths, a key cannot also be a
"directory" of another key (``a/b`` and ``a/b/c`` cannot both exist); such a
put fails with the ``OSError`` the filesystem reports.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import stat
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from elanus.storage._fsync import fsync_dir, make_dirs_durable
from elanus.storage.errors import InvalidKey, ObjectNotFound
from elanus.storage.objects.base import validate_key

_STAGING = ".staging"
# A staging file older than this cannot belong to a put still in progress.
_STAGING_ORPHAN_SECONDS = 3600.0
# A delete may remove a directory between a put's mkdir and its rename; the put
# then simply creates the directory again. Bounded so a real error still surfaces.
_PLACE_ATTEMPTS = 5


def _pread_fully(fd: int, length: int, offset: int) -> bytes:
    """Up to ``length`` bytes at ``offset``; short only at end of file (pread itself may return less)."""
    chunks: builtins.list[bytes] = []
    while length > 0:
        chunk = os.pread(fd, length, offset)
        if not chunk:
            break
        chunks.append(chunk)
        length -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


class LocalObjectStore:
    """:class:`~elanus.storage.objects.base.ObjectStore` on a local directory. Thread- and process-safe."""

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).absolute()
        self._staging = self._root / _STAGING
        self._root.mkdir(parents=True, exist_ok=True)
        self._staging.mkdir(exist_ok=True)
        self._remove_orphans()

    # ----------------------------------------------------------------- writes

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        tmp = self._stage(data)
        try:
            self._place(tmp, target, os.replace)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def put_if_absent(self, key: str, data: bytes) -> bool:
        target = self._path(key)
        tmp = self._stage(data)
        try:
            self._place(tmp, target, os.link)
            return True
        except FileExistsError:
            return False
        finally:
            # After a link the data has two names; dropping the staging one needs no fsync.
            tmp.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except IsADirectoryError:
            return  # "a/b" is only a directory of other keys, not an object
        fsync_dir(path.parent)
        self._prune_empty_dirs(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        parents: set[Path] = set()
        for key in keys:
            path = self._root / key
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            parents.add(path.parent)
        for parent in parents:
            with contextlib.suppress(FileNotFoundError):
                fsync_dir(parent)
        # Deepest first, so a parent emptied by pruning its children goes too.
        for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            self._prune_empty_dirs(parent)
        return len(keys)

    # ------------------------------------------------------------------ reads

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError(f"offset and length must be non-negative, got {offset}, {length}")
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                return _pread_fully(f.fileno(), length, offset)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(st.st_mode):
            raise ObjectNotFound(key)
        return st.st_size

    def list(self, prefix: str = "") -> builtins.list[str]:
        # Walk only the deepest directory that the prefix pins down, then filter by
        # the plain string prefix ("a/b" must match "a/bc" as well as "a/b/c").
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._root / base if base else self._root
        if ".." in base.split("/") or not start.is_dir():
            return []
        keys: builtins.list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = os.path.relpath(dirpath, self._root)
            if rel == ".":
                rel = ""
                dirnames[:] = [d for d in dirnames if d != _STAGING]
            for name in filenames:
                key = f"{rel}/{name}" if rel else name
                if key.startswith(prefix):
                    keys.append(key)
        keys.sort()
        return keys

    def local_path(self, key: str) -> str | None:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return str(path)

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""

    # --------------------------------------------------------------- internal

    def _path(self, key: str) -> Path:
        validate_key(key)
        if key.split("/", 1)[0] == _STAGING:
            raise InvalidKey(f"{_STAGING!r} is reserved by the local object store: {key!r}")
        return self._root / key

    def _stage(self, data: bytes) -> Path:
        """Write ``data`` to a fresh private file and fsync it; returns its path."""
        tmp = self._staging / f"{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp

    def _place(self, tmp: Path, target: Path, move: Callable[[Path, Path], None]) -> None:
        """Give the staged file its final name with ``move`` (replace or link), durably."""
        for attempt in range(_PLACE_ATTEMPTS):
            make_dirs_durable(target.parent, self._root)
            try:
                move(tmp, target)
                break
            except FileNotFoundError:
                if attempt == _PLACE_ATTEMPTS - 1:
                    raise
        fsync_dir(target.parent)

    def _prune_empty_dirs(self, directory: Path) -> None:
        """Remove ``directory`` and its ancestors below the root while they are empty."""
        while directory != self._root and directory.is_relative_to(self._root):
            try:
                directory.rmdir()
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    return
                raise
            fsync_dir(directory.parent)
            directory = directory.parent

    def _remove_orphans(self) -> None:
        cutoff = time.time() - _STAGING_ORPHAN_SECONDS
        for entry in os.scandir(self._staging):
            with contextlib.suppress(FileNotFoundError):
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
