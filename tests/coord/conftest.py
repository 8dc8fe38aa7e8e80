"""The data-path fixtures of :mod:`tests.worker.datapath_fakes` (``stack``, ``coll``) for the tests here."""

from tests.worker.datapath_fakes import coll, stack

__all__ = ["coll", "stack"]
