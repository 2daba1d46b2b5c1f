"""Chat completions through the official `openai` Python SDK: the response and chunk shapes the
SDK parses, streaming, usage, and the request parameters that change the answer.

The emulator answers with the last user text (one word = one token), so every expectation
below is exact.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import zlib

from conftest import CHAT_MODEL, DEFAULT_MODEL, VISION_MODEL


def test_non_streaming_chat_echoes_the_prompt(client):
    before = int(time.time())
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Hello from openai python"}],
    )
    assert response.id.startswith("chatcmpl-")
    assert response.object == "chat.completion"
    assert before - 5 <= response.created <= int(time.time()) + 5
    assert response.model == CHAT_MODEL
    assert len(response.choices) == 1
    choice = response.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Hello from openai python"
    assert choice.message.tool_calls is None
    usage = response.usage
    assert usage.completion_tokens == 4
    assert usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_each_response_gets_its_own_id(client):
    ids = {
        client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "same"}]
        ).id
        for _ in range(3)
    }
    assert len(ids) == 3


def test_streaming_chat_reassembles_the_text(client):
    prompt = "the quick brown fox jumps over the lazy dog"
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": prompt}],
        stream=True,
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert {c.id for c in chunks} == {chunks[0].id}
    assert chunks[0].id.startswith("chatcmpl-")
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert all(c.model == CHAT_MODEL for c in chunks)
    assert all(c.usage is None for c in chunks), "usage only when stream_options asks for it"
    text_chunks = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(text_chunks) > 1, "the answer should arrive in several deltas"
    assert "".join(text_chunks) == prompt
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_options_include_usage_adds_a_final_usage_chunk(client):
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "count these five words"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.completion_tokens == 4
    assert last.usage.prompt_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "one two three four five six"}],
        max_tokens=3,
    )
    assert response.choices[0].message.content == "one two three"
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 3


def test_max_completion_tokens_while_streaming(client):
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "one two three four five six"}],
        max_completion_tokens=2,
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "one two"
    assert chunks[-1].choices[0].finish_reason == "length"


def test_stop_sequences_end_the_answer_early(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "alpha beta STOP gamma delta"}],
        stop=["STOP", "never"],
    )
    content = response.choices[0].message.content
    assert content.strip() == "alpha beta"
    assert "gamma" not in content
    assert response.choices[0].finish_reason == "stop"


def test_stop_as_a_single_string(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "red green blue"}],
        stop="green",
    )
    assert response.choices[0].message.content.strip() == "red"


def test_system_and_developer_messages_reach_bedrock_as_system_prompt(client):
    # [[echo:system]] makes the emulator answer with the system prompt Bedrock received.
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "developer", "content": "Always answer in French."},
            {"role": "user", "content": "Bonjour [[echo:system]]"},
        ],
    )
    content = response.choices[0].message.content
    assert "You are a terse assistant." in content
    assert "Always answer in French." in content
    assert content.index("terse") < content.index("French")


def test_multi_turn_history_and_content_parts(client):
    # [[echo:request]] returns the Converse request the emulator received, as JSON.
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "second"},
                    {"type": "text", "text": "question [[echo:request]]"},
                ],
            },
        ],
        temperature=0.25,
    )
    sent = json.loads(response.choices[0].message.content)
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["user", "assistant", "user"]
    assert sent["messages"][1]["content"] == [{"text": "first answer"}]
    texts = [block["text"] for block in sent["messages"][2]["content"]]
    assert texts[0] == "second"
    assert sent["inferenceConfig"]["temperature"] == 0.25


def test_gpt_model_names_map_to_the_default_model(client):
    response = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "which model"}],
    )
    assert response.model == DEFAULT_MODEL
    assert response.choices[0].message.content == "which model"


def tiny_png() -> bytes:
    """A valid 1x1 red PNG, built here rather than shipped as a file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_image_data_url_is_sent_as_an_image_block(client):
    png = tiny_png()
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    response = client.chat.completions.create(
        model=VISION_MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": data_url}},
                ],
            }
        ],
    )
    # The emulator describes each image it decoded: format and byte count.
    assert response.choices[0].message.content == f"What is in this picture? [image png {len(png)} bytes]"
