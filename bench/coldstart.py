"""Cold start: from spawning a fresh gateway process to its first successful /health and to its
first successful chat completion (which includes creating the AWS SDK client, resolving
credentials and opening the first connection to Bedrock)."""

from __future__ import annotations

import http.client
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from servers import Server, free_port, gateway_env
from workload import gateway_headers, openai_body


@dataclass
class ColdStart:
    health_ms: float
    chat_ms: float
    peak_rss_kib: int


def first_success(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str], deadline: float) -> None:
    """Retries until the gateway answers 200; refused connections mean it is not listening yet."""
    while time.perf_counter() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
        except (ConnectionRefusedError, ConnectionResetError, socket.timeout, http.client.HTTPException):
            pass
        time.sleep(0.0005)
    raise SystemExit(f"gateway never answered {method} {path} with 200")


def measure_once(binary: Path, emulator_url: str, log_dir: Path) -> ColdStart:
    port = free_port()
    env = gateway_env(emulator_url, port)
    with open(log_dir / "coldstart.log", "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = started + 30
        first_success(port, "GET", "/health", None, {}, deadline)
        health = time.perf_counter() - started
        first_success(port, "POST", "/api/v1/chat/completions", openai_body(stream=False), gateway_headers(), deadline)
        chat = time.perf_counter() - started
        peak = Server(process, f"http://127.0.0.1:{port}").memory_kib()["VmHWM"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    return ColdStart(health * 1000, chat * 1000, peak)


def measure(binary: Path, emulator_url: str, log_dir: Path, runs: int) -> ColdStart:
    """Medians over `runs` fresh processes."""
    samples = [measure_once(binary, emulator_url, log_dir) for _ in range(runs)]
    return ColdStart(
        statistics.median(s.health_ms for s in samples),
        statistics.median(s.chat_ms for s in samples),
        int(statistics.median(s.peak_rss_kib for s in samples)),
    )
