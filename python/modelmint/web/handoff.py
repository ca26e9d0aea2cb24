"""``--wallet browser``: the CLI prepares each transaction, the page hands it to the user's wallet.

As Foundry's ``--browser`` wallet does, the command serves the page on 127.0.0.1 for as long
as it runs and prints its URL. The page connects the wallet (EIP-6963 or
``window.ethereum``), asks for the command's chain, and then, one transaction at a time,
shows what will be signed (decoding the calldata itself against the contracts' ABIs) and
asks the wallet to send it with ``eth_sendTransaction``. It posts back the hash, or the
wallet's refusal; :class:`~modelmint.chain.client.Chain` checks that the hash names the
transaction asked for and waits for its receipt as it does for a local key.

Routes (all but ``/`` need the per-run token in the ``X-Modelmint-Handoff`` header):

- ``GET /``: the page; ``#handoff=<token>`` in its URL puts it in hand-off mode;
- ``GET /handoff/session``: the chain, its name and the command being run;
- ``POST /handoff/account`` ``{"address", "chainId"}``: the wallet's account and chain;
- ``GET /handoff/next``: the transaction to send now, if any (the page polls it every
  second; a page that stops polling is a closed tab);
- ``POST /handoff/result`` ``{"id", "hash"}`` or ``{"id", "error": {"code", "message"}}``.

The token is random per run (256 bits) and dies with the command; requests must name the
loopback host (no DNS rebinding) and, where a browser says where they come from, the
server's own origin (no other page, even one on this machine, can drive the hand-off); a
result for a transaction the page was not asked to send is refused.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from modelmint._json import to_json
from modelmint.chain.client import TxDescription
from modelmint.errors import ChainError, InputError
from modelmint.web.server import PAGE, loopback_host, page_dir

TOKEN_HEADER = "X-Modelmint-Handoff"
CONNECT_TIMEOUT_S = 600.0
"""How long a command waits for a page to connect a wallet before it gives up."""
ALIVE_TIMEOUT_S = 10.0
"""How long a connected page may go silent (it polls every second) before it counts as closed."""
_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BODY_LIMIT = 64 * 1024
# EIP-1193 codes: 4001 the user rejected, 4100 not authorised, 4900/4901 disconnected from the chain(s).
_REJECTED = 4001
_OFF_CHAIN = (4900, 4901)


class BrowserWallet:
    """A :class:`~modelmint.chain.remote.RemoteSigner` whose key is in the user's browser wallet."""

    def __init__(
        self,
        chain_id: int,
        chain_name: str,
        *,
        command: str,
        announce: Callable[[str], None],
        wallet_rpc_url: str | None = None,
        open_page: bool = True,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        alive_timeout_s: float = ALIVE_TIMEOUT_S,
    ) -> None:
        self.chain_id = chain_id
        self.chain_name = chain_name
        self.command = command
        self.announce = announce
        self.wallet_rpc_url = wallet_rpc_url  # offered to wallet_addEthereumChain (the devnet only)
        self.open_page = open_page
        self.connect_timeout_s = connect_timeout_s
        self.alive_timeout_s = alive_timeout_s
        self.token = secrets.token_urlsafe(32)
        self.refused: list[str] = []  # why each refused request was refused, in order
        self._cv = threading.Condition()
        self._account: str | None = None
        self._problem: ChainError | None = None
        self._started = time.monotonic()
        self._last_seen: float | None = None
        self._request: dict[str, Any] | None = None
        self._result: dict[str, Any] | None = None
        self._steps: list[dict[str, Any]] = []
        self._done = False
        self._announced = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> BrowserWallet:
        page = page_dir() / PAGE
        handler = type("HandoffHandler", (_Handler,), {"wallet": self, "page": page})
        try:
            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        except OSError as exc:
            raise InputError(f"cannot listen on 127.0.0.1 ({exc.strerror or exc})", None) from exc
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="modelmint-handoff", daemon=True
        )
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() first"
        return cast(tuple[str, int], self._httpd.server_address)[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        # The token rides in the fragment, which browsers never send to a server or a Referer.
        return f"{self.origin}/#handoff={self.token}"

    def close(self) -> None:
        """End the hand-off: the page is told the command finished, and the token dies."""
        if self._httpd is None:
            return
        with self._cv:
            self._done = True
            self._request = None
            self._cv.notify_all()
            seen = self._last_seen
        if seen is not None and self._problem is None:
            # Give the page one poll to learn the command finished, so it can say so.
            end = time.monotonic() + 2.5
            with self._cv:
                while self._last_seen == seen and time.monotonic() < end:
                    self._cv.wait(0.1)
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def _show_url(self) -> None:
        if self._announced:
            return
        self._announced = True
        self.announce(f"Sign with your browser wallet: open {self.url}")
        if self.open_page:
            webbrowser.open(self.url)

    # --- RemoteSigner ------------------------------------------------------------------------

    @property
    def address(self) -> str:
        self._show_url()
        self._wait(lambda: self._account is not None, "connecting the wallet")
        assert self._account is not None
        return self._account

    def send(self, tx: dict[str, Any], described: TxDescription) -> str:
        self._show_url()
        step = len(self._steps) + 1
        what = f"step {step} ({described.contract}.{described.function})"
        request_id = secrets.token_hex(8)
        with self._cv:
            self._request = {
                "id": request_id,
                "step": step,
                "tx": _wire_tx(tx),
                "description": {**_plain(to_json(described)), "chainName": described.chain_name},
            }
            self._result = None
            self._steps.append(
                {"step": step, "what": f"{described.contract}.{described.function}", "status": "asked"}
            )
            self._cv.notify_all()
        self._wait(lambda: self._result is not None, what)
        with self._cv:
            result: dict[str, Any] = self._result or {}
            self._result, self._request = None, None
        if "hash" in result:
            self._steps[-1].update(status="sent", hash=result["hash"])
            return str(result["hash"])
        error = result.get("error") or {}
        code, message = error.get("code"), str(error.get("message") or "no reason given")[:300]
        self._steps[-1].update(status="refused")
        if code == _REJECTED:
            raise ChainError(
                f"{what} was rejected in the wallet; it was not sent",
                "run the command again to retry: what was already mined is not sent again",
            )
        if code in _OFF_CHAIN:
            raise ChainError(
                f"{what} was not sent: the wallet is not on chain {self.chain_id} ({self.chain_name}) ({message})",
                f"switch the wallet to chain {self.chain_id} and run the command again",
            )
        raise ChainError(
            f"{what} was not sent: the wallet refused it ({message})",
            "run the command again to retry: what was already mined is not sent again",
        )

    def _wait(self, ready: Callable[[], bool], what: str) -> None:
        with self._cv:
            while not ready():
                if self._problem is not None:
                    raise self._problem
                now = time.monotonic()
                if self._last_seen is None and now - self._started > self.connect_timeout_s:
                    raise ChainError(
                        f"no wallet page connected within {self.connect_timeout_s:g} s; {what} was not sent",
                        f"open {self.origin}/#handoff=… (the URL printed above) in the browser that has your wallet, "
                        "and run the command again",
                    )
                if self._last_seen is not None and now - self._last_seen > self.alive_timeout_s:
                    raise ChainError(
                        f"the wallet page was closed before {what} was sent",
                        "run the command again and keep the page open until it says the command finished",
                    )
                self._cv.wait(0.2)

    # --- what the handler calls, under the lock -------------------------------------------------

    def _seen(self) -> None:
        self._last_seen = time.monotonic()
        self._cv.notify_all()

    def _session(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "chainName": self.chain_name,
            "command": self.command,
            "walletRpcUrl": self.wallet_rpc_url,
        }

    def _on_account(self, body: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        address, chain_id = body.get("address"), body.get("chainId")
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address) or not isinstance(chain_id, int):
            return HTTPStatus.BAD_REQUEST, {"error": "expected {address: 0x…40 hex, chainId: integer}"}
        if chain_id != self.chain_id:
            self._problem = ChainError(
                f"the wallet is on chain {chain_id}, not chain {self.chain_id} ({self.chain_name}), "
                "and did not switch; nothing was sent",
                f"switch the wallet to chain {self.chain_id} and run the command again",
            )
            self._cv.notify_all()
            return HTTPStatus.CONFLICT, {"error": self._problem.problem}
        from web3 import Web3

        checksummed = Web3.to_checksum_address(address)
        if self._account is not None and checksummed != self._account:
            self._problem = ChainError(
                f"the wallet switched from account {self._account} to {checksummed} during the command; "
                "nothing more was sent",
                "keep one account selected in the wallet, and run the command again",
            )
            self._cv.notify_all()
            return HTTPStatus.CONFLICT, {"error": self._problem.problem}
        self._account = checksummed
        self._cv.notify_all()
        return HTTPStatus.OK, {"account": checksummed}

    def _next(self) -> dict[str, Any]:
        return {
            "request": self._request if self._result is None else None,
            "steps": self._steps,
            "done": self._done,
            "problem": self._problem.problem if self._problem else None,
        }

    def _on_result(self, body: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]]:
        asked = self._request
        if asked is None or body.get("id") != asked["id"] or self._result is not None:
            return HTTPStatus.CONFLICT, {"error": "the page was not asked to send that transaction; refused"}
        tx_hash = body.get("hash")
        if tx_hash is not None and not (isinstance(tx_hash, str) and _HASH.fullmatch(tx_hash)):
            return HTTPStatus.BAD_REQUEST, {"error": "a transaction hash is 0x and 64 hex digits"}
        error = body.get("error")
        if tx_hash is None and not isinstance(error, dict):
            return HTTPStatus.BAD_REQUEST, {"error": "expected {id, hash} or {id, error: {code, message}}"}
        self._result = (
            {"id": asked["id"], "hash": tx_hash.lower()} if tx_hash else {"id": asked["id"], "error": error}
        )
        self._cv.notify_all()
        return HTTPStatus.OK, {"ok": True}

    def _refuse(self, why: str) -> None:
        self.refused.append(why)


def _wire_tx(tx: dict[str, Any]) -> dict[str, Any]:
    """The prepared transaction as ``eth_sendTransaction`` takes it: hex quantities, no nonce."""
    out: dict[str, Any] = {"from": tx["from"], "data": _hex_data(tx.get("data", "0x"))}
    if tx.get("to"):
        out["to"] = tx["to"]
    for key in ("value", "gas", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "chainId"):
        if tx.get(key) is not None:
            out[key] = hex(int(tx[key]))
    out.setdefault("value", "0x0")
    return out


def _hex_data(data: Any) -> str:
    if isinstance(data, bytes | bytearray):
        return "0x" + bytes(data).hex()
    text = str(data)
    return text if text.startswith("0x") else "0x" + text


def _plain(value: Any) -> Any:
    """JSON-safe: integers past 2**53 (wei, uint256 arguments) as decimal strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    return str(value)


class _Handler(BaseHTTPRequestHandler):
    wallet: BrowserWallet
    page: Path
    server_version = "modelmint-handoff"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the command's own output is what the terminal shows

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        refused = self._refusal(method, path)
        if refused is not None:
            return self._json(*refused)
        if method == "GET" and path in ("/", f"/{PAGE}"):
            return self._send(HTTPStatus.OK, self.page.read_bytes(), "text/html; charset=utf-8")
        body: dict[str, Any] = {}
        if method == "POST":
            parsed = self._body()
            if parsed is None:
                return self._json(HTTPStatus.BAD_REQUEST, {"error": "the body must be one JSON object"})
            body = parsed
        wallet = self.wallet
        routes: dict[tuple[str, str], Callable[[], tuple[HTTPStatus, dict[str, Any]]]] = {
            ("GET", "/handoff/session"): lambda: (HTTPStatus.OK, wallet._session()),
            ("GET", "/handoff/next"): lambda: (HTTPStatus.OK, wallet._next()),
            ("POST", "/handoff/account"): lambda: wallet._on_account(body),
            ("POST", "/handoff/result"): lambda: wallet._on_result(body),
        }
        route = routes.get((method, path))
        if route is None:
            return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
        with wallet._cv:
            wallet._seen()
            status, answer = route()
        if status == HTTPStatus.CONFLICT and path == "/handoff/result":
            wallet._refuse("not asked")
        return self._json(status, answer)

    def _refusal(self, method: str, path: str) -> tuple[HTTPStatus, dict[str, Any]] | None:
        """Why a request is refused: not addressed to the loopback host, or (for the hand-off's
        own routes) from another origin or without this run's token. None: it may go on."""
        wallet = self.wallet
        if not loopback_host(self.headers.get("Host"), wallet.port):
            wallet._refuse("host")
            return HTTPStatus.MISDIRECTED_REQUEST, {"error": "only http://127.0.0.1 is served"}
        if not path.startswith("/handoff/"):
            return (
                None
                if method == "GET" and path in ("/", f"/{PAGE}")
                else (HTTPStatus.NOT_FOUND, {"error": "not found"})
            )
        origin = self.headers.get("Origin")
        # Browsers name the origin of every POST and of any cross-origin request.
        if (origin is not None or method == "POST") and origin not in (
            wallet.origin,
            f"http://localhost:{wallet.port}",
        ):
            wallet._refuse("origin")
            return HTTPStatus.FORBIDDEN, {
                "error": f"requests from {origin or 'an unnamed origin'} are refused"
            }
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), wallet.token.encode()):
            wallet._refuse("token")
            return HTTPStatus.FORBIDDEN, {
                "error": "wrong or expired hand-off token: open the URL the running command printed"
            }
        return None

    def _body(self) -> dict[str, Any] | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 < length <= _BODY_LIMIT:
            return None
        try:
            parsed = json.loads(self.rfile.read(length))
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def _json(self, status: HTTPStatus, value: dict[str, Any]) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)
