"""Hostile parties for the bad-input corpus: a JSON-RPC node and a Kubo RPC that lie.

Neither is a mock of the chain or the store: the node forwards every request it does not
tamper with to the real anvil, and the store serves real content from a LocalStore folder.
The fault is the first path segment of the URL (``http://127.0.0.1:PORT/<fault>``), so one
server of each plays every fault and a case names its fault in its ``--rpc-url`` or
``--ipfs-api`` alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

# What the node answers, by fault, for the JSON-RPC methods it tampers with: a result, or an
# error object under "error". Methods not named are forwarded to anvil.
RPC_FAULTS: dict[str, dict[str, Any]] = {
    "chain-id-word": {"eth_chainId": "banana"},
    "chain-id-null": {"eth_chainId": None},
    "chain-id-huge": {"eth_chainId": "0x" + "f" * 80},
    "chain-id-other": {"eth_chainId": "0x1"},
    "revert-garbage": {
        "eth_call": {"error": {"code": 3, "message": "execution reverted", "data": "0xdeadbeef"}}
    },
    # Error(string)'s selector with a string offset that points past the end
    "revert-short": {
        "eth_call": {"error": {"code": 3, "message": "execution reverted", "data": "0x08c379a0" + "ff" * 40}}
    },
    "revert-not-hex": {"eth_call": {"error": {"code": 3, "message": "execution reverted", "data": "0xzz"}}},
    "call-garbage": {"eth_call": "0x1234"},
    "call-null": {"eth_call": None},
    "call-huge-string": {"eth_call": "0x" + "00" * 31 + "20" + "ff" * 32},
    "code-empty": {"eth_getCode": "0x"},
    "code-other": {"eth_getCode": "0x6080604052"},
    "logs-garbage": {"eth_getLogs": [{"bogus": 1}]},
    "logs-not-list": {"eth_getLogs": "nope"},
    "block-garbage": {"eth_getBlockByNumber": {"number": "soon", "timestamp": "late"}},
    "block-null": {"eth_getBlockByNumber": None},
    "error-everything": {"*": {"error": {"code": -32000, "message": "node is syncing"}}},
}
# Faults of the HTTP exchange itself, whatever the method.
HTTP_FAULTS = {"http-500", "truncated", "html", "empty", "not-object"}


def _rpc_handler(upstream: str) -> type[BaseHTTPRequestHandler]:
    session = requests.Session()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fault = urlsplit(self.path).path.strip("/").split("/")[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if fault == "http-500":
                self._send(500, b"Internal Server Error", "text/plain")
            elif fault == "html":
                self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
            elif fault == "empty":
                self._send(200, b"", "application/json")
            else:
                self._reply(fault, json.loads(body))

        def _reply(self, fault: str, request: Any) -> None:
            calls = request if isinstance(request, list) else [request]
            answers = [self._answer(fault, call) for call in calls]
            answer: Any = answers if isinstance(request, list) else answers[0]
            if fault == "not-object":
                answer = ["not", "a", "response"]
            data = json.dumps(answer).encode()
            if fault == "truncated":
                data = data[: max(1, len(data) // 2)]
            self._send(200, data, "application/json")

        def _answer(self, fault: str, call: dict[str, Any]) -> dict[str, Any]:
            tampered = RPC_FAULTS.get(fault, {})
            method = call.get("method")
            for name in (method, "*"):
                if name in tampered:
                    value = tampered[name]
                    if isinstance(value, dict) and "error" in value:
                        return {"jsonrpc": "2.0", "id": call.get("id"), **value}
                    return {"jsonrpc": "2.0", "id": call.get("id"), "result": value}
            forwarded: dict[str, Any] = session.post(upstream, json=call, timeout=30).json()
            return forwarded

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# Kubo RPC faults; any other fault name serves honestly from the folder.
KUBO_FAULTS = {"wrong-bytes", "oversize", "error", "truncated", "not-found", "add-garbage", "add-wrong-hash"}


def _kubo_handler(store_dir: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            fault, command = parts[0], "/".join(parts[3:])  # /<fault>/api/v0/<command>
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            if self.headers.get("Transfer-Encoding") == "chunked":
                self._drain_chunked()
            if fault == "not-found":
                self._send(404, b"404 page not found\n")
            elif fault == "error":
                error = {"Message": "blockservice: block not found", "Code": 0, "Type": "error"}
                self._send(500, json.dumps(error).encode())
            elif command == "add":
                self._add(fault)
            elif command == "cat":
                self._cat(fault, params)
            elif (store_dir / params.get("arg", "")).is_file():  # block/stat, pin/add: honest
                self._send(200, json.dumps({"Key": params["arg"]}).encode())
            else:
                self._send(500, json.dumps({"Message": "not found", "Code": 0}).encode())

        def _add(self, fault: str) -> None:
            """Never stores anything: the corpus checks that the store is unchanged."""
            if fault == "add-garbage":
                self._send(200, b"<html>welcome to the gateway</html>")
            elif fault == "add-wrong-hash":
                fake = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
                self._send(200, json.dumps({"Name": "file", "Hash": fake}).encode())
            else:
                self._send(500, json.dumps({"Message": "read-only node", "Code": 0}).encode())

        def _cat(self, fault: str, params: dict[str, str]) -> None:
            path = store_dir / params.get("arg", "")
            data = path.read_bytes() if path.is_file() else None
            if fault == "oversize":  # ignores the length bound the client asked for
                limit = int(params.get("length", "1048576")) + (1 << 20)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                chunk = b" " * (1 << 20)
                try:
                    for _ in range(limit // len(chunk) + 1):
                        self.wfile.write(chunk)
                except OSError:  # the client stopped reading at its bound
                    pass
                return None
            if data is None:
                return self._send(
                    500, json.dumps({"Message": "block was not found locally (offline)"}).encode()
                )
            if fault == "wrong-bytes":
                return self._send(200, b'{"schema": "something else"}')
            if fault == "truncated":  # promises the whole body, sends half, hangs up
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return None
            return self._send(200, data)

        def _drain_chunked(self) -> None:
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                self.rfile.read(size + 2)
                if size == 0:
                    return

        def _send(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if data[:1] in (b"{", b"[") else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hostile_node(upstream: str) -> Iterator[str]:
    """A JSON-RPC node in front of ``upstream``: ``<url>/<fault>`` plays one of RPC_FAULTS or
    HTTP_FAULTS; ``<url>/honest`` forwards everything."""
    with _serve(_rpc_handler(upstream)) as url:
        yield url


@contextmanager
def hostile_store(store_dir: Path) -> Iterator[str]:
    """A Kubo RPC serving ``store_dir`` (a LocalStore folder, read only): ``<url>/<fault>``
    plays one of KUBO_FAULTS; ``<url>/honest`` serves the folder's content."""
    with _serve(_kubo_handler(store_dir)) as url:
        yield url
