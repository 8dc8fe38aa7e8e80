from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IndexNodeBuildIndexRequest(_message.Message):
    __slots__ = ("collection_id", "segment", "field_name", "dim", "params", "metric", "vector_type")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VECTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    segment: _common_pb2.SegmentInfo
    field_name: str
    dim: int
    params: _containers.ScalarMap[str, str]
    metric: str
    vector_type: int
    def __init__(self, collection_id: _Optional[int] = ..., segment: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ..., field_name: _Optional[str] = ..., dim: _Optional[int] = ..., params: _Optional[_Mapping[str, str]] = ..., metric: _Optional[str] = ..., vector_type: _Optional[int] = ...) -> None: ...

class IndexNodeBuildIndexResponse(_message.Message):
    __slots__ = ("index_path",)
    INDEX_PATH_FIELD_NUMBER: _ClassVar[int]
    index_path: str
    def __init__(self, index_path: _Optional[str] = ...) -> None: ...

class IndexNodeBuildScalarIndexRequest(_message.Message):
    __slots__ = ("collection_id", "segment", "schema_bytes", "field_name", "index_id", "params", "json_pointer")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_BYTES_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    INDEX_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    JSON_POINTER_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    segment: _common_pb2.SegmentInfo
    schema_bytes: bytes
    field_name: str
    index_id: int
    params: _containers.ScalarMap[str, str]
    json_pointer: str
    def __init__(self, collection_id: _Optional[int] = ..., segment: _Optional[_Union[_common_pb2.SegmentInfo, _Mapping]] = ..., schema_bytes: _Optional[bytes] = ..., field_name: _Optional[str] = ..., index_id: _Optional[int] = ..., params: _Optional[_Mapping[str, str]] = ..., json_pointer: _Optional[str] = ...) -> None: ...

class IndexNodeBuildScalarIndexResponse(_message.Message):
    __slots__ = ("index_path",)
    INDEX_PATH_FIELD_NUMBER: _ClassVar[int]
    index_path: str
    def __init__(self, index_path: _Optional[str] = ...) -> None: ...
