"""deploy/: the compose file and the systemd units are checked by the tools that will run
them when they are here (``docker compose config``, ``systemd-analyze verify``), the compose
file always against the Compose Specification's JSON schema (tests/vectors/compose-spec),
and always for what the scale-out mode needs: three nodes on one key, PostgreSQL and Redis,
health checks on the admin listener, and node command lines the ``aronanet`` CLI accepts."""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from aronanet.cli import build_parser
from aronanet.server.cli_settings import settings_from_args
from aronanet.server.settings import NodeSettings, from_mapping, normalise, read_toml

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMPOSE_SCHEMA = (
    Path(__file__).resolve().parents[2] / "vectors" / "compose-spec" / "compose-spec.json"
)
NODES = ("node1", "node2", "node3")


def compose() -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def node_settings(command: str, tmp_path: Path) -> NodeSettings:
    """The settings a node of the compose file starts with, as ``aronanet serve`` reads them."""
    serve = command.split("exec aronanet ", 1)[1].replace("$${POSTGRES_PASSWORD}", "secret")
    argv = shlex.split(serve)
    argv[argv.index("--data-dir") + 1] = str(tmp_path)
    return settings_from_args(build_parser(argv).parse_args(argv))


def test_the_compose_file_runs_three_nodes_on_one_key_with_health_checks(
    tmp_path: Path,
) -> None:
    services = compose()["services"]
    assert {*NODES, "key", "postgres", "redis", "balancer"} <= set(services)
    data_volumes = set()
    for name in NODES:
        node = services[name]
        [command] = node["command"]
        settings = node_settings(command, tmp_path)
        assert settings.uses_postgres and settings.uses_redis
        assert settings.store.endswith("@postgres:5432/aronanet")
        assert settings.broker == "redis://redis:6379/0" and settings.broker_prefix == "arona"
        assert settings.admin.listen == "0.0.0.0:9100"
        # Every node copies the ONE key the `key` service made into its own data directory.
        assert "install -m 600 /key/node.key /data/node.key" in command
        assert "node-key:/key:ro" in node["volumes"]
        [data] = [v for v in node["volumes"] if v.endswith(":/data")]
        data_volumes.add(data)
        health = " ".join(node["healthcheck"]["test"])
        assert "http://127.0.0.1:9100/healthz" in health
        assert node["depends_on"]["key"]["condition"] == "service_completed_successfully"
        for backend in ("postgres", "redis"):
            assert node["depends_on"][backend]["condition"] == "service_healthy"
    assert len(data_volumes) == len(NODES)  # a data directory each, never shared
    assert services["key"]["command"] == ["fingerprint", "--data-dir", "/key"]
    assert "node-key:/key" in services["key"]["volumes"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert "ping" in services["redis"]["healthcheck"]["test"]
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert {v for v in named if not v.startswith(".")} <= set(compose()["volumes"])


def test_the_balancer_uses_every_node_while_its_healthz_answers() -> None:
    config = (DEPLOY / "haproxy.cfg").read_text()
    assert config.count("option httpchk GET /healthz") == 2
    assert config.count("check port 9100") == 2
    for name in NODES:
        assert f"server {name} {name}:7777" in config and f"server {name} {name}:7778" in config
    assert "mode tcp" in config and "mode http" not in config  # Noise ends at the node


def schema_errors(document: dict[str, Any]) -> list[str]:
    """What the Compose Specification's schema finds wrong with ``document`` (draft 7, as
    the schema declares), each as ``path: message``."""
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_the_compose_file_follows_the_compose_specification() -> None:
    jsonschema.Draft7Validator.check_schema(json.loads(COMPOSE_SCHEMA.read_text()))
    assert schema_errors(compose()) == []


def _misspelt_key(document: dict[str, Any]) -> None:
    document["services"]["node1"]["healthcheck"]["intervall"] = "5s"


def _wrong_type(document: dict[str, Any]) -> None:
    document["services"]["node2"]["depends_on"]["postgres"]["condition"] = "service_ready"


def _unknown_top_level(document: dict[str, Any]) -> None:
    document["service"] = document.pop("services")


@pytest.mark.parametrize("breakage", [_misspelt_key, _wrong_type, _unknown_top_level])
def test_the_schema_check_rejects_a_broken_compose_file(breakage: Any) -> None:
    """The check can fail: copies of the file with one mistake each are refused."""
    broken = copy.deepcopy(compose())
    breakage(broken)
    assert schema_errors(broken) != []


def test_docker_compose_accepts_the_file_when_docker_compose_is_installed() -> None:
    docker = shutil.which("docker")
    has_compose = (
        docker is not None
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    )
    if not has_compose:
        # No compose here: the schema and structure tests above are the check.
        assert compose()["x-node"]["healthcheck"]
        return
    env = {**os.environ, "POSTGRES_PASSWORD": "secret"}
    done = subprocess.run(
        [str(docker), "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    """The template as an instance, with ExecStart pointed at this checkout's ``aronanet``
    (verify refuses a missing executable); any warning fails the test."""
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is needed to check deploy/systemd"
    aronanet = Path(sys.executable).parent / "aronanet"
    template = (DEPLOY / "systemd" / "aronanet@.service").read_text()
    assert "/opt/aronanet/bin/aronanet serve" in template
    instance = tmp_path / "aronanet@node1.service"
    instance.write_text(template.replace("/opt/aronanet/bin/aronanet", str(aronanet)))
    target = tmp_path / "aronanet.target"
    shutil.copyfile(DEPLOY / "systemd" / "aronanet.target", target)
    done = subprocess.run(
        [analyze, "verify", "--man=no", str(instance), str(target)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_the_unit_starts_a_scale_out_node_from_its_config(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "aronanet@.service").read_text()
    [exec_start] = re.findall(r"^ExecStart=(.*)$", unit, re.MULTILINE)
    argv = shlex.split(exec_start)[1:]
    assert argv[:3] == ["serve", "--config", "/etc/aronanet/%i.toml"]
    parsed = build_parser(argv).parse_args(argv)
    assert parsed.command == "serve"
    assert "PartOf=aronanet.target" in unit and "WantedBy=aronanet.target" in unit
    assert "LoadCredential=node.key:/etc/aronanet/node.key" in unit
    settings = from_mapping(normalise(read_toml(DEPLOY / "systemd" / "node1.toml")))
    assert settings.uses_postgres and settings.uses_redis and settings.admin.listen
