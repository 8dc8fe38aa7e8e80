"""Name rules for collections, aliases, partitions, fields and databases (Milvus's texts)."""

from __future__ import annotations

from elanus.core import errors
from elanus.core.errors import MilvusError

MAX_NAME_LENGTH = 255

# Field names Milvus reserves (pkg/common/keywords.go); any casing of ``null`` is also rejected.
FIELD_NAME_KEYWORDS = frozenset({
    "$meta", "like", "exists", "EXISTS", "and", "or", "not", "in",
    "json_contains", "JSON_CONTAINS", "json_contains_all", "JSON_CONTAINS_ALL",
    "json_contains_any", "JSON_CONTAINS_ANY", "array_contains", "ARRAY_CONTAINS",
    "array_contains_all", "ARRAY_CONTAINS_ALL", "array_contains_any", "ARRAY_CONTAINS_ANY",
    "array_length", "ARRAY_LENGTH", "true", "True", "TRUE", "false", "False", "FALSE",
    "text_match", "TEXT_MATCH", "phrase_match", "PHRASE_MATCH", "random_sample", "RANDOM_SAMPLE",
})


def _alpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def _too_long(name: str) -> bool:
    """Go's ``len`` counts UTF-8 bytes, not characters."""
    return len(name.encode()) > MAX_NAME_LENGTH


def check_collection_name(name: str, kind: str = "name") -> None:
    """``kind`` is ``name`` or ``alias`` (the texts differ only by that word)."""
    if not name:
        raise errors.invalid_parameter(f"collection {kind} should not be empty")
    invalid = f"Invalid collection {kind}: {name}. "
    if _too_long(name):
        raise errors.invalid_parameter(
            f"{invalid} the length of a collection {kind} must be less than {MAX_NAME_LENGTH} characters")
    if name[0] != "_" and not _alpha(name[0]):
        raise errors.invalid_parameter(
            f"{invalid} the first character of a collection {kind} must be an underscore or letter")
    for c in name[1:]:
        if c != "_" and not _alpha(c) and not _digit(c):
            raise errors.invalid_parameter(
                f"{invalid} collection {kind} can only contain numbers, letters and underscores")


def check_partition_name(name: str) -> None:
    name = name.strip()
    invalid = f"Invalid partition name: {name}. "
    if not name:
        raise errors.invalid_parameter(invalid + "Partition name should not be empty.")
    if _too_long(name):
        raise errors.invalid_parameter(
            invalid + f"The length of a partition name must be less than {MAX_NAME_LENGTH} characters.")
    if name[0] != "_" and not _alpha(name[0]) and not _digit(name[0]):
        raise errors.invalid_parameter(
            invalid + "The first character of a partition name must be an underscore or letter.")
    for c in name[1:]:
        if c not in "_-" and not _alpha(c) and not _digit(c):
            raise errors.invalid_parameter(
                invalid + "Partition name can only contain numbers, letters and underscores.")


def check_field_name(name: str) -> None:
    name = name.strip()
    if not name:
        raise MilvusError(errors.FIELD_INVALID_NAME, "field name should not be empty: " + errors.compose(
            errors.FIELD_INVALID_NAME, fields={"field": name}))
    invalid = f"Invalid field name: {name}. "
    detail = None
    if _too_long(name):
        detail = invalid + f"The length of a field name must be less than {MAX_NAME_LENGTH} characters."
    elif name[0] != "_" and not _alpha(name[0]):
        detail = invalid + "The first character of a field name must be an underscore or letter."
    elif any(c != "_" and not _alpha(c) and not _digit(c) for c in name[1:]):
        detail = invalid + "Field name can only contain numbers, letters, and underscores."
    elif name in FIELD_NAME_KEYWORDS or name.lower() == "null":
        detail = invalid + f"{name} is keyword in milvus."
    if detail:
        raise MilvusError(errors.FIELD_INVALID_NAME, f"{detail}: " + errors.compose(
            errors.FIELD_INVALID_NAME, fields={"field": name}))


def check_database_name(name: str) -> None:
    detail = None
    if not name:
        detail = "database name couldn't be empty"
    elif _too_long(name):
        detail = f"the length of a database name must be less than {MAX_NAME_LENGTH} characters"
    elif name[0] != "_" and not _alpha(name[0]):
        detail = "the first character of a database name must be an underscore or letter"
    elif any(c != "_" and not _alpha(c) and not _digit(c) for c in name[1:]):
        detail = "database name can only contain numbers, letters and underscores"
    if detail:
        raise MilvusError(errors.DATABASE_INVALID_NAME, f"{detail}: " + errors.compose(
            errors.DATABASE_INVALID_NAME, fields={"database": name}))
