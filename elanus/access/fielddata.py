"""Conversion between Milvus ``FieldData`` (the gRPC column form) and Elanus
:data:`~elanus.core.batch.Columns`.

The two directions live in two modules, re-exported here as the access layer's one
entry point:

- :mod:`elanus.access.fielddata_in`: insert/upsert payloads → validated columns
  (:func:`columns_from_insert`, :func:`with_auto_ids`), with Milvus's checks and texts
  (vector fields of every dense type in :mod:`elanus.access.fielddata_vectors`);
- :mod:`elanus.access.fielddata_out`: columns → query/search result ``FieldData``
  (:func:`field_data_from_columns`) and primary keys ↔ ``IDs``
  (:func:`ids_from_columns`, :func:`pk_array_from_ids`).
"""

from elanus.access.fielddata_in import JSON_MAX_LENGTH, columns_from_insert, with_auto_ids
from elanus.access.fielddata_out import field_data_from_columns, ids_from_columns, pk_array_from_ids

__all__ = [
    "JSON_MAX_LENGTH",
    "columns_from_insert",
    "field_data_from_columns",
    "ids_from_columns",
    "pk_array_from_ids",
    "with_auto_ids",
]
