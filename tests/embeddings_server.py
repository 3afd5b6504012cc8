"""A real HTTP server on loopback that speaks the OpenAI embeddings protocol (`POST /v1/embeddings`)
and serves a real model: multilingual-e5-small in this process (the "query: " or "passage: "
prefix read from each input, as text-embeddings-inference does), or all-MiniLM-L6-v2, another
model with vectors of the same size, to be refused."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

from tests.openai_server import LoopbackServer


class EmbeddingsServer(LoopbackServer):
    def __init__(self, model: str = "e5"):
        self.model, self.requests, self.in_flight, self.most_in_flight = model, [], 0, 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    vectors = server.embed(body["input"])
                finally:
                    with server._lock:
                        server.in_flight -= 1
                data = [{"object": "embedding", "index": i, "embedding": [float(x) for x in v]} for i, v in enumerate(vectors)]
                payload = json.dumps({"object": "list", "data": data, "model": body.get("model"), "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._serve(Handler)

    def embed(self, texts: list[str]):
        if self.model == "minilm":
            from core.models.encoders import MiniLMEncoder

            return MiniLMEncoder().encode(texts)
        from core.models.encoders import E5Encoder
        from core.shared import shared

        model = shared("e5", E5Encoder).model  # the in-process model itself, loaded once
        passages = [t.startswith("passage: ") for t in texts]
        plain = [t.removeprefix("passage: ").removeprefix("query: ") for t in texts]
        out = [None] * len(texts)
        for side in (False, True):
            index = [i for i, p in enumerate(passages) if p == side]
            if index:
                for i, vector in zip(index, model.embed([plain[i] for i in index], passage=side, max_tokens=256)[0]):
                    out[i] = vector
        return out
