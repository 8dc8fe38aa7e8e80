"""Meta-store keys and JSON forms of the data coordinator's records.

Keys (see the contracts' storage layout)::

    datacoord-meta/s/{coll}/{seg}            SegmentInfo (without index_files)
    datacoord-meta/channel-cp/{channel}      Checkpoint
    datacoord-meta/delta/{coll}/{log_id}     DeltaLogInfo
    datacoord-meta/dropped/{coll}            marker: the collection was dropped
    field-index/{coll}/{index_id}            IndexRecord (IndexInfo + resolved spec)
    segment-index/{coll}/{seg}/{file key}    {"path": index object key}; the key is the field
                                             (vector) or {field}#{index id} (scalar)

Values are compact JSON; decoding ignores unknown keys so records written by a
newer version still load.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from elanus.cluster.types import Checkpoint, DeltaLogInfo, IndexInfo, SegmentInfo, SegmentState
from elanus.core.index.spec import IndexSpec
from elanus.core.scalar_index import file_key as scalar_file_key

SEGMENT_PREFIX = "datacoord-meta/s/"
CHECKPOINT_PREFIX = "datacoord-meta/channel-cp/"
DELTA_PREFIX = "datacoord-meta/delta/"
DROPPED_PREFIX = "datacoord-meta/dropped/"
FIELD_INDEX_PREFIX = "field-index/"
SEGMENT_INDEX_PREFIX = "segment-index/"


def segment_key(coll: int, seg: int) -> str:
    return f"{SEGMENT_PREFIX}{coll}/{seg}"


def checkpoint_key(channel: str) -> str:
    return f"{CHECKPOINT_PREFIX}{channel}"


def delta_key(coll: int, log_id: int) -> str:
    return f"{DELTA_PREFIX}{coll}/{log_id}"


def dropped_key(coll: int) -> str:
    return f"{DROPPED_PREFIX}{coll}"


def field_index_key(coll: int, index_id: int) -> str:
    return f"{FIELD_INDEX_PREFIX}{coll}/{index_id}"


def segment_index_key(coll: int, seg: int, field: str) -> str:
    return f"{SEGMENT_INDEX_PREFIX}{coll}/{seg}/{field}"


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def encode_segment(info: SegmentInfo) -> bytes:
    data = asdict(info)
    data.pop("index_files")  # kept under segment-index/ keys, one per field
    data["state"] = int(info.state)
    return _dumps(data)


def decode_segment(raw: bytes) -> SegmentInfo:
    data = _known(SegmentInfo, json.loads(raw))
    data["state"] = SegmentState(data["state"])
    data["index_files"] = {}
    return SegmentInfo(**data)


def encode_checkpoint(cp: Checkpoint) -> bytes:
    return _dumps(asdict(cp))


def decode_checkpoint(raw: bytes) -> Checkpoint:
    return Checkpoint(**_known(Checkpoint, json.loads(raw)))


def encode_delta(info: DeltaLogInfo) -> bytes:
    return _dumps(asdict(info))


def decode_delta(raw: bytes) -> DeltaLogInfo:
    return DeltaLogInfo(**_known(DeltaLogInfo, json.loads(raw)))


@dataclass(frozen=True)
class IndexRecord:
    """A field index: what the user asked for (``info``) and, for vector fields, the
    resolved build definition (``spec``; None for scalar indexes). ``scalar_kind`` is the
    scalar index type built per segment (:func:`elanus.core.scalar_index.build_kind`),
    ``""`` for a vector index and for scalar requests that are metadata only (NGRAM, a JSON
    cast to JSON, ...)."""

    info: IndexInfo
    spec: IndexSpec | None
    scalar_kind: str = ""

    @property
    def is_vector(self) -> bool:
        return self.spec is not None

    @property
    def is_built(self) -> bool:
        """Whether segments get a file of this index (vector, or a built scalar kind)."""
        return self.spec is not None or bool(self.scalar_kind)

    @property
    def file_key(self) -> str:
        """The key of this index's file in ``SegmentInfo.index_files`` (and its object folder):
        the field name for a vector index, ``{field}#{index id}`` for a scalar one."""
        if self.spec is not None:
            return self.info.field_name
        return scalar_file_key(self.info.field_name, self.info.id)


def encode_index(record: IndexRecord) -> bytes:
    data = asdict(record.info)
    data["spec"] = None if record.spec is None else record.spec.to_dict()
    if record.scalar_kind:
        data["scalar_kind"] = record.scalar_kind
    return _dumps(data)


def decode_index(raw: bytes) -> IndexRecord:
    data = json.loads(raw)
    spec = data.pop("spec", None)
    kind = str(data.pop("scalar_kind", ""))
    info = IndexInfo(**_known(IndexInfo, data))
    return IndexRecord(info, None if spec is None else IndexSpec.from_dict(spec), kind)


def encode_json_path(path: str) -> bytes:
    """Value of a ``segment-index/`` key."""
    return _dumps({"path": path})


def json_path(raw: bytes) -> str:
    return str(json.loads(raw)["path"])
