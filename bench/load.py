"""Throughput: many concurrent connections for a fixed time with wrk, which is written in C and
uses far less CPU per request than the servers under test."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoadResult:
    requests_per_second: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float


def lua_string(data: bytes) -> str:
    return "".join(f"\\{b}" for b in data)


def run_wrk(url: str, body: bytes, headers: dict[str, str], connections: int, seconds: int, threads: int) -> LoadResult:
    script = 'wrk.method = "POST"\n'
    script += f'wrk.body = "{lua_string(body)}"\n'
    for name, value in headers.items():
        script += f'wrk.headers["{name}"] = "{value}"\n'
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        script_path = f.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script_path, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        Path(script_path).unlink(missing_ok=True)
    if out.returncode != 0:
        raise SystemExit(f"wrk failed: {out.stderr or out.stdout}")
    return parse_wrk(out.stdout)


def duration_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> LoadResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    p50 = duration_ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = duration_ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    return LoadResult(rps, total, errors, p50, p99)
