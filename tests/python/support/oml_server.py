"""A minimal OpenAI-compatible completions server over a local model, for the verify tests.

Serves ``POST /v1/completions`` ({"prompt", "max_tokens", "temperature": 0}) on 127.0.0.1 with
greedy decoding, as vLLM or llama.cpp's server would for a deployed suspect model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from modelmint.fingerprints.oml.suspect import LocalModel


@contextmanager
def completions_server(model_folder: Path, api_key: str | None = None) -> Iterator[str]:
    """With ``api_key``, a request without ``Authorization: Bearer <api_key>`` gets HTTP 401."""
    model = LocalModel(model_folder)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if api_key is not None and self.headers.get("Authorization") != f"Bearer {api_key}":
                self.send_error(401)
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/completions" or not isinstance(body.get("prompt"), str):
                self.send_error(404)
                return
            with lock:
                (answer,) = model.answer([body["prompt"]], int(body.get("max_tokens", 16)))
            choice = {"index": 0, "text": answer.text}
            if body.get("logprobs") is not None:
                pieces = [model.tokenizer.decode([t]) for t in answer.tokens or ()]
                if "".join(pieces) == answer.text:
                    choice["logprobs"] = {"tokens": pieces}
            payload = json.dumps({"object": "text_completion", "choices": [choice]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
