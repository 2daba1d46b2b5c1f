"""The one conversation every measurement sends, in both dialects: as an OpenAI chat completion
to the gateway, and as the Bedrock Converse request the gateway itself sends for it."""

from __future__ import annotations

import http.client
import json

from servers import API_KEY, MODEL, Server

SYSTEM = "You are a helpful assistant. Answer in one short paragraph."
PROMPT = "Summarise why connection reuse matters for latency when a gateway calls an upstream model API over HTTPS"
ECHO_MARKER = " [[echo:request]]"


def openai_body(stream: bool) -> bytes:
    body = {
        "model": MODEL,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        "max_tokens": 256,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def responses_body(stream: bool) -> bytes:
    """The same conversation as a Responses request: the gateway sends Bedrock the same Converse body."""
    body = {"model": MODEL, "instructions": SYSTEM, "input": PROMPT, "max_output_tokens": 256, "store": False}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def gateway_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}


def bedrock_headers() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def converse_path(stream: bool) -> str:
    return f"/model/{MODEL}/converse-stream" if stream else f"/model/{MODEL}/converse"


def bedrock_body(gateway: Server) -> bytes:
    """The Converse body the gateway sends for `openai_body`: asked of the gateway itself with the
    emulator's [[echo:request]] marker, so both paths carry exactly the same conversation."""
    probe = json.loads(openai_body(stream=False))
    probe["messages"][-1]["content"] = PROMPT + ECHO_MARKER
    host, port = gateway.host_port
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", "/api/v1/chat/completions", json.dumps(probe), gateway_headers())
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    if response.status != 200:
        raise SystemExit(f"probe through the gateway failed: {response.status} {payload}")
    converse = json.loads(payload["choices"][0]["message"]["content"])
    replace_marker(converse)
    return json.dumps(converse, separators=(",", ":")).encode()


def replace_marker(value) -> None:
    """Removes the echo marker wherever the prompt landed in the Converse request."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, str) and ECHO_MARKER.strip() in inner:
                value[key] = PROMPT
            else:
                replace_marker(inner)
    elif isinstance(value, list):
        for inner in value:
            replace_marker(inner)
