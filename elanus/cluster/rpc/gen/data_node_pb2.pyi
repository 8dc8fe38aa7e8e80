from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataNodeInsertRequest(_message.Message):
    __slots__ = ("collection", "channel", "partition_id", "columns")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    channel: str
    partition_id: int
    columns: _common_pb2.Columns
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., channel: _Optional[str] = ..., partition_id: _Optional[int] = ..., columns: _Optional[_Union[_common_pb2.Columns, _Mapping]] = ...) -> None: ...

class DataNodeInsertResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class DataNodeDeleteRequest(_message.Message):
    __slots__ = ("collection", "channel", "partition_id", "pks")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    PKS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    channel: str
    partition_id: int
    pks: _common_pb2.NdArray
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., channel: _Optional[str] = ..., partition_id: _Optional[int] = ..., pks: _Optional[_Union[_common_pb2.NdArray, _Mapping]] = ...) -> None: ...

class DataNodeDeleteResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class DataNodeUpsertRequest(_message.Message):
    __slots__ = ("collection", "channel", "partition_id", "columns")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    channel: str
    partition_id: int
    columns: _common_pb2.Columns
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., channel: _Optional[str] = ..., partition_id: _Optional[int] = ..., columns: _Optional[_Union[_common_pb2.Columns, _Mapping]] = ...) -> None: ...

class DataNodeUpsertResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class DataNodeSealCollectionRequest(_message.Message):
    __slots__ = ("collection_id", "channel")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    channel: str
    def __init__(self, collection_id: _Optional[int] = ..., channel: _Optional[str] = ...) -> None: ...

class DataNodeSealCollectionResponse(_message.Message):
    __slots__ = ("segment_ids",)
    SEGMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    segment_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, segment_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class DataNodeLastTsRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: str
    def __init__(self, channel: _Optional[str] = ...) -> None: ...

class DataNodeLastTsResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class DataNodeUpdateSchemaRequest(_message.Message):
    __slots__ = ("collection", "channel")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    channel: str
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., channel: _Optional[str] = ...) -> None: ...

class DataNodeUpdateSchemaResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class DataNodeTruncateCollectionRequest(_message.Message):
    __slots__ = ("collection", "channel")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    channel: str
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., channel: _Optional[str] = ...) -> None: ...

class DataNodeTruncateCollectionResponse(_message.Message):
    __slots__ = ("fence",)
    FENCE_FIELD_NUMBER: _ClassVar[int]
    fence: int
    def __init__(self, fence: _Optional[int] = ...) -> None: ...

class DataNodeDropCollectionRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ...) -> None: ...

class DataNodeDropCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataNodeDropPartitionRequest(_message.Message):
    __slots__ = ("collection", "partition_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    partition_id: int
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ..., partition_id: _Optional[int] = ...) -> None: ...

class DataNodeDropPartitionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataNodeWatchChannelRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: str
    def __init__(self, channel: _Optional[str] = ...) -> None: ...

class DataNodeWatchChannelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DataNodeUnwatchChannelRequest(_message.Message):
    __slots__ = ("channel",)
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    channel: str
    def __init__(self, channel: _Optional[str] = ...) -> None: ...

class DataNodeUnwatchChannelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
