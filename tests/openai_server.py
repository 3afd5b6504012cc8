"""A real HTTP server on loopback that speaks the chat-completions protocol, scripted per test."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class Reply:
    status: int = 200
    text: str = "Hello from the test server."
    headers: dict = field(default_factory=dict)
    error_code: str | None = None
    delay_s: float = 0.0
    echo: bool = False  # answer with every message of the request, to show what reached the model
    message: str = ""  # an error's message (default "scripted <status>"), e.g. one that echoes the key
    raw: bytes | None = None  # a 200 whose body is these bytes as they are, e.g. malformed JSON
    respond: Callable[[dict], str] | None = None  # the answer computed from the request's body (a scripted model)


class LoopbackServer:
    """A ThreadingHTTPServer on a free loopback port, serving `handler` while used as a context manager."""

    def _serve(self, handler) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class ScriptedOpenAIServer(LoopbackServer):
    """Answers each request with the next scripted Reply (the last one repeats) and counts attempts."""

    def __init__(self, replies: list[Reply]):
        self.replies = list(replies)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization"), "headers": dict(self.headers)})
                    reply = server.replies[min(len(server.requests), len(server.replies)) - 1]
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.echo:
                    reply = Reply(text="\n".join(str(m.get("content", "")) for m in body.get("messages", [])))
                elif reply.respond:
                    reply = Reply(text=reply.respond(body))
                if reply.status != 200:
                    payload = json.dumps(
                        {"error": {"message": reply.message or f"scripted {reply.status}", "type": reply.error_code or "error", "code": reply.error_code}}
                    ).encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if reply.raw is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.raw)))
                    self.end_headers()
                    self.wfile.write(reply.raw)
                elif body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._complete(body, reply)

            def _complete(self, body, reply):
                payload = json.dumps(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "test-model"),
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, body, reply):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model")}
                for word in reply.text.split(" "):
                    chunk = {**base, "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                usage = {**base, "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": len(reply.text.split()), "total_tokens": 0}}
                self.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._serve(Handler)
