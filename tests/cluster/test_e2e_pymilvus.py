"""The standalone pymilvus flow (tests/e2e), run against a cluster of processes through proxy 1.

The e2e test functions that need only ``client``/``uri``/``name`` are imported as they are;
pytest runs them here with this directory's fixtures, once per WAL backend. Left out: the
ones that inspect the in-process ``server`` (shards, memory) or restart a standalone.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_add_field_nulls import (
    test_add_field_rejections,
    test_add_fields_to_unloaded_collection_then_load,
    test_added_field_with_default_reads_default,
    test_added_fields_read_null_then_take_values,
    test_legacy_add_collection_field_rpc,
    test_nullable_and_default_fields_on_insert,
)
from tests.e2e.test_compat_misc import (
    test_builtin_roles_and_user,
    test_collection_not_found_texts,
    test_describe_reports_every_partition,
    test_milvus_only_index_types_build_and_search,
    test_query_window_errors,
    test_truncate_keeps_collection_and_drops_every_row,
    test_upsert_into_auto_id_collection_replaces_rows_under_new_ids,
)
from tests.e2e.test_ddl import test_aliases, test_databases, test_describe_list_rename_stats, test_partitions
from tests.e2e.test_errors import (
    test_collection_not_found,
    test_index_and_database_not_found,
    test_invalid_parameters,
    test_not_loaded_and_partition_errors,
    test_unimplemented_rpc_is_not_retried,
)
from tests.e2e.test_filters_reference import (
    coll,
    test_bad_filters_are_rejected_with_code_1100,
    test_filter_params_match_reference,
    test_filtered_search_returns_passing_rows_with_full_recall,
    test_query_matches_reference,
    test_reference_rows_cover_the_interesting_shapes,
)
from tests.e2e.test_flow import (
    test_delete_and_upsert,
    test_explicit_schema_flush_index_load_search,
    test_query_filters_limit_offset_count,
    test_quick_setup_insert_search_query_get,
)
from tests.e2e.test_scalar_indexes import test_json_path_index_rules, test_json_path_indexes_names_describe_and_filters
from tests.e2e.test_vector_types import (
    test_binary_vectors_indexes_and_metrics,
    test_float32_queries_and_rows_on_a_float16_field,
    test_half_float_and_int8_vectors,
    test_nullable_binary_vectors_with_autoindex,
    test_vector_type_errors,
)

pytestmark = pytest.mark.slow

__all__ = [
    "coll",
    "test_add_field_rejections",
    "test_add_fields_to_unloaded_collection_then_load",
    "test_added_field_with_default_reads_default",
    "test_added_fields_read_null_then_take_values",
    "test_aliases",
    "test_bad_filters_are_rejected_with_code_1100",
    "test_binary_vectors_indexes_and_metrics",
    "test_builtin_roles_and_user",
    "test_collection_not_found",
    "test_collection_not_found_texts",
    "test_databases",
    "test_delete_and_upsert",
    "test_describe_list_rename_stats",
    "test_describe_reports_every_partition",
    "test_explicit_schema_flush_index_load_search",
    "test_filter_params_match_reference",
    "test_filtered_search_returns_passing_rows_with_full_recall",
    "test_float32_queries_and_rows_on_a_float16_field",
    "test_half_float_and_int8_vectors",
    "test_index_and_database_not_found",
    "test_invalid_parameters",
    "test_json_path_index_rules",
    "test_json_path_indexes_names_describe_and_filters",
    "test_legacy_add_collection_field_rpc",
    "test_milvus_only_index_types_build_and_search",
    "test_not_loaded_and_partition_errors",
    "test_nullable_and_default_fields_on_insert",
    "test_nullable_binary_vectors_with_autoindex",
    "test_partitions",
    "test_query_filters_limit_offset_count",
    "test_query_matches_reference",
    "test_query_window_errors",
    "test_quick_setup_insert_search_query_get",
    "test_reference_rows_cover_the_interesting_shapes",
    "test_truncate_keeps_collection_and_drops_every_row",
    "test_unimplemented_rpc_is_not_retried",
    "test_upsert_into_auto_id_collection_replaces_rows_under_new_ids",
    "test_vector_type_errors",
]
