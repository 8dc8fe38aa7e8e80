"""Filter expressions: Milvus's boolean filter language, compiled once and evaluated
vectorised over column batches.

    flt = compile_filter('age > 18 and tag in ["a", "b"]', schema)
    mask = flt.evaluate(columns, num_rows)

Pipeline: :mod:`parser` (LALR grammar ``filter.lark``, LRU-cached by text) → :mod:`binder`
(names, template parameters, types, constant folding) → plan nodes (:mod:`compare`,
:mod:`membership`, :mod:`pattern`, :mod:`regex`, :mod:`logic`, :mod:`values`) evaluated with
numpy; JSON-path extractions are cached per segment column (:mod:`pathcache`).
Errors are :class:`FilterError` (a ``MilvusError`` with code 1100).
"""

from elanus.core.expr.errors import FilterError
from elanus.core.expr.filter import Filter, compile_filter, resolve_identifier, validate

__all__ = ["Filter", "FilterError", "compile_filter", "resolve_identifier", "validate"]
