"""LangChain's `OpenAIEmbeddings` (langchain-openai) pointed at the gateway, as a RAG pipeline
would use it to index documents and embed queries.

By default it tokenizes every text with tiktoken and sends token ids, cutting texts longer than
8191 tokens into pieces whose vectors it averages; a document with no tokens at all (an empty
one) gets the embedding of `input=""`. The gateway decodes the ids with the same `cl100k_base`
vocabulary, so a document embedded through LangChain must equal the same text embedded directly.

tiktoken downloads its vocabulary on first use, and these machines have no network: the
fixture below seeds tiktoken's cache with the `cl100k_base` file the gateway itself compiles in
(shipped by the tiktoken-rs crate, found through `cargo metadata`); tiktoken checks its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from langchain_openai import OpenAIEmbeddings

from conftest import REPO_ROOT

MODEL = "amazon.titan-embed-text-v2:0"
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


@pytest.fixture(scope="module", autouse=True)
def tiktoken_vocabulary(tmp_path_factory):
    # Only the host's packages: the build that ran before the tests downloaded exactly those, so
    # this works offline on a fresh machine (plain `cargo metadata` wants every platform's).
    host = re.search(r"^host: (\S+)$", run(["rustc", "-vV"]), re.M).group(1)
    metadata = run(
        ["cargo", "metadata", "--format-version", "1", "--offline", "--locked", "--filter-platform", host]
    )
    package = next(p for p in json.loads(metadata)["packages"] if p["name"] == "tiktoken-rs")
    source = Path(package["manifest_path"]).parent / "assets" / "cl100k_base.tiktoken"
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    shutil.copy(source, cache / hashlib.sha1(CL100K_URL.encode()).hexdigest())
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    yield
    if previous is None:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
    else:
        os.environ["TIKTOKEN_CACHE_DIR"] = previous


def run(command: list[str]) -> str:
    """The command's stdout; its stderr in the failure message when it fails."""
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def embedder(base_url: str, api_key: str, **kwargs) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(model=MODEL, base_url=base_url, api_key=api_key, max_retries=0, **kwargs)


def test_embed_documents_with_an_empty_document(base_url, api_key, client):
    documents = ["LangChain indexes documents", "", "through the gateway"]
    vectors = embedder(base_url, api_key).embed_documents(documents)
    assert len(vectors) == 3
    assert all(len(vector) == 1024 for vector in vectors)
    for index in (0, 2):
        direct = client.embeddings.create(model=MODEL, input=documents[index])
        assert vectors[index] == direct.data[0].embedding
    # The empty document gets what the gateway answers for a bare "".
    empty = client.embeddings.create(model=MODEL, input="")
    assert vectors[1] == empty.data[0].embedding


def test_embed_query_matches_the_direct_call(base_url, api_key, client):
    query = "Where does the gateway run?"
    vector = embedder(base_url, api_key).embed_query(query)
    assert vector == client.embeddings.create(model=MODEL, input=query).data[0].embedding


def test_documents_longer_than_8191_tokens_are_split_and_averaged(base_url, api_key, client):
    # 9000 tokens: LangChain sends pieces of 8191 and 809 token ids, each within the gateway's
    # per-input cap, and averages their vectors.
    long_document = "word " * 9000
    vector = embedder(base_url, api_key).embed_documents([long_document])[0]
    assert len(vector) == 1024
    assert abs(math.sqrt(sum(v * v for v in vector)) - 1.0) < 1e-4
    whole = client.embeddings.create(model=MODEL, input=long_document).data[0].embedding
    assert vector != whole
