"""multilingual-e5-small from an embeddings server (core/models/remote.py), against a real HTTP
server on loopback that serves the in-process model over the OpenAI embeddings protocol
(tests/embeddings_server.py), and one that serves another model."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.conftest import ROOT, run_cli
from tests.embeddings_server import EmbeddingsServer


def reviews_csv(path, count=200):
    with open(ROOT / "bench" / "data" / "reviews_multilingual.tsv", encoding="utf-8") as handle:
        rows = [r for r in csv.reader((line for line in handle if not line.startswith("#")), delimiter="\t")][:count]  # language, label, domain, text
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review"])
        writer.writerows([[r[3]] for r in rows])
    return path


@pytest.mark.model
def test_the_shipped_probe_vectors_are_the_in_process_models():
    from core.models.encoders import E5Encoder
    from core.models.remote import probes

    texts, vectors = probes()
    assert np.min(np.sum(E5Encoder().encode(texts) * vectors, axis=1)) > 0.995


@pytest.mark.model
@pytest.mark.slow
def test_sentiment_over_an_embeddings_server_gives_the_in_process_labels(tmp_path):
    reviews = reviews_csv(tmp_path / "reviews.csv")
    local = run_cli("sentiment", reviews, "--out", tmp_path / "local.csv", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    assert local.returncode == 0, local.stderr
    with EmbeddingsServer() as server:
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "MERCURY_EMBEDDINGS_URL": server.base_url}
        remote = run_cli("sentiment", reviews, "--out", tmp_path / "remote.csv", env=env)
    assert remote.returncode == 0, remote.stderr
    read = lambda name: list(csv.DictReader(open(tmp_path / name, encoding="utf-8-sig")))  # noqa: E731
    assert [r["sentiment"] for r in read("remote.csv")] == [r["sentiment"] for r in read("local.csv")]
    texts = [t for request in server.requests for t in request["input"]]
    assert all(t.startswith("query: ") for t in texts) and len(texts) >= 200  # the prefix is Mercury's to add
    assert max(len(request["input"]) for request in server.requests) <= 64 and server.most_in_flight > 1


@pytest.mark.model
@pytest.mark.slow
def test_a_server_of_another_model_is_refused_with_one_sentence(tmp_path):
    reviews = reviews_csv(tmp_path / "reviews.csv", count=5)
    with EmbeddingsServer(model="minilm") as server:
        done = run_cli("sentiment", reviews, env={"MERCURY_EMBEDDINGS_URL": server.base_url})
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()[-1:]
    assert line.startswith(f"error: The embeddings server at {server.base_url} does not serve multilingual-e5-small: its vectors agree with Mercury's")
    assert "Point MERCURY_EMBEDDINGS_URL at a server of intfloat/multilingual-e5-small, or unset it." in line


def test_an_unreachable_embeddings_server_is_one_sentence(monkeypatch):
    from core.errors import LLMError
    from core.models.remote import RemoteEncoder
    from tests.dovecot import free_port

    monkeypatch.setenv("OPENAI_TIMEOUT", "2")
    with pytest.raises(LLMError, match=r"^The embeddings server at http://127\.0\.0\.1:\d+/v1 failed: Connection error\.$"):
        RemoteEncoder(f"http://127.0.0.1:{free_port()}/v1")
