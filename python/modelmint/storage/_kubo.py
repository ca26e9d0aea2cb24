"""A content store on a Kubo-compatible IPFS daemon, over its HTTP RPC (``/api/v0``)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from modelmint.errors import InputError, IntegrityError, StoreError
from modelmint.storage._bounded import MAX_GET_BYTES, read_bounded
from modelmint.storage.cid import CHUNK_SIZE, cid_of_bytes, cid_of_file, parse_cid

# Kubo's defaults for CIDv1, spelled out so a daemon configured otherwise still matches cid.py.
_ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "pin": "true",
    "cid-base": "base32",
    "quieter": "true",
}
_START_DAEMON = (
    "start one with `ipfs daemon` (Kubo; its RPC listens on 127.0.0.1:5001) or give the URL of a running one"
)
_CONNECT_TIMEOUT_S = 5.0
# How long a daemon may take to import what it was sent, after the last byte.
_IMPORT_TIMEOUT_S = 600.0
# js-ipfs ignores offline=true and waits the whole timeout for a block it lacks; Kubo answers at once.
_LOOKUP_TIMEOUT_S = 2.0
_MULTIADDR = re.compile(r"^/(?:ip4|ip6|dns|dns4|dns6)/([^/]+)/tcp/(\d+)/?$")


@dataclass(frozen=True)
class KuboStore:
    """Content on an IPFS daemon that speaks the Kubo RPC (Kubo itself, or js-ipfs).

    ``api_url`` is ``http://host:port`` or the multiaddr ``/ip4/host/tcp/port`` that
    ``ipfs config Addresses.API`` prints. ``timeout_s`` bounds how long ``get`` and ``pin`` let
    the daemon look for content it does not hold; without a bound they would wait forever.
    """

    api_url: str
    timeout_s: float = 30.0
    _session: requests.Session = field(
        default_factory=requests.Session, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_url", _normalise_url(self.api_url))

    def put(self, data: bytes) -> str:
        return self._add(cid_of_bytes(data), [data])

    def put_file(self, path: str | Path) -> str:
        path = Path(path)
        return self._add(cid_of_file(path), _read_chunks(path))

    def get(self, cid: str, max_bytes: int = MAX_GET_BYTES) -> bytes:
        parse_cid(cid)
        params = {"arg": cid, "length": str(max_bytes + 1)}  # the daemon stops one byte past the bound
        with self._call("cat", params, what=f"read {cid}", search_s=self.timeout_s, stream=True) as response:
            try:
                data = read_bounded(
                    response.iter_content(CHUNK_SIZE), max_bytes, cid, f"the IPFS daemon at {self.api_url}"
                )
            except requests.RequestException as exc:
                raise StoreError(
                    f"the IPFS daemon at {self.api_url} broke off reading {cid} ({exc})", None
                ) from exc
        actual = cid_of_bytes(data)
        if actual != cid:
            raise IntegrityError(
                f"the IPFS daemon at {self.api_url} returned content for {cid} that hashes to {actual}",
                "the daemon or its blockstore is faulty: run `ipfs repo verify` there, or fetch from another node",
            )
        return data

    def has(self, cid: str) -> bool:
        """Whether the daemon holds the content itself; it never searches the network for it."""
        parse_cid(cid)
        try:
            self._call(
                "block/stat",
                {"arg": cid, "offline": "true"},
                what=f"look up {cid}",
                search_s=_LOOKUP_TIMEOUT_S,
            )
        except _DaemonRefused:
            return False
        return True

    def pin(self, cid: str) -> None:
        parse_cid(cid)
        self._call("pin/add", {"arg": cid}, what=f"pin {cid}", search_s=self.timeout_s)

    def _add(self, expected: str, chunks: Iterable[bytes]) -> str:
        boundary = "modelmint-" + secrets.token_hex(16)
        response = self._call(
            "add",
            _ADD_PARAMS,
            what="add content",
            data=_multipart(boundary, chunks),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        added = _last_hash(response.text)
        if added != expected:
            raise IntegrityError(
                f"the IPFS daemon at {self.api_url} stored the content as {added}, not {expected}",
                "its import settings differ from Kubo's CIDv1 defaults (256 KiB chunks, 174 links, raw leaves):"
                " reset Import.* in its config",
            )
        return added

    def _call(
        self, command: str, params: dict[str, str], *, what: str, search_s: float | None = None, **kwargs: Any
    ) -> requests.Response:
        """POST one RPC command. ``search_s`` bounds, on the daemon's side, a command that may
        look for content on the network; without it such a command waits forever."""
        url = f"{self.api_url}/api/v0/{command}"
        if search_s is not None:
            params = {**params, "timeout": f"{search_s:g}s"}
        read_timeout_s = _IMPORT_TIMEOUT_S if search_s is None else search_s + 5
        try:
            response = self._session.post(
                url, params=params, timeout=(_CONNECT_TIMEOUT_S, read_timeout_s), **kwargs
            )
        except requests.ConnectionError as exc:
            raise StoreError(f"no IPFS daemon answers at {self.api_url}", _START_DAEMON) from exc
        except requests.Timeout as exc:
            raise StoreError(
                f"the IPFS daemon at {self.api_url} did not {what} within {read_timeout_s:g} s",
                "check that the daemon is healthy, or allow more time",
            ) from exc
        except requests.RequestException as exc:
            raise StoreError(
                f"cannot talk to the IPFS daemon at {self.api_url} ({exc})", _START_DAEMON
            ) from exc
        if response.status_code in (404, 405):
            raise StoreError(
                f"{self.api_url} does not serve the IPFS RPC command {command} (HTTP {response.status_code})",
                "give the daemon's RPC address (Addresses.API, port 5001 by default), not its gateway",
            )
        if response.status_code != 200:
            raise _DaemonRefused(
                f"the IPFS daemon at {self.api_url} could not {what}: {_error_message(response)}",
                "check the CID, and that a node holding the content is reachable from the daemon",
            )
        return response


class _DaemonRefused(StoreError):
    """The daemon answered the request with an error."""


def _normalise_url(url: str) -> str:
    match = _MULTIADDR.match(url)
    if match:
        host, port = match.groups()
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"
    if not re.match(r"^https?://[^/]+", url):
        raise InputError(
            f"not an IPFS RPC address: {url!r}", "give http://127.0.0.1:5001 or /ip4/127.0.0.1/tcp/5001"
        )
    return url.rstrip("/")


def _multipart(boundary: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """One file part; each part needs a Content-Type (js-ipfs rejects the request without it)."""
    yield (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="file"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from chunks
    yield f"\r\n--{boundary}--\r\n".encode()


def _read_chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk
    except OSError as exc:
        raise InputError(
            f"cannot read {path} ({exc.strerror or exc})", "check the path and its permissions"
        ) from exc


def _last_hash(text: str) -> str:
    """The root's CID: the add answer is one JSON object per line, the root last."""
    try:
        last = json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError):
        last = None
    if not isinstance(last, dict) or not isinstance(last.get("Hash"), str):
        raise StoreError(
            f"unexpected answer to add from the IPFS daemon: {text[:200]!r}",
            "check that the URL is the daemon's RPC address",
        )
    return str(last["Hash"])


def _error_message(response: requests.Response) -> str:
    try:
        message = response.json().get("Message")
    except ValueError:
        message = None
    return str(message or response.text.strip()[:200] or f"HTTP {response.status_code}")
