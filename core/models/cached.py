"""Each text embedded once per process: the cache every multilingual-e5-small encoder shares,
whether it runs here (core.models.encoders.E5Encoder) or on a server (core.models.remote)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

CACHE_ROWS = 50_000  # about 75 MB of vectors


class CachedEncoder:
    """L2-normalised multilingual-e5-small "query" embeddings (384 numbers per text), each text
    embedded once per process (an LRU of CACHE_ROWS vectors); `_embed` computes the new ones."""

    dim = 384

    def __init__(self):
        self.cut = 0  # texts cut to MAX_TOKENS so far
        self._cache: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def _embed(self, texts: list[str], passage: bool) -> tuple[np.ndarray, int]:
        raise NotImplementedError

    def encode(self, texts: Sequence[str], *, passage: bool = False) -> np.ndarray:
        """One vector per text: e5 "query" embeddings, or with `passage` the "passage" side of e5's
        asymmetric retrieval (what is searched: brand facts)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            todo: dict[str, list[int]] = {}
            for i, text in enumerate(texts):
                vector = self._cache.get((passage, text))
                if vector is None:
                    todo.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end((passage, text))
                    out[i] = vector
            fresh = list(todo)
            if fresh:
                vectors, cut = self._embed([t.strip() or "." for t in fresh], passage)
                self.cut += cut
                for text, vector in zip(fresh, vectors):
                    out[todo[text]] = vector
                    self._cache[(passage, text)] = vector
            while len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
        return out
