from . import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RootCoordAllocTimestampRequest(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class RootCoordAllocTimestampResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class RootCoordAllocIdsRequest(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class RootCoordAllocIdsResponse(_message.Message):
    __slots__ = ("first_id",)
    FIRST_ID_FIELD_NUMBER: _ClassVar[int]
    first_id: int
    def __init__(self, first_id: _Optional[int] = ...) -> None: ...

class RootCoordCreateDatabaseRequest(_message.Message):
    __slots__ = ("name", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    properties: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RootCoordCreateDatabaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordDropDatabaseRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RootCoordDropDatabaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordListDatabasesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordListDatabasesResponse(_message.Message):
    __slots__ = ("databases",)
    DATABASES_FIELD_NUMBER: _ClassVar[int]
    databases: _containers.RepeatedCompositeFieldContainer[_common_pb2.DatabaseInfo]
    def __init__(self, databases: _Optional[_Iterable[_Union[_common_pb2.DatabaseInfo, _Mapping]]] = ...) -> None: ...

class RootCoordDescribeDatabaseRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RootCoordDescribeDatabaseResponse(_message.Message):
    __slots__ = ("database",)
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    database: _common_pb2.DatabaseInfo
    def __init__(self, database: _Optional[_Union[_common_pb2.DatabaseInfo, _Mapping]] = ...) -> None: ...

class RootCoordAlterDatabaseRequest(_message.Message):
    __slots__ = ("name", "properties", "delete_keys")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    DELETE_KEYS_FIELD_NUMBER: _ClassVar[int]
    name: str
    properties: _containers.ScalarMap[str, str]
    delete_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ..., delete_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class RootCoordAlterDatabaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordCreateCollectionRequest(_message.Message):
    __slots__ = ("db", "name", "schema_bytes", "num_shards", "consistency_level", "properties", "num_partitions")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DB_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_BYTES_FIELD_NUMBER: _ClassVar[int]
    NUM_SHARDS_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    NUM_PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    db: str
    name: str
    schema_bytes: bytes
    num_shards: int
    consistency_level: int
    properties: _containers.ScalarMap[str, str]
    num_partitions: int
    def __init__(self, db: _Optional[str] = ..., name: _Optional[str] = ..., schema_bytes: _Optional[bytes] = ..., num_shards: _Optional[int] = ..., consistency_level: _Optional[int] = ..., properties: _Optional[_Mapping[str, str]] = ..., num_partitions: _Optional[int] = ...) -> None: ...

class RootCoordCreateCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordDropCollectionRequest(_message.Message):
    __slots__ = ("db", "name")
    DB_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    db: str
    name: str
    def __init__(self, db: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RootCoordDropCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordDescribeCollectionRequest(_message.Message):
    __slots__ = ("db", "name", "collection_id")
    DB_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    db: str
    name: str
    collection_id: int
    def __init__(self, db: _Optional[str] = ..., name: _Optional[str] = ..., collection_id: _Optional[int] = ...) -> None: ...

class RootCoordDescribeCollectionResponse(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: _common_pb2.CollectionInfo
    def __init__(self, collection: _Optional[_Union[_common_pb2.CollectionInfo, _Mapping]] = ...) -> None: ...

class RootCoordListCollectionsRequest(_message.Message):
    __slots__ = ("db",)
    DB_FIELD_NUMBER: _ClassVar[int]
    db: str
    def __init__(self, db: _Optional[str] = ...) -> None: ...

class RootCoordListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[_common_pb2.CollectionInfo]
    def __init__(self, collections: _Optional[_Iterable[_Union[_common_pb2.CollectionInfo, _Mapping]]] = ...) -> None: ...

class RootCoordAllCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordAllCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[_common_pb2.CollectionInfo]
    def __init__(self, collections: _Optional[_Iterable[_Union[_common_pb2.CollectionInfo, _Mapping]]] = ...) -> None: ...

class RootCoordTruncateCollectionRequest(_message.Message):
    __slots__ = ("db", "name")
    DB_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    db: str
    name: str
    def __init__(self, db: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RootCoordTruncateCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordRenameCollectionRequest(_message.Message):
    __slots__ = ("db", "old", "new_db", "new")
    DB_FIELD_NUMBER: _ClassVar[int]
    OLD_FIELD_NUMBER: _ClassVar[int]
    NEW_DB_FIELD_NUMBER: _ClassVar[int]
    NEW_FIELD_NUMBER: _ClassVar[int]
    db: str
    old: str
    new_db: str
    new: str
    def __init__(self, db: _Optional[str] = ..., old: _Optional[str] = ..., new_db: _Optional[str] = ..., new: _Optional[str] = ...) -> None: ...

class RootCoordRenameCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordAlterCollectionRequest(_message.Message):
    __slots__ = ("db", "name", "properties", "delete_keys")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DB_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    DELETE_KEYS_FIELD_NUMBER: _ClassVar[int]
    db: str
    name: str
    properties: _containers.ScalarMap[str, str]
    delete_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, db: _Optional[str] = ..., name: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ..., delete_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class RootCoordAlterCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordAddCollectionFieldRequest(_message.Message):
    __slots__ = ("db", "name", "field_bytes")
    DB_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_BYTES_FIELD_NUMBER: _ClassVar[int]
    db: str
    name: str
    field_bytes: bytes
    def __init__(self, db: _Optional[str] = ..., name: _Optional[str] = ..., field_bytes: _Optional[bytes] = ...) -> None: ...

class RootCoordAddCollectionFieldResponse(_message.Message):
    __slots__ = ("ts",)
    TS_FIELD_NUMBER: _ClassVar[int]
    ts: int
    def __init__(self, ts: _Optional[int] = ...) -> None: ...

class RootCoordCreatePartitionRequest(_message.Message):
    __slots__ = ("db", "collection", "partition")
    DB_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    db: str
    collection: str
    partition: str
    def __init__(self, db: _Optional[str] = ..., collection: _Optional[str] = ..., partition: _Optional[str] = ...) -> None: ...

class RootCoordCreatePartitionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordDropPartitionRequest(_message.Message):
    __slots__ = ("db", "collection", "partition")
    DB_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    db: str
    collection: str
    partition: str
    def __init__(self, db: _Optional[str] = ..., collection: _Optional[str] = ..., partition: _Optional[str] = ...) -> None: ...

class RootCoordDropPartitionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordCreateAliasRequest(_message.Message):
    __slots__ = ("db", "alias", "collection")
    DB_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    db: str
    alias: str
    collection: str
    def __init__(self, db: _Optional[str] = ..., alias: _Optional[str] = ..., collection: _Optional[str] = ...) -> None: ...

class RootCoordCreateAliasResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordDropAliasRequest(_message.Message):
    __slots__ = ("db", "alias")
    DB_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    db: str
    alias: str
    def __init__(self, db: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class RootCoordDropAliasResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordAlterAliasRequest(_message.Message):
    __slots__ = ("db", "alias", "collection")
    DB_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    db: str
    alias: str
    collection: str
    def __init__(self, db: _Optional[str] = ..., alias: _Optional[str] = ..., collection: _Optional[str] = ...) -> None: ...

class RootCoordAlterAliasResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RootCoordDescribeAliasRequest(_message.Message):
    __slots__ = ("db", "alias")
    DB_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    db: str
    alias: str
    def __init__(self, db: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class RootCoordDescribeAliasResponse(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class RootCoordListAliasesRequest(_message.Message):
    __slots__ = ("db", "collection")
    DB_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    db: str
    collection: str
    def __init__(self, db: _Optional[str] = ..., collection: _Optional[str] = ...) -> None: ...

class RootCoordListAliasesResponse(_message.Message):
    __slots__ = ("aliases",)
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, aliases: _Optional[_Iterable[str]] = ...) -> None: ...
