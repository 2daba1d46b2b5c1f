"""Legacy text completions through the official `openai` Python SDK
(`client.completions.create`), streaming and not. The emulator answers with the last user text
(one word = one token), so every expectation below is exact.
"""

from __future__ import annotations

import openai
import pytest

from conftest import CHAT_MODEL, DEFAULT_MODEL


def test_completion_answers_the_prompt(client):
    done = client.completions.create(model=CHAT_MODEL, prompt="Hello from the legacy API", max_tokens=50)
    assert done.id.startswith("cmpl-")
    assert done.object == "text_completion"
    assert done.model == CHAT_MODEL
    assert len(done.choices) == 1
    choice = done.choices[0]
    assert (choice.index, choice.text, choice.finish_reason) == (0, "Hello from the legacy API", "stop")
    assert choice.logprobs is None
    assert done.usage.completion_tokens == 5
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens


def test_instruct_model_name_default_max_tokens_and_echo(client):
    words = " ".join(f"w{i}" for i in range(20))
    done = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=words, echo=True)
    assert done.model == DEFAULT_MODEL
    choice = done.choices[0]
    # max_tokens defaults to 16, as in OpenAI's API: the reply stops there.
    assert choice.finish_reason == "length"
    assert choice.text.startswith(words)
    assert done.usage.completion_tokens == 16


def test_prompt_lists_and_n(client):
    done = client.completions.create(model=CHAT_MODEL, prompt=["one two", "three four"], n=2)
    assert [c.index for c in done.choices] == [0, 1, 2, 3]
    assert [c.text for c in done.choices] == ["one two", "one two", "three four", "three four"]


def test_streaming_completion(client):
    stream = client.completions.create(
        model=CHAT_MODEL,
        prompt="Streaming the old way",
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text == "Streaming the old way"
    assert all(c.object == "text_completion" for c in chunks)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 4


def test_unsupported_fields_are_bad_requests(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=CHAT_MODEL, prompt="hi", suffix="bye")
    assert err.value.body["param"] == "suffix"
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model=CHAT_MODEL, prompt="hi", logprobs=2)
    assert err.value.body["param"] == "logprobs"
