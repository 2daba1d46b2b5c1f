"""`make test-nextchat`: the scenarios of the browser tests, run in Chromium against a real
NextChat that you run (NEXTCHAT_URL), in its server mode (NextChat's server calls the gateway
at its BASE_URL) and in direct mode (Settings → Custom Endpoint: the browser calls the gateway,
CORS). The emulator and the gateway are started here, at the address NextChat's BASE_URL names
(GATEWAY_PORT, 8080 by default; key API_KEY, `local-dev-key` by default). How to start
NextChat for it: docs/development.md#make-test-nextchat. Skipped without NEXTCHAT_URL.

Screenshots: target/browser/nextchat-<test>-<step>.png.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

import pytest
from chat_page import LONG_MESSAGE
from conftest import converse_calls, png, servers

NEXTCHAT_URL = os.environ.get("NEXTCHAT_URL", "").rstrip("/")
GATEWAY_PORT = os.environ.get("GATEWAY_PORT", "8080")
NEXTCHAT_KEY = os.environ.get("API_KEY", "local-dev-key")
# The model a new NextChat chat uses: its DEFAULT_MODEL, without the `@OpenAI`.
NEXTCHAT_MODEL = os.environ.get("NEXTCHAT_MODEL", "us.anthropic.claude-haiku-4-5-20251001-v1:0")

# NextChat's CSS-module class names carry a hash: match their stable part.
BOT_MESSAGE = "[class*='chat_chat-message__']"
MESSAGE_TEXT = "[class*='chat_chat-message-item__'] .markdown-body"
TYPING = "[class*='chat_chat-message-status__']"
TOPIC = "[class*='window-header-main-title']"

pytestmark = pytest.mark.skipif(not NEXTCHAT_URL, reason="set NEXTCHAT_URL (make test-nextchat)")


@pytest.fixture(scope="session")
def gateway(emulator, tmp_path_factory):
    """The gateway at NextChat's BASE_URL, allowing NextChat's origin (direct mode)."""
    parts = urlsplit(NEXTCHAT_URL)
    env = servers.isolated_env(
        {
            "HOST": "127.0.0.1",
            "PORT": GATEWAY_PORT,
            "API_KEY": NEXTCHAT_KEY,
            "CORS_ALLOWED_ORIGINS": f"{parts.scheme}://{parts.netloc}",
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
        tmp_path_factory.mktemp("logs") / "gateway.log",
        r"bedrock-gateway listening on (http://\S+)",
    )
    yield server
    server.stop()


class NextChat:
    """One fresh NextChat (its own browser context: no settings, no history)."""

    def __init__(self, browser, shoot):
        self.context = browser.new_context(viewport={"width": 1200, "height": 800})
        self.page = self.context.new_page()
        self.shoot = shoot
        self.page.goto(NEXTCHAT_URL, wait_until="networkidle")
        self.page.wait_for_selector("#chat-input", timeout=30_000)

    def use_direct_mode(self, endpoint: str, key: str) -> None:
        """Settings → Custom Endpoint, as docs say: the browser then calls the gateway itself."""
        self.page.goto(f"{NEXTCHAT_URL}/#/settings")
        self.page.get_by_label("Custom Endpoint").check()
        self.page.get_by_label("OpenAI Endpoint").fill(endpoint)
        self.page.get_by_label("OpenAI API Key").fill(key)
        self.shoot(self.page, "settings")
        self.page.goto(f"{NEXTCHAT_URL}/#/chat")
        self.page.wait_for_selector("#chat-input", timeout=30_000)

    def send(self, text: str) -> None:
        self.page.fill("#chat-input", text)
        self.page.press("#chat-input", "Enter")

    def reply_text(self) -> str:
        replies = self.page.locator(BOT_MESSAGE)
        if replies.count() == 0:
            return ""
        return replies.last.locator(MESSAGE_TEXT).inner_text()

    def wait_for_reply(self, expected: str | None = None, timeout: float = 30.0) -> str:
        """Waits until the last reply has stopped changing for a second and NextChat no longer
        shows "Typing…" (or until it equals `expected`); returns its text."""
        deadline = time.monotonic() + timeout
        last, stable_since = None, time.monotonic()
        while time.monotonic() < deadline:
            text = self.reply_text()
            if expected is not None and text == expected:
                return text
            if text != last:
                last, stable_since = text, time.monotonic()
            elif text and self.page.locator(TYPING).count() == 0 and time.monotonic() - stable_since > 1:
                return text
            self.page.wait_for_timeout(100)
        return self.reply_text()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def nextchat(browser, gateway, screenshot):
    def shoot(page, step):
        return screenshot(page, step)

    chat = NextChat(browser, shoot)
    yield chat
    screenshot(chat.page, "end")
    chat.close()


def last_call(emulator) -> dict:
    return converse_calls(emulator.url)[-1]


@pytest.mark.parametrize("mode", ["server", "direct"])
def test_a_streamed_reply_grows_visibly(nextchat, emulator, gateway, screenshot, mode):
    if mode == "direct":
        nextchat.use_direct_mode(f"http://127.0.0.1:{GATEWAY_PORT}/api", NEXTCHAT_KEY)
    words = "one two three four five six seven eight nine ten eleven twelve"
    nextchat.send(f"{words} [[slowstream:200]]")
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = nextchat.reply_text()
        if text and (not seen or text != seen[-1]):
            seen.append(text)
            if len(seen) in (2, 5):
                screenshot(nextchat.page, f"step{len(seen)}")
        if text == words:
            break
        nextchat.page.wait_for_timeout(80)
    seen = [t for t in seen if t.strip("… ")]  # NextChat shows "……" until the first token
    assert seen and seen[-1] == words, seen
    assert len([t for t in seen if t != words]) >= 3, seen
    assert all(words.startswith(t.rstrip()) for t in seen), seen
    call = last_call(emulator)
    assert call["operation"] == "ConverseStream" and call["modelId"] == NEXTCHAT_MODEL, call


def test_the_title_request_names_the_conversation(nextchat, emulator):
    assert nextchat.page.inner_text(TOPIC) == "New Conversation"
    nextchat.send(LONG_MESSAGE)
    nextchat.wait_for_reply(LONG_MESSAGE)
    deadline = time.monotonic() + 20
    while nextchat.page.inner_text(TOPIC) == "New Conversation" and time.monotonic() < deadline:
        nextchat.page.wait_for_timeout(200)
    topic = nextchat.page.inner_text(TOPIC)
    title_calls = [c for c in converse_calls(emulator.url) if c["operation"] == "Converse"]
    assert title_calls, "no non-streaming title request reached Bedrock"
    prompt = title_calls[-1]["body"]["messages"][-1]["content"][0]["text"]
    assert "title" in prompt, prompt
    # The emulator answers with the prompt itself, which NextChat shows, trimmed, as the topic.
    assert topic != "New Conversation" and topic.rstrip(".") in prompt, topic


def test_an_attached_image_reaches_the_vision_model(nextchat, emulator, tmp_path, screenshot):
    image = tmp_path / "gradient.png"
    image.write_bytes(png(48, 32))
    with nextchat.page.expect_file_chooser() as chooser:
        nextchat.page.locator("[class*='chat_chat-input-action__']", has_text="Upload Images").click()
    chooser.value.set_files(str(image))
    nextchat.page.wait_for_selector("[class*='attach-image']", timeout=15_000)
    screenshot(nextchat.page, "attached")
    nextchat.send("What is in this picture?")
    text = nextchat.wait_for_reply()
    assert text.startswith("What is in this picture? [image "), text
    blocks = last_call(emulator)["body"]["messages"][-1]["content"]
    assert [b for b in blocks if "image" in b], blocks


def test_a_wrong_key_shows_the_error(nextchat, gateway):
    nextchat.use_direct_mode(f"http://127.0.0.1:{GATEWAY_PORT}/api", "sk-wrong-key")
    nextchat.send("hello")
    text = nextchat.wait_for_reply()
    assert "Incorrect API key provided" in text, text


@pytest.mark.parametrize("mode", ["server", "direct"])
def test_throttling_shows_the_error(nextchat, mode):
    if mode == "direct":
        nextchat.use_direct_mode(f"http://127.0.0.1:{GATEWAY_PORT}/api", NEXTCHAT_KEY)
    nextchat.send("hello [[fault:throttling]]")
    text = nextchat.wait_for_reply()
    assert "rate_limit_error" in text or "Throttl" in text, text


@pytest.mark.parametrize("mode", ["server", "direct"])
def test_a_mid_stream_failure_is_shown_to_the_user(nextchat, mode):
    if mode == "direct":
        nextchat.use_direct_mode(f"http://127.0.0.1:{GATEWAY_PORT}/api", NEXTCHAT_KEY)
    nextchat.send("alpha beta gamma delta epsilon [[fault:midstream]]")
    text = nextchat.wait_for_reply()
    assert text.startswith("alpha beta gamma"), text
    # More than the three words that arrived: the failure itself is in the reply.
    assert len(text.split()) > 3 and "delta epsilon" not in text, text
