"""``modelmint web``: the page, the deployments and an IPFS gateway on 127.0.0.1 (reads, and the page's checked uploads).

Routes:

- ``/`` and ``/index.html``: the built page (one self-contained HTML file, ``static/``);
- ``/deployments.json``: every ``deployments/<chainId>.json`` of the project folder, with the
  devnet's RPC URL so the page can offer ``wallet_addEthereumChain``;
- ``/ipfs/<cid>``: the content of ``cid`` from the content store, as it is. The page checks it
  against the CID; the server does not vouch for it, as no gateway should be trusted to.
  ``?format=raw`` (or ``Accept: application/vnd.ipld.raw``) gives the root block instead, as a
  trustless gateway does.

- ``PUT /ipfs/<cid>``: the page's uploads when it mints (a leaf list, a weights manifest,
  metadata). The server computes the CID of the bytes itself and stores them only if it is
  ``cid``; only the page's own origin may upload, and only a leaf list (a whole number of
  32-byte hashes) or one JSON object.

Only names that parse as a modelmint CID reach the store (docs/content-store.md), so no path
outside it can be asked for; requests whose ``Host`` is not the loopback address are refused,
so a web page elsewhere cannot reach the server through DNS rebinding.
"""

from __future__ import annotations

import json
import shutil
import threading
import webbrowser
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from modelmint.chain import devnet
from modelmint.errors import InputError, ModelmintError, StoreError
from modelmint.home import Home
from modelmint.storage import KuboStore, LocalStore, open_store
from modelmint.storage.cid import blocks_of_bytes, cid_of_bytes, cid_of_file, parse_cid

PAGE = "index.html"
DEPLOYMENTS = "deployments.json"


def page_dir() -> Path:
    """The packaged build of ``web/`` (``make web`` writes it)."""
    folder = Path(__file__).resolve().parent / "static"
    if not (folder / PAGE).is_file():
        raise InputError(
            f"the page is not built ({folder / PAGE} is missing)",
            "run `make web` in the modelmint checkout (it needs Node 20), or install a modelmint wheel",
        )
    return folder


def deployments_document(home: Home) -> dict[str, Any]:
    """What ``/deployments.json`` serves: the deployment records as they are on disk, by chain."""
    chains = []
    folder = home.deployments_dir
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            chains.append(
                {
                    "chainId": int(record["chainId"]),
                    "block": int(record["block"]),
                    "contracts": {name: c["address"] for name, c in record["contracts"].items()},
                }
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unreadable record is the CLI's to report; the page lists the rest
    running = devnet.status(home)
    document: dict[str, Any] = {"chains": chains}
    if running is not None:
        document["devnet"] = {"chainId": running.chain_id, "rpcUrl": running.url}
    return document


def build_static(home: Home, out: Path) -> str:
    """Write the page and the deployments as a static folder; return the page's CID.

    The CID is that of ``index.html`` alone (the whole page: scripts, styles and the worker
    are inlined), so ``ipfs add --cid-version=1 index.html`` gives it too, and a user can
    check that a copy served anywhere is the genuine build.
    """
    source = page_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / PAGE, out / PAGE)
        (out / DEPLOYMENTS).write_text(json.dumps(deployments_document(home), indent=2) + "\n")
    except OSError as exc:
        raise InputError(
            f"cannot write {out} ({exc.strerror or exc})", "choose a folder you can write to"
        ) from exc
    return cid_of_file(out / PAGE)


@dataclass
class PageServer:
    """A running server; ``url`` is where the page is."""

    httpd: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}/"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def serve(home: Home, port: int = 0, ipfs_api: str | None = None) -> PageServer:
    """Start the server on 127.0.0.1 (a free port unless ``port``) in a background thread."""
    folder = page_dir()
    store = open_store(home.store_dir, ipfs_api)
    handler = type("Handler", (_Handler,), {"home": home, "page": folder, "store": store})
    try:
        httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise InputError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})",
            "choose another --port, or leave it out",
        ) from exc
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="modelmint-web", daemon=True)
    thread.start()
    return PageServer(httpd, thread)


MAX_UPLOAD_BYTES = 1 << 30
"""The largest upload: a leaf list of 33 million datapoints."""
_MAX_JSON_UPLOAD = 16 << 20


def _check_upload(data: bytes) -> None:
    """Only what the page stores when it mints: a leaf list or one JSON document."""
    if data[:1] == b"{" and len(data) <= _MAX_JSON_UPLOAD:
        try:
            if isinstance(json.loads(data), dict):
                return
        except ValueError:
            pass
    if len(data) % 32 == 0:
        return
    raise InputError("an upload is a leaf list (32-byte hashes) or one JSON object; nothing was stored")


def loopback_host(host: str | None, port: int) -> bool:
    """Whether a request's ``Host`` names this server on the loopback address: a name that
    resolves elsewhere (DNS rebinding) must not reach it."""
    return host in (f"127.0.0.1:{port}", f"localhost:{port}")


def open_browser(url: str) -> None:
    webbrowser.open(url)


class _Handler(BaseHTTPRequestHandler):
    home: Home
    page: Path
    store: LocalStore | KuboStore
    server_version = "modelmint-web"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal shows the URL; request logs would bury it

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_PUT(self) -> None:
        port = cast(tuple[str, int], self.server.server_address)[1]
        path = urlsplit(self.path).path
        if not loopback_host(self.headers.get("Host"), port):
            return self._send(
                HTTPStatus.MISDIRECTED_REQUEST, b"only http://127.0.0.1 is served\n", "text/plain", False
            )
        if self.headers.get("Origin") not in (f"http://127.0.0.1:{port}", f"http://localhost:{port}"):
            # Browsers name the origin of every PUT: one elsewhere (or none) is not this page.
            return self._send(
                HTTPStatus.FORBIDDEN, b"uploads come from this server's page only\n", "text/plain", False
            )
        if not path.startswith("/ipfs/"):
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", False)
        cid = path.removeprefix("/ipfs/")
        try:
            parse_cid(cid)
            length = int(self.headers.get("Content-Length") or "-1")
            if not 0 < length <= MAX_UPLOAD_BYTES:
                raise InputError(
                    f"an upload is 1 to {MAX_UPLOAD_BYTES:,} bytes (got Content-Length {length})"
                )
            data = self.rfile.read(length)
            _check_upload(data)
            got = cid_of_bytes(data)
            if got != cid:
                raise InputError(f"the bytes sent have CID {got}, not {cid}; nothing was stored")
            self.store.put(data)
        except InputError as exc:
            return self._send(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode(), "text/plain", False)
        except ModelmintError as exc:
            return self._send(HTTPStatus.BAD_GATEWAY, f"{exc}\n".encode(), "text/plain", False)
        return self._send(HTTPStatus.CREATED, f"ipfs://{cid}\n".encode(), "text/plain", False, cid)

    def _respond(self, head: bool) -> None:
        port = cast(tuple[str, int], self.server.server_address)[1]
        if not loopback_host(self.headers.get("Host"), port):
            return self._send(
                HTTPStatus.MISDIRECTED_REQUEST, b"only http://127.0.0.1 is served\n", "text/plain", head
            )
        url = urlsplit(self.path)
        path = url.path
        if path in ("/", f"/{PAGE}"):
            return self._send(
                HTTPStatus.OK, (self.page / PAGE).read_bytes(), "text/html; charset=utf-8", head
            )
        if path == f"/{DEPLOYMENTS}":
            body = json.dumps(deployments_document(self.home)).encode()
            return self._send(HTTPStatus.OK, body, "application/json", head)
        if path.startswith("/ipfs/"):
            raw = "raw" in parse_qs(url.query).get(
                "format", []
            ) or "application/vnd.ipld.raw" in self.headers.get("Accept", "")
            return self._content(path.removeprefix("/ipfs/"), raw, head)
        return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)

    def _content(self, cid: str, raw: bool, head: bool) -> None:
        try:
            parse_cid(cid)
            data = self._read(cid)
        except InputError as exc:
            return self._send(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode(), "text/plain", head)
        except StoreError as exc:
            return self._send(HTTPStatus.NOT_FOUND, f"{exc}\n".encode(), "text/plain", head)
        except ModelmintError as exc:
            return self._send(HTTPStatus.BAD_GATEWAY, f"{exc}\n".encode(), "text/plain", head)
        if raw:
            _, blocks = blocks_of_bytes(data)
            data = blocks[-1].data  # the root block; its CID is the one asked for
            return self._send(HTTPStatus.OK, data, "application/vnd.ipld.raw", head, cid)
        return self._send(HTTPStatus.OK, data, "application/octet-stream", head, cid)

    def _read(self, cid: str) -> bytes:
        if isinstance(self.store, LocalStore):
            # The bytes as the folder holds them, unchecked: the page checks them, and a
            # gateway that "fixed" bad content would hide exactly what the page must see.
            try:
                return (self.store.root / cid).read_bytes()
            except FileNotFoundError:
                raise StoreError(f"{cid} is not in the content store", "mint or put it first") from None
            except OSError as exc:
                raise StoreError(f"cannot read {cid} ({exc.strerror or exc})") from exc
        return self.store.get(cid)

    def _send(self, status: HTTPStatus, body: bytes, kind: str, head: bool, cid: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        if cid is not None:
            self.send_header("X-Ipfs-Path", f"/ipfs/{cid}")
            # Public, read-only content a page served elsewhere (a static copy) may read, as
            # from any public gateway; it is checked against its CID there.
            self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if not head:
            self.wfile.write(body)
