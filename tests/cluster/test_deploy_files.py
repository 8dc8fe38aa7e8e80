"""The deployment files in deploy/ are consistent: every role, its resources, its gRPC health probes.

Docker and Kubernetes are not available where the tests run, so the files are
checked by parsing them: every role of the cluster is deployed, every role
container has resource requests/limits and gRPC health probes on the port the
role actually serves (the settings say which), the URLs in the settings name
services that exist on the ports they serve, and every ``ELANUS_*`` variable is
one that :mod:`elanus.cluster.config` reads.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from elanus.cli import main as cli_main
from elanus.cluster.config import ENV_VARS, ROLES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CLUSTER_ROLES = {"mixcoord", "proxy", "querynode", "datanode", "indexnode"}
INFRA = {"etcd", "minio", "nats"}
OTHER_ENV = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def _role_of(command: list[str]) -> str | None:
    """The role of an ``elanus run --role R`` command line (None when it is not one)."""
    if len(command) >= 3 and command[0] == "run" and command[1] == "--role":
        return command[2]
    return None


def _check_env_names(names: set[str], where: str) -> None:
    unknown = {n for n in names if n.startswith("ELANUS_") and n not in ENV_VARS}
    assert not unknown, f"{where}: variables config.py does not read: {sorted(unknown)}"
    foreign = {n for n in names if not n.startswith("ELANUS_") and n not in OTHER_ENV}
    assert not foreign, f"{where}: unexpected variables {sorted(foreign)}"


def _role_port(role: str, env: dict[str, Any]) -> int:
    """The port a role serves gRPC (and health) on: the Milvus port for proxies, else the internal port."""
    return int(env["ELANUS_PORT"] if role == "proxy" else env["ELANUS_INTERNAL_PORT"])


# -- Dockerfile --------------------------------------------------------------------------------------------


def test_dockerfile() -> None:
    lines = [ln.strip() for ln in (DEPLOY / "Dockerfile").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    froms = [ln.split()[1] for ln in lines if ln.upper().startswith("FROM ")]
    assert froms and froms[-1] == "python:3.11-slim", froms
    final = lines[max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM ")):]
    assert any(re.search(r"\bpip install\b", ln) for ln in final), "the final stage installs the package"
    users = [ln.split()[1] for ln in final if ln.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "runs as a non-root user"
    assert 'ENTRYPOINT ["elanus"]' in final
    copied = " ".join(ln for ln in lines if ln.upper().startswith("COPY "))
    for needed in ("pyproject.toml", "README.md", "elanus"):  # what `pip wheel .` needs
        assert needed in copied


# -- compose -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(doc, dict)
    return doc


def _compose_roles(compose: dict[str, Any]) -> dict[str, str]:
    """service name -> role, for the services that run an Elanus role."""
    out = {}
    for name, svc in compose["services"].items():
        role = _role_of(list(svc.get("command") or []))
        if role is not None:
            out[name] = role
    return out


def test_compose_has_infra_and_every_role(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= INFRA
    roles = _compose_roles(compose)
    assert set(roles.values()) == CLUSTER_ROLES
    assert set(roles.values()) <= set(ROLES)
    assert sum(r == "proxy" for r in roles.values()) == 2
    assert sum(r == "querynode" for r in roles.values()) == 2
    assert "--jetstream" in services["nats"]["command"]


def test_compose_roles_have_resources_and_grpc_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, role in _compose_roles(compose).items():
        svc = services[name]
        env = svc["environment"]
        limits = svc["deploy"]["resources"]["limits"]
        assert limits.get("cpus") and limits.get("memory"), name
        assert svc["deploy"]["resources"]["reservations"].get("memory"), name
        test = svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "elanus", "health"], name
        address = test[test.index("--address") + 1]
        host, port = address.rsplit(":", 1)
        assert host in (svc.get("hostname"), name) and host == env["ELANUS_HOST"], name
        assert int(port) == _role_port(role, env), name
        if role == "proxy":
            published = [str(p).split(":") for p in svc["ports"]]
            assert all(int(p[-1]) == int(env["ELANUS_PORT"]) for p in published), name
        for dep, cond in svc["depends_on"].items():
            assert dep in services and cond["condition"] == "service_healthy", name
    for name in INFRA:
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["deploy"]["resources"]["limits"], name


def test_compose_env_matches_config_and_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in _compose_roles(compose):
        env = services[name]["environment"]
        _check_env_names(set(env), f"compose service {name}")
        assert {"ELANUS_META", "ELANUS_OBJECTS", "ELANUS_WAL"} <= set(env)
        meta, objects, wal = urlsplit(env["ELANUS_META"]), urlsplit(env["ELANUS_OBJECTS"]), env["ELANUS_WAL"]
        assert meta.scheme == "etcd" and meta.hostname == "etcd" and meta.port == 2379
        assert "--listen-client-urls=http://0.0.0.0:2379" in services["etcd"]["command"]
        assert objects.scheme == "s3"
        endpoint = urlsplit(parse_qs(objects.query)["endpoint"][0])
        assert endpoint.hostname == "minio" and endpoint.port == 9000  # MinIO's default API port
        assert wal == "objectstore" or (urlsplit(wal).scheme == "nats" and urlsplit(wal).hostname == "nats"
                                        and urlsplit(wal).port == 4222)
        minio_env = services["minio"]["environment"]
        assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
            minio_env["MINIO_ROOT_USER"], minio_env["MINIO_ROOT_PASSWORD"])


def test_health_subcommand_exists() -> None:
    """The compose healthchecks call `elanus health --address`; nothing listens on port 1, so: exit 1."""
    assert cli_main(["health", "--address", "127.0.0.1:1", "--timeout", "0.5"]) == 1


# -- Kubernetes --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _config(docs: list[dict[str, Any]]) -> dict[str, str]:
    return dict(_by_kind(docs, "ConfigMap")["elanus-config"]["data"])


def _role_deployments(docs: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """role -> (Deployment, its role container)."""
    out = {}
    for dep in _by_kind(docs, "Deployment").values():
        for container in dep["spec"]["template"]["spec"]["containers"]:
            role = _role_of(list(container.get("args") or []))
            if role is not None:
                assert role not in out, f"two deployments run {role}"
                out[role] = (dep, container)
    return out


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"]
    present = sorted(p.name for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present


def test_k8s_has_infra_and_every_role(k8s: list[dict[str, Any]]) -> None:
    stateful = _by_kind(k8s, "StatefulSet")
    services = _by_kind(k8s, "Service")
    for name in INFRA:
        assert f"elanus-{name}" in stateful and f"elanus-{name}" in services, name
    roles = _role_deployments(k8s)
    assert set(roles) == CLUSTER_ROLES
    assert roles["proxy"][0]["spec"]["replicas"] >= 2
    assert roles["querynode"][0]["spec"]["replicas"] >= 2
    for workload in [*stateful.values(), *(d for d, _ in roles.values())]:
        selector = workload["spec"]["selector"]["matchLabels"]
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), workload["metadata"]["name"]


def test_k8s_roles_have_resources_and_grpc_probes(k8s: list[dict[str, Any]]) -> None:
    config = _config(k8s)
    for role, (dep, container) in _role_deployments(k8s).items():
        res = container["resources"]
        for part in ("requests", "limits"):
            assert res[part].get("cpu") and res[part].get("memory"), (role, part)
        port = _role_port(role, config)
        assert port in [p["containerPort"] for p in container["ports"]], role
        assert "readinessProbe" in container and "livenessProbe" in container, role
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in container:
                assert container[probe]["grpc"]["port"] == port, (role, probe)
        pod = dep["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, role
        host = {e["name"]: e for e in container.get("env", [])}.get("ELANUS_HOST")
        assert host and host["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP", role
    for sts in _by_kind(k8s, "StatefulSet").values():
        for container in sts["spec"]["template"]["spec"]["containers"]:
            assert container["resources"]["limits"] and container["resources"]["requests"]
            assert container["readinessProbe"] and container["livenessProbe"]


def _resolve(service_port: dict[str, Any], container: dict[str, Any]) -> int:
    target = service_port.get("targetPort", service_port["port"])
    if isinstance(target, int):
        return target
    return int(next(p["containerPort"] for p in container["ports"] if p.get("name") == target))


def test_k8s_env_and_urls_match_config_and_services(k8s: list[dict[str, Any]]) -> None:
    config = _config(k8s)
    secret = _by_kind(k8s, "Secret")["elanus-s3"]
    _check_env_names(set(config) | set(secret["stringData"]), "ConfigMap elanus-config + Secret elanus-s3")
    services = _by_kind(k8s, "Service")
    stateful = _by_kind(k8s, "StatefulSet")

    def served(host: str | None, port: int | None) -> None:
        svc = services[str(host)]
        sport = next(p for p in svc["spec"]["ports"] if p["port"] == port)
        container = stateful[str(host)]["spec"]["template"]["spec"]["containers"][0]
        assert _resolve(sport, container) in [p["containerPort"] for p in container["ports"]]

    meta = urlsplit(config["ELANUS_META"])
    assert meta.scheme == "etcd"
    served(meta.hostname, meta.port)
    endpoint = urlsplit(parse_qs(urlsplit(config["ELANUS_OBJECTS"]).query)["endpoint"][0])
    served(endpoint.hostname, endpoint.port)
    wal = config["ELANUS_WAL"]
    if wal != "objectstore":
        served(urlsplit(wal).hostname, urlsplit(wal).port)
    for role, (_dep, container) in _role_deployments(k8s).items():
        refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
        assert refs == {"elanus-config", "elanus-s3"}, role
        _check_env_names({e["name"] for e in container.get("env", [])}, f"deployment {role}")
    proxy_dep, proxy = _role_deployments(k8s)["proxy"]
    proxy_svc = services["elanus-proxy"]
    assert proxy_svc["spec"]["selector"].items() <= proxy_dep["spec"]["template"]["metadata"]["labels"].items()
    assert [_resolve(p, proxy) for p in proxy_svc["spec"]["ports"]] == [int(config["ELANUS_PORT"])]


def test_readme_commands_in_compose_header() -> None:
    """The compose file says how to start it (the command a user copies must name this file)."""
    header = [ln[1:].strip() for ln in (DEPLOY / "compose.yaml").read_text().splitlines() if ln.startswith("#")]
    commands = [shlex.split(ln) for ln in header if ln.startswith("docker compose")]
    assert commands and all("deploy/compose.yaml" in c for c in commands)


def test_nats_syncs_before_acknowledging(compose: dict[str, Any]) -> None:
    """The WAL contract: an acknowledged append survives a host crash, so JetStream must fsync
    before its PubAck (``sync_interval: always``), in compose and in Kubernetes alike."""
    nats = compose["services"]["nats"]
    conf_name = nats["configs"][0]["source"]
    assert "sync_interval: always" in compose["configs"][conf_name]["content"]
    assert "/etc/nats/nats.conf" in nats["command"]
    docs = [d for d in yaml.safe_load_all((DEPLOY / "k8s" / "nats.yaml").read_text()) if d]
    conf_maps = [d for d in docs if d["kind"] == "ConfigMap"]
    assert conf_maps and "sync_interval: always" in conf_maps[0]["data"]["nats.conf"]
    stateful = next(d for d in docs if d["kind"] == "StatefulSet")
    args = stateful["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["--config", "/etc/nats/nats.conf"]
