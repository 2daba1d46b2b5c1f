"""Starts the real binaries for the client-library tests: the Bedrock emulator and the gateway
in front of it, each on a free loopback port, once per test session.

The binaries are not built here (a build inside pytest would hide compile errors behind a
timeout); `scripts/test.sh` runs `cargo build --workspace --bins` first. Set
`BEDROCK_GATEWAY_BIN` / `BEDROCK_EMULATOR_BIN` to test other builds (release, for example).

Fixtures for the test files:
- `gateway_url`: the gateway's root, `http://127.0.0.1:PORT` (`/health` lives there).
- `base_url`: the OpenAI base URL, `gateway_url + "/api/v1"`.
- `api_key`: the key the gateway accepts.
- `client`: an `openai.OpenAI` client on `base_url` with `max_retries=0`, so 429 and 5xx
  answers surface at once instead of being retried with back-off.
- `emulator_url`: the emulator's root, for tests that talk to Bedrock's side directly.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))

API_KEY = "client-tests-key"
# The model most tests talk to: an inference profile id, as real deployments use.
CHAT_MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
# Deliberately not the gateway's built-in fallback, so `gpt-*` mapping proves DEFAULT_MODEL is read.
DEFAULT_MODEL = "us.amazon.nova-lite-v1:0"
# A model that takes images (Claude 3.5 Haiku does not on Bedrock).
VISION_MODEL = "us.amazon.nova-lite-v1:0"

STARTUP_SECONDS = 30


@dataclass
class Server:
    """A started binary: its process, the URL it announced, and where its stderr goes."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def binary(name: str, env_var: str) -> Path:
    path = Path(os.environ.get(env_var) or TARGET_DIR / "debug" / name)
    if not path.is_file():
        pytest.exit(
            f"{path} does not exist: build the binaries first with "
            f"`cargo build --workspace --bins` (or set {env_var})",
            returncode=2,
        )
    return path


def isolated_env(extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment: no developer AWS profile, bearer token or config files can leak
    into the gateway and send a test request to real AWS."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RUST_LOG": os.environ.get("RUST_LOG", "info"),
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


def start(command: list[str], env: dict[str, str], log_path: Path, pattern: str) -> Server:
    """Runs `command` and waits for the stdout line matching `pattern` (group 1 = the URL).

    stdout is drained by a thread for the process's whole life and stderr goes to a file, so
    a chatty server can never block on a full pipe.
    """
    log = open(log_path, "wb")
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL
    )
    log.close()
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        for raw in process.stdout:
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    seen = []
    while True:
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            line = None
        if line is None:
            server = Server(process, "", log_path)
            server.stop()
            stderr = log_path.read_text(errors="replace")[-4000:]
            pytest.exit(
                f"{command[0]} did not announce its address within {STARTUP_SECONDS}s "
                f"(exit code {process.poll()}).\nstdout: {''.join(seen)}\nstderr: {stderr}",
                returncode=2,
            )
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return Server(process, match.group(1), log_path)


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory) -> str:
    logs = tmp_path_factory.mktemp("logs")
    server = start(
        [str(binary("bedrock-emulator", "BEDROCK_EMULATOR_BIN")), "--host", "127.0.0.1", "--port", "0"],
        isolated_env({}),
        logs / "emulator.log",
        r"bedrock-emulator listening on (http://\S+)",
    )
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def gateway_url(emulator_url, tmp_path_factory) -> str:
    logs = tmp_path_factory.mktemp("logs")
    env = isolated_env(
        {
            "HOST": "127.0.0.1",
            "PORT": "0",
            "API_KEY": API_KEY,
            "DEFAULT_MODEL": DEFAULT_MODEL,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "emulator-secret",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
            "AWS_ENDPOINT_URL_BEDROCK": emulator_url,
        }
    )
    server = start(
        [str(binary("bedrock-gateway", "BEDROCK_GATEWAY_BIN"))],
        env,
        logs / "gateway.log",
        r"bedrock-gateway listening on (http://\S+)",
    )
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def base_url(gateway_url) -> str:
    return f"{gateway_url}/api/v1"


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def client(base_url, api_key) -> openai.OpenAI:
    with openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30) as c:
        yield c
