"""Fixtures for the browser tests: Debian's Chromium driven by Playwright for Python, the
Bedrock emulator and the gateway on loopback ports, and the test page (tests/browser/page)
served from two other origins: one the gateway's CORS_ALLOWED_ORIGINS allows, one it does not.

Chromium is Debian's (`apt-get install chromium`, `/usr/bin/chromium`; `CHROMIUM` names
another); Playwright's own browser download (`playwright install`) is never used. The binaries
are started the way the client-library tests start them (tests/clients/python/conftest.py,
loaded here as a module), so the browser tests need `cargo build --workspace --bins` first.

Screenshots go to target/browser/ (an artefact of `make test`): every test saves the page as
it was at its end, and some save steps along the way.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import struct
import sys
import threading
import time
import urllib.request
import zlib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
PAGE_DIR = HERE / "page"
VENDOR_DIR = HERE / "node_modules" / "@fortaine" / "fetch-event-source" / "lib" / "esm"
ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", REPO_ROOT / "target" / "browser"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The flags Chromium needs here: as root (--no-sandbox), without a GPU, and without its own
# calls home, which this machine's closed network would refuse many times a second.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

API_KEY = "browser-tests-key"
DEFAULT_MODEL = "us.amazon.nova-lite-v1:0"

def _client_servers():
    """tests/clients/python/conftest.py as a plain module: its start/binary/isolated_env."""
    spec = importlib.util.spec_from_file_location(
        "client_servers", REPO_ROOT / "tests" / "clients" / "python" / "conftest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


servers = _client_servers()


class PageHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the test page, and NextChat's stream reader under /vendor/fetch-event-source/."""

    VENDOR_PREFIX = "/vendor/fetch-event-source/"

    def translate_path(self, path: str) -> str:
        if path.startswith(self.VENDOR_PREFIX):
            page_dir, self.directory = self.directory, str(VENDOR_DIR)
            try:
                return super().translate_path("/" + path[len(self.VENDOR_PREFIX) :])
            finally:
                self.directory = page_dir
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass


def serve_page() -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(PageHandler, directory=str(PAGE_DIR))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def page_origins():
    """(allowed, disallowed): the test page served from two origins."""
    if not (VENDOR_DIR / "index.js").is_file():
        pytest.exit(
            "tests/browser/node_modules is missing: run `npm ci` in tests/browser "
            "(make test does)",
            returncode=2,
        )
    started = [serve_page(), serve_page()]
    yield started[0][1], started[1][1]
    for server, _ in started:
        server.shutdown()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    server = servers.start(
        [
            str(servers.binary("bedrock-emulator", "BEDROCK_EMULATOR_BIN")),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        servers.isolated_env({}),
        logs / "emulator.log",
        r"bedrock-emulator listening on (http://\S+)",
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gateway(emulator, page_origins, tmp_path_factory):
    """The gateway, allowing browsers from the first page origin only. Its log (stderr) is
    `gateway.log_path`."""
    logs = tmp_path_factory.mktemp("logs")
    env = servers.isolated_env(
        {
            "HOST": "127.0.0.1",
            "PORT": "0",
            "API_KEY": API_KEY,
            "DEFAULT_MODEL": DEFAULT_MODEL,
            "CORS_ALLOWED_ORIGINS": page_origins[0],
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "emulator-secret",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url,
            "AWS_ENDPOINT_URL_BEDROCK": emulator.url,
        }
    )
    server = servers.start(
        [str(servers.binary("bedrock-gateway", "BEDROCK_GATEWAY_BIN"))],
        env,
        logs / "gateway.log",
        r"bedrock-gateway listening on (http://\S+)",
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.exit(
            f"{CHROMIUM} not found: the browser tests need Debian's Chromium "
            "(apt-get install chromium), or CHROMIUM=/path/to/chromium",
            returncode=2,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def screenshot(request):
    """`screenshot(page, step)` saves target/browser/<test>-<step>.png and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, step: str) -> Path:
        suite = request.node.module.__name__.removeprefix("test_")
        name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
        path = ARTIFACTS / f"{suite}-{name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def converse_calls(emulator_url: str) -> list[dict]:
    """Every Converse/ConverseStream call the emulator received: operation, modelId, body."""
    with urllib.request.urlopen(f"{emulator_url}/_emulator/calls/converse", timeout=5) as reply:
        return json.load(reply)["calls"]


def wait_for(condition, timeout: float = 10.0, interval: float = 0.05):
    """Polls `condition()` until it returns something truthy, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def png(width: int, height: int) -> bytes:
    """A small valid RGB PNG: a colour gradient."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
