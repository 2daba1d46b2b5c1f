"""The Responses API as the `openai` Python SDK uses it: `client.responses.create` (text,
items, images, function tools and the `function_call_output` round trip, `previous_response_id`,
`store=False` with encrypted reasoning on a thinking model), `client.responses.stream(...)`,
`client.responses.parse` with a Pydantic model, retrieve and delete, and the SDK's error classes.

The emulator's markers drive Bedrock's side: `[[echo:request]]` (the reply is the Converse
request it received), `[[call:NAME]]` (call a tool), `[[fault:...]]` (an error).
"""

from __future__ import annotations

import json

import openai
import pytest
from pydantic import BaseModel

from conftest import CHAT_MODEL, VISION_MODEL

THINKING_MODEL = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def sent_to_bedrock(response) -> dict:
    return json.loads(response.output_text)


def test_text(client):
    response = client.responses.create(model=CHAT_MODEL, instructions="Be brief.", input="hello there")
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.output_text == "hello there"
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_items_reach_bedrock_with_instructions_as_system(client):
    response = client.responses.create(
        model=CHAT_MODEL,
        instructions="Be brief.",
        input=[
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": [{"type": "input_text", "text": "[[echo:request]]"}]},
        ],
    )
    sent = sent_to_bedrock(response)
    system = " ".join(block["text"] for block in sent["system"] if "text" in block)
    assert "Be brief." in system and "Answer in English." in system


def test_image(client):
    response = client.responses.create(
        model=VISION_MODEL,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what is this?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG_1X1}"},
                ],
            }
        ],
    )
    assert "[image png" in response.output_text


def test_function_tool_round_trip(client):
    first = client.responses.create(
        model=CHAT_MODEL, tools=[WEATHER], input='[[call:get_weather {"city":"Paris"}]]'
    )
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    assert json.loads(calls[0].arguments) == {"city": "Paris"}
    second = client.responses.create(
        model=CHAT_MODEL,
        tools=[WEATHER],
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21 C"}],
    )
    assert second.status == "completed"
    assert f"[toolResult {calls[0].call_id}: sunny, 21 C]" in second.output_text


def test_previous_response_id_continues_the_conversation(client):
    first = client.responses.create(model=CHAT_MODEL, input="my name is Ann")
    second = client.responses.create(model=CHAT_MODEL, previous_response_id=first.id, input="[[echo:request]]")
    messages = sent_to_bedrock(second)["messages"]
    assert messages[0]["content"][0]["text"] == "my name is Ann"
    assert messages[1]["role"] == "assistant"


def test_store_false_with_encrypted_reasoning_on_a_thinking_model(client):
    kwargs = dict(
        model=THINKING_MODEL,
        reasoning={"effort": "low", "summary": "auto"},
        max_output_tokens=2000,
        store=False,
        include=["reasoning.encrypted_content"],
        tools=[WEATHER],
    )
    first = client.responses.create(input="[[call:get_weather]]", **kwargs)
    reasoning = [item for item in first.output if item.type == "reasoning"]
    assert reasoning and reasoning[0].encrypted_content
    assert reasoning[0].summary[0].text.startswith("Thinking about")
    call = next(item for item in first.output if item.type == "function_call")
    items = [{"role": "user", "content": "[[call:get_weather]]"}]
    items += [item.model_dump(exclude_none=True) for item in first.output]
    items.append({"type": "function_call_output", "call_id": call.call_id, "output": "sunny"})
    second = client.responses.create(input=items, **kwargs)
    assert second.status == "completed"
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)


def test_stream_with_final_response(client):
    with client.responses.stream(model=CHAT_MODEL, input="streamed words here") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "streamed words here"
    assert final.output_text == "streamed words here"
    assert final.status == "completed"


def test_stream_create_with_a_function_tool(client):
    events = list(
        client.responses.create(model=CHAT_MODEL, tools=[WEATHER], input="[[call:get_weather]]", stream=True)
    )
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done and json.loads(done[0].arguments) == {"city": "text"}
    assert events[-1].type == "response.completed"


class City(BaseModel):
    name: str
    population: int


def test_parse_with_a_pydantic_model(client):
    response = client.responses.parse(model=CHAT_MODEL, input="a city", text_format=City)
    assert isinstance(response.output_parsed, City)


def test_retrieve_and_delete(client):
    created = client.responses.create(model=CHAT_MODEL, input="keep me")
    retrieved = client.responses.retrieve(created.id)
    assert retrieved.id == created.id and retrieved.output_text == "keep me"
    items = client.responses.input_items.list(created.id)
    assert items.data[0].content[0].text == "keep me"
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_error_classes(client, base_url):
    with openai.OpenAI(base_url=base_url, api_key="not-the-key", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError):
            wrong.responses.create(model=CHAT_MODEL, input="hi")
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=CHAT_MODEL, input="hi", extra_body={"frobnicate": 1})
    assert caught.value.body["param"] == "frobnicate"
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=CHAT_MODEL, input="hi", previous_response_id="resp_missing")
    assert caught.value.body["param"] == "previous_response_id"
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=CHAT_MODEL, input="[[fault:throttling]]")


def test_a_bedrock_failure_mid_stream_is_an_error_event_then_response_failed(client):
    with client.responses.stream(model=CHAT_MODEL, input="one two three four [[fault:midstream]]") as stream:
        events = list(stream)
    assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    assert events[-2].message
    assert events[-1].response.status == "failed"
    assert events[-1].response.error.message == events[-2].message
