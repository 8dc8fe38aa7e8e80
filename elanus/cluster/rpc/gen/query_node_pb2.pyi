from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryNodeWatchChannelRequest(_message.Message):
    __slots__ = ("collection", "channel", "seek_offset", "excluded_segments", "partition_ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SEEK_OFFSET_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    channel: str
    seek_offset: int
    excluded_segments: _containers.RepeatedScalarFieldContainer[int]
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., channel: _Optional[str] = ..., seek_offset: _Optional[int] = ..., excluded_segments: _Optional[_Iterable[int]] = ..., partition_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class QueryNodeWatchChannelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeUnwatchChannelRequest(_message.Message):
    __slots__ = ("collection_id", "channel")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    channel: str
    def __init__(self, collection_id: _Optional[int] = ..., channel: _Optional[str] = ...) -> None: ...

class QueryNodeUnwatchChannelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeChannelCaughtUpRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: str
    def __init__(self, channel: _Optional[str] = ...) -> None: ...

class QueryNodeChannelCaughtUpResponse(_message.Message):
    __slots__ = ("caught_up",)
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    caught_up: bool
    def __init__(self, caught_up: _Optional[bool] = ...) -> None: ...

class QueryNodeLoadSegmentRequest(_message.Message):
    __slots__ = ("collection", "segment", "deltas")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    DELTAS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    segment: _common_pb2.SegmentInfo
    deltas: _containers.RepeatedCompositeFieldContainer[_common_pb2.DeltaLogInfo]
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., segment: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ..., deltas: _Optional[_Iterable[_Union[_common_pb2.DeltaLogInfo, _Mapping]]] = ...) -> None: ...

class QueryNodeLoadSegmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeReleaseSegmentRequest(_message.Message):
    __slots__ = ("segment_id",)
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    segment_id: int
    def __init__(self, segment_id: _Optional[int] = ...) -> None: ...

class QueryNodeReleaseSegmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeHandoffRequest(_message.Message):
    __slots__ = ("channel", "segment", "node_id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    channel: str
    segment: _common_pb2.SegmentInfo
    node_id: int
    def __init__(self, channel: _Optional[str] = ..., segment: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ..., node_id: _Optional[int] = ...) -> None: ...

class QueryNodeHandoffResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeDropSealedRequest(_message.Message):
    __slots__ = ("channel", "segment_id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    channel: str
    segment_id: int
    def __init__(self, channel: _Optional[str] = ..., segment_id: _Optional[int] = ...) -> None: ...

class QueryNodeDropSealedResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeSearchRequest(_message.Message):
    __slots__ = ("channel", "request")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    channel: str
    request: _common_pb2.SearchRequest
    def __init__(self, channel: _Optional[str] = ..., request: _Optional[_Union[_common_pb2.SearchRequest, _Mapping]] = ...) -> None: ...

class QueryNodeSearchResponse(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _common_pb2.SearchHits
    def __init__(self, hits: _Optional[_Union[_common_pb2.SearchHits, _Mapping]] = ...) -> None: ...

class QueryNodeQueryRequest(_message.Message):
    __slots__ = ("channel", "request")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    channel: str
    request: _common_pb2.QueryRequest
    def __init__(self, channel: _Optional[str] = ..., request: _Optional[_Union[_common_pb2.QueryRequest, _Mapping]] = ...) -> None: ...

class QueryNodeQueryResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _common_pb2.QueryResult
    def __init__(self, result: _Optional[_Union[_common_pb2.QueryResult, _Mapping]] = ...) -> None: ...

class QueryNodeSearchSegmentsRequest(_message.Message):
    __slots__ = ("segment_ids", "request")
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    request: _common_pb2.SearchRequest
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ..., request: _Optional[_Union[_common_pb2.SearchRequest, _Mapping]] = ...) -> None: ...

class QueryNodeSearchSegmentsResponse(_message.Message):
    __slots__ = ("hits",)
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _common_pb2.SearchHits
    def __init__(self, hits: _Optional[_Union[_common_pb2.SearchHits, _Mapping]] = ...) -> None: ...

class QueryNodeQuerySegmentsRequest(_message.Message):
    __slots__ = ("segment_ids", "request")
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    request: _common_pb2.QueryRequest
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ..., request: _Optional[_Union[_common_pb2.QueryRequest, _Mapping]] = ...) -> None: ...

class QueryNodeQuerySegmentsResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: _common_pb2.QueryResult
    def __init__(self, result: _Optional[_Union[_common_pb2.QueryResult, _Mapping]] = ...) -> None: ...

class QueryNodeApplyDeletesRequest(_message.Message):
    __slots__ = ("segment_ids", "pks", "ts")
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    PKS_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    pks: _common_pb2.NdArray
    ts: _common_pb2.NdArray
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ..., pks: _Optional[_Union[_common_pb2.NdArray, _Mapping]] = ..., ts: _Optional[_Union[_common_pb2.NdArray, _Mapping]] = ...) -> None: ...

class QueryNodeApplyDeletesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryNodeUpdateSchemaRequest(_message.Message):
    __slots__ = ("segment_ids", "schema")
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    schema: bytes
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ..., schema: _Optional[bytes] = ...) -> None: ...

class QueryNodeUpdateSchemaResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
