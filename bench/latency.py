"""Added latency: the same conversation sent one request at a time over one kept-alive
connection, straight to the emulator's Converse API and through the gateway, alternating so
both see the same background load. Time is measured to the last byte of the response."""

from __future__ import annotations

import http.client
import statistics
import time
from dataclasses import dataclass


@dataclass
class Endpoint:
    name: str
    host: str
    port: int
    path: str
    body: bytes
    headers: dict[str, str]


class Client:
    """One persistent HTTP/1.1 connection that times whole request/response exchanges."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=30)
        self.conn.connect()
        self.conn.sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY: no Nagle delay on requests

    def exchange(self) -> float:
        """Seconds from sending the request to reading the last byte of the body."""
        e = self.endpoint
        started = time.perf_counter()
        self.conn.request("POST", e.path, e.body, e.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"{e.name}: HTTP {response.status}: {body[:300]!r}")
        return elapsed


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Summary:
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @staticmethod
    def of(samples: list[float]) -> "Summary":
        return Summary(
            percentile(samples, 50) * 1000,
            percentile(samples, 99) * 1000,
            statistics.fmean(samples) * 1000,
        )


def compare(direct: Endpoint, gateway: Endpoint, requests: int, warmup: int) -> tuple[Summary, Summary]:
    """Sends `warmup` then `requests` exchanges to each, interleaved; returns (direct, gateway)."""
    a, b = Client(direct), Client(gateway)
    for _ in range(warmup):
        a.exchange()
        b.exchange()
    direct_times, gateway_times = [], []
    for i in range(requests):
        # Alternate who goes first so neither always follows the other's garbage or cache misses.
        if i % 2:
            direct_times.append(a.exchange())
            gateway_times.append(b.exchange())
        else:
            gateway_times.append(b.exchange())
            direct_times.append(a.exchange())
    return Summary.of(direct_times), Summary.of(gateway_times)
