"""Name rules: the texts of Milvus's internal/proxy/util.go (validateCollectionNameOrAlias,
validatePartitionTag, validateFieldName, ValidateDatabaseName) and merr's composition."""

from __future__ import annotations

import pytest

from elanus.access.names import (
    check_collection_name,
    check_database_name,
    check_field_name,
    check_partition_name,
)
from elanus.core import errors
from elanus.core.errors import MilvusError


def error_of(fn: object, *args: str) -> MilvusError:
    assert callable(fn)
    with pytest.raises(MilvusError) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize("name", ["a", "_", "_a1", "Abc_123", "x" * 255])
def test_valid_collection_names(name: str) -> None:
    check_collection_name(name)
    check_collection_name(name, "alias")


@pytest.mark.parametrize(("name", "kind", "text"), [
    ("", "name", "collection name should not be empty: invalid parameter"),
    ("", "alias", "collection alias should not be empty: invalid parameter"),
    ("1abc", "name", "Invalid collection name: 1abc.  the first character of a collection name must be an "
                     "underscore or letter: invalid parameter"),
    ("ab-c", "alias", "Invalid collection alias: ab-c.  collection alias can only contain numbers, "
                      "letters and underscores: invalid parameter"),
    ("a" * 256, "name", f"Invalid collection name: {'a' * 256}.  the length of a collection name must be "
                        "less than 255 characters: invalid parameter"),
    ("a b", "name", "Invalid collection name: a b.  collection name can only contain numbers, letters and "
                    "underscores: invalid parameter"),
])
def test_collection_name_errors(name: str, kind: str, text: str) -> None:
    err = error_of(check_collection_name, name, kind)
    assert (err.code, err.message) == (errors.PARAMETER_INVALID, text)


def test_name_length_counts_utf8_bytes() -> None:
    # 128 characters but 256 bytes: Go's len() says too long before looking at the characters
    name = "é" * 128
    assert "the length of a collection name" in error_of(check_collection_name, name).message
    assert "The length of a field name" in error_of(check_field_name, name).message
    assert "The length of a partition name" in error_of(check_partition_name, name).message
    assert "the length of a database name" in error_of(check_database_name, name).message
    # short non-ASCII names fail on the character rules instead
    assert "first character" in error_of(check_collection_name, "é").message


@pytest.mark.parametrize("name", ["p", "_p", "1p", "p-1", "  padded  ", "a" * 255])
def test_valid_partition_names(name: str) -> None:
    check_partition_name(name)


@pytest.mark.parametrize(("name", "text"), [
    ("", "Invalid partition name: . Partition name should not be empty.: invalid parameter"),
    ("   ", "Invalid partition name: . Partition name should not be empty.: invalid parameter"),
    ("-p", "Invalid partition name: -p. The first character of a partition name must be an underscore or "
           "letter.: invalid parameter"),
    ("p.q", "Invalid partition name: p.q. Partition name can only contain numbers, letters and "
            "underscores.: invalid parameter"),
    ("p" * 256, f"Invalid partition name: {'p' * 256}. The length of a partition name must be less than 255 "
                "characters.: invalid parameter"),
])
def test_partition_name_errors(name: str, text: str) -> None:
    err = error_of(check_partition_name, name)
    assert (err.code, err.message) == (errors.PARAMETER_INVALID, text)


@pytest.mark.parametrize("name", ["f", "_f", "F_1", " spaced ", "nullable", "andy"])
def test_valid_field_names(name: str) -> None:
    check_field_name(name)


@pytest.mark.parametrize(("name", "text"), [
    ("", "field name should not be empty: field name invalid[field=]"),
    (" ", "field name should not be empty: field name invalid[field=]"),
    ("1f", "Invalid field name: 1f. The first character of a field name must be an underscore or letter.: "
           "field name invalid[field=1f]"),
    ("f-1", "Invalid field name: f-1. Field name can only contain numbers, letters, and underscores.: "
            "field name invalid[field=f-1]"),
    ("f" * 256, f"Invalid field name: {'f' * 256}. The length of a field name must be less than 255 "
                f"characters.: field name invalid[field={'f' * 256}]"),
    ("like", "Invalid field name: like. like is keyword in milvus.: field name invalid[field=like]"),
    ("TEXT_MATCH", "Invalid field name: TEXT_MATCH. TEXT_MATCH is keyword in milvus.: "
                   "field name invalid[field=TEXT_MATCH]"),
    ("NuLl", "Invalid field name: NuLl. NuLl is keyword in milvus.: field name invalid[field=NuLl]"),
    ("$meta", "Invalid field name: $meta. The first character of a field name must be an underscore or "
              "letter.: field name invalid[field=$meta]"),
])
def test_field_name_errors(name: str, text: str) -> None:
    err = error_of(check_field_name, name)
    assert (err.code, err.message) == (errors.FIELD_INVALID_NAME, text)


def test_keyword_casing_is_exact_except_null() -> None:
    check_field_name("Like")  # only the listed casings are keywords
    check_field_name("Exists")
    with pytest.raises(MilvusError):
        check_field_name("EXISTS")


@pytest.mark.parametrize("name", ["default", "_db", "db_1", "D" * 255])
def test_valid_database_names(name: str) -> None:
    check_database_name(name)


@pytest.mark.parametrize(("name", "text"), [
    ("", "database name couldn't be empty: invalid database name[database=]"),
    ("1db", "the first character of a database name must be an underscore or letter: "
            "invalid database name[database=1db]"),
    ("db-1", "database name can only contain numbers, letters and underscores: "
             "invalid database name[database=db-1]"),
    ("d" * 256, "the length of a database name must be less than 255 characters: "
                f"invalid database name[database={'d' * 256}]"),
])
def test_database_name_errors(name: str, text: str) -> None:
    err = error_of(check_database_name, name)
    assert (err.code, err.message) == (errors.DATABASE_INVALID_NAME, text)
