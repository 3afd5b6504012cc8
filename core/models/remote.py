"""multilingual-e5-small from an embeddings server: any OpenAI-compatible `/v1/embeddings` endpoint
serving the same model (Hugging Face text-embeddings-inference, vLLM, Infinity), which is how bulk
scoring moves to a GPU fleet.

MERCURY_EMBEDDINGS_URL is the server's base URL (`http://gpu-box:8080/v1`), MERCURY_EMBEDDINGS_MODEL
the model name it serves, MERCURY_EMBEDDINGS_KEY its key if it wants one. Mercury adds the
"query: " or "passage: " prefix its heads were trained with, sends batches of BATCH texts,
CONCURRENT at a time, and checks when it connects that the server's vectors are the in-process
model's (cosine at least MIN_COSINE on the probe texts whose in-process vectors ship in
core/assets/e5_probes.json): a server of another model is refused with one sentence instead of
scoring wrong.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.config import setting
from core.errors import LLMError, UserError
from core.i18n import Msg
from core.models.cached import CachedEncoder

BATCH = 64
CONCURRENT = 4
MIN_COSINE = 0.99
MAX_CHARS = 2_000  # a server cuts to its own token limit; in process the cut is MAX_TOKENS tokens (about 1,000 characters)
PROBES_FILE = Path(__file__).resolve().parent.parent / "assets" / "e5_probes.json"


def probes() -> tuple[list[str], np.ndarray]:
    """The probe texts (query side) and their in-process vectors."""
    data = json.loads(PROBES_FILE.read_text(encoding="utf-8"))
    return data["texts"], np.asarray(data["vectors"], dtype=np.float32)


class RemoteEncoder(CachedEncoder):
    def __init__(self, url: str, model: str | None = None, key: str | None = None):
        from openai import OpenAI

        super().__init__()
        self.url, self.served = url, setting("MERCURY_EMBEDDINGS_MODEL", model)
        timeout = float(setting("OPENAI_TIMEOUT"))
        self.client = OpenAI(base_url=url, api_key=setting("MERCURY_EMBEDDINGS_KEY", key) or "EMPTY", timeout=timeout, max_retries=2)
        self.name = f"multilingual-e5-small ({self.served} at {url})"
        texts, expected = probes()
        served = self._embed(texts, passage=False)[0]
        cosine = float(np.min(np.sum(served * expected, axis=1)))
        if cosine < MIN_COSINE:
            raise UserError(
                Msg(
                    "The embeddings server at {url} does not serve multilingual-e5-small: its vectors agree with Mercury's at a cosine of "
                    "{cosine} on the probe texts, and {needed} is needed. Point MERCURY_EMBEDDINGS_URL at a server of {model}, or unset it.",
                    url=url,
                    cosine=f"{cosine:.2f}",
                    needed=f"{MIN_COSINE:.2f}",
                    model="intfloat/multilingual-e5-small",
                )
            )

    def _batch(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            answer = self.client.embeddings.create(model=self.served, input=texts, encoding_format="float")
        except openai.APIError as error:
            problem = str(error)[:200].rstrip(".")
            raise LLMError(Msg("The embeddings server at {url} failed: {problem}.", url=self.url, problem=problem)) from error
        rows = sorted(answer.data, key=lambda row: row.index)
        if len(rows) != len(texts):
            raise LLMError(Msg("The embeddings server at {url} answered {got} vectors for {sent} texts.", url=self.url, got=len(rows), sent=len(texts)))
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise UserError(
                Msg("The embeddings server at {url} answers vectors of {size} numbers; multilingual-e5-small's have 384.", url=self.url, size=vectors.shape[1])
            )
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def _embed(self, texts: list[str], passage: bool) -> tuple[np.ndarray, int]:
        prefix = "passage: " if passage else "query: "
        sent = [prefix + t[:MAX_CHARS] for t in texts]
        batches = [sent[i : i + BATCH] for i in range(0, len(sent), BATCH)]
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            vectors = list(pool.map(self._batch, batches))
        return np.concatenate(vectors) if vectors else np.zeros((0, self.dim), np.float32), sum(len(t) > MAX_CHARS for t in texts)
