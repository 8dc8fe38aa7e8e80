"""Directory fsync, the step that makes a created, renamed or deleted name durable.

``fsync`` on a file persists its bytes but not the directory entry that names
it; after a crash a freshly created (or renamed-into-place) file can vanish
unless its parent directory was fsynced too.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: str | Path) -> None:
    """Persist the entries of ``directory`` (creations, renames, unlinks inside it)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs_durable(directory: Path, root: Path) -> None:
    """``mkdir -p directory`` (which must lie inside ``root``) and persist every level it created.

    Each new directory's entry lives in its parent, so each parent of a created
    level is fsynced, deepest first, up to ``root``.
    """
    missing: list[Path] = []
    current = directory
    while current != root and not current.is_dir():
        missing.append(current)
        current = current.parent
    for level in reversed(missing):
        try:
            level.mkdir()
        except FileExistsError:
            pass  # a concurrent writer created it; its entry still needs to be made durable
    for level in missing:
        fsync_dir(level.parent)
