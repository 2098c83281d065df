"""A real chat-completions HTTP server on 127.0.0.1 for backend tests (stdlib only).

``ScriptedChatServer(script)``: ``script`` maps a prompt (the last user message) to the list of actions
taken on its successive requests; the last action repeats. An action is a completion string, an int HTTP
status (e.g. 429, 503), or ``("sleep", seconds, text)`` to answer slowly (a timeout when seconds exceeds
the client's limit). Prompts not in the script are answered by ``default(prompt)``. The server records
every request (``requests``), attempts per prompt and the most requests in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedChatServer:
    def __init__(self, script=None, default=None, delay: float = 0.0):
        self.script = dict(script or {})
        self.default = default or (lambda prompt: f"echo: {prompt}")
        self.delay = delay
        self.requests: list[dict] = []
        self.attempts: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.auth_headers: list[str | None] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # keep test output clean
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n))
                with server._lock:
                    server.in_flight += 1
                    self._counted = True
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    server.requests.append(body)
                    server.auth_headers.append(self.headers.get("Authorization"))
                    prompt = body["messages"][-1]["content"]
                    k = server.attempts.get(prompt, 0)
                    server.attempts[prompt] = k + 1
                try:
                    if self.path.rstrip("/") != "/v1/chat/completions":
                        return self._send(404, {"error": "not found"})
                    actions = server.script.get(prompt)
                    action = actions[min(k, len(actions) - 1)] if actions else server.default(prompt)
                    if server.delay:
                        time.sleep(server.delay)
                    if isinstance(action, tuple) and action[0] == "sleep":
                        time.sleep(action[1])
                        action = action[2]
                    if isinstance(action, int):
                        return self._send(action, {"error": {"message": "scripted", "code": action}},
                                          {"Retry-After": "0"} if action == 429 else None)
                    self._send(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                                     "choices": [{"index": 0, "finish_reason": "stop",
                                                  "message": {"role": "assistant", "content": action}}]})
                finally:
                    self._leave()

            def _leave(self):
                # a request stops being "in flight" before its response is written: the client may send
                # its next request as soon as it has read the response
                with server._lock:
                    if getattr(self, "_counted", False):
                        server.in_flight -= 1
                        self._counted = False

            def _send(self, status, obj, headers=None):
                data = json.dumps(obj, ensure_ascii=False).encode()
                self._leave()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
