"""Dockerfile, compose.yaml, .dockerignore and .env.example, read statically (no Docker engine runs here): a non-root
image built from requirements.lock with no secret in it, serving on the PORT the settings expect, and a compose file
whose serve and worker share that image, reach the redis service and are probed on /healthz."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from bot.infra.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
SECRET_NAMES = re.compile(r"TOKEN|SECRET|PASSWORD|ENCRYPTION_KEY|API_KEY", re.IGNORECASE)
SECRET_VALUES = re.compile(r"xox[abposre]-|xapp-|ot_(?:pat|clm|cat|ptk)_|whsec_|[A-Za-z0-9_-]{43}=")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    found = []
    for line in text.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(n for n, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def env_values(steps: list[tuple[str, str]]) -> dict[str, str]:
    values = {}
    for word, rest in steps:
        if word == "ENV":
            values.update(pair.split("=", 1) for pair in shlex.split(rest))
    return values


def test_the_image_is_slim_python_and_runs_serve_as_a_user_without_privileges():
    steps = instructions(ROOT / "Dockerfile")
    bases = [rest.split()[0] for word, rest in steps if word == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.1[1-9]-slim", base) for base in bases), bases
    final = final_stage(steps)
    users = [rest for word, rest in final if word == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"} and not users[-1].startswith("root:")
    user_at = max(n for n, (word, _) in enumerate(final) if word == "USER")
    cmd_at = max(n for n, (word, _) in enumerate(final) if word == "CMD")
    assert user_at < cmd_at  # the command runs as that user
    assert final[cmd_at][1] == '["python", "-m", "bot", "serve"]'


def test_it_installs_the_pinned_lock_and_the_venv_the_scripts_expect():
    steps = instructions(ROOT / "Dockerfile")
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "pip install --no-cache-dir -r requirements.lock" in runs
    assert "scripts/_venv.sh" in runs  # the stamp ./scripts/demo and ./scripts/test check: they install nothing
    copies = [rest for word, rest in steps if word == "COPY"]
    assert any("requirements.lock" in copy for copy in copies)
    assert env_values(final_stage(steps))["PATH"].startswith("/app/.venv/bin:")


def test_no_secret_is_baked_into_the_image():
    steps = instructions(ROOT / "Dockerfile")
    for word, rest in steps:
        if word in {"ENV", "ARG", "LABEL"}:
            assert not SECRET_NAMES.search(rest), (word, rest)
        assert not SECRET_VALUES.search(rest), (word, rest)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".env.*", ".git", ".venv", ".hirebot"} <= set(ignored)  # no local secrets, keys or Redis data
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_the_exposed_port_is_the_one_serve_listens_on():
    steps = instructions(ROOT / "Dockerfile")
    exposed = [rest for word, rest in steps if word == "EXPOSE"]
    port = env_values(final_stage(steps))["PORT"]
    assert exposed == [port] == [str(Settings.model_fields["port"].default)]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def probe_port(service: dict) -> int:
    probe = " ".join(service["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", probe)
    assert match, probe
    return int(match.group(1))


def test_compose_runs_serve_and_worker_from_one_image_against_its_redis():
    services = compose()["services"]
    assert set(services) == {"redis", "serve", "worker"}
    serve, worker, redis = services["serve"], services["worker"], services["redis"]
    assert serve["image"] == worker["image"] and serve["build"] == worker["build"] == "."
    assert serve["command"] == ["python", "-m", "bot", "serve"]
    assert worker["command"] == ["python", "-m", "bot", "worker"]
    assert redis["image"].startswith("redis:") and "ports" not in redis  # Redis stays on the inside
    for app in (serve, worker):
        assert app["env_file"] == ".env"
        assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert app["depends_on"]["redis"]["condition"] == "service_healthy"
        assert load_settings(**{k.lower(): v for k, v in app["environment"].items()})  # valid settings


def test_compose_probes_healthz_where_each_process_listens():
    services = compose()["services"]
    serve, worker = services["serve"], services["worker"]
    assert probe_port(serve) == int(serve["environment"]["PORT"])
    assert serve["ports"] == [f"{serve['environment']['PORT']}:{serve['environment']['PORT']}"]
    assert serve["environment"]["SERVE_RUNS_WORKER"] == "false"  # the worker service does the background work
    assert probe_port(worker) == int(worker["environment"]["METRICS_PORT"])
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]


def test_the_env_example_names_only_settings_and_holds_no_secret():
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            names.add(name)
            assert not (SECRET_NAMES.search(name) and value), line  # secrets are left empty
            assert not SECRET_VALUES.search(value), line
    assert names <= {field.upper() for field in Settings.model_fields}
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ENCRYPTION_KEY"} <= names
