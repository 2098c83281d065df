"""A real chat-completions HTTP server on 127.0.0.1 for judge tests (not a mock of the client)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _reply(content: str) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "judge",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}


def start(policy):
    """Start a server whose verdict is ``policy(reply1, reply2, reference) -> str``; returns
    ``(base_url, server, requests)``; ``requests`` collects the JSON bodies received."""
    requests: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({**body, "_auth": self.headers.get("Authorization")})
            if self.path != "/v1/chat/completions":
                self.send_response(404)
                self.end_headers()
                return
            text = body["messages"][-1]["content"]
            r1 = re.search(r"\[Reply 1\]\n(.*?)\n\n\[Reply 2\]", text, re.DOTALL).group(1)
            r2 = re.search(r"\[Reply 2\]\n(.*?)\n\nWhich", text, re.DOTALL).group(1)
            ref = re.search(r"\[Reference reply\]\n(.*?)\n\n", text, re.DOTALL)
            data = json.dumps(_reply(policy(r1, r2, ref.group(1) if ref else None))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1", server, requests


def reference_policy(r1, r2, ref):
    """Prefers the reply equal to the reference; tie otherwise."""
    if r1 == ref and r2 != ref:
        return "Reply 1 matches. [[1]]"
    if r2 == ref and r1 != ref:
        return "Reply 2 matches. [[2]]"
    return "[[tie]]"


def first_position_policy(r1, r2, ref):
    """A judge that always prefers whatever is shown first (pure position bias)."""
    return "[[1]]"
