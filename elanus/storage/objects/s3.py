"""The cluster object store: an S3 bucket (AWS S3, MinIO, moto, ...) through boto3.

URL: ``s3://bucket[/key/prefix]?endpoint=http://host:port[&region=REGION]``.
Object ``k`` is stored as ``key/prefix/k``. Without ``endpoint`` boto3 talks to
AWS; with one it uses path-style addressing, which every S3-compatible server
accepts. Credentials (and the region, unless the URL names one) come from the
usual boto3 sources: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
``AWS_DEFAULT_REGION``, profiles, instance roles. The bucket is created on open
when it does not exist.

How the contract of :mod:`elanus.storage.objects.base` maps onto S3:

* **Atomic, durable objects**: a ``PutObject`` is all-or-nothing and durable
  when acknowledged.
* **Create-once**: ``put_if_absent`` is a conditional ``PutObject`` with
  ``If-None-Match: *``: the server answers 412 to every writer but the first
  (AWS S3 since 2024, MinIO, moto). A 409 (a concurrent conditional write in
  flight) is retried.
* **Listing** uses ``ListObjectsV2`` pages (S3 lists keys in UTF-8 byte order;
  the result is sorted again anyway); ``delete_prefix`` deletes what it listed
  in ``DeleteObjects`` batches of 1000 and returns how many it removed.
* ``local_path`` is always None: nothing is on local disk. Callers that want a
  file (to memory-map) download the object into their cache directory.
* Checksums are only computed when an operation requires them, since several
  S3-compatible servers reject the newer default CRC trailers.

Errors: a missing object raises ``ObjectNotFound``; an unreachable endpoint
raises ``ConnectionError``; any other S3 error raises ``StorageError`` naming
the S3 error code. The store is thread-safe (one boto3 client, which is).
"""

from __future__ import annotations

import builtins
import threading
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from elanus.storage.errors import ObjectNotFound, StorageClosed, StorageError
from elanus.storage.objects.base import validate_key

__all__ = ["S3ObjectStore", "parse_s3_url"]

_DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
_LIST_PAGE = 1000  # keys per ListObjectsV2 page (S3's maximum)
_CONFLICT_RETRIES = 10
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})

# botocore parses its (large) S3 service model once per loader: share one loader
# between stores so opening a store costs milliseconds, not a tenth of a second.
# Sessions stay per store, so credentials are resolved afresh each time.
_loader_lock = threading.Lock()
_loader: botocore.loaders.Loader | None = None


def _new_session() -> boto3.session.Session:
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = botocore.loaders.create_loader()
        core = botocore.session.get_session()
        core.register_component("data_loader", _loader)
    return boto3.session.Session(botocore_session=core)


def parse_s3_url(url: str) -> tuple[str, str, str | None, str | None]:
    """(bucket, key prefix, endpoint, region) of an ``s3://`` URL; the prefix is "" or ends with '/'."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"expected s3://bucket[/prefix][?endpoint=...&region=...], got {url!r}")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    unknown = set(query) - {"endpoint", "region"}
    if unknown:
        raise ValueError(f"unknown s3 URL parameter(s) {sorted(unknown)} in {url!r}")
    endpoint = query.get("endpoint", [None])[-1] or None
    region = query.get("region", [None])[-1] or None
    prefix = unquote(parts.path).strip("/")
    return parts.netloc, f"{prefix}/" if prefix else "", endpoint, region


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3ObjectStore:
    """:class:`~elanus.storage.objects.base.ObjectStore` on an S3 bucket (see module docstring)."""

    def __init__(self, url: str) -> None:
        self._bucket, self._ns, endpoint, region = parse_s3_url(url)
        self._url = url
        session = _new_session()
        config = Config(
            s3={"addressing_style": "path"} if endpoint else {},
            retries={"max_attempts": 5, "mode": "standard"},
            max_pool_connections=32,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: Any = session.client(
            "s3", endpoint_url=endpoint, region_name=region or session.region_name or "us-east-1", config=config
        )
        self._closed = False
        try:
            self._ensure_bucket()
        except BaseException:
            self._client.close()
            raise

    # ----------------------------------------------------------------- writes

    def put(self, key: str, data: bytes) -> None:
        self._call("put", self._client.put_object, Bucket=self._bucket, Key=self._key(key), Body=bytes(data))

    def put_if_absent(self, key: str, data: bytes) -> bool:
        name, body = self._key(key), bytes(data)
        for attempt in range(_CONFLICT_RETRIES):
            try:
                put = self._client.put_object
                self._call("put_if_absent", put, Bucket=self._bucket, Key=name, Body=body, IfNoneMatch="*")
                return True
            except _S3Error as error:
                if error.status == 412 or error.code == "PreconditionFailed":
                    return False
                if error.status != 409:
                    raise
            time.sleep(0.01 * (attempt + 1))  # 409: another conditional write is in flight; ask again
        raise StorageError(f"put_if_absent({key!r}): S3 kept answering 409 ConditionalRequestConflict")

    def delete(self, key: str) -> None:
        self._call("delete", self._client.delete_object, Bucket=self._bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> int:
        names = self._list_names(prefix)
        for start in range(0, len(names), _DELETE_BATCH):
            batch = [{"Key": name} for name in names[start : start + _DELETE_BATCH]]
            delete = {"Objects": batch, "Quiet": True}
            response = self._call("delete_prefix", self._client.delete_objects, Bucket=self._bucket, Delete=delete)
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError(
                    f"delete_prefix({prefix!r}): {len(errors)} object(s) not deleted, "
                    f"first {first.get('Key')!r}: {first.get('Code')} {first.get('Message')}"
                )
        return len(names)

    # ------------------------------------------------------------------ reads

    def get(self, key: str) -> bytes:
        response = self._call("get", self._client.get_object, Bucket=self._bucket, Key=self._key(key), key=key)
        return bytes(response["Body"].read())

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError(f"offset and length must be >= 0, got {offset}, {length}")
        name = self._key(key)
        if length == 0:
            self.size(key)  # still raises ObjectNotFound for a missing object
            return b""
        try:
            span = f"bytes={offset}-{offset + length - 1}"
            response = self._call(
                "get_range", self._client.get_object, Bucket=self._bucket, Key=name, Range=span, key=key
            )
        except _S3Error as error:
            if error.status == 416 or error.code == "InvalidRange":  # offset at or past the end
                return b""
            raise
        return bytes(response["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        response = self._call("size", self._client.head_object, Bucket=self._bucket, Key=self._key(key), key=key)
        return int(response["ContentLength"])

    def list(self, prefix: str = "") -> builtins.list[str]:
        skip = len(self._ns)
        return sorted(name[skip:] for name in self._list_names(prefix))

    def local_path(self, key: str) -> str | None:
        validate_key(key)
        self._check_open()
        return None

    # -------------------------------------------------------------- lifecycle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._client.close()

    def __repr__(self) -> str:
        return f"S3ObjectStore({self._url!r})"

    # --------------------------------------------------------------- internal

    def _key(self, key: str) -> str:
        return self._ns + validate_key(key)

    def _check_open(self) -> None:
        if self._closed:
            raise StorageClosed("object store is closed")

    def _list_names(self, prefix: str) -> builtins.list[str]:
        """Full S3 names (with the store's prefix) of every object under ``prefix``."""
        self._check_open()
        names: builtins.list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            pages = paginator.paginate(
                Bucket=self._bucket, Prefix=self._ns + prefix, PaginationConfig={"PageSize": _LIST_PAGE}
            )
            for page in pages:
                names.extend(item["Key"] for item in page.get("Contents", ()))
        except (ClientError, BotoCoreError) as error:
            raise self._translate("list", error, None) from error
        return names

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return
        except ClientError as error:
            if _status(error) != 404 and _error_code(error) not in _NOT_FOUND | {"NoSuchBucket"}:
                raise self._translate("open", error, None) from error
        except BotoCoreError as error:
            raise self._translate("open", error, None) from error
        region = self._client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self._bucket}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._client.create_bucket(**kwargs)
        except ClientError as error:
            if _error_code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise self._translate("create bucket", error, None) from error

    def _call(self, what: str, method: Any, key: str | None = None, **kwargs: Any) -> Any:
        self._check_open()
        try:
            return method(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise self._translate(what, error, key) from error

    def _translate(self, what: str, error: ClientError | BotoCoreError, key: str | None) -> Exception:
        if isinstance(error, EndpointConnectionError):
            return ConnectionError(f"S3 endpoint unreachable during {what}: {error}")
        if isinstance(error, BotoCoreError):
            return StorageError(f"S3 {what} failed: {error}")
        code, status = _error_code(error), _status(error)
        if key is not None and (code in _NOT_FOUND or status == 404):
            return ObjectNotFound(key)
        return _S3Error(f"S3 {what} on bucket {self._bucket!r} failed: {code} ({status}): {error}", code, status)


class _S3Error(StorageError):
    """An S3 error answer, with its code and HTTP status (for the callers that react to some)."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
