"""`make smoke-aws`'s checks: a few cheap requests through a running gateway that talks to real
Amazon Bedrock, each one a line of a pass/fail table. Started by scripts/smoke-aws.sh, which
starts the gateway and says what this will cost; run it alone with

    python scripts/smoke-aws.py --base-url http://127.0.0.1:8080/api/v1 --api-key KEY

The models are settings (SMOKE_CHAT_MODEL, SMOKE_THINKING_MODEL, SMOKE_EMBEDDING_MODEL), because
what an account may call differs by region and by the model access it was granted.
"""

import argparse
import base64
import json
import os
import struct
import sys
import time
import zlib

import openai

CHAT_MODEL = os.environ.get("SMOKE_CHAT_MODEL", "amazon.nova-lite-v1:0")
# Profile-only on Bedrock: called by its bare id, the gateway must route it to the region's
# inference profile. It also thinks, so it serves the reasoning check.
THINKING_MODEL = os.environ.get(
    "SMOKE_THINKING_MODEL", "anthropic.claude-haiku-4-5-20251001-v1:0"
)
EMBEDDING_MODEL = os.environ.get("SMOKE_EMBEDDING_MODEL", "amazon.titan-embed-text-v2:0")

PLAN = [
    ("text", CHAT_MODEL, "one short reply (max_tokens 20)"),
    ("stream", CHAT_MODEL, "the same, streamed"),
    ("tool round trip", CHAT_MODEL, "a forced tool call, then its result sent back"),
    ("image", CHAT_MODEL, "a 16x16 PNG described in a few words"),
    ("reasoning", THINKING_MODEL, "reasoning_effort minimal (the 1,024-token thinking floor)"),
    ("profile-only bare id", THINKING_MODEL, "bare id, routed to the region's profile"),
    ("embedding", EMBEDDING_MODEL, "one short input"),
    ("model list", "-", "GET /models (no tokens)"),
]


def describe_plan() -> str:
    rows = "\n".join(f"  {name:<22} {model:<45} {what}" for name, model, what in PLAN)
    return (
        "smoke-aws will send these requests to Amazon Bedrock through the gateway:\n"
        f"{rows}\n"
        "Roughly 1,500 input and 600 output tokens in all (at most ~2,000 output tokens if the\n"
        "thinking model uses its whole budget): well under US$0.02 at on-demand prices."
    )


def tiny_png() -> str:
    """A 16x16 red PNG as a data URL, made here so the check needs no file."""
    width = height = 16
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def check_text(client: openai.OpenAI) -> str:
    reply = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Say hello in three words."}],
        max_tokens=20,
    )
    text = reply.choices[0].message.content or ""
    assert text.strip(), "empty reply"
    return f"{reply.usage.total_tokens} tokens"


def check_stream(client: openai.OpenAI) -> str:
    stream = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 5."}],
        max_tokens=20,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces).strip(), "no text streamed"
    assert finish, "no finish_reason"
    return f"{len(pieces)} chunks, {usage.total_tokens if usage else '?'} tokens"


def check_tools(client: openai.OpenAI) -> str:
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=messages,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=100,
    )
    calls = first.choices[0].message.tool_calls or []
    assert calls, f"no tool call (finish_reason {first.choices[0].finish_reason})"
    json.loads(calls[0].function.arguments)
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append(
        {"role": "tool", "tool_call_id": calls[0].id, "content": "Sunny, 21 C."}
    )
    second = client.chat.completions.create(
        model=CHAT_MODEL, messages=messages, tools=[WEATHER_TOOL], max_tokens=40
    )
    assert (second.choices[0].message.content or "").strip(), "no answer after the result"
    return "call + answer"


def check_image(client: openai.OpenAI) -> str:
    reply = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What colour is this square? One word."},
                    {"type": "image_url", "image_url": {"url": tiny_png()}},
                ],
            }
        ],
        max_tokens=10,
    )
    text = reply.choices[0].message.content or ""
    assert text.strip(), "empty reply"
    return text.strip()[:30]


def check_reasoning(client: openai.OpenAI) -> str:
    reply = client.chat.completions.create(
        model=THINKING_MODEL,
        messages=[{"role": "user", "content": "What is 17 + 25? Answer with the number."}],
        max_tokens=200,
        reasoning_effort="minimal",
    )
    message = reply.choices[0].message
    reasoning = getattr(message, "reasoning_content", None) or (
        message.model_extra or {}
    ).get("reasoning_content")
    assert reasoning, "no reasoning_content"
    assert "42" in (message.content or ""), f"unexpected answer {message.content!r}"
    return f"{len(reasoning)} chars of reasoning"


def check_profile_only(client: openai.OpenAI) -> str:
    reply = client.chat.completions.create(
        model=THINKING_MODEL,
        messages=[{"role": "user", "content": "Reply with OK."}],
        max_tokens=5,
    )
    assert (reply.choices[0].message.content or "").strip(), "empty reply"
    return f"answered as {reply.model}"


def check_embedding(client: openai.OpenAI) -> str:
    result = client.embeddings.create(model=EMBEDDING_MODEL, input="hello world")
    vector = result.data[0].embedding
    assert len(vector) > 0, "empty vector"
    return f"{len(vector)} dimensions"


def check_models(client: openai.OpenAI) -> str:
    ids = [model.id for model in client.models.list()]
    assert ids, "no models listed"
    return f"{len(ids)} models"


CHECKS = [
    check_text,
    check_stream,
    check_tools,
    check_image,
    check_reasoning,
    check_profile_only,
    check_embedding,
    check_models,
]


def run(base_url: str, api_key: str) -> int:
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=120)
    results = []
    for (name, model, _), check in zip(PLAN, CHECKS):
        started = time.monotonic()
        try:
            detail, ok = check(client), True
        except Exception as error:  # every failure is a row of the table, not a traceback
            detail, ok = f"{type(error).__name__}: {error}", False
        elapsed = time.monotonic() - started
        results.append((name, model, ok, elapsed, detail))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}", file=sys.stderr, flush=True)
    print()
    print(f"{'check':<22} {'model':<45} {'result':<6} {'time':>6}  detail")
    for name, model, ok, elapsed, detail in results:
        detail = detail.replace("\n", " ")[:160]
        print(
            f"{name:<22} {model:<45} {'pass' if ok else 'FAIL':<6} {elapsed:>5.1f}s  {detail}"
        )
    failed = sum(1 for row in results if not row[2])
    print()
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url")
    parser.add_argument("--api-key")
    parser.add_argument("--plan", action="store_true", help="print the plan and cost, then exit")
    args = parser.parse_args()
    if args.plan:
        print(describe_plan())
        return 0
    if not args.base_url or not args.api_key:
        parser.error("--base-url and --api-key are required")
    return run(args.base_url, args.api_key)


if __name__ == "__main__":
    sys.exit(main())
