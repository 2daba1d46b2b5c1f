"""What a NextChat user sees, proven in headless Chromium with the test page (tests/browser/
page/chat.js), which calls the gateway from another origin with NextChat's requests and reads
the stream with NextChat's stream reader. Every test checks what the page shows (the DOM) and,
where the page sends a field, what reached Bedrock (the emulator's call log).

Screenshots: target/browser/static_page-<test>-<step>.png.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from chat_page import DEFAULT_TOPIC, LONG_MESSAGE, TOPIC_PROMPT, UNAUTHORIZED_HINT, ChatPage
from conftest import API_KEY, DEFAULT_MODEL, converse_calls, png, wait_for

CLAUDE = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
REASONING_MODEL = "us.deepseek.r1-v1:0"


@pytest.fixture
def chat(browser, gateway, page_origins, screenshot):
    """The test page from the allowed origin, set up for the gateway; a screenshot at the end."""
    context = browser.new_context(viewport={"width": 1100, "height": 700})
    page = ChatPage(context.new_page(), page_origins[0])
    page.configure(f"{gateway.url}/api", API_KEY, "gpt-4o-mini")
    yield page
    screenshot(page.page, "end")
    context.close()


def last_call(emulator, operation: str = "ConverseStream") -> dict:
    """The last call of `operation`: the page follows a reply with a title request."""
    return [call for call in converse_calls(emulator.url) if call["operation"] == operation][-1]


def user_texts(call: dict) -> list[str]:
    return [
        block["text"]
        for message in call["body"]["messages"]
        if message["role"] == "user"
        for block in message["content"]
        if "text" in block
    ]


# --- CORS -----------------------------------------------------------------------------------


def preflight(gateway_url: str, origin: str) -> dict[str, str]:
    request = urllib.request.Request(
        f"{gateway_url}/api/v1/chat/completions",
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        return {name.lower(): value for name, value in reply.headers.items()}


def test_the_page_origin_passes_the_preflight_and_gets_a_reply(chat, gateway, page_origins, emulator):
    allowed = preflight(gateway.url, page_origins[0])
    assert allowed.get("access-control-allow-origin") == page_origins[0], allowed
    assert "authorization" in allowed.get("access-control-allow-headers", "").lower(), allowed
    # The browser makes the same preflight (JSON body and an Authorization header), then POSTs.
    chat.send("hello from another origin")
    assert chat.wait_for_reply() == "hello from another origin", chat.explain()
    assert chat.reply_state() == "done"
    call = last_call(emulator)
    assert call["modelId"] == DEFAULT_MODEL
    # NextChat's sampling defaults reached Bedrock.
    assert call["body"]["inferenceConfig"]["temperature"] == 0.5, call["body"]
    assert call["body"]["inferenceConfig"]["topP"] == 1, call["body"]


def test_a_disallowed_origin_shows_the_failure(browser, gateway, page_origins, screenshot):
    refused = preflight(gateway.url, page_origins[1])
    assert "access-control-allow-origin" not in refused, refused
    context = browser.new_context()
    chat = ChatPage(context.new_page(), page_origins[1])
    chat.configure(f"{gateway.url}/api", API_KEY, "gpt-4o-mini")
    chat.send("this request never leaves the browser")
    text = chat.wait_for_reply()
    state = chat.reply_state()
    screenshot(chat.page, "end")
    context.close()
    assert state == "error", chat.explain()
    assert '"message": "Failed to fetch"' in text, chat.explain()


def test_a_disallowed_preflight_is_logged_with_the_origin_and_the_setting(gateway, page_origins):
    preflight(gateway.url, page_origins[1])
    warned = wait_for(
        lambda: [
            line
            for line in gateway.log_path.read_text(errors="replace").splitlines()
            if "WARN" in line and page_origins[1] in line and "CORS_ALLOWED_ORIGINS" in line
        ],
        timeout=5,
    )
    assert warned, gateway.log_path.read_text(errors="replace")[-3000:]


# --- streaming ------------------------------------------------------------------------------


def test_a_streamed_reply_grows_visibly(chat, screenshot):
    words = "one two three four five six seven eight nine ten eleven twelve"
    # Every text the reply shows, recorded in the page as the DOM changes (so a slow test
    # machine cannot miss states), plus screenshots while it streams.
    chat.page.evaluate(
        """() => {
          window.replyStates = [];
          new MutationObserver(() => {
            const replies = document.querySelectorAll("article[data-role='assistant'] .content");
            const text = replies.length ? replies[replies.length - 1].textContent : "";
            if (text && text !== window.replyStates.at(-1)) window.replyStates.push(text);
          }).observe(document.getElementById("messages"), { subtree: true, childList: true, characterData: true });
        }"""
    )
    chat.send(f"{words} [[slowstream:250]]")
    shots = []
    while chat.reply_state() == "streaming" and len(shots) < 3:
        text = chat.reply_text()
        if len(text.split()) >= 3 * (len(shots) + 1):
            shots.append((text, screenshot(chat.page, f"step{len(shots) + 1}")))
        chat.page.wait_for_timeout(50)
    final = chat.wait_for_reply()
    assert final == words, chat.explain()
    seen = chat.page.evaluate("window.replyStates")
    # The text grew in the page while the reply was streaming: many partial states, each a
    # prefix of the next and of the final text.
    assert seen[-1] == final, seen
    assert len(seen) >= 6, seen
    assert all(a != b and b.startswith(a) for a, b in zip(seen, seen[1:])), seen
    assert shots and all(final.startswith(text) and text != final for text, _ in shots), shots


def test_reasoning_is_shown_as_a_quote_before_the_answer(chat, emulator):
    chat.configure(chat.page.input_value("#endpoint"), API_KEY, REASONING_MODEL)
    chat.send("why is the sky blue")
    text = chat.wait_for_reply()
    # NextChat shows `reasoning_content` as a Markdown quote, then the answer after a blank line.
    assert text.startswith("> "), chat.explain()
    assert text.endswith("\n\nwhy is the sky blue"), chat.explain()
    assert last_call(emulator)["modelId"] == REASONING_MODEL


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "vision_models"),
    [
        (CLAUDE, ""),  # a vision model by NextChat's name patterns
        (DEFAULT_MODEL, DEFAULT_MODEL),  # Nova: vision only through VISION_MODELS
    ],
    ids=["claude-by-name", "nova-by-vision-models"],
)
def test_an_attached_image_reaches_a_vision_model(chat, emulator, tmp_path, screenshot, model, vision_models):
    image = tmp_path / "gradient.png"
    image.write_bytes(png(48, 32))
    chat.configure(chat.page.input_value("#endpoint"), API_KEY, model, vision_models)
    chat.attach(image)
    screenshot(chat.page, "attached")
    chat.send("What is in this picture?")
    text = chat.wait_for_reply()
    assert chat.page.locator("article[data-role='user'] img").count() == 1
    # The page sends a JPEG data URL (drawn through a canvas, as NextChat compresses uploads);
    # the emulator's reply names the image block it received.
    assert text.startswith("What is in this picture? [image jpeg "), chat.explain()
    call = last_call(emulator)
    assert call["modelId"] == model
    blocks = call["body"]["messages"][-1]["content"]
    images = [block["image"] for block in blocks if "image" in block]
    assert len(images) == 1 and images[0]["format"] == "jpeg", blocks
    # NextChat asks vision models for max_tokens 4000.
    assert call["body"]["inferenceConfig"]["maxTokens"] == 4000, call["body"]


# --- errors ---------------------------------------------------------------------------------


def test_a_wrong_key_shows_the_error(chat, gateway):
    chat.configure(f"{gateway.url}/api", "sk-wrong-key", "gpt-4o-mini")
    chat.send("hello")
    text = chat.wait_for_reply()
    assert UNAUTHORIZED_HINT in text, chat.explain()
    assert "Incorrect API key provided" in text, chat.explain()
    assert '"code": "invalid_api_key"' in text, chat.explain()


def test_throttling_shows_the_error(chat, emulator):
    chat.send("hello [[fault:throttling]]")
    text = chat.wait_for_reply()
    assert '"type": "rate_limit_error"' in text or "ThrottlingException" in text, chat.explain()
    assert user_texts(last_call(emulator))[-1].startswith("hello")


def stream_error_message(gateway_url: str, prompt: str) -> str:
    """The message of the OpenAI error event the gateway sends when the stream fails."""
    request = urllib.request.Request(
        f"{gateway_url}/api/v1/chat/completions",
        data=json.dumps(
            {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": prompt}]}
        ).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith("data: {") and '"error"' in line:
                event = json.loads(line[len("data: ") :])
                if "error" in event:
                    return event["error"]["message"]
    raise AssertionError("the stream carried no error event")


def test_a_mid_stream_failure_is_shown_to_the_user(chat, gateway):
    prompt = "alpha beta gamma delta epsilon [[fault:midstream]]"
    message = stream_error_message(gateway.url, prompt)
    chat.send(prompt)
    text = chat.wait_for_reply()
    # The three words that arrived, then the failure, in the reply itself: NextChat ignores the
    # `{"error":...}` event, so only a chunk with `choices` can show it.
    assert text.startswith("alpha beta gamma"), chat.explain()
    assert message in text, chat.explain()


# --- the title request and NextChat's model names ---------------------------------------------


def test_the_title_request_names_the_conversation(chat, emulator):
    assert chat.topic() == DEFAULT_TOPIC
    chat.send(LONG_MESSAGE)
    chat.wait_for_reply()
    expected = TOPIC_PROMPT.rstrip(".")  # the emulator echoes the prompt; the page trims it
    chat.page.wait_for_function(
        "expected => document.getElementById('topic').textContent === expected",
        arg=expected,
        timeout=10_000,
    )
    # After the streamed reply, a non-streaming request for gpt-4o-mini (NextChat's title model
    # for gpt-* chats, here DEFAULT_MODEL) with the conversation and the title prompt.
    call = last_call(emulator, "Converse")
    assert call["modelId"] == DEFAULT_MODEL, call
    roles = [message["role"] for message in call["body"]["messages"]]
    assert roles == ["user", "assistant", "user"], roles
    assert user_texts(call)[-1] == TOPIC_PROMPT


@pytest.mark.parametrize("model", ["o3-mini", "o1", "chatgpt-4o-latest"])
def test_nextchat_built_in_openai_names_reach_the_default_model(chat, emulator, model):
    chat.configure(chat.page.input_value("#endpoint"), API_KEY, model)
    chat.send("hello from a built-in model name")
    text = chat.wait_for_reply()
    assert text == "hello from a built-in model name", chat.explain()
    assert last_call(emulator)["modelId"] == DEFAULT_MODEL

