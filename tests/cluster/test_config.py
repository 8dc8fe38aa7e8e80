"""Settings: defaults < TOML file < environment < flags; cluster mode needs all three stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from elanus.cluster import config
from elanus.cluster.config import ConfigError, Settings


def test_defaults_are_standalone() -> None:
    s = config.load(env={})
    assert s == Settings() and not s.cluster and s.role == "standalone"
    assert s.validate() is s


def test_file_then_env_then_flags(tmp_path: Path) -> None:
    f = tmp_path / "elanus.toml"
    f.write_text('[storage]\nmeta = "etcd://a:1"\nobjects = "s3://b"\nwal = "objectstore"\n'
                 '[server]\nrole = "querynode"\nport = 1\ninternal_port = 7\n'
                 '[seal]\nmax_rows = 50\n[session]\nttl = 4.0\nkeepalive = 1\n')
    s = config.load(str(f), env={"ELANUS_WAL": "nats://c:2", "ELANUS_PORT": "3", "ELANUS_META": ""})
    assert (s.meta, s.objects, s.wal, s.role, s.port, s.internal_port) == (
        "etcd://a:1", "s3://b", "nats://c:2", "querynode", 3, 7)
    assert s.seal_policy.max_rows == 50 and s.session_ttl == 4.0 and s.session_keepalive == 1.0
    assert s.cluster and s.dial_host == "127.0.0.1"
    assert s.override(host="0.0.0.0", advertise_host="node-7").dial_host == "node-7"
    s = s.override(port=None, role="datanode").validate()
    assert s.port == 3 and s.role == "datanode"


def test_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[server]\nbogus = 1\n")
    with pytest.raises(ConfigError, match=r"server\.bogus"):
        config.load(str(f), env={})
    f.write_text('[server]\nport = "x"\n')
    with pytest.raises(ConfigError, match="expected int"):
        config.load(str(f), env={})
    with pytest.raises(ConfigError, match="ELANUS_PORT"):
        config.load(env={"ELANUS_PORT": "nope"})
    with pytest.raises(ConfigError, match="unknown role"):
        Settings(role="chef").validate()
    with pytest.raises(ConfigError, match="ELANUS_OBJECTS, ELANUS_WAL"):
        Settings(role="proxy", meta="etcd://x").validate()
    with pytest.raises(ConfigError, match="config file"):
        config.load(str(tmp_path / "missing.toml"), env={})


def test_cli_rejects_bad_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from elanus import cli

    monkeypatch.setattr(cli, "configure_process", lambda: None)  # leave this process's allocators alone
    for var in ("ELANUS_META", "ELANUS_OBJECTS", "ELANUS_WAL", "ELANUS_ROLE"):
        monkeypatch.delenv(var, raising=False)
    assert cli.main(["run", "--role", "chef"]) == 2
    assert "unknown role" in capsys.readouterr().err
    monkeypatch.setenv("ELANUS_META", "etcd://127.0.0.1:1")
    assert cli.main(["run", "--role", "querynode"]) == 2
    assert "needs ELANUS_OBJECTS, ELANUS_WAL" in capsys.readouterr().err
