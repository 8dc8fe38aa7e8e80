from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryCoordLoadRequest(_message.Message):
    __slots__ = ("collection", "partition_ids", "replicas")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    replicas: int
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., partition_ids: _Optional[_Iterable[int]] = ..., replicas: _Optional[int] = ...) -> None: ...

class QueryCoordLoadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryCoordReleaseRequest(_message.Message):
    __slots__ = ("collection_id", "partition_ids")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection_id: _Optional[int] = ..., partition_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class QueryCoordReleaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryCoordLoadProgressRequest(_message.Message):
    __slots__ = ("collection_id", "partition_ids")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection_id: _Optional[int] = ..., partition_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class QueryCoordLoadProgressResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: _common_pb2.LoadProgress
    def __init__(self, progress: _Optional[_Union[_common_pb2.LoadProgress, _Mapping]] = ...) -> None: ...

class QueryCoordLoadedPartitionsRequest(_message.Message):
    __slots__ = ("collection_id",)
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    def __init__(self, collection_id: _Optional[int] = ...) -> None: ...

class QueryCoordLoadedPartitionsResponse(_message.Message):
    __slots__ = ("partition_ids",)
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    partition_ids: _common_pb2.Int64List
    def __init__(self, partition_ids: _Optional[_Union[_common_pb2.Int64List, _Mapping]] = ...) -> None: ...

class QueryCoordIsLoadedRequest(_message.Message):
    __slots__ = ("collection_id",)
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    def __init__(self, collection_id: _Optional[int] = ...) -> None: ...

class QueryCoordIsLoadedResponse(_message.Message):
    __slots__ = ("loaded",)
    LOADED_FIELD_NUMBER: _ClassVar[int]
    loaded: bool
    def __init__(self, loaded: _Optional[bool] = ...) -> None: ...

class QueryCoordShardLeadersRequest(_message.Message):
    __slots__ = ("collection_id",)
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    def __init__(self, collection_id: _Optional[int] = ...) -> None: ...

class QueryCoordShardLeadersResponse(_message.Message):
    __slots__ = ("leaders",)
    class LeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    LEADERS_FIELD_NUMBER: _ClassVar[int]
    leaders: _containers.ScalarMap[str, int]
    def __init__(self, leaders: _Optional[_Mapping[str, int]] = ...) -> None: ...

class QueryCoordSegmentReadyRequest(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: _common_pb2.SegmentInfo
    def __init__(self, segment: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ...) -> None: ...

class QueryCoordSegmentReadyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryCoordDropSegmentsRequest(_message.Message):
    __slots__ = ("collection_id", "segment_ids")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, collection_id: _Optional[int] = ..., segment_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class QueryCoordDropSegmentsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryCoordServedSegmentsRequest(_message.Message):
    __slots__ = ("collection_id",)
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    def __init__(self, collection_id: _Optional[int] = ...) -> None: ...

class QueryCoordServedSegmentsResponse(_message.Message):
    __slots__ = ("served",)
    SERVED_FIELD_NUMBER: _ClassVar[int]
    served: _containers.RepeatedCompositeFieldContainer[_common_pb2.ServedSegment]
    def __init__(self, served: _Optional[_Iterable[_Union[_common_pb2.ServedSegment, _Mapping]]] = ...) -> None: ...
