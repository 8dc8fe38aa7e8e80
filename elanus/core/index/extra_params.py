"""Build parameters of the Milvus index types Elanus builds as a faiss equivalent:
IVF_RABITQ, SCANN and DISKANN.

The request is validated as knowhere validates it (its configs' keys, defaults,
ranges and error texts: ``IvfRaBitQConfig``, ``ScannConfig``, ``DiskANNConfig``),
so a client sees Milvus's acceptance and rejections; what is built from the
resulting :class:`IndexSpec` is described in :mod:`elanus.core.index.builder`.
Keys knowhere would ignore are ignored, and so are DISKANN's ``max_degree`` and
``search_list_size``, which Milvus's proxy replaces with its configured values.
"""

from __future__ import annotations

from collections.abc import Mapping

from elanus.core.errors import invalid_parameter
from elanus.core.index.param_values import string_param
from elanus.core.index.spec import (
    MAX_DEGREE_MILVUS,
    NLIST_DEFAULT,
    NLIST_RANGE,
    REFINE_TYPES,
    SEARCH_LIST_MILVUS,
    SUB_DIM_DEFAULT,
    SUB_DIM_RANGE,
    IndexSpec,
    IndexType,
    MetricType,
)
from elanus.core.schema import FieldSchema

EXTRA_TYPES = (IndexType.IVF_RABITQ, IndexType.SCANN, IndexType.DISKANN)


def extra_spec(index_type: IndexType, metric: MetricType, field: FieldSchema,
               flat: Mapping[str, str]) -> IndexSpec:
    """The spec of an IVF_RABITQ, SCANN or DISKANN index on ``field`` (``flat``: the
    expanded request params). Raises MilvusError 1100 with knowhere's texts."""
    dim, vtype = field.dim, field.dtype
    if index_type is IndexType.DISKANN:
        # Milvus's proxy overwrites the user's max_degree and search_list_size with its
        # configuration (FillDiskIndexParams), so they are neither checked nor used.
        return IndexSpec(index_type, metric, dim, vector_type=vtype, max_degree=MAX_DEGREE_MILVUS,
                         search_list_size=SEARCH_LIST_MILVUS)
    nlist = string_param(flat, "nlist", NLIST_RANGE, NLIST_DEFAULT)
    if index_type is IndexType.SCANN:
        sub_dim = string_param(flat, "sub_dim", SUB_DIM_RANGE, SUB_DIM_DEFAULT)
        if dim % sub_dim:
            raise invalid_parameter("The dimension of a vector (dim) should be a multiple of sub_dim. "
                                    f"Dimension:{dim}, sub_dim:{sub_dim}")
        raw = bool_param(flat, "with_raw_data", True)
        return IndexSpec(index_type, metric, dim, vector_type=vtype, nlist=nlist, sub_dim=sub_dim,
                         refine_type="flat" if raw else None)
    refine_type = _refine_type(flat.get("refine_type"))
    refine = bool_param(flat, "refine", False)
    return IndexSpec(index_type, metric, dim, vector_type=vtype, nlist=nlist,
                     refine_type=(refine_type or "flat") if refine else None)


def bool_param(params: Mapping[str, str], key: str, default: bool) -> bool:
    """A knowhere boolean from its string form (``true``/``false`` in any case)."""
    raw = params.get(key)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise invalid_parameter(f'Type conflict in json: param \'{key}\' ("{raw}") should be a boolean')
    return lowered == "true"


def _refine_type(raw: str | None) -> str | None:
    """knowhere's ``WhetherAcceptableRefineType`` (case-insensitive), checked even without refine."""
    if raw is None:
        return None
    lowered = raw.lower()
    if lowered not in REFINE_TYPES:
        raise invalid_parameter(f"invalid refine type : {raw}, optional types are [{', '.join(REFINE_TYPES)}]")
    return lowered
