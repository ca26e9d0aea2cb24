"""A model folder dropped on the page (the real drop handler, with a drag from outside the
page), and `modelmint web --ipfs-api URL`: content served from a real IPFS daemon (the js-ipfs
one of tests/ipfs), and bytes that are wrong on the way from it refused."""

from __future__ import annotations

import http.server
import importlib.util
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from modelmint.registry import Registries, commit_dataset, register_model
from modelmint.storage import KuboStore, parse_uri
from modelmint.web import serve
from web_support import EXAMPLE, MEMBER, OUTSIDER, WALLET_JS, check_rows, connect

# The session's js-ipfs daemon fixture lives beside the storage tests; it is shared, not copied.
_spec = importlib.util.spec_from_file_location(
    "_storage_conftest_for_web", Path(__file__).resolve().parents[1] / "storage" / "conftest.py"
)
_storage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_storage)
ipfs_api = _storage.ipfs_api


def drop_paths(page, selector: str, paths: list[Path]) -> None:
    """Drag files or folders from outside the page onto `selector` and drop them.

    Chromium's DevTools `Input.dispatchDragEvent` with file paths is what a drag from the file
    manager becomes: the page gets a real DataTransfer whose items give FileSystemEntry
    objects (webkitGetAsEntry), folders included, so the page's own drop handler runs.
    """
    # The registry table above can be long (the session's chain holds every test's tokens) and
    # fills in while the page loads: bring the target into view and check it is what the point
    # hits, since a drag event goes to whatever element lies under its viewport coordinates.
    target = page.locator(selector)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box is not None, f"{selector} is not on the page"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    hit = page.evaluate(
        "([x, y, sel]) => { const e = document.elementFromPoint(x, y); return !!e && !!e.closest(sel); }",
        [x, y, selector],
    )
    assert hit, f"the point ({x}, {y}) is not on {selector}"
    cdp = page.context.new_cdp_session(page)
    data = {"items": [], "files": [str(p) for p in paths], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": x, "y": y, "data": data})


def drop_model(page, token_id: int, folder: Path) -> None:
    """Drop `folder` on the model check once the registry is drawn (it is drawn in one go when
    every token is read, which moves the drop zone), and wait for the page's answer."""
    page.fill("#model-token", str(token_id))
    page.wait_for_selector(f'#registry tr[data-ref="model/{token_id}"]', state="attached")
    drop_paths(page, "#model-drop", [folder])
    try:
        page.wait_for_selector("#model-answer")
    except PlaywrightTimeout:
        raise AssertionError(f"no answer; the page says: {page.inner_text('#model-result')!r}") from None


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "config.json").write_bytes(b'{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}\n')
    # a real safetensors file, one 300 KB tensor: more than one 256 KiB CID chunk
    header = json.dumps({"w": {"dtype": "U8", "shape": [300_000], "data_offsets": [0, 300_000]}}).encode()
    (folder / "model.safetensors").write_bytes(
        len(header).to_bytes(8, "little") + header + bytes(range(256)) * 1171 + bytes(224)
    )
    (folder / "tokenizer" / "vocab.txt").write_bytes(b"hello\nworld\n")
    return folder


@pytest.fixture
def model(registries, model_folder):
    return register_model(registries, model_folder, name="dropped")


def test_a_dropped_model_folder_is_walked_and_checked(open_page, deployed, model, model_folder):
    page = open_page({})
    connect(page)
    drop_model(page, model.token_id, model_folder)
    assert page.inner_text("#model-answer").startswith("matches"), page.inner_text("#model-result")
    assert "3 files" in page.inner_text("#model-result")  # tokenizer/vocab.txt found inside the sub-folder


def test_a_dropped_tampered_folder_names_the_file(open_page, deployed, model, model_folder):
    (model_folder / "tokenizer" / "vocab.txt").write_bytes(b"hello\nWORLD\n")
    page = open_page({})
    connect(page)
    drop_model(page, model.token_id, model_folder)
    assert page.inner_text("#model-answer").startswith("does not match")
    assert page.inner_text(".differing") == "tokenizer/vocab.txt"


class _Relay(http.server.BaseHTTPRequestHandler):
    """Forwards the Kubo RPC to the real daemon; with `flip`, changes one byte of every `cat`."""

    upstream = ""
    flip = False

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = urllib.request.Request(self.upstream + self.path, data=body, method="POST")
        for name in ("Content-Type",):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, data, kind = (
                    response.status,
                    response.read(),
                    response.headers.get("Content-Type", ""),
                )
        except urllib.error.HTTPError as exc:
            status, data, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
        if self.flip and self.path.startswith("/api/v0/cat") and status == 200 and data:
            data = bytes([data[0] ^ 1]) + data[1:]
        self.send_response(status)
        self.send_header("Content-Type", kind or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def lying_api(ipfs_api: str) -> Iterator[str]:
    handler = type("Relay", (_Relay,), {"upstream": ipfs_api, "flip": True})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _open(browser, anvil, url: str):
    context = browser.new_context()
    context.add_init_script(
        f"window.__testWallet = {json.dumps({'rpcUrl': anvil.url, 'anvilChainId': anvil.chain_id, 'chainId': anvil.chain_id})};"
    )
    context.add_init_script(WALLET_JS)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    connect(page)
    return context, page


@pytest.fixture
def daemon_dataset(tmp_path: Path, chain, deployed, ipfs_api: str):
    """A dataset whose metadata and leaf list are on the daemon only, not in the local store."""
    registries = Registries.from_deployment(chain, deployed, KuboStore(ipfs_api))
    path = tmp_path / "example.jsonl"
    path.write_text(EXAMPLE)
    return commit_dataset(registries, path, name="on the daemon")


@pytest.mark.daemon
def test_content_comes_through_the_ipfs_api(browser, anvil, home, deployed, daemon_dataset, ipfs_api):
    assert not (home.store_dir / parse_uri(daemon_dataset.leaves_uri)).exists()
    server = serve(home, ipfs_api=ipfs_api)
    try:
        cid = parse_uri(daemon_dataset.leaves_uri)
        with urllib.request.urlopen(urllib.parse.urljoin(server.url, f"/ipfs/{cid}"), timeout=30) as response:
            assert response.status == 200
            assert len(response.read()) % 32 == 0
        context, page = _open(browser, anvil, server.url)
        page.fill("#dp-token", str(daemon_dataset.token_id))
        answers = check_rows(page, MEMBER + "\n" + OUTSIDER + "\n")
        assert answers == {"pasted line 1": "true", "pasted line 2": "false"}
        context.close()
    finally:
        server.stop()


@pytest.mark.daemon
def test_wrong_bytes_from_the_ipfs_api_are_refused(browser, anvil, home, deployed, daemon_dataset, lying_api):
    server = serve(home, ipfs_api=lying_api)
    try:
        context, page = _open(browser, anvil, server.url)
        page.fill("#dp-token", str(daemon_dataset.token_id))
        page.fill("#dp-text", MEMBER)
        page.click("#dp-check")
        page.wait_for_selector("#dp-result .error")
        text = page.inner_text("#dp-result")
        assert "hashes to" in text, text
        assert page.locator("#dp-table").count() == 0  # nothing computed from them is shown
        context.close()
    finally:
        server.stop()
