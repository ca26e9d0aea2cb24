"""Event reads in pages (issue 14, finding 6): public nodes refuse wide eth_getLogs ranges.

The node is the session's real anvil; the refusing node is a small JSON-RPC proxy in front of
it that refuses ranges wider than a few blocks, as public RPC services do, and forwards the rest.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from modelmint.chain.client import DEFAULT_LOG_SPAN, Chain
from modelmint.chain.contracts import DatasetContract, event_logs, mint_logs
from modelmint.errors import ChainError
from modelmint.home import Home
from modelmint.storage import cid_of_bytes, to_uri
from tests_support import rpc

MAX_RANGE = 5  # blocks the proxy accepts in one eth_getLogs
TOKENS = 6
GAP = 12  # empty blocks between two mints


def _mint_spread(chain: Chain, datasets: DatasetContract) -> list[int]:
    """TOKENS mints with GAP empty blocks between them; their blocks."""
    blocks = []
    for i in range(TOKENS):
        root = hashlib.sha256(b"paging %d" % i).digest()
        blocks.append(
            datasets.mint(chain.signer.address, root, 1, to_uri(cid_of_bytes(b"meta %d" % i))).block
        )
        rpc(chain.url, "anvil_mine", hex(GAP))
    return blocks


class _RangeLimitedProxy(ThreadingHTTPServer):
    """Forwards JSON-RPC to ``upstream``; answers an eth_getLogs over more than MAX_RANGE blocks
    with the error public services give, and records the ranges asked."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.asked: list[tuple[int, int, bool]] = []  # (from, to, refused)
        self.tamper: Callable[[list[dict[str, object]]], None] | None = None  # edits eth_getLogs results
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, request: dict[str, object]) -> object:
        if request.get("method") == "eth_getLogs":
            [query] = request["params"]  # type: ignore[misc]
            head = int(rpc(self.upstream, "eth_blockNumber"), 16)
            first, last = (self._block(query.get(k), head) for k in ("fromBlock", "toBlock"))
            refused = last - first + 1 > MAX_RANGE
            self.asked.append((first, last, refused))
            if refused:
                error = {"code": -32005, "message": "query returned more than 10000 results"}
                return {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
        answer = requests.post(self.upstream, json=request, timeout=30).json()
        if request.get("method") == "eth_getLogs" and self.tamper and answer.get("result"):
            self.tamper(answer["result"])
        return answer

    @staticmethod
    def _block(tag: object, head: int) -> int:
        if tag in (None, "latest", "pending", "safe", "finalized"):
            return head
        return 0 if tag == "earliest" else int(str(tag), 16)


class _Handler(BaseHTTPRequestHandler):
    server: _RangeLimitedProxy

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if isinstance(body, list):
            reply: object = [self.server.answer(item) for item in body]
        else:
            reply = self.server.answer(body)
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def proxy(anvil) -> Iterator[_RangeLimitedProxy]:
    server = _RangeLimitedProxy(anvil.url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_one_block_span_still_finds_every_token_across_many_blocks(
    chain, deployed, registries, proxy, tmp_path
):
    datasets = registries.dataset_contract
    blocks = _mint_spread(chain, datasets)
    assert blocks[-1] - blocks[0] >= (TOKENS - 1) * GAP
    assert chain.log_span == DEFAULT_LOG_SPAN
    whole = mint_logs(datasets)
    reader = Chain.connect(Home(tmp_path / "reader"), proxy.url)
    reader.log_span = 1
    paged = mint_logs(DatasetContract(reader, datasets.address, from_block=deployed.block))
    assert sorted(paged) == list(range(1, TOKENS + 1))
    assert paged == whole
    assert [paged[i].block for i in sorted(paged)] == blocks
    # One block per eth_getLogs, each block of the range once.
    assert [(first, last) for first, last, _ in proxy.asked] == [
        (n, n) for n in range(deployed.block, proxy.asked[-1][1] + 1)
    ]


def test_a_node_refusing_wide_ranges_gets_smaller_ones(chain, deployed, registries, proxy, tmp_path):
    datasets = registries.dataset_contract
    blocks = _mint_spread(chain, datasets)
    # A reader through the refusing node: the default span is refused, halved until accepted.
    reader = Chain.connect(Home(tmp_path / "reader"), proxy.url)
    through_proxy = DatasetContract(reader, datasets.address, from_block=deployed.block)
    found = mint_logs(through_proxy)
    assert sorted(found) == list(range(1, TOKENS + 1))
    assert [found[i].block for i in sorted(found)] == blocks
    refused = [a for a in proxy.asked if a[2]]
    accepted = [a for a in proxy.asked if not a[2]]
    assert refused, "the proxy refused nothing: the test does not test paging"
    assert all(last - first + 1 <= MAX_RANGE for first, last, _ in accepted)
    # The accepted pages cover the range once, without gaps or overlaps.
    spans = sorted((first, last) for first, last, _ in accepted)
    assert spans[0][0] == deployed.block
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))


def test_cli_lists_through_a_node_refusing_wide_ranges(cli, chain, deployed, registries, proxy):
    blocks = _mint_spread(chain, registries.dataset_contract)

    def listed(*options: str) -> list[int | None]:
        # The tokens' metadata is not in the store (each record says so, exit 1): the mint
        # block of each record is what the event read found.
        result = cli(*options, "list", "--rpc-url", proxy.url, "--json")
        return [record["block"] for record in json.loads(result.stdout)]

    assert listed("--log-span", "3") == blocks
    assert not any(refused for _, _, refused in proxy.asked)  # a span of 3 is never refused
    assert len(proxy.asked) > TOKENS * GAP // 3
    proxy.asked.clear()
    assert listed() == blocks  # the default span, halved by itself
    assert any(refused for _, _, refused in proxy.asked)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("blockNumber", hex(2**40), f"a log of block {2**40} from 0x"),  # beyond the head
        ("blockNumber", "0x0", "a log of block 0 from 0x"),  # before the deployment
        ("address", "0x" + "ee" * 20, "from 0x" + "ee" * 20),  # another contract's
    ],
)
def test_a_node_answering_logs_it_was_not_asked_for_is_refused(
    chain, deployed, registries, proxy, tmp_path, field, value, said
):
    datasets = registries.dataset_contract
    datasets.mint(chain.signer.address, hashlib.sha256(b"lied about").digest(), 1, to_uri(cid_of_bytes(b"m")))
    reader = Chain.connect(Home(tmp_path / "reader"), proxy.url)
    through_proxy = DatasetContract(reader, datasets.address, from_block=deployed.block)
    assert mint_logs(through_proxy)  # the honest answer is read

    def lie(logs: list[dict[str, object]]) -> None:
        logs[0][field] = value

    proxy.tamper = lie
    with pytest.raises(ChainError, match="(?i)answered .*" + re.escape(said)) as refused:
        mint_logs(through_proxy)
    assert "use another node" in str(refused.value.fix)


def test_a_node_answering_another_tokens_events_is_refused(chain, deployed, registries, proxy, tmp_path):
    datasets = registries.dataset_contract
    for i in range(2):
        datasets.mint(
            chain.signer.address, hashlib.sha256(b"tok %d" % i).digest(), 1, to_uri(cid_of_bytes(b"m"))
        )
    reader = Chain.connect(Home(tmp_path / "reader"), proxy.url)
    event = DatasetContract(
        reader, datasets.address, from_block=deployed.block
    ).contract.events.DatasetMinted()
    [honest] = event_logs(reader, event, deployed.block, {"tokenId": 1})
    assert honest["args"]["tokenId"] == 1

    def relabel(logs: list[dict[str, object]]) -> None:  # token 1's event, said to be token 2's
        logs[0]["topics"][1] = "0x" + (2).to_bytes(32, "big").hex()  # type: ignore[index]

    proxy.tamper = relabel
    with pytest.raises(ChainError, match="answered a log whose tokenId is 2, not 1"):
        event_logs(reader, event, deployed.block, {"tokenId": 1})
