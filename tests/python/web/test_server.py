"""``modelmint web``'s server and ``--build-only``: loopback only, nothing outside the store,
bytes as the store holds them, and a static copy of the page that works from any host."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelmint.storage.cid import blocks_of_bytes, cid_of_bytes, cid_of_file
from tests_support import REPO


def get(server, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_binds_loopback_and_serves_the_page(server):
    assert server.httpd.server_address[0] == "127.0.0.1"
    status, headers, body = get(server, "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"modelmint" in body


def test_deployments_of_the_project_and_the_devnet(server, deployed, anvil):
    status, _, body = get(server, "/deployments.json")
    document = json.loads(body)
    assert status == 200
    (chain,) = document["chains"]
    assert chain["chainId"] == anvil.chain_id
    assert chain["contracts"]["DatasetNFT"] == deployed.contracts["DatasetNFT"].address
    assert document["devnet"] == {"chainId": anvil.chain_id, "rpcUrl": anvil.url}


def test_content_from_the_store_whole_or_as_its_root_block(server, store):
    data = bytes(range(256)) * 2000  # 512,000 bytes: two leaves and a dag-pb root
    cid = store.put(data)
    status, headers, body = get(server, f"/ipfs/{cid}")
    assert status == 200
    assert body == data
    assert headers["X-Ipfs-Path"] == f"/ipfs/{cid}"
    status, headers, block = get(server, f"/ipfs/{cid}?format=raw")
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.ipld.raw"
    assert block == blocks_of_bytes(data)[1][-1].data


@pytest.mark.parametrize(
    "path",
    [
        "/ipfs/../../etc/passwd",
        "/ipfs/%2e%2e%2fdevnet.json",
        "/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        "/ipfs/.tmp",
    ],
)
def test_nothing_outside_the_store(server, path):
    status, _, body = get(server, path)
    assert status in (400, 404), body


def test_a_cid_the_store_lacks_is_404(server):
    status, _, body = get(server, f"/ipfs/{cid_of_bytes(b'never stored')}")
    assert status == 404
    assert b"not in the content store" in body


def test_another_host_name_is_refused(server):
    status, _, _ = get(server, "/", {"Host": "evil.example:80"})
    assert status == 421


def test_the_command_prints_the_url_and_serves(home):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"MODELMINT_HOME": str(home.root), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelmint", "web", "--no-open", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_port_in_use_is_one_clear_error(cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        cli("web", "--no-open", "--port", str(s.getsockname()[1])).assert_user_error(
            "cannot listen on 127.0.0.1", "--port"
        )


def test_build_only_writes_a_static_page_with_its_cid(cli, tmp_path, deployed):
    out = tmp_path / "site"
    result = cli("web", "--build-only", str(out))
    assert result.code == 0, result.stderr
    cid = re.search(r"ipfs://(b[a-z2-7]+)", result.stdout).group(1)
    assert cid == cid_of_file(out / "index.html")
    assert (
        json.loads((out / "deployments.json").read_text())["chains"][0]["contracts"]["DatasetNFT"]
        == deployed.contracts["DatasetNFT"].address
    )


def test_the_static_copy_works_from_another_host(
    browser, tmp_path, cli, server, anvil, chain, store, deployed, registries
):
    """Served by a plain static server, with the modelmint server as its IPFS gateway."""
    from modelmint.registry import commit_dataset
    from web_support import EXAMPLE, MEMBER, OUTSIDER, WALLET_JS, check_rows, connect

    path = tmp_path / "example.jsonl"
    path.write_text(EXAMPLE)
    commit_dataset(registries, path)
    out = tmp_path / "site"
    assert cli("web", "--build-only", str(out)).code == 0
    static = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(out)))
    threading.Thread(target=static.serve_forever, daemon=True).start()
    context = browser.new_context()
    try:
        config = {"rpcUrl": anvil.url, "anvilChainId": anvil.chain_id, "chainId": anvil.chain_id}
        context.add_init_script(f"window.__testWallet = {json.dumps(config)};")
        context.add_init_script(WALLET_JS)
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{static.server_address[1]}/index.html")
        page.wait_for_selector("body[data-ready=true]")
        page.fill("#gateway", server.url + "ipfs/")
        page.dispatch_event("#gateway", "change")
        connect(page)
        assert check_rows(page, MEMBER + "\n" + OUTSIDER) == {
            "pasted line 1": "true",
            "pasted line 2": "false",
        }
    finally:
        context.close()
        static.shutdown()
        static.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_the_wheel_carries_the_page():
    """setuptools takes the built page as package data (it is git-ignored, not committed)."""
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "modelmint"
    ]
    assert "web/static/*" in data
    assert (Path(REPO) / "python/modelmint/web/static/index.html").is_file()
