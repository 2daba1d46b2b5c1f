"""The OpenAI Agents SDK for Python (`openai-agents`) against the gateway: an `Agent` with a
`@function_tool`, run with `Runner.run` on the SDK's default model path, the Responses API
(non-streaming; the SDK replays the history itself and sends `reasoning`/`text` settings for
its default `gpt-*` model, which the gateway maps to DEFAULT_MODEL).

The emulator's `[[call:NAME {...}]]` marker makes the "model" call the tool; its answer to the
turn after is an echo of the tool result it received, so the final output proves the tool's
result reached Bedrock.
"""

from __future__ import annotations

import asyncio

import pytest
from agents import (
    Agent,
    Runner,
    function_tool,
    set_default_openai_api,
    set_default_openai_client,
    set_tracing_disabled,
)
from openai import AsyncOpenAI

from conftest import CHAT_MODEL

calls: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"WEATHER-{city}-SUNNY"


@pytest.fixture
def agents_client(base_url, api_key):
    # No trace export: it would try to reach OpenAI's servers.
    set_tracing_disabled(True)
    set_default_openai_api("responses")
    client = AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=30)
    set_default_openai_client(client, use_for_tracing=False)
    return client


def run(agent: Agent, prompt: str):
    return asyncio.run(Runner.run(agent, prompt))


@pytest.mark.parametrize("model", [None, CHAT_MODEL], ids=["default-model", "bedrock-id"])
def test_agent_calls_its_tool_and_uses_the_result(agents_client, model):
    calls.clear()
    agent = Agent(
        name="Weather",
        instructions="Answer weather questions with the tool.",
        tools=[get_weather],
        **({"model": model} if model else {}),
    )
    result = run(agent, 'Weather in Paris? [[call:get_weather {"city": "Paris"}]]')
    assert calls == ["Paris"]
    assert "WEATHER-Paris-SUNNY" in result.final_output
    assert "[toolResult" in result.final_output
