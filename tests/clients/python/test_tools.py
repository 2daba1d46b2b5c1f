"""Tool calling through the `openai` Python SDK: forced and chosen calls, the round trip that
sends a tool result back, and streamed tool calls put together by the SDK's stream helper.

The emulator calls a tool when `tool_choice` forces one (arguments filled from the schema) or
when the prompt carries `[[call:NAME {json}]]`; given a tool result, it echoes it back.
"""

from __future__ import annotations

import json

from conftest import CHAT_MODEL

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}


def test_required_tool_choice_returns_a_tool_call_then_the_result_round_trips(client):
    question = {"role": "user", "content": "What is the weather in Paris?"}
    first = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[question],
        tools=[WEATHER_TOOL],
        tool_choice="required",
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    assert isinstance(arguments["city"], str)

    second = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            question,
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
        ],
        tools=[WEATHER_TOOL],
    )
    answer = second.choices[0]
    assert answer.finish_reason == "stop"
    # The emulator describes the tool result it received: the id must be the one we sent.
    assert answer.message.content == f"[toolResult {call.id}: 18 degrees and sunny]"


def test_named_tool_choice_calls_that_tool(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "what time is it in Tokyo"}],
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    calls = response.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time"]


def test_auto_tool_choice_with_model_chosen_arguments(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "user", "content": 'Weather please [[call:get_weather {"city": "Oslo", "unit": "celsius"}]]'}
        ],
        tools=[WEATHER_TOOL, TIME_TOOL],
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Calling get_weather."
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"city": "Oslo", "unit": "celsius"}


def test_parallel_tool_calls_keep_their_order_and_ids(client):
    response = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {
                "role": "user",
                "content": 'both [[call:get_weather {"city": "Rome"}]] [[call:get_time {"zone": "CET"}]]',
            }
        ],
        tools=[WEATHER_TOOL, TIME_TOOL],
    )
    calls = response.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    assert json.loads(calls[1].function.arguments) == {"zone": "CET"}


def test_streamed_tool_call_is_reassembled_by_the_sdk_stream_helper(client):
    events = []
    with client.chat.completions.stream(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": 'go [[call:get_weather {"city": "Lisbon", "unit": "fahrenheit"}]]'}],
        tools=[WEATHER_TOOL],
    ) as stream:
        for event in stream:
            events.append(event)
        final = stream.get_final_completion()

    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [e.name for e in done] == ["get_weather"]
    assert json.loads(done[0].arguments) == {"city": "Lisbon", "unit": "fahrenheit"}
    deltas = [e for e in events if e.type == "tool_calls.function.arguments.delta"]
    assert "".join(e.arguments_delta for e in deltas) == done[0].arguments

    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lisbon", "unit": "fahrenheit"}


def test_raw_streamed_tool_call_chunks_carry_index_id_and_name_once(client):
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "stream it"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        stream=True,
    )
    tool_deltas = [
        d
        for chunk in stream
        if chunk.choices and chunk.choices[0].delta.tool_calls
        for d in chunk.choices[0].delta.tool_calls
    ]
    assert tool_deltas
    assert {d.index for d in tool_deltas} == {0}
    assert tool_deltas[0].id, "the first delta of a call carries its id"
    assert [d.id for d in tool_deltas[1:] if d.id] == [], "and only the first"
    assert tool_deltas[0].function.name == "get_weather"
    arguments = "".join(d.function.arguments or "" for d in tool_deltas)
    assert "city" in json.loads(arguments)
