"""Codex CLI against the gateway: `codex exec` from `@openai/codex` 0.169 (its Linux binary ships
in the npm package, installed by `make test` into tests/clients/node/node_modules) with a
`CODEX_HOME` whose config.toml names the gateway as a custom Responses provider, exactly as the
README tells users to set it up. Codex streams every turn (`stream: true`, `store: false`) with
its own tools (function, namespace and `web_search`) and resends the whole history itself.

What reached Bedrock is read from the emulator's answers: `[[echo:request]]` makes the reply
the Converse request it received, and `[[call:NAME {...}]]` makes the "model" call a tool.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import API_KEY, CHAT_MODEL, REPO_ROOT

CODEX = REPO_ROOT / "tests" / "clients" / "node" / "node_modules" / ".bin" / "codex"
CODEX_TIMEOUT_SECONDS = 120


# Codex shapes its request by model: for a name it does not know (a Bedrock id) it sends a
# `namespace` tool; for one of its own (`gpt-5.5`, which the gateway maps to DEFAULT_MODEL) a
# free-form `custom` apply_patch tool and a `tool_search` tool (dropped, like web_search).
CODEX_MODELS = [
    pytest.param(CHAT_MODEL, id="bedrock-id"),
    pytest.param("gpt-5.5", id="gpt-5.5"),
]


@pytest.fixture(params=CODEX_MODELS)
def codex(request, tmp_path, base_url):
    """Runs `codex exec --skip-git-repo-check PROMPT` in a fresh work directory, once per model
    of CODEX_MODELS; returns the completed process (stdout: Codex's final message; stderr: its
    transcript)."""
    if not CODEX.exists():
        pytest.fail(f"{CODEX} is missing: run `npm ci` in tests/clients/node (make test does)")
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'model = "{request.param}"\n'
        'model_provider = "gateway"\n'
        "\n"
        "[model_providers.gateway]\n"
        'name = "bedrock-gateway"\n'
        f'base_url = "{base_url}"\n'
        'env_key = "GATEWAY_API_KEY"\n'
        'wire_api = "responses"\n'
    )
    workdir = tmp_path / "work"
    workdir.mkdir()

    def run(prompt: str) -> subprocess.CompletedProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "CODEX_HOME": str(home),
            "GATEWAY_API_KEY": API_KEY,
        }
        result = subprocess.run(
            [str(CODEX), "exec", "--skip-git-repo-check", prompt],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CODEX_TIMEOUT_SECONDS,
        )
        assert result.returncode == 0, f"codex exited {result.returncode}:\n{result.stderr[-4000:]}"
        return result

    run.model = request.param
    return run


def test_codex_answers_text_and_its_request_reaches_bedrock(codex):
    result = codex("[[echo:request]]")
    sent = json.loads(result.stdout)
    # Codex's own system prompt and developer messages arrive as the system prompt...
    system = " ".join(block.get("text", "") for block in sent.get("system", []))
    assert "Codex" in system
    # ...its environment context and the prompt as the user turn(s)...
    user_text = " ".join(
        block.get("text", "")
        for message in sent["messages"]
        if message["role"] == "user"
        for block in message["content"]
    )
    assert "<environment_context>" in user_text
    # ...and its tools as Bedrock tools: the function tools and the namespace's (Bedrock id) or
    # the custom apply_patch (gpt-5.5); never web_search, which Bedrock cannot run.
    names = {tool["toolSpec"]["name"] for tool in sent["toolConfig"]["tools"] if "toolSpec" in tool}
    assert "exec_command" in names, names
    if codex.model == CHAT_MODEL:
        assert "spawn_agent" in " ".join(names), names
    else:
        assert "apply_patch" in names, names
    assert not any("web_search" in name for name in names), names


def test_codex_calls_exec_command_and_sends_its_output_back(codex):
    result = codex('Run it. [[call:exec_command {"cmd": "echo codex-tool-ran"}]]')
    # The final answer is the emulator's echo of the second turn's last user message: the
    # tool result Codex sent back, with the command's output in it.
    assert "[toolResult" in result.stdout, result.stdout
    assert "codex-tool-ran" in result.stdout, result.stdout
    assert "echo codex-tool-ran" in result.stderr  # Codex shows the command it ran
