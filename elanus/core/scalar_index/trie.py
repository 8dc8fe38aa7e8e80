"""Trie (VarChar): a *sorted-array* trie, not a node-based one.

Milvus builds a marisa trie over the distinct strings; here the distinct strings are kept
sorted in code-point order with their posting lists (the :class:`InvertedIndex` layout), and
a prefix lookup is two binary searches (``numpy.searchsorted``) for ``prefix`` and its
successor: every string with the prefix lies between them, as every key below a trie node
does. Equality, ``in`` and ranges are binary searches as well; other ``like`` patterns test
each distinct string once.
"""

from __future__ import annotations

from typing import ClassVar

from elanus.core.scalar_index.base import TRIE
from elanus.core.scalar_index.inverted import InvertedIndex


class TrieIndex(InvertedIndex):
    """Distinct sorted strings + postings; see the module docstring."""

    kind: ClassVar[str] = TRIE
