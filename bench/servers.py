"""Starting the binaries under test: the Bedrock emulator and the gateway in front of it, on
loopback, with their stderr in log files and their memory readable from /proc."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

API_KEY = "bench-key"
MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


@dataclass
class Server:
    process: subprocess.Popen
    url: str

    @property
    def host_port(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)

    def memory_kib(self) -> dict[str, int]:
        """VmHWM (peak resident set) and VmRSS (current) in KiB, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) for key in ("VmHWM", "VmRSS")}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(extra: dict[str, str]) -> dict[str, str]:
    """No developer AWS profile, token or config file may reach the processes under test."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.update(extra)
    return env


def gateway_env(emulator_url: str, port: int) -> dict[str, str]:
    return isolated_env(
        {
            # Production logging: one access-log line per request at info.
            "RUST_LOG": os.environ.get("RUST_LOG", "info"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "API_KEY": API_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
            "AWS_SECRET_ACCESS_KEY": "bench-secret",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
            "AWS_ENDPOINT_URL_BEDROCK": emulator_url,
        }
    )


def start(command: list[str], env: dict[str, str], log_path: Path, pattern: str) -> Server:
    """Runs `command` and waits for its stdout line matching `pattern` (group 1 = its URL)."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    line = process.stdout.readline().decode()
    match = re.search(pattern, line)
    if not match:
        process.kill()
        raise SystemExit(f"{command[0]} did not start: {line!r}; see {log_path}")
    return Server(process, match.group(1))


def start_emulator(binary: Path, log_dir: Path) -> Server:
    # Whole event-stream frames, as Bedrock sends them; no artificial token delay.
    return start(
        [str(binary), "--host", "127.0.0.1", "--port", "0", "--no-fragment"],
        isolated_env({}),
        log_dir / "emulator.log",
        r"bedrock-emulator listening on (http://\S+)",
    )


def start_gateway(binary: Path, emulator_url: str, log_dir: Path, extra: dict[str, str] | None = None,
                  name: str = "gateway") -> Server:
    env = gateway_env(emulator_url, 0)
    env.update(extra or {})
    return start(
        [str(binary)],
        env,
        log_dir / f"{name}.log",
        r"bedrock-gateway listening on (http://\S+)",
    )


def quota_key_document() -> str:
    """The bench key as a named key with every quota (never reached), so that each request is
    admitted and its tokens recorded by the in-memory quota backend."""
    return json.dumps({"keys": [{"name": "bench", "key": API_KEY, "rpm": 10**9, "tpm": 10**12,
                                 "tokens_per_day": 10**15}]})


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"nothing listening on {host}:{port}")
