"""`python -m bot worker` as deployed: METRICS_PORT serves /healthz and /metrics, LOG_FORMAT=json logs JSON lines,
and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-test-worker-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_a_worker_with_metrics_port_serves_metrics_and_logs_json(redis_url, namespace, sandbox_url, tmp_path):
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env.update(REDIS_URL=redis_url, REDIS_NAMESPACE=namespace, OPENTRAIN_BASE_URL=sandbox_url,
               SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL="http://127.0.0.1:9/api/", METRICS_PORT=str(port),
               LOG_FORMAT="json", ENCRYPTION_KEY=Fernet.generate_key().decode(), DATA_DIR=str(tmp_path))
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], env=env, cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", worker)
        assert health.status_code == 200 and health.json() == {"ok": True, "redis": "ok"}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "hirebot_inbox_depth 0.0" in metrics and "hirebot_metrics_redis_up 1.0" in metrics
        assert 'hirebot_conversations{state="asking"} 0.0' in metrics and "process_cpu_seconds_total" in metrics
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines()]  # every line one JSON object
    messages = [record["message"] for record in records]
    assert f"metrics on port {port} (GET /metrics, GET /healthz)" in messages
    assert any(message.startswith("hirebot worker running") for message in messages)
    assert BOT_TOKEN not in stderr
