"""Settings of one Elanus process: where the stores are, which role it runs, where it listens.

Sources, later ones winning: built-in defaults < ``--config FILE`` (TOML) < environment
variables < command-line flags (applied by the caller with :meth:`Settings.override`).

TOML layout (every table and key optional)::

    [storage]
    meta = "etcd://127.0.0.1:2379"                       # ELANUS_META
    objects = "s3://elanus?endpoint=http://127.0.0.1:9000"  # ELANUS_OBJECTS
    wal = "nats://127.0.0.1:4222"                         # ELANUS_WAL ("objectstore" = WAL on the objects)

    [server]
    role = "querynode"        # ELANUS_ROLE
    host = "127.0.0.1"        # ELANUS_HOST: the host the ports are bound on
    advertise_host = ""       # ELANUS_ADVERTISE_HOST: the host other processes dial (default: host;
                              #   for host 0.0.0.0, this machine's address)
    port = 19530              # ELANUS_PORT: the proxy's Milvus port
    internal_port = 0         # ELANUS_INTERNAL_PORT: role gRPC port (0 = any free port)
    data_dir = "./elanus-data"  # ELANUS_DATA_DIR: standalone data, or a cluster node's caches

    [session]
    ttl = 10.0                # ELANUS_SESSION_TTL: lease TTL of the process's session (seconds)
    keepalive = 2.0           # ELANUS_SESSION_KEEPALIVE: keepalive interval (seconds)

    [seal]
    max_rows = 1000000        # ELANUS_SEAL_MAX_ROWS
    max_bytes = 134217728     # ELANUS_SEAL_MAX_BYTES
    idle_seconds = 600.0      # ELANUS_SEAL_IDLE_SECONDS

Contract: a process is in *cluster mode* exactly when ``meta`` is set; cluster mode then
needs ``objects`` and ``wal`` too (:meth:`Settings.validate`). Without ``meta`` every role
stays embedded (standalone, on ``data_dir``).
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from elanus.cluster.types import SealPolicy

ROLES = ("proxy", "rootcoord", "datacoord", "querycoord", "mixcoord", "querynode", "datanode",
         "indexnode", "standalone")

# environment variable -> (settings attribute, type)
ENV_VARS: dict[str, tuple[str, type]] = {
    "ELANUS_META": ("meta", str),
    "ELANUS_OBJECTS": ("objects", str),
    "ELANUS_WAL": ("wal", str),
    "ELANUS_ROLE": ("role", str),
    "ELANUS_HOST": ("host", str),
    "ELANUS_ADVERTISE_HOST": ("advertise_host", str),
    "ELANUS_PORT": ("port", int),
    "ELANUS_INTERNAL_PORT": ("internal_port", int),
    "ELANUS_DATA_DIR": ("data_dir", str),
    "ELANUS_SESSION_TTL": ("session_ttl", float),
    "ELANUS_SESSION_KEEPALIVE": ("session_keepalive", float),
    "ELANUS_SEAL_MAX_ROWS": ("seal_max_rows", int),
    "ELANUS_SEAL_MAX_BYTES": ("seal_max_bytes", int),
    "ELANUS_SEAL_IDLE_SECONDS": ("seal_idle_seconds", float),
}

# TOML table -> {key: settings attribute}
_TOML: dict[str, dict[str, str]] = {
    "storage": {"meta": "meta", "objects": "objects", "wal": "wal"},
    "server": {"role": "role", "host": "host", "advertise_host": "advertise_host", "port": "port",
               "internal_port": "internal_port", "data_dir": "data_dir"},
    "session": {"ttl": "session_ttl", "keepalive": "session_keepalive"},
    "seal": {"max_rows": "seal_max_rows", "max_bytes": "seal_max_bytes", "idle_seconds": "seal_idle_seconds"},
}


class ConfigError(ValueError):
    """The settings are malformed or incomplete (the message says which source and key)."""


@dataclass(frozen=True)
class Settings:
    meta: str = ""
    objects: str = ""
    wal: str = ""
    role: str = "standalone"
    host: str = "127.0.0.1"
    advertise_host: str = ""
    port: int = 19530
    internal_port: int = 0
    data_dir: str = "./elanus-data"
    session_ttl: float = 10.0
    session_keepalive: float = 2.0
    seal_max_rows: int = 1_000_000
    seal_max_bytes: int = 128 * 1024 * 1024
    seal_idle_seconds: float = 600.0

    @property
    def cluster(self) -> bool:
        """Whether the stores are shared infrastructure (cluster mode)."""
        return bool(self.meta)

    @property
    def dial_host(self) -> str:
        """The host peers reach this process on (see ``advertise_host``)."""
        if self.advertise_host:
            return self.advertise_host
        if self.host in ("0.0.0.0", "::", ""):
            return socket.gethostbyname(socket.gethostname())
        return self.host

    @property
    def seal_policy(self) -> SealPolicy:
        return SealPolicy(self.seal_max_rows, self.seal_max_bytes, self.seal_idle_seconds)

    def override(self, **values: Any) -> Settings:
        """A copy with the given attributes replaced; ``None`` values are ignored (unset flags)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def validate(self) -> Settings:
        """Raise :class:`ConfigError` for an unknown role or an incomplete cluster setup."""
        if self.role not in ROLES:
            raise ConfigError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")
        if self.role != "standalone":
            missing = [n for n, v in (("ELANUS_META", self.meta), ("ELANUS_OBJECTS", self.objects),
                                      ("ELANUS_WAL", self.wal)) if not v]
            if missing:
                raise ConfigError(f"role {self.role} runs in cluster mode and needs {', '.join(missing)} "
                                  "(environment or [storage] in the config file)")
        if self.session_ttl <= self.session_keepalive:
            raise ConfigError("session ttl must be larger than the keepalive interval")
        return self


def _coerce(value: Any, kind: type, source: str) -> Any:
    try:
        if kind is int and isinstance(value, bool):
            raise TypeError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: expected {kind.__name__}, got {value!r}") from None


def _types() -> dict[str, type]:
    defaults = Settings()
    return {f.name: type(getattr(defaults, f.name)) for f in fields(Settings)}


def from_toml(path: str | Path) -> dict[str, Any]:
    """The settings a TOML file gives (unknown tables or keys raise :class:`ConfigError`)."""
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    types = _types()
    out: dict[str, Any] = {}
    for table, body in doc.items():
        keys = _TOML.get(table)
        if keys is None or not isinstance(body, dict):
            raise ConfigError(f"config file {path}: unknown table [{table}]")
        for key, value in body.items():
            attr = keys.get(key)
            if attr is None:
                raise ConfigError(f"config file {path}: unknown key {table}.{key}")
            out[attr] = _coerce(value, types[attr], f"{path}: {table}.{key}")
    return out


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the ``ELANUS_*`` variables give (empty variables count as unset)."""
    out: dict[str, Any] = {}
    for var, (attr, kind) in ENV_VARS.items():
        value = env.get(var, "")
        if value != "":
            out[attr] = _coerce(value, kind, var)
    return out


def load(config_file: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the config file (if any), then the environment (``os.environ`` by default)."""
    settings = Settings()
    if config_file:
        settings = settings.override(**from_toml(config_file))
    return settings.override(**from_env(os.environ if env is None else env))
