"""elanus.core.memory: giving freed memory back, and the allocator set-up of `elanus run`."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from elanus.core import memory

_PROBE = """
import os, sys
from elanus.core.memory import configure_process
configure_process()
import pyarrow
print(pyarrow.default_memory_pool().backend_name)
"""


def _probe(env: dict[str, str]) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("ARROW_DEFAULT_MEMORY_POOL", "MALLOC_ARENA_MAX")}
    full.update(env)
    res = subprocess.run([sys.executable, "-c", _PROBE], env=full, capture_output=True, text=True,
                         timeout=60, check=True)
    return res.stdout.strip()


def test_release_free_memory_is_safe_to_call_any_time() -> None:
    big = np.ones(8 << 20, dtype=np.uint8)
    del big
    memory.release_free_memory()
    memory.release_free_memory()


def test_configure_process_makes_arrow_use_the_system_allocator() -> None:
    assert _probe({}) == "system"


def test_configure_process_leaves_an_explicit_arrow_pool_alone() -> None:
    assert _probe({"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}) == "mimalloc"


def test_elanus_cli_does_not_import_pyarrow_before_configuring() -> None:
    code = "import sys, elanus.cli; print('pyarrow' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert res.stdout.strip() == "False"
