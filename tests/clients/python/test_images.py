"""Image generation through the official `openai` Python SDK (`client.images.generate`): the
emulator's Nova Canvas, Titan Image Generator v2 and Stability AI models answer PNGs of the requested
size."""

from __future__ import annotations

import base64
import struct

import openai
import pytest


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_dall_e_request_returns_base64_pngs(client):
    result = client.images.generate(model="dall-e-3", prompt="a lighthouse at dusk", size="1024x1024", n=2)
    assert result.created > 0
    assert len(result.data) == 2
    for image in result.data:
        assert png_size(base64.b64decode(image.b64_json)) == (1024, 1024)
        assert image.url is None


def test_titan_sizes_and_data_urls(client):
    result = client.images.generate(
        model="amazon.titan-image-generator-v2:0",
        prompt="a red kite",
        size="1792x1024",
        response_format="url",
    )
    url = result.data[0].url
    assert url.startswith("data:image/png;base64,")
    assert png_size(base64.b64decode(url.split(",", 1)[1])) == (1408, 768)


def test_sizes_a_model_cannot_make_are_bad_requests(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.images.generate(model="amazon.titan-image-generator-v2:0", prompt="x", size="1000x1000")
    assert err.value.body["param"] == "size"
    assert "1173x640" in err.value.body["message"]


def test_image_models_are_not_chat_models(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model="amazon.nova-canvas-v1:0", messages=[{"role": "user", "content": "hi"}]
        )
    assert "images/generations" in err.value.body["message"]


def test_stability_model_answers_one_png_per_image(client):
    result = client.images.generate(
        model="stability.stable-image-core-v1:1", prompt="a lighthouse", size="1024x1792", n=2
    )
    assert len(result.data) == 2
    for image in result.data:
        # 1024x1792 maps to the nearest documented aspect ratio, 9:16 (768x1344).
        assert png_size(base64.b64decode(image.b64_json)) == (768, 1344)
