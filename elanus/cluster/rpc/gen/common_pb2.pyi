from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NdArray(_message.Message):
    __slots__ = ("kind", "dtype", "shape", "data", "offsets")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        RAW: _ClassVar[NdArray.Kind]
        STRINGS: _ClassVar[NdArray.Kind]
        JSON: _ClassVar[NdArray.Kind]
    RAW: NdArray.Kind
    STRINGS: NdArray.Kind
    JSON: NdArray.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    kind: NdArray.Kind
    dtype: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    offsets: bytes
    def __init__(self, kind: _Optional[_Union[NdArray.Kind, str]] = ..., dtype: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ..., offsets: _Optional[bytes] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: NdArray
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Union[NdArray, _Mapping]] = ...) -> None: ...

class Columns(_message.Message):
    __slots__ = ("columns",)
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    def __init__(self, columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ...) -> None: ...

class Int64List(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class DatabaseInfo(_message.Message):
    __slots__ = ("id", "name", "created_ts", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_TS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    created_ts: int
    properties: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., created_ts: _Optional[int] = ..., properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PartitionInfo(_message.Message):
    __slots__ = ("id", "name", "created_ts")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_TS_FIELD_NUMBER: _ClassVar[int]
    id: int
    name: str
    created_ts: int
    def __init__(self, id: _Optional[int] = ..., name: _Optional[str] = ..., created_ts: _Optional[int] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ("id", "db_id", "db_name", "name", "schema_bytes", "channels", "partitions", "consistency_level", "created_ts", "properties", "aliases")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    DB_ID_FIELD_NUMBER: _ClassVar[int]
    DB_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_TS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    id: int
    db_id: int
    db_name: str
    name: str
    schema_bytes: bytes
    channels: _containers.RepeatedScalarFieldContainer[str]
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionInfo]
    consistency_level: int
    created_ts: int
    properties: _containers.ScalarMap[str, str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[int] = ..., db_id: _Optional[int] = ..., db_name: _Optional[str] = ..., name: _Optional[str] = ..., schema_bytes: _Optional[bytes] = ..., channels: _Optional[_Iterable[str]] = ..., partitions: _Optional[_Iterable[_Union[PartitionInfo, _Mapping]]] = ..., consistency_level: _Optional[int] = ..., created_ts: _Optional[int] = ..., properties: _Optional[_Mapping[str, str]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class IndexInfo(_message.Message):
    __slots__ = ("id", "collection_id", "field_name", "field_id", "index_name", "params", "created_ts", "json_pointer")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CREATED_TS_FIELD_NUMBER: _ClassVar[int]
    JSON_POINTER_FIELD_NUMBER: _ClassVar[int]
    id: int
    collection_id: int
    field_name: str
    field_id: int
    index_name: str
    params: _containers.ScalarMap[str, str]
    created_ts: int
    json_pointer: str
    def __init__(self, id: _Optional[int] = ..., collection_id: _Optional[int] = ..., field_name: _Optional[str] = ..., field_id: _Optional[int] = ..., index_name: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., created_ts: _Optional[int] = ..., json_pointer: _Optional[str] = ...) -> None: ...

class SegmentInfo(_message.Message):
    __slots__ = ("id", "collection_id", "partition_id", "channel", "state", "num_rows", "start_offset", "data_path", "data_size", "min_ts", "max_ts", "index_files")
    class IndexFilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NUM_ROWS_FIELD_NUMBER: _ClassVar[int]
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_PATH_FIELD_NUMBER: _ClassVar[int]
    DATA_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_TS_FIELD_NUMBER: _ClassVar[int]
    MAX_TS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FILES_FIELD_NUMBER: _ClassVar[int]
    id: int
    collection_id: int
    partition_id: int
    channel: str
    state: int
    num_rows: int
    start_offset: int
    data_path: str
    data_size: int
    min_ts: int
    max_ts: int
    index_files: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[int] = ..., collection_id: _Optional[int] = ..., partition_id: _Optional[int] = ..., channel: _Optional[str] = ..., state: _Optional[int] = ..., num_rows: _Optional[int] = ..., start_offset: _Optional[int] = ..., data_path: _Optional[str] = ..., data_size: _Optional[int] = ..., min_ts: _Optional[int] = ..., max_ts: _Optional[int] = ..., index_files: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DeltaLogInfo(_message.Message):
    __slots__ = ("log_id", "collection_id", "channel", "path", "num_rows", "min_ts", "max_ts")
    LOG_ID_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    NUM_ROWS_FIELD_NUMBER: _ClassVar[int]
    MIN_TS_FIELD_NUMBER: _ClassVar[int]
    MAX_TS_FIELD_NUMBER: _ClassVar[int]
    log_id: int
    collection_id: int
    channel: str
    path: str
    num_rows: int
    min_ts: int
    max_ts: int
    def __init__(self, log_id: _Optional[int] = ..., collection_id: _Optional[int] = ..., channel: _Optional[str] = ..., path: _Optional[str] = ..., num_rows: _Optional[int] = ..., min_ts: _Optional[int] = ..., max_ts: _Optional[int] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("channel", "offset", "ts")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    channel: str
    offset: int
    ts: int
    def __init__(self, channel: _Optional[str] = ..., offset: _Optional[int] = ..., ts: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection_id", "partition_ids", "anns_field", "queries", "k", "metric", "params", "filter", "filter_params", "output_fields", "guarantee_ts", "mvcc_ts")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    ANNS_FIELD_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    FILTER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELDS_FIELD_NUMBER: _ClassVar[int]
    GUARANTEE_TS_FIELD_NUMBER: _ClassVar[int]
    MVCC_TS_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    anns_field: str
    queries: NdArray
    k: int
    metric: str
    params: bytes
    filter: str
    filter_params: bytes
    output_fields: _containers.RepeatedScalarFieldContainer[str]
    guarantee_ts: int
    mvcc_ts: int
    def __init__(self, collection_id: _Optional[int] = ..., partition_ids: _Optional[_Iterable[int]] = ..., anns_field: _Optional[str] = ..., queries: _Optional[_Union[NdArray, _Mapping]] = ..., k: _Optional[int] = ..., metric: _Optional[str] = ..., params: _Optional[bytes] = ..., filter: _Optional[str] = ..., filter_params: _Optional[bytes] = ..., output_fields: _Optional[_Iterable[str]] = ..., guarantee_ts: _Optional[int] = ..., mvcc_ts: _Optional[int] = ...) -> None: ...

class SearchHits(_message.Message):
    __slots__ = ("scores", "pks", "valid", "fields", "metric")
    SCORES_FIELD_NUMBER: _ClassVar[int]
    PKS_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    scores: NdArray
    pks: NdArray
    valid: NdArray
    fields: Columns
    metric: str
    def __init__(self, scores: _Optional[_Union[NdArray, _Mapping]] = ..., pks: _Optional[_Union[NdArray, _Mapping]] = ..., valid: _Optional[_Union[NdArray, _Mapping]] = ..., fields: _Optional[_Union[Columns, _Mapping]] = ..., metric: _Optional[str] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("collection_id", "partition_ids", "filter", "filter_params", "output_fields", "limit", "offset", "guarantee_ts", "count_only", "mvcc_ts")
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PARTITION_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    FILTER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    GUARANTEE_TS_FIELD_NUMBER: _ClassVar[int]
    COUNT_ONLY_FIELD_NUMBER: _ClassVar[int]
    MVCC_TS_FIELD_NUMBER: _ClassVar[int]
    collection_id: int
    partition_ids: _containers.RepeatedScalarFieldContainer[int]
    filter: str
    filter_params: bytes
    output_fields: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    offset: int
    guarantee_ts: int
    count_only: bool
    mvcc_ts: int
    def __init__(self, collection_id: _Optional[int] = ..., partition_ids: _Optional[_Iterable[int]] = ..., filter: _Optional[str] = ..., filter_params: _Optional[bytes] = ..., output_fields: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., guarantee_ts: _Optional[int] = ..., count_only: _Optional[bool] = ..., mvcc_ts: _Optional[int] = ...) -> None: ...

class QueryResult(_message.Message):
    __slots__ = ("columns", "count")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    columns: Columns
    count: int
    def __init__(self, columns: _Optional[_Union[Columns, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class LoadProgress(_message.Message):
    __slots__ = ("state", "percent")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    state: int
    percent: int
    def __init__(self, state: _Optional[int] = ..., percent: _Optional[int] = ...) -> None: ...

class ServedSegment(_message.Message):
    __slots__ = ("segment", "node_id")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    segment: SegmentInfo
    node_id: int
    def __init__(self, segment: _Optional[_Union[SegmentInfo, _Mapping]] = ..., node_id: _Optional[int] = ...) -> None: ...
