"""Template parameters (Milvus ``expr_params``): the values bound to ``{name}``.

The proxy hands them over as Python values decoded from ``TemplateValue`` protos; callers
may also pass numpy scalars and arrays. They are normalised to the plain constants the
binder works with (bool/int/float/str and lists of them); None, mappings and other types
are rejected, as is an int outside int64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from elanus.core.expr.errors import ExprError
from elanus.core.expr.typerules import check_int64


def param_value(value: Any, name: str) -> Any:
    """A template parameter as a plain Python constant (numpy scalars/arrays unwrapped)."""
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if value is None:
        raise ExprError(f"the value of expression template variable {{{name}}} is nil")
    if isinstance(value, bool | float | str):
        return value
    if isinstance(value, int):
        return check_int64(value)
    if isinstance(value, list | tuple):
        return [param_value(v, name) for v in value]
    raise ExprError(f"the value of expression template variable {{{name}}} has unsupported type "
                    f"{type(value).__name__}")
