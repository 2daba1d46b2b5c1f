"""What chat UIs rely on, as the `openai` Python SDK sees it: a failed stream's last content
names the error before the SDK raises, OpenAI's model names work, reasoning can come in
`<think>` tags (`reasoning_output` through `extra_body`), and tools sent to a model without
tool use are dropped and named in `x-gateway-dropped-tools`.

The gateway runs with its defaults (`STREAM_ERROR_AS_CONTENT=true`,
`REASONING_OUTPUT=reasoning_content`); faults come from the emulator's `[[fault:...]]` markers.
"""

from __future__ import annotations

import openai
import pytest

from conftest import CHAT_MODEL, DEFAULT_MODEL

# Reasons on every request; no tool use on Bedrock.
DEEPSEEK_R1 = "us.deepseek.r1-v1:0"


def test_a_failed_stream_ends_with_a_note_naming_the_error_then_raises(client):
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "one two three [[fault:midstream-throttling]]"}],
        stream=True,
    )
    chunks = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            chunks.append(chunk)
    last = chunks[-1].choices[0]
    assert last.delta.content == f"\n\n[Error: {caught.value.message}]"
    assert last.finish_reason == "stop"
    assert "Too many requests" in last.delta.content


@pytest.mark.parametrize("name", ["o3-mini", "o1", "o4-mini", "chatgpt-4o-latest", "gpt-4o"])
def test_openai_model_names_chat_uis_offer_work(client, name):
    reply = client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "hello"}]
    )
    assert reply.choices[0].message.content
    # DEFAULT_MODEL is a us. profile; the reply names what answered.
    assert reply.model == DEFAULT_MODEL


def test_reasoning_in_think_tags_on_request(client):
    plain = client.chat.completions.create(
        model=DEEPSEEK_R1, messages=[{"role": "user", "content": "why"}]
    )
    reasoning = plain.choices[0].message.reasoning_content
    assert reasoning
    tagged = client.chat.completions.create(
        model=DEEPSEEK_R1,
        messages=[{"role": "user", "content": "why"}],
        extra_body={"reasoning_output": "think_tags"},
    )
    content = tagged.choices[0].message.content
    assert content.startswith(f"<think>\n{reasoning}\n</think>\n\n")
    assert getattr(tagged.choices[0].message, "reasoning_content", None) is None
    streamed = client.chat.completions.create(
        model=DEEPSEEK_R1,
        messages=[{"role": "user", "content": "why"}],
        extra_body={"reasoning_output": "think_tags"},
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == content


def test_tools_on_a_tool_less_model_are_dropped_and_named(client):
    tools = [
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
    ]
    raw = client.chat.completions.with_raw_response.create(
        model=DEEPSEEK_R1, messages=[{"role": "user", "content": "hello"}], tools=tools
    )
    assert raw.headers["x-gateway-dropped-tools"] == "get_time"
    assert raw.parse().choices[0].message.content
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=DEEPSEEK_R1,
            messages=[{"role": "user", "content": "hello"}],
            tools=tools,
            tool_choice="required",
        )
    assert caught.value.body["param"] == "tools"
