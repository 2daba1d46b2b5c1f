"""Embeddings and models through the official `openai` Python SDK.

`client.embeddings.create` asks for base64 unless told otherwise and decodes it itself
(little-endian float32), so the default path and `encoding_format="float"` must give the same
vectors. The emulator derives each vector from the text alone, so equal texts, however they are
sent (string or token ids), must give equal vectors; one word counts as one token.
"""

from __future__ import annotations

import array
import base64
import math
import struct

import openai
import pytest

from conftest import CHAT_MODEL

# Every embedding family the gateway drives, with the size it answers in by default.
FAMILIES = [
    ("amazon.titan-embed-text-v1", 1536),
    ("amazon.titan-embed-text-v2:0", 1024),
    ("cohere.embed-english-v3", 1024),
    ("cohere.embed-multilingual-v3", 1024),
    ("us.cohere.embed-v4:0", 1536),  # profile-only on Bedrock: called by its profile
    ("amazon.nova-2-multimodal-embeddings-v1:0", 3072),
]
# The application inference profiles the emulated account owns (ARNs contain `/`).
CHAT_PROFILE_ARN = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/emu-app-profile"
EMBEDDING_PROFILE_ARN = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/emu-embed-profile"


def f32(value: float) -> float:
    """The float32 nearest to `value`, as the SDK's base64 decoding yields it."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize("model,dimension", FAMILIES)
def test_sdk_default_base64_and_float_agree_for_every_family(client, model, dimension):
    texts = ["alpha beta", "gamma"]
    default = client.embeddings.create(model=model, input=texts)
    assert default.object == "list"
    assert default.model == model
    assert [item.index for item in default.data] == [0, 1]
    assert all(item.object == "embedding" for item in default.data)
    assert default.usage.prompt_tokens == 3
    assert default.usage.total_tokens == 3
    for item in default.data:
        assert len(item.embedding) == dimension
        assert abs(norm(item.embedding) - 1.0) < 1e-4

    floats = client.embeddings.create(model=model, input=texts, encoding_format="float")
    for decoded, plain in zip(default.data, floats.data):
        assert decoded.embedding == [f32(v) for v in plain.embedding]
    assert default.data[0].embedding != default.data[1].embedding


def test_explicit_base64_is_left_for_the_caller_to_decode(client):
    response = client.embeddings.create(
        model="cohere.embed-v4:0", input="raw bytes please", encoding_format="base64"
    )
    encoded = response.data[0].embedding
    assert isinstance(encoded, str)
    vector = array.array("f", base64.b64decode(encoded)).tolist()
    assert len(vector) == 1536
    default = client.embeddings.create(model="cohere.embed-v4:0", input="raw bytes please")
    assert vector == default.data[0].embedding


def test_token_ids_embed_like_their_text(client):
    # "hello world" and "hello" in cl100k_base, the tokenizer of OpenAI's embedding models;
    # text-embedding-* names go to the gateway's default embedding model.
    by_text = client.embeddings.create(model="text-embedding-3-small", input=["hello world", "hello"])
    by_ids = client.embeddings.create(model="text-embedding-3-small", input=[[15339, 1917], [15339]])
    assert by_ids.model == by_text.model == "amazon.titan-embed-text-v2:0"
    assert [d.embedding for d in by_ids.data] == [d.embedding for d in by_text.data]
    one_list = client.embeddings.create(model="text-embedding-3-small", input=[15339, 1917])
    assert one_list.data[0].embedding == by_text.data[0].embedding


def test_many_texts_are_batched_and_kept_in_order(client):
    texts = [f"passage {i}" for i in range(150)]
    batch = client.embeddings.create(model="cohere.embed-english-v3", input=texts)
    assert [item.index for item in batch.data] == list(range(150))
    assert batch.usage.prompt_tokens == 300
    for i in (0, 95, 96, 149):
        single = client.embeddings.create(model="cohere.embed-english-v3", input=texts[i])
        assert batch.data[i].embedding == single.data[0].embedding


def test_dimensions_and_extra_body_options(client):
    small = client.embeddings.create(model="amazon.titan-embed-text-v2:0", input="x", dimensions=256)
    assert len(small.data[0].embedding) == 256
    nova = client.embeddings.create(
        model="amazon.nova-2-multimodal-embeddings-v1:0", input="x", dimensions=384
    )
    assert len(nova.data[0].embedding) == 384
    query = client.embeddings.create(
        model="cohere.embed-multilingual-v3",
        input="where is the station?",
        extra_body={"input_type": "search_query", "truncate": "END"},
    )
    assert len(query.data[0].embedding) == 1024

    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(model="amazon.titan-embed-text-v2:0", input="x", dimensions=300)
    assert err.value.status_code == 400
    assert err.value.body["param"] == "dimensions"
    assert "1024, 512, 256" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(
            model="cohere.embed-v4:0", input="x", extra_body={"input_type": "rerank"}
        )
    assert err.value.body["param"] == "input_type"


def test_a_bare_empty_string_embeds_as_openai_does(client):
    # OpenAI answers `input=""` (LangChain relies on it for empty documents); Bedrock refuses
    # empty texts, so the gateway embeds a blank instead.
    empty = client.embeddings.create(model="cohere.embed-v4:0", input="")
    blank = client.embeddings.create(model="cohere.embed-v4:0", input=" ")
    assert empty.data[0].embedding == blank.data[0].embedding
    assert len(empty.data[0].embedding) == 1536


def test_bad_inputs_and_wrong_models_raise_the_right_errors(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(model="cohere.embed-v4:0", input=["ok", ""])
    assert err.value.body["param"] == "input[1]"
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(model="cohere.embed-v4:0", input=[[15339, 99999999]])
    assert err.value.body["param"] == "input[0]"
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(model="cohere.embed-english-v3", input=["ok", "x" * 2049])
    assert err.value.body["param"] == "input[1]"
    assert "2048" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(
            model="cohere.embed-v4:0", input="x", extra_body={"normalize": True}
        )
    assert err.value.body["param"] == "normalize"
    assert "Cohere Embed v4" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.embeddings.create(model=CHAT_MODEL, input="x")
    assert "chat model" in err.value.body["message"]
    with pytest.raises(openai.NotFoundError) as err:
        client.embeddings.create(model="amazon.titan-embed-text-v9:0", input="x")
    assert err.value.body["code"] == "model_not_found"


def test_application_profile_arn_embeds_with_its_model(client):
    response = client.embeddings.create(model=EMBEDDING_PROFILE_ARN, input="profiled")
    assert response.model == EMBEDDING_PROFILE_ARN
    direct = client.embeddings.create(model="cohere.embed-v4:0", input="profiled")
    assert response.data[0].embedding == direct.data[0].embedding


def test_models_list_and_retrieve(client):
    models = list(client.models.list())
    ids = [m.id for m in models]
    # Chat models first (a UI that picks the first model gets one it can chat with), then
    # embedding and image models; each group sorted.
    def is_chat(model_id):
        return not any(word in model_id for word in ("embed", "canvas", "image-generator", "stability."))

    chat = [i for i in ids if is_chat(i)]
    others = [i for i in ids if not is_chat(i)]
    assert ids == sorted(chat) + sorted(others)
    assert len(ids) == len(set(ids))
    for expected in (
        CHAT_MODEL,
        "amazon.titan-embed-text-v2:0",
        "us.cohere.embed-v4:0",
        CHAT_PROFILE_ARN,
        EMBEDDING_PROFILE_ARN,
    ):
        assert expected in ids
    # Profile-only models (Bedrock refuses their bare ids on demand) are listed by their profiles.
    assert "anthropic.claude-3-5-haiku-20241022-v1:0" not in ids
    assert "cohere.embed-v4:0" not in ids
    assert "anthropic.claude-v2:1" not in ids  # legacy
    assert "amazon.titan-image-generator-v2:0" in ids  # an image model /images/generations drives
    # Invocable only through an inference profile: the profile is listed, the bare id is not.
    assert "deepseek.r1-v1:0" not in ids
    assert "us.deepseek.r1-v1:0" in ids
    for model in models:
        assert model.object == "model"
        assert isinstance(model.created, int)
        assert model.owned_by

    profile = client.models.retrieve(CHAT_MODEL)
    assert profile.id == CHAT_MODEL
    assert profile.owned_by == "anthropic"
    # The SDK percent-encodes the `/` of an ARN.
    app = client.models.retrieve(CHAT_PROFILE_ARN)
    assert app.id == CHAT_PROFILE_ARN
    assert app.owned_by == "111122223333"

    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("anthropic.claude-9-opus-v1:0")
    assert err.value.body["code"] == "model_not_found"
    assert "/api/v1/models" in err.value.body["message"]


def test_unknown_chat_model_is_a_not_found_error(client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(
            model="anthropic.claude-3-5-haiku-20241022-v9:0",
            messages=[{"role": "user", "content": "hi"}],
        )
    assert err.value.body["param"] == "model"
    assert "anthropic.claude-3-5-haiku-20241022-v9:0" in err.value.body["message"]
