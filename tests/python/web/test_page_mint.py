"""Minting from the page (issue 13, item 1): the dataset hashed in a real Chromium, its leaf list
and metadata uploaded through ``modelmint web`` (which stores them only under the CIDs the page
computed), and the mint sent by the injected test wallet on anvil. The token is then read by
the Python side: the same root, the same bytes, the same CIDs as `modelmint dataset mint`."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from modelmint.chain import deployments
from modelmint.chain.client import Chain
from modelmint.datasets import hash_dataset
from modelmint.hashing.canonical import canonical_json
from modelmint.hashing.merkle import MerkleTree, encode_leaf_list
from modelmint.registry.datasets import dataset_metadata
from modelmint.storage.cid import cid_of_bytes
from tests_support import SAMPLE, AnvilWallet, rpc
from web_support import screenshot

ACCOUNT = 3


def _python_side(path: Path, name: str) -> tuple[str, str, str]:
    """The root, leaf-list CID and metadata CID `modelmint dataset mint` gives ``path``."""
    digest = hash_dataset(path)
    root = "0x" + MerkleTree.build(digest.hashes).root.hex()
    leaves = cid_of_bytes(encode_leaf_list(digest.hashes))
    metadata = dataset_metadata(
        name=name, description=None, count=digest.count, fmt=digest.format, scheme=digest.scheme,
        root_hex=root, leaves_uri=f"ipfs://{leaves}",
    )  # fmt: skip
    return root, leaves, cid_of_bytes(canonical_json(metadata))


def _mint(page, *, file: Path | None = None, folder: Path | None = None, name: str = "") -> None:
    page.fill("#mint-name", name)
    if file is not None:
        page.set_input_files("#mint-file", str(file))
    if folder is not None:
        page.set_input_files("#mint-dir", str(folder))
    page.click("#mint-dataset")


def _connected(open_page, **wallet):
    page = open_page({"account": ACCOUNT, **wallet})
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.wait_for_selector("#chain-id")
    return page


def test_a_jsonl_dataset_minted_from_the_page_is_the_one_the_cli_would_mint(
    open_page, anvil, deployed, registries, cli
):
    account = rpc(anvil.url, "eth_accounts")[ACCOUNT]
    page = _connected(open_page)
    _mint(page, file=SAMPLE / "train.jsonl", name="minted in the browser")
    page.wait_for_selector("#minted")
    assert page.get_attribute("#minted", "data-token") == "1"
    screenshot(page, "mint")

    root, leaves, metadata_cid = _python_side(SAMPLE / "train.jsonl", "minted in the browser")
    record = registries.dataset_contract.record(1)
    assert "0x" + record.merkle_root.hex() == root
    assert record.owner.lower() == account.lower()
    assert record.datapoint_count == 256
    assert record.metadata_uri == f"ipfs://{metadata_cid}"  # byte for byte the CLI's document
    assert registries.store.has(leaves)
    listed = json.loads(cli("list", "--json").stdout)
    assert [(d["tokenId"], d["name"], d["datapointCount"]) for d in listed] == [
        (1, "minted in the browser", 256)
    ]
    verified = cli("dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", "1")
    assert verified.code == 0, verified.stderr
    page.wait_for_selector("#registry tbody tr")
    assert "minted in the browser" in page.inner_text("#registry")

    # Again: the root is the wallet's already, so nothing is sent.
    _mint(page, file=SAMPLE / "train.jsonl", name="minted in the browser")
    page.wait_for_selector("#minted:has-text('already registered')")
    assert registries.dataset_contract.total_minted() == 1
    assert not page.errors


def test_a_csv_file_and_a_folder_from_the_page(open_page, deployed, registries, tmp_path):
    csv = tmp_path / "rows.csv"
    csv.write_text("text,label\nhello world,1\ncafé,0\n")
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"first")
    (folder / "B.txt").write_bytes(b"")
    (folder / "sub" / "c.bin").write_bytes(bytes(range(256)))
    page = _connected(open_page)
    _mint(page, file=csv, name="rows")
    page.wait_for_selector("#minted[data-token='1']")
    _mint(page, folder=folder, name="images")
    page.wait_for_selector("#minted[data-token='2']")
    for token, (path, name) in enumerate([(csv, "rows"), (folder, "images")], start=1):
        root, _, metadata_cid = _python_side(path, name)
        record = registries.dataset_contract.record(token)
        assert ("0x" + record.merkle_root.hex(), record.metadata_uri) == (root, f"ipfs://{metadata_cid}")


def test_a_rejected_mint_sends_nothing_and_a_retry_lands(open_page, deployed, registries):
    page = _connected(open_page, rejectSend=True)
    _mint(page, file=SAMPLE / "train.jsonl", name="train")
    page.wait_for_selector("#mint-result .error")
    assert "rejected in the wallet, so nothing was sent" in page.inner_text("#mint-result")
    assert registries.dataset_contract.total_minted() == 0
    page = _connected(open_page)
    _mint(page, file=SAMPLE / "train.jsonl", name="train")
    page.wait_for_selector("#minted[data-token='1']")


def test_bad_picks_are_refused_before_anything_is_stored(open_page, deployed, registries, tmp_path):
    page = _connected(open_page)
    odd = tmp_path / "notes.txt"
    odd.write_text("hello")
    _mint(page, file=odd, name="x")
    page.wait_for_selector("#mint-result .error")
    assert "cannot tell the dataset format of notes.txt" in page.inner_text("#mint-result")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": \n')
    _mint(page, file=bad, name="x")
    page.wait_for_selector("#mint-result .error:has-text('line 2')")
    assert registries.dataset_contract.total_minted() == 0
    assert not registries.store.root.exists() or not any(registries.store.root.iterdir())


def test_off_the_devnet_the_page_commits_then_reveals(open_page, home, start_anvil, store):
    """A node with Sepolia's chain id: the front-running-proof path, two transactions."""
    node = start_anvil("--chain-id", "11155111", "--block-time", "0.5", "--mixed-mining")
    own = Account.create().address
    rpc(node, "anvil_impersonateAccount", own)
    rpc(node, "anvil_setBalance", own, hex(10**18))
    chain = Chain.connect(home, node)
    chain.confirmations = 1
    chain.use_remote_signer(AnvilWallet(node, own))
    deployments.deploy(chain)
    page = open_page({"rpcUrl": node, "anvilChainId": 11155111, "chainId": 11155111, "address": own})
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.wait_for_selector("#chain-id")
    _mint(page, file=SAMPLE / "train.jsonl", name="on a testnet")
    page.wait_for_selector("#minted[data-token='1']", timeout=60_000)
    sent = page.evaluate("window.__sentTransactions")
    dataset_nft = deployments.load(chain).contracts["DatasetNFT"].address
    contract = chain.w3.eth.contract(address=Web3.to_checksum_address(dataset_nft), abi=_abi())
    calls = [contract.decode_function_input(tx["data"])[0].fn_name for tx in sent]
    assert calls == ["commitMint", "revealMint"]
    assert all(tx["from"].lower() == own.lower() for tx in sent)


def _abi():
    from modelmint.chain.artifacts import load_artifact

    return load_artifact("DatasetNFT").abi


@pytest.mark.parametrize(
    ("headers", "body", "status", "why"),
    [
        ({"Origin": "http://evil.example"}, b"\x00" * 32, 403, b"uploads come from this server's page only"),
        ({}, b"\x00" * 32, 403, b"uploads come from this server's page only"),
        ({"Origin": "self"}, b"not json, not hashes", 400, b"leaf list (32-byte hashes) or one JSON object"),
        ({"Origin": "self", "cid": "other"}, b"\x00" * 32, 400, b"nothing was stored"),
    ],
    ids=["other-origin", "no-origin", "not-a-leaf-list", "wrong-cid"],
)
def test_uploads_are_refused_unless_they_are_the_pages_and_match_their_cid(
    server, store, headers, body, status, why
):
    host, port = server.httpd.server_address[:2]
    cid = cid_of_bytes(body) if headers.pop("cid", None) is None else cid_of_bytes(b"\x01" * 32)
    if headers.get("Origin") == "self":
        headers["Origin"] = f"http://127.0.0.1:{port}"
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("PUT", f"/ipfs/{cid}", body=body, headers=headers)
    response = conn.getresponse()
    assert (response.status, why in response.read()) == (status, True)
    assert not store.has(cid)


def test_a_model_minted_from_the_page_has_the_clis_manifest_and_root(
    open_page, anvil, deployed, registries, tiny_model, cli
):
    from modelmint.models import open_model
    from modelmint.registry import commit_dataset

    dataset = commit_dataset(registries, SAMPLE / "train.jsonl", name="train")
    account = rpc(anvil.url, "eth_accounts")[ACCOUNT]
    page = _connected(open_page)
    page.fill("#mint-model-name", "tiny from the page")
    page.fill("#mint-model-datasets", str(dataset.token_id))
    page.set_input_files("#mint-model-dir", str(tiny_model))
    page.click("#mint-model")
    page.wait_for_selector("#minted-model", timeout=60_000)
    token = int(page.get_attribute("#minted-model", "data-token"))

    manifest = open_model(tiny_model).manifest()
    record = registries.model_contract.record(token)
    assert record.weights_root == manifest.root
    assert record.owner.lower() == account.lower()
    assert record.dataset_ids == (dataset.token_id,)
    assert registries.store.has(cid_of_bytes(manifest.canonical()))  # byte for byte the CLI's manifest
    listed = json.loads(cli("list", "--json").stdout)
    model = next(r for r in listed if r["kind"] == "model")
    assert (model["tokenId"], model["name"], model.get("error")) == (token, "tiny from the page", None)
    verified = cli("model", "verify", str(tiny_model), "--token", str(token))
    assert verified.code == 0, verified.stderr
    assert not page.errors


def test_a_model_folder_without_config_is_refused(open_page, deployed, registries, tmp_path):
    folder = tmp_path / "weights-only"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(bytes.fromhex("02000000000000007b7d"))
    page = _connected(open_page)
    page.fill("#mint-model-name", "x")
    page.set_input_files("#mint-model-dir", str(folder))
    page.click("#mint-model")
    page.wait_for_selector("#mint-model-result .error")
    assert "no config.json" in page.inner_text("#mint-model-result")
    assert registries.model_contract.total_minted() == 0
