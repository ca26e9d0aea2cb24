"""KuboStore against a real daemon (js-ipfs, Kubo's RPC) and against faulty or absent ones."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelmint.errors import InputError, IntegrityError, StoreError
from modelmint.storage import KuboStore, cid_of_bytes, cid_of_file
from storage_samples import Sample, content, free_port

# --- a real daemon ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kubo(ipfs_api: str) -> KuboStore:
    return KuboStore(ipfs_api, timeout_s=2)


@pytest.mark.daemon
def test_the_daemon_computes_the_same_cids(kubo: KuboStore, sample: Sample, tmp_path: Path) -> None:
    """put_file fails unless the daemon's CID equals cid.py's; the golden values in test_cid.py come from here."""
    path = tmp_path / "content"
    path.write_bytes(sample.data)
    assert kubo.put_file(path) == cid_of_file(path)


@pytest.mark.daemon
def test_put_get_pin_round_trip(kubo: KuboStore) -> None:
    data = json.dumps({"name": "modelmint test", "at": time.time()}).encode()
    cid = kubo.put(data)
    assert cid == cid_of_bytes(data)
    assert kubo.has(cid)
    assert kubo.get(cid) == data
    kubo.pin(cid)


@pytest.mark.daemon
def test_a_multi_level_file_round_trips(kubo: KuboStore, tmp_path: Path) -> None:
    data = content(174 * 262_144 + 1)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    cid = kubo.put_file(path)
    assert kubo.get(cid) == data


@pytest.mark.daemon
def test_missing_content_is_a_quick_clear_error(kubo: KuboStore) -> None:
    absent = cid_of_bytes(b"nobody ever added this " + str(time.time()).encode())
    assert not kubo.has(absent)
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"could not read {absent}") as raised:
        kubo.get(absent)
    assert time.monotonic() - started < 10
    assert "\n" not in str(raised.value)
    with pytest.raises(StoreError, match=f"could not pin {absent}"):
        kubo.pin(absent)


# --- no daemon, or the wrong one -------------------------------------------------------------


def test_an_unreachable_daemon_is_a_one_line_store_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = KuboStore(url)
    for call in (
        lambda: store.put(b"x"),
        lambda: store.get(cid_of_bytes(b"x")),
        lambda: store.has(cid_of_bytes(b"x")),
    ):
        with pytest.raises(StoreError) as raised:
            call()
        message = str(raised.value)
        assert url in message
        assert "ipfs daemon" in message
        assert "\n" not in message


def test_a_malformed_api_address_is_an_input_error() -> None:
    with pytest.raises(InputError):
        KuboStore("localhost:5001")


class _LyingDaemon(http.server.BaseHTTPRequestHandler):
    """Answers add with a CID other than the content's and cat with altered bytes."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding") == "chunked":
            while (size := int(self.rfile.readline().strip(), 16)) > 0:
                self.rfile.read(size + 2)
            self.rfile.readline()
        else:
            self.rfile.read(length)
        if self.path.startswith("/api/v0/add"):
            body = json.dumps(
                {"Name": "file", "Hash": cid_of_bytes(b"something else"), "Size": "14"}
            ).encode()
        elif self.path.startswith("/api/v0/cat"):
            body = b"forged"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lying_daemon() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LyingDaemon)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_daemon_returning_other_bytes_is_an_integrity_error(lying_daemon: str) -> None:
    with pytest.raises(IntegrityError, match="hashes to"):
        KuboStore(lying_daemon).get(cid_of_bytes(b"original"))


def test_a_daemon_computing_another_cid_is_an_integrity_error(lying_daemon: str, tmp_path: Path) -> None:
    with pytest.raises(IntegrityError, match="import settings"):
        KuboStore(lying_daemon).put(b"original")
    path = tmp_path / "f"
    path.write_bytes(b"original")
    with pytest.raises(IntegrityError, match="import settings"):
        KuboStore(lying_daemon).put_file(path)


def test_a_gateway_url_is_a_store_error(lying_daemon: str) -> None:
    with pytest.raises(StoreError, match="does not serve the IPFS RPC"):
        KuboStore(lying_daemon).pin(cid_of_bytes(b"x"))


class _FloodingDaemon(http.server.BaseHTTPRequestHandler):
    """Answers every cat with an endless body (bounded here at 64 MiB), whatever `length` asks."""

    def do_POST(self) -> None:
        self.send_response(200)
        self.end_headers()
        chunk = b"\0" * (1 << 20)
        try:
            for _ in range(64):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


def test_a_daemon_that_floods_a_read_is_cut_off_at_the_bound() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FloodingDaemon)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        store = KuboStore(f"http://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(IntegrityError, match="serves more than 1,048,576 bytes"):
            store.get(cid_of_bytes(b"a small manifest"), max_bytes=1 << 20)
    finally:
        server.shutdown()
        server.server_close()


def test_the_daemon_is_asked_for_no_more_than_the_bound(kubo: KuboStore) -> None:
    data = bytes(range(256)) * 64
    cid = kubo.put(data)
    assert kubo.get(cid, max_bytes=len(data)) == data
    with pytest.raises(IntegrityError, match="serves more than"):
        kubo.get(cid, max_bytes=len(data) - 1)
