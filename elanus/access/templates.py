"""Filter template values (``expr_template_values``) → Python values for the filter engine."""

from __future__ import annotations

import json
from typing import Any

from pymilvus.grpc_gen import schema_pb2


def _array(value: schema_pb2.TemplateArrayValue) -> list[Any]:
    kind = value.WhichOneof("data")
    if kind is None:
        return []
    if kind == "array_data":
        return [_array(v) for v in value.array_data.data]
    if kind == "json_data":
        return [json.loads(b) for b in value.json_data.data]
    return list(getattr(value, kind).data)


def template_value(value: schema_pb2.TemplateValue) -> Any:
    kind = value.WhichOneof("val")
    if kind is None:
        return None
    if kind == "array_val":
        return _array(value.array_val)
    return getattr(value, kind)


def template_values(values: Any) -> dict[str, Any]:
    """The request's template map as a plain dict (empty when none)."""
    return {name: template_value(v) for name, v in values.items()}
