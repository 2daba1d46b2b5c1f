"""LangChain's `ChatOpenAI` (langchain-openai) pointed at the gateway: invoke, stream with usage,
and tool binding, which is how most LangChain apps would use it."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from conftest import CHAT_MODEL


def chat_model(base_url: str, api_key: str, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(model=CHAT_MODEL, base_url=base_url, api_key=api_key, max_retries=0, **kwargs)


def test_invoke(base_url, api_key):
    reply = chat_model(base_url, api_key).invoke(
        [SystemMessage("Be brief."), HumanMessage("Hello from LangChain")]
    )
    assert isinstance(reply, AIMessage)
    assert reply.content == "Hello from LangChain"
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.response_metadata["model_name"] == CHAT_MODEL
    assert reply.usage_metadata["output_tokens"] == 3
    assert reply.usage_metadata["total_tokens"] == (
        reply.usage_metadata["input_tokens"] + reply.usage_metadata["output_tokens"]
    )


def test_stream(base_url, api_key):
    chunks = list(chat_model(base_url, api_key, stream_usage=True).stream("streamed through LangChain today"))
    assert len(chunks) > 2
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.content == "streamed through LangChain today"
    assert merged.usage_metadata["output_tokens"] == 4


def test_bind_tools(base_url, api_key):
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return "sunny"

    model = chat_model(base_url, api_key).bind_tools([get_weather], tool_choice="get_weather")
    reply = model.invoke('Weather in Berlin? [[call:get_weather {"city": "Berlin"}]]')
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [("get_weather", {"city": "Berlin"})]
    assert reply.tool_calls[0]["id"]
