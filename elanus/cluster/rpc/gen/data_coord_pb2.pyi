from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataCoordRegisterSegmentRequest(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: _common_pb2.SegmentInfo
    def __init__(self, info: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ...) -> None: ...

class DataCoordRegisterSegmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordSealSegmentsRequest(_message.Message):
    __slots__ = ("segment_ids",)
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class DataCoordSealSegmentsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordSegmentFlushedRequest(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: _common_pb2.SegmentInfo
    def __init__(self, info: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ...) -> None: ...

class DataCoordSegmentFlushedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordAddDeltaLogRequest(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: _common_pb2.DeltaLogInfo
    def __init__(self, info: _Optional[_Union[_common_pb2.DeltaLogInfo, _Mapping]] = ...) -> None: ...

class DataCoordAddDeltaLogResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordUpdateCheckpointRequest(_message.Message):
    __slots__ = ("cp",)
    CP_FIELD_NUMBER: _ClassVar[int]
    cp: _common_pb2.Checkpoint
    def __init__(self, cp: _Optional[_Union[_common_pb2.Checkpoint, _Mapping]] = ...) -> None: ...

class DataCoordUpdateCheckpointResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordGetCheckpointRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: str
    def __init__(self, channel: _Optional[str] = ...) -> None: ...

class DataCoordGetCheckpointResponse(_message.Message):
    __slots__ = ("checkpoint",)
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    checkpoint: _common_pb2.Checkpoint
    def __init__(self, checkpoint: _Optional[_Union[_common_pb2.Checkpoint, _Mapping]] = ...) -> None: ...

class DataCoordListSegmentsRequest(_message.Message):
    __slots__ = ("collection_id", "states")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    states: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection_id: _Optional[int] = ..., states: _Optional[_Iterable[int]] = ...) -> None: ...

class DataCoordListSegmentsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[_common_pb2.SegmentInfo]
    def __init__(self, segments: _Optional[_Iterable[_Union[_common_pb2.SegmentInfo, _Mapping]]] = ...) -> None: ...

class DataCoordChannelSegmentsRequest(_message.Message):
    __slots__ = ("channel", "states")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    channel: str
    states: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, channel: _Optional[str] = ..., states: _Optional[_Iterable[int]] = ...) -> None: ...

class DataCoordChannelSegmentsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[_common_pb2.SegmentInfo]
    def __init__(self, segments: _Optional[_Iterable[_Union[_common_pb2.SegmentInfo, _Mapping]]] = ...) -> None: ...

class DataCoordListDeltaLogsRequest(_message.Message):
    __slots__ = ("collection_id", "channel")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    channel: str
    def __init__(self, collection_id: _Optional[int] = ..., channel: _Optional[str] = ...) -> None: ...

class DataCoordListDeltaLogsResponse(_message.Message):
    __slots__ = ("delta_logs",)
    DELTA_LOGS_FIELD_NUMBER: _ClassVar[int]
    delta_logs: _containers.RepeatedCompositeFieldContainer[_common_pb2.DeltaLogInfo]
    def __init__(self, delta_logs: _Optional[_Iterable[_Union[_common_pb2.DeltaLogInfo, _Mapping]]] = ...) -> None: ...

class DataCoordCollectionRowCountRequest(_message.Message):
    __slots__ = ("collection_id", "partition_ids")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection_id: _Optional[int] = ..., partition_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class DataCoordCollectionRowCountResponse(_message.Message):
    __slots__ = ("num_rows",)
    NUM_ROWS_FIELD_NUMBER: _ClassVar[int]
    num_rows: int
    def __init__(self, num_rows: _Optional[int] = ...) -> None: ...

class DataCoordFlushRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ...) -> None: ...

class DataCoordFlushResponse(_message.Message):
    __slots__ = ("segment_ids", "flush_ts")
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FLUSH_TS_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    flush_ts: int
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ..., flush_ts: _Optional[int] = ...) -> None: ...

class DataCoordFlushDoneRequest(_message.Message):
    __slots__ = ("segment_ids", "flush_ts", "collection_id")
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FLUSH_TS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    flush_ts: int
    collection_id: int
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ..., flush_ts: _Optional[int] = ..., collection_id: _Optional[int] = ...) -> None: ...

class DataCoordFlushDoneResponse(_message.Message):
    __slots__ = ("done",)
    DONE_FIELD_NUMBER: _ClassVar[int]
    done: bool
    def __init__(self, done: _Optional[bool] = ...) -> None: ...

class DataCoordCreateIndexRequest(_message.Message):
    __slots__ = ("collection", "field_name", "index_name", "params")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    field_name: str
    index_name: str
    params: _containers.ScalarMap[str, str]
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., field_name: _Optional[str] = ..., index_name: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DataCoordCreateIndexResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordDescribeIndexesRequest(_message.Message):
    __slots__ = ("collection_id", "index_name", "field_name")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    index_name: str
    field_name: str
    def __init__(self, collection_id: _Optional[int] = ..., index_name: _Optional[str] = ..., field_name: _Optional[str] = ...) -> None: ...

class DataCoordDescribeIndexesResponse(_message.Message):
    __slots__ = ("indexes",)
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    indexes: _containers.RepeatedCompositeFieldContainer[_common_pb2.IndexInfo]
    def __init__(self, indexes: _Optional[_Iterable[_Union[_common_pb2.IndexInfo, _Mapping]]] = ...) -> None: ...

class DataCoordIndexProgressRequest(_message.Message):
    __slots__ = ("collection_id", "index_id")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    index_id: int
    def __init__(self, collection_id: _Optional[int] = ..., index_id: _Optional[int] = ...) -> None: ...

class DataCoordIndexProgressResponse(_message.Message):
    __slots__ = ("total_rows", "indexed_rows", "pending_segments")
    TOTAL_ROWS_FIELD_NUMBER: _ClassVar[int]
    INDEXED_ROWS_FIELD_NUMBER: _ClassVar[int]
    PENDING_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    total_rows: int
    indexed_rows: int
    pending_segments: int
    def __init__(self, total_rows: _Optional[int] = ..., indexed_rows: _Optional[int] = ..., pending_segments: _Optional[int] = ...) -> None: ...

class DataCoordDropIndexRequest(_message.Message):
    __slots__ = ("collection_id", "index_name")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    index_name: str
    def __init__(self, collection_id: _Optional[int] = ..., index_name: _Optional[str] = ...) -> None: ...

class DataCoordDropIndexResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordIndexBuiltRequest(_message.Message):
    __slots__ = ("segment_id", "field_name", "index_path")
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_PATH_FIELD_NUMBER: _ClassVar[int]
    segment_id: int
    field_name: str
    index_path: str
    def __init__(self, segment_id: _Optional[int] = ..., field_name: _Optional[str] = ..., index_path: _Optional[str] = ...) -> None: ...

class DataCoordIndexBuiltResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordDropCollectionRequest(_message.Message):
    __slots__ = ("collection_id",)
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    def __init__(self, collection_id: _Optional[int] = ...) -> None: ...

class DataCoordDropCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordDropPartitionRequest(_message.Message):
    __slots__ = ("collection_id", "partition_id")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    partition_id: int
    def __init__(self, collection_id: _Optional[int] = ..., partition_id: _Optional[int] = ...) -> None: ...

class DataCoordDropPartitionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataCoordTruncateCollectionRequest(_message.Message):
    __slots__ = ("collection_id", "fences")
    class FencesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    FENCES_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    fences: _containers.ScalarMap[str, int]
    def __init__(self, collection_id: _Optional[int] = ..., fences: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DataCoordTruncateCollectionResponse(_message.Message):
    __slots__ = ("dropped_segment_ids",)
    DROPPED_SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    dropped_segment_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, dropped_segment_ids: _Optional[_Iterable[int]] = ...) -> None: ...
