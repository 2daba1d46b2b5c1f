"""Errors as the `openai` Python SDK sees them: each HTTP status must become the SDK's own
exception class, with the OpenAI error body (`message`, `type`, `param`, `code`) intact, and a
Bedrock failure in the middle of a stream must raise while iterating.

Bedrock faults come from the emulator's `[[fault:...]]` markers.
"""

from __future__ import annotations

import openai
import pytest

from conftest import CHAT_MODEL


def ask(client, text: str, **kwargs):
    return client.chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": text}], **kwargs
    )


def test_wrong_api_key_raises_authentication_error(base_url):
    with openai.OpenAI(base_url=base_url, api_key="not-the-key", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            ask(wrong, "hello")
    assert caught.value.status_code == 401
    assert caught.value.body["type"] == "authentication_error"
    assert "not-the-key" not in caught.value.message, "the presented key must not be echoed"


def test_wrong_api_key_on_a_stream_raises_before_iterating(base_url):
    with openai.OpenAI(base_url=base_url, api_key="not-the-key", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError):
            ask(wrong, "hello", stream=True)


def test_message_without_content_is_a_bad_request(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user"}])
    error = caught.value
    assert error.status_code == 400
    assert error.body["type"] == "invalid_request_error"
    assert "messages" in (error.body["param"] or "") or "messages" in error.message


def test_unknown_role_is_a_bad_request(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "wizard", "content": "hi"}]
        )
    assert "messages" in (caught.value.body["param"] or "") + caught.value.message


def test_several_choices_are_refused_with_param_n(client):
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, "hello", n=2)
    assert caught.value.body["param"] == "n"


def test_empty_messages_are_refused(client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=CHAT_MODEL, messages=[])


def test_throttling_raises_rate_limit_error(client):
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client, "busy? [[fault:throttling]]")
    assert caught.value.status_code == 429
    assert caught.value.body["type"] == "rate_limit_error"


def test_throttling_on_a_stream_raises_before_the_first_chunk(client):
    with pytest.raises(openai.RateLimitError):
        ask(client, "busy? [[fault:throttling]]", stream=True)


def test_access_denied_raises_permission_denied_error(client):
    with pytest.raises(openai.PermissionDeniedError) as caught:
        ask(client, "let me in [[fault:access]]")
    assert caught.value.status_code == 403
    assert "access" in caught.value.message.lower()


def test_unknown_model_is_not_a_server_error(client):
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="vendor.no-such-model-v9:0", messages=[{"role": "user", "content": "hi"}]
        )
    assert 400 <= caught.value.status_code < 500


def test_mid_stream_failure_raises_while_iterating(client):
    stream = ask(
        client,
        "words before the failure arrives in the middle [[fault:midstream]]",
        stream=True,
    )
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert received, "some text should arrive before the failure"
    # The last content is the note STREAM_ERROR_AS_CONTENT adds for chat UIs (test_chat_ui.py).
    text, _, note = "".join(received).partition("\n\n[Error: ")
    assert "words before the failure arrives in the middle".startswith(text)
    assert note and note.rstrip("]") in caught.value.message
    assert caught.value.message
    assert caught.value.body is not None
