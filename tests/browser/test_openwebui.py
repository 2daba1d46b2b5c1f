"""`make test-openwebui`: Open WebUI (PyPI `open-webui`, installed by scripts/test-openwebui.sh
into .venv-openwebui/) started offline over the gateway and the emulator, driven in Chromium:
the default model (the first of /models), tools on a model without tool use, streaming, an
image, and reasoning. `/?model=<id>` chooses the model. Skipped without OPEN_WEBUI_BIN.

Screenshots: target/browser/openwebui-<test>-<step>.png.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from conftest import API_KEY, converse_calls, png, servers, wait_for

OPEN_WEBUI_BIN = os.environ.get("OPEN_WEBUI_BIN", "")
STARTUP_SECONDS = 240
ASSISTANT = ".chat-assistant"
NOVA = "us.amazon.nova-lite-v1:0"
CLAUDE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
TOOL_LESS = "mistral.mistral-7b-instruct-v0:2"
REASONING = "us.deepseek.r1-v1:0"

pytestmark = pytest.mark.skipif(not OPEN_WEBUI_BIN, reason="set OPEN_WEBUI_BIN (make test-openwebui)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def open_webui(gateway, tmp_path_factory):
    """Open WebUI on a free port, offline, without login or Ollama, with a fresh DATA_DIR and
    the gateway as its one OpenAI connection."""
    data = tmp_path_factory.mktemp("open-webui-data")
    port = free_port()
    env = servers.isolated_env(
        {
            "HOME": str(data),
            "DATA_DIR": str(data),
            "WEBUI_SECRET_KEY": "browser-tests-secret",
            "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
            "WEBUI_AUTH": "false",
            "ENABLE_OLLAMA_API": "false",
            "OPENAI_API_BASE_URL": f"{gateway.url}/api/v1",
            "OPENAI_API_KEY": API_KEY,
            "ANONYMIZED_TELEMETRY": "false",
            "DO_NOT_TRACK": "true",
            "SCARF_NO_ANALYTICS": "true",
        }
    )
    log_path = data / "open-webui.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [OPEN_WEBUI_BIN, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return process.poll() is not None  # stop waiting once it has exited

    started = time.monotonic()
    wait_for(healthy, timeout=STARTUP_SECONDS, interval=0.5)
    if process.poll() is not None or not healthy():
        process.kill()
        pytest.fail(f"Open WebUI did not start:\n{log_path.read_text(errors='replace')[-4000:]}")
    print(f"Open WebUI ready in {time.monotonic() - started:.1f} s")
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def webui(browser, open_webui, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    screenshot(page, "end")
    context.close()


def open_chat(page, base: str, model: str | None = None) -> None:
    page.goto(f"{base}/?model={model}" if model else f"{base}/")
    page.wait_for_selector("#chat-input", timeout=60_000)
    # A new browser gets Open WebUI's release notes first.
    try:
        page.get_by_text("Okay, Let's Go!").click(timeout=5_000)
    except PlaywrightTimeoutError:
        pass


def send(page, text: str) -> None:
    page.locator("#chat-input").click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def reply_text(page, contains: str, timeout_ms: int = 60_000) -> str:
    """The last assistant message once it contains `contains` and has not changed for 1.5 s."""
    last = page.locator(ASSISTANT).last
    last.get_by_text(contains, exact=False).first.wait_for(timeout=timeout_ms)
    text, stable_since = last.inner_text(), time.monotonic()
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() - stable_since < 1.5 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        now = last.inner_text()
        if now != text:
            text, stable_since = now, time.monotonic()
    return text


def last_stream_call(emulator) -> dict:
    return [c for c in converse_calls(emulator.url) if c["operation"] == "ConverseStream"][-1]


def first_listed_model(gateway) -> str:
    request = urllib.request.Request(
        f"{gateway.url}/api/v1/models", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)["data"][0]["id"]


def test_the_default_model_answers(webui, open_webui, gateway, emulator):
    """Open WebUI picks the first model of /models: it must be a chat model."""
    open_chat(webui, open_webui)
    send(webui, "hello from the default model")
    text = reply_text(webui, "hello from the default model")
    assert "hello from the default model" in text
    assert last_stream_call(emulator)["modelId"] == first_listed_model(gateway)


def test_a_model_without_tool_use_answers_despite_the_built_in_tools(webui, open_webui, emulator):
    open_chat(webui, open_webui, TOOL_LESS)
    send(webui, "hello without tools")
    assert "hello without tools" in reply_text(webui, "hello without tools")
    call = last_stream_call(emulator)
    assert call["modelId"] == TOOL_LESS and "toolConfig" not in call["body"], call["body"].keys()


def test_a_streamed_reply_grows_visibly(webui, open_webui, screenshot):
    open_chat(webui, open_webui, CLAUDE)
    webui.evaluate(
        """() => {
          window.replyStates = [];
          new MutationObserver(() => {
            const replies = document.querySelectorAll(".chat-assistant");
            const text = replies.length ? replies[replies.length - 1].innerText : "";
            if (text && text !== window.replyStates.at(-1)) window.replyStates.push(text);
          }).observe(document.body, { subtree: true, childList: true, characterData: true });
        }"""
    )
    words = "one two three four five six seven eight nine ten eleven twelve"
    send(webui, f"{words} [[slowstream:250]]")
    webui.locator(ASSISTANT).last.get_by_text("four", exact=False).first.wait_for(timeout=60_000)
    screenshot(webui, "streaming")
    assert words in reply_text(webui, "twelve")
    counts = {len(state.split()) for state in webui.evaluate("window.replyStates")}
    assert len(counts) >= 5, counts  # the reply showed many lengths on its way


def test_an_image_reaches_the_vision_model(webui, open_webui, emulator, tmp_path, screenshot):
    image = tmp_path / "gradient.png"
    image.write_bytes(png(48, 32))
    open_chat(webui, open_webui, NOVA)
    # Open WebUI uploads the file to its own server first, then sends it as a data URL.
    with webui.expect_response(lambda r: "/api/v1/files" in r.url and r.request.method == "POST", timeout=30_000):
        webui.locator("input[type='file']").first.set_input_files(str(image))
    screenshot(webui, "attached")
    send(webui, "What is in this picture?")
    text = reply_text(webui, "[image")
    assert "What is in this picture?" in text
    blocks = last_stream_call(emulator)["body"]["messages"][-1]["content"]
    assert [b for b in blocks if "image" in b], blocks


# DeepSeek R1 has no tool use: Open WebUI's built-in tools must be dropped
def test_reasoning_is_shown_apart_from_the_answer(webui, open_webui, emulator):
    open_chat(webui, open_webui, REASONING)
    send(webui, "why is the sky blue")
    text = reply_text(webui, "why is the sky blue")
    # Open WebUI folds `reasoning_content` into a collapsible "Thought for ..." line above the
    # answer.
    assert "Thought for" in text and text.index("Thought for") < text.index("why is the sky blue"), text
    assert last_stream_call(emulator)["modelId"] == REASONING
