"""Runs the examples in README.md and docs/*.md as a reader would after `make run`.

Every fenced ```bash, ```sh and ```python block is a snippet. Each runs against the setup
`make run` creates, started here from the same binaries (`target/debug`): the Bedrock emulator,
and the gateway in front of it with `API_KEY=local-dev-key` and the dummy credentials
`scripts/run.sh` uses, with `OPENAI_BASE_URL` and `OPENAI_API_KEY` exported as the README says.
Both listen on free ports instead of 8080 and 4010, so a snippet's `127.0.0.1:8080`,
`127.0.0.1:4010` and the images example's image server (`127.0.0.1:9000`, started with
`http.server 9000`) are rewritten to this test's addresses; the gateway is started with
`IMAGE_FETCH_ALLOW_HOSTS` for that image server, as the images example tells the reader to.

Each snippet runs in its own temporary folder and must exit 0 within `SNIPPET_SECONDS`. Shell
snippets run under `bash -e -o pipefail` with `curl` meaning `curl --fail-with-body`, so an HTTP
error fails the snippet; Python snippets run with this interpreter (the test environment, which
has `openai` and `langchain-openai`).

A block that cannot run against `make run` (it needs AWS, deploys, or starts the servers itself)
has `<!-- not-run: reason -->` on the line before its opening fence. The reason is required.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, binary, isolated_env, start

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
RUNNABLE = {"bash": "bash", "sh": "bash", "python": "python"}
SNIPPET_SECONDS = 60
API_KEY = "local-dev-key"  # what `make run` gives clients

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<lang>[\w+-]*)\s*$")
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")


@dataclass
class Snippet:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    not_run: str | None  # the opt-out's reason, if the block has one

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(REPO_ROOT)}:{self.line}"


def snippets(path: Path) -> list[Snippet]:
    """The fenced blocks of a Markdown file, with the opt-out marker before each (if any)."""
    found = []
    lines = path.read_text().splitlines()
    at = 0
    while at < len(lines):
        opening = FENCE.match(lines[at])
        if not opening:
            at += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        previous = next((line for line in reversed(lines[:at]) if line.strip()), "")
        marker = NOT_RUN.match(previous)
        body = []
        end = at + 1
        while end < len(lines) and lines[end].strip() != fence:
            line = lines[end]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            end += 1
        found.append(
            Snippet(
                path=path,
                line=at + 1,
                lang=opening["lang"].lower(),
                code="\n".join(body) + "\n",
                not_run=marker["reason"].strip() if marker else None,
            )
        )
        at = end + 1
    return found


ALL = [snippet for document in DOCUMENTS for snippet in snippets(document)]
TO_RUN = [s for s in ALL if s.lang in RUNNABLE and s.not_run is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MakeRun:
    gateway: str  # host:port
    emulator: str  # host:port
    image_port: int


@pytest.fixture(scope="module")
def make_run(tmp_path_factory) -> MakeRun:
    """The emulator and the gateway, configured as `scripts/run.sh` configures them."""
    logs = tmp_path_factory.mktemp("docs-logs")
    emulator = start(
        [str(binary("bedrock-emulator", "BEDROCK_EMULATOR_BIN")), "--host", "127.0.0.1", "--port", "0"],
        isolated_env({}),
        logs / "emulator.log",
        r"bedrock-emulator listening on (http://\S+)",
    )
    image_port = free_port()
    gateway = start(
        [str(binary("bedrock-gateway", "BEDROCK_GATEWAY_BIN"))],
        isolated_env(
            {
                "HOST": "127.0.0.1",
                "PORT": "0",
                "API_KEY": API_KEY,
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "AKIDLOCALEMULATOR",
                "AWS_SECRET_ACCESS_KEY": "local-emulator-secret",
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator.url,
                "AWS_ENDPOINT_URL_BEDROCK": emulator.url,
                "IMAGE_FETCH_ALLOW_HOSTS": f"127.0.0.1:{image_port}",
            }
        ),
        logs / "gateway.log",
        r"bedrock-gateway listening on (http://\S+)",
    )
    yield MakeRun(
        gateway=gateway.url.removeprefix("http://"),
        emulator=emulator.url.removeprefix("http://"),
        image_port=image_port,
    )
    gateway.stop()
    emulator.stop()


def localised(code: str, setup: MakeRun) -> str:
    """The snippet with `make run`'s fixed addresses replaced by this test's."""
    return (
        code.replace("127.0.0.1:8080", setup.gateway)
        .replace("127.0.0.1:4010", setup.emulator)
        .replace("127.0.0.1:9000", f"127.0.0.1:{setup.image_port}")
        .replace("http.server 9000", f"http.server {setup.image_port}")
    )


def snippet_env(setup: MakeRun) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return isolated_env(
        {
            # `python3` and `pip` in a shell snippet are this environment's.
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "OPENAI_BASE_URL": f"http://{setup.gateway}/api/v1",
            "OPENAI_API_KEY": API_KEY,
        }
    )


@pytest.mark.parametrize("snippet", TO_RUN, ids=[s.name for s in TO_RUN])
def test_snippet_runs_as_written(snippet: Snippet, make_run: MakeRun, tmp_path: Path) -> None:
    code = localised(snippet.code, make_run)
    if RUNNABLE[snippet.lang] == "bash":
        command = ["bash", "-e", "-o", "pipefail", "-c",
                   'curl() { command curl --fail-with-body "$@"; }\n' + code]
    else:
        command = [sys.executable, "-c", code]
    try:
        done = subprocess.run(
            command, cwd=tmp_path, env=snippet_env(make_run), capture_output=True,
            text=True, timeout=SNIPPET_SECONDS, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"{snippet.name} did not finish within {SNIPPET_SECONDS}s: {err.stdout!r}")
    assert done.returncode == 0, (
        f"{snippet.name} exited {done.returncode}\n--- snippet\n{code}"
        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )


def test_the_docs_have_runnable_snippets() -> None:
    """Guards the extraction itself: if it found nothing, every test above would pass vacuously."""
    per_file = {s.path.name for s in TO_RUN}
    assert {"README.md", "api.md", "emulator.md"} <= per_file, per_file
    assert len(TO_RUN) >= 15, [s.name for s in TO_RUN]


def stray_markers(path: Path) -> list[int]:
    """Lines (1-based) outside code blocks with a not-run marker that no block follows."""
    lines = path.read_text().splitlines()
    blocks = snippets(path)
    inside = {n for s in blocks for n in range(s.line, s.line + s.code.count("\n") + 2)}
    openings = {s.line for s in blocks}
    stray = []
    for number, line in enumerate(lines, start=1):
        if number in inside or not NOT_RUN.match(line):
            continue
        following = next((n for n in range(number + 1, len(lines) + 1) if lines[n - 1].strip()), None)
        if following not in openings:
            stray.append(number)
    return stray


def test_every_opt_out_gives_a_reason_and_precedes_a_block() -> None:
    for snippet in ALL:
        if snippet.not_run is not None:
            assert snippet.not_run, f"{snippet.name}: say why the block is not run"
    for document in DOCUMENTS:
        assert stray_markers(document) == [], (
            f"{document.name}: a not-run marker must stand right before a fenced block"
        )


def test_extraction_reads_indented_blocks_and_markers(tmp_path: Path) -> None:
    doc = tmp_path / "sample.md"
    doc.write_text(
        "1. Step\n"
        "   <!-- not-run: needs AWS -->\n"
        "   ```bash\n"
        "   aws s3 ls\n"
        "   ```\n"
        "2. Step\n"
        "   ```python\n"
        "   print('hi')\n"
        "   if True:\n"
        "       print('nested')\n"
        "   ```\n"
        "```text\n<!-- not-run: inside a block is just text -->\n```\n"
        "```sh\necho ok\n```\n"
    )
    found = snippets(doc)
    assert [(s.lang, s.not_run) for s in found] == [
        ("bash", "needs AWS"),
        ("python", None),
        ("text", None),
        ("sh", None),
    ]
    assert found[1].code == "print('hi')\nif True:\n    print('nested')\n"
    assert found[3].line == 15
    assert stray_markers(doc) == []
    doc.write_text("<!-- not-run: forgot the block -->\nText.\n")
    assert stray_markers(doc) == [1]
