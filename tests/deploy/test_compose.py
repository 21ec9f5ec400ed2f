"""``compose.yaml`` and the ``Dockerfile``, checked without a Docker engine: parsed with PyYAML
(services, health checks, named volume, configuration only through the environment, the app's
command equal to the one the fault tests run), and with ``docker compose config`` where the
compose client is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.settings import Settings
from tests.faults.server import SERVE_COMMAND

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
SECRETS = {
    "POSTGRES_PASSWORD": "s3cret-for-tests",
    "COMMONS_LEDGER_ADMIN_TOKEN": "an-operator-token-of-30-characters",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${X}``, ``${X:-default}`` and ``${X:?error}``; a missing required one fails."""

    def substitute(match: re.Match[str]) -> str:
        name, kind, argument = match.groups()
        if env.get(name):
            return env[name]
        assert kind != "?", f"{name} is required: {argument}"
        return argument if kind == "-" else ""

    return _VARIABLE.sub(substitute, value)


def test_services_volume_and_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "migrate", "app"}
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "ledger-data:/var/lib/postgresql/data" in db["volumes"]
    assert "ledger-data" in compose["volumes"]  # a named volume, not a host directory
    assert "pg_isready" in db["healthcheck"]["test"]
    migrate = services["migrate"]
    assert migrate["command"] == [SERVE_COMMAND[0], "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    app = services["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    probe = " ".join(app["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/ready" in probe
    assert app["image"] == migrate["image"]  # one image, built once


def test_the_app_runs_what_the_tests_run(compose: dict[str, Any]) -> None:
    command = compose["services"]["app"]["command"]
    # tests/faults/server.py runs SERVE_COMMAND with --host and --port, exactly like this.
    assert command == [*SERVE_COMMAND, "--host", "0.0.0.0", "--port", "8000"]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.MULTILINE)
    assert cmd is not None and json.loads(cmd.group(1)) == command
    assert compose["services"]["app"]["ports"] == ["${COMMONS_LEDGER_PORT:-8000}:8000"]


def test_configuration_comes_only_from_the_environment(compose: dict[str, Any]) -> None:
    known = set(re.findall(r"COMMONS_LEDGER_[A-Z_]+", (ROOT / "api/settings.py").read_text()))
    for name in ("migrate", "app"):
        service = compose["services"][name]
        assert "env_file" not in service and "volumes" not in service and "configs" not in service
        environment = {k: interpolate(str(v), SECRETS) for k, v in service["environment"].items()}
        assert set(environment) <= known, set(environment) - known
        settings = Settings.from_env(environment)  # every value is a valid setting
        assert settings.database_url.startswith("postgresql+asyncpg://ledger:s3cret-for-tests@db:")
    app = {
        k: interpolate(str(v), SECRETS)
        for k, v in compose["services"]["app"]["environment"].items()
    }
    settings = Settings.from_env(app)
    assert settings.admin_token == SECRETS["COMMONS_LEDGER_ADMIN_TOKEN"]
    grace = compose["services"]["app"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) > settings.shutdown_timeout_s
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD is required"):
        interpolate(compose["services"]["app"]["environment"]["COMMONS_LEDGER_DATABASE_URL"], {})


def test_the_image_installs_the_package_and_runs_as_a_user() -> None:
    text = DOCKERFILE.read_text()
    assert "pip install --no-cache-dir ." in text
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    final_stage = text.rsplit("\nFROM ", 1)[1]
    assert "USER " in final_stage


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        found = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if found.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_accepts_the_file() -> None:
    client = _compose_client()
    if client is None:
        pytest.skip("no docker compose client here; the file was checked by parsing it")
    env = {**os.environ, **SECRETS}
    done = subprocess.run(
        [*client, "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
