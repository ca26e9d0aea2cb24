"""The page in a real Chromium, against a real anvil and the project's content store: the
scenarios of issue 12 (connect, wrong chain, registry, datapoints in and not in, a tampered
model file, a proof file, a lying gateway, read-only through an RPC URL) and its bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelmint.registry import commit_dataset, prove_datapoints, register_model
from modelmint.registry.proofs import PROOF_SCHEMA
from web_support import EXAMPLE, MEMBER, OUTSIDER, check_rows, connect, screenshot


@pytest.fixture
def dataset(tmp_path: Path, chain, store, deployed, registries):
    path = tmp_path / "example.jsonl"
    path.write_text(EXAMPLE)
    return commit_dataset(registries, path, name="worked example")


@pytest.fixture
def model_folder(tmp_path: Path) -> Path:
    """The model of docs/hashing.md §8.8: a config, an empty safetensors file, a vocabulary."""
    folder = tmp_path / "model"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "config.json").write_bytes(b'{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}\n')
    (folder / "model.safetensors").write_bytes(bytes.fromhex("02000000000000007b7d"))
    (folder / "tokenizer" / "vocab.txt").write_bytes(b"hello\nworld\n")
    return folder


@pytest.fixture
def model(chain, store, dataset, model_folder, registries):
    return register_model(registries, model_folder, dataset_ids=[dataset.token_id], name="tiny")


def test_connect_lists_the_wallet_and_shows_account_and_chain(open_page, anvil, deployed, dataset):
    page = open_page({})
    assert "Connect Test Wallet" in page.inner_text("#wallets")
    connect(page)
    status = page.inner_text("#status")
    assert deployed.contracts["DatasetNFT"].address in status
    assert page.inner_text("#chain-id") == str(anvil.chain_id)
    assert page.inner_text("#account").lower() == "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    screenshot(page, "connect")
    assert not page.errors


def test_wrong_chain_then_switch(open_page, anvil, deployed, dataset):
    page = open_page({"chainId": 1})
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.wait_for_selector(".switch-chain")
    assert "modelmint has no deployment on chain 1" in page.inner_text("#status")
    screenshot(page, "wrong-chain")
    page.click(".switch-chain")
    page.wait_for_selector("#chain-id")
    assert page.inner_text("#chain-id") == str(anvil.chain_id)


def test_a_chain_the_wallet_does_not_know_is_added(open_page, anvil, deployed, dataset):
    page = open_page({"chainId": 1, "unknownChain": True})
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.click(".switch-chain")
    page.wait_for_selector("#chain-id")
    added = page.evaluate("window.__addedChain")
    assert added["rpcUrls"] == [anvil.url]
    assert int(added["chainId"], 16) == anvil.chain_id


def test_rejected_connection_says_what_to_do(open_page, deployed):
    page = open_page({"reject": True})
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.wait_for_selector("#status .error")
    assert "rejected" in page.inner_text("#status")
    assert "Connect again" in page.inner_text("#status")


def test_registry_lists_datasets_and_models_and_shows_a_record(
    open_page, chain, store, deployed, dataset, model, model_folder, registries
):
    child = model_folder.parent / "child"
    child.mkdir()
    for name in ("config.json", "model.safetensors"):
        (child / name).write_bytes((model_folder / name).read_bytes())
    (child / "README.md").write_text("a fine-tuned child\n")
    register_model(
        registries, child, parent_id=model.token_id, dataset_ids=[dataset.token_id], name="tiny child"
    )
    page = open_page({})
    connect(page)
    page.wait_for_selector("tr[data-ref='model/2']")
    table = page.inner_text("#registry")
    assert "dataset/1" in table
    assert "worked example" in table
    assert "model/1" in table
    assert "tiny" in table
    page.fill("#filter", "tiny")
    assert page.locator("tr[data-ref='dataset/1']").count() == 0
    page.fill("#filter", "")
    page.click("tr[data-ref='model/2']")
    page.wait_for_selector("#lineage")
    assert "checked against its CID" in page.inner_text("#record")
    lineage = page.text_content("#lineage")
    assert "model/1 tiny" in lineage
    assert "model/2 tiny child" in lineage
    assert "dataset/1" in lineage
    screenshot(page, "registry")


def test_member_in_and_outsider_not_in(open_page, anvil, deployed, dataset):
    page = open_page({})
    connect(page)
    answers = check_rows(page, MEMBER + "\n" + OUTSIDER + "\n")
    assert answers == {"pasted line 1": "true", "pasted line 2": "false"}
    result = page.inner_text("#dp-result")
    assert f"chain {anvil.chain_id}" in result
    assert deployed.contracts["DatasetNFT"].address in result
    assert "block" in result
    calls = page.evaluate("window.__walletCalls")
    assert "eth_call" in calls  # the answers came from the contract, through the wallet
    screenshot(page, "datapoints")


def test_several_members_use_one_multiproof(open_page, deployed, dataset):
    page = open_page({})
    connect(page)
    answers = check_rows(page, EXAMPLE)
    assert answers == {"pasted line 1": "true", "pasted line 2": "true", "pasted line 3": "true"}


def test_malformed_row_is_named_by_line(open_page, deployed, dataset):
    page = open_page({})
    connect(page)
    page.fill("#dp-text", MEMBER + "\n{not json\n")
    page.click("#dp-check")
    page.wait_for_selector("#dp-result .error")
    assert "line 2" in page.inner_text("#dp-result")


def test_token_that_does_not_exist(open_page, deployed, dataset):
    page = open_page({})
    connect(page)
    page.fill("#dp-token", "9")
    page.fill("#dp-text", MEMBER)
    page.click("#dp-check")
    page.wait_for_selector("#dp-result .error")
    assert "there is no dataset 9" in page.inner_text("#dp-result")


def test_dropped_proof_file_is_checked(open_page, tmp_path, chain, store, deployed, dataset, registries):
    member = tmp_path / "member.jsonl"
    member.write_text(MEMBER + "\n")
    proof = prove_datapoints(registries, dataset.token_id, path=member)
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(proof.to_json()))
    page = open_page({})
    connect(page)
    page.set_input_files("#proof-file", str(proof_file))
    page.wait_for_selector("#proof-answer")
    assert page.inner_text("#proof-answer").startswith("valid")
    other = json.loads(proof_file.read_text()) | {"chainId": 1}
    assert other["schema"] == PROOF_SCHEMA
    proof_file.write_text(json.dumps(other))
    page.set_input_files("#proof-file", str(proof_file))
    page.wait_for_selector("#dp-result .error")
    assert "proof for chain 1" in page.inner_text("#dp-result")


def test_gateway_returning_wrong_bytes_is_refused(open_page, home, deployed, dataset):
    from modelmint.storage import parse_uri

    leaves = home.store_dir / parse_uri(dataset.leaves_uri)
    data = bytearray(leaves.read_bytes())
    data[0] ^= 1
    leaves.write_bytes(bytes(data))
    page = open_page({})
    connect(page)
    page.fill("#dp-text", MEMBER)
    page.click("#dp-check")
    page.wait_for_selector("#dp-result .error")
    text = page.inner_text("#dp-result")
    assert "refused" in text
    assert parse_uri(dataset.leaves_uri) in text
    assert page.locator("#dp-table").count() == 0  # nothing half-done
    screenshot(page, "wrong-bytes")


def test_tampered_model_file_is_named(open_page, deployed, model, model_folder):
    (model_folder / "tokenizer" / "vocab.txt").write_bytes(b"hello\nWORLD\n")
    (model_folder / "extra.bin").write_bytes(b"x")
    (model_folder / "model.safetensors").unlink()
    page = open_page({})
    connect(page)
    page.set_input_files("#model-dir", str(model_folder))
    page.wait_for_selector("#model-answer")
    assert page.inner_text("#model-answer").startswith("does not match")
    assert page.inner_text(".differing") == "tokenizer/vocab.txt"
    assert page.inner_text(".missing") == "model.safetensors"
    assert page.inner_text(".extra") == "extra.bin"
    screenshot(page, "model-tampered")


def test_untouched_model_matches(open_page, deployed, model, model_folder):
    page = open_page({})
    connect(page)
    page.set_input_files("#model-dir", str(model_folder))
    page.wait_for_selector("#model-answer")
    assert page.inner_text("#model-answer").startswith("matches")
    assert model.weights_root in page.inner_text("#model-answer")


def test_no_wallet_read_only_through_an_rpc_url(open_page, anvil, deployed, dataset):
    page = open_page(None)
    assert "No wallet found" in page.inner_text("#wallets")
    page.fill("#rpc-url", anvil.url)
    page.click("#rpc-connect")
    page.wait_for_selector("#chain-id")
    assert "read-only" in page.inner_text("#status")
    answers = check_rows(page, MEMBER + "\n" + OUTSIDER)
    assert answers == {"pasted line 1": "true", "pasted line 2": "false"}
    screenshot(page, "read-only")


def test_a_large_dataset_is_checked_with_its_leaves_hashed_in_workers(
    open_page, tmp_path, chain, store, deployed, registries
):
    path = tmp_path / "large.jsonl"
    path.write_text(
        "".join(f'{{"id": {i}}}\n' for i in range(60_000))
    )  # above the page's 50,000 worker threshold
    commit_dataset(registries, path)
    page = open_page({})
    connect(page)
    answers = check_rows(page, '{"id": 0}\n{"id": 59999}\n{"id": 31337}\n{"id": 60000}\n')
    assert answers == {
        "pasted line 1": "true",
        "pasted line 2": "true",
        "pasted line 3": "true",
        "pasted line 4": "false",
    }


def test_dropped_csv_and_files_are_read_by_their_format(open_page, tmp_path, deployed, dataset):
    rows = tmp_path / "rows.csv"
    rows.write_text("text,label\nhello world,1\nsomething else,2\n")  # every CSV value is a string
    member = tmp_path / "member.jsonl"
    member.write_text(MEMBER + "\n")
    page = open_page({})
    connect(page)
    page.set_input_files("#dp-files", [str(rows), str(member)])
    page.click("#dp-check")
    page.wait_for_selector("#dp-table")
    answers = {
        r.get_attribute("data-label"): r.get_attribute("data-in")
        for r in page.query_selector_all("#dp-table tr[data-label]")
    }
    assert answers == {"rows.csv row 1": "false", "rows.csv row 2": "false", "member.jsonl line 1": "true"}


def test_parquet_names_the_cli_command_instead(open_page, tmp_path, deployed, dataset):
    table = tmp_path / "rows.parquet"
    table.write_bytes(b"PAR1")
    page = open_page({})
    connect(page)
    page.set_input_files("#dp-files", str(table))
    page.click("#dp-check")
    page.wait_for_selector("#dp-result .error")
    assert "modelmint dataset verify rows.parquet" in page.inner_text("#dp-result")


def test_proof_naming_another_contract_is_not_asked(
    open_page, tmp_path, chain, store, deployed, dataset, registries
):
    member = tmp_path / "member.jsonl"
    member.write_text(MEMBER + "\n")
    proof = prove_datapoints(registries, dataset.token_id, path=member).to_json()
    proof["contract"] = deployed.contracts["ModelNFT"].address
    proof_file = tmp_path / "other-contract.json"
    proof_file.write_text(json.dumps(proof))
    page = open_page({})
    connect(page)
    page.set_input_files("#proof-file", str(proof_file))
    page.wait_for_selector("#dp-result .error")
    assert "not modelmint's DatasetNFT" in page.inner_text("#dp-result")


def test_a_wallet_without_eip6963_is_found_through_window_ethereum(open_page, anvil, deployed, dataset):
    page = open_page({"legacyOnly": True})
    page.get_by_role("button", name="Connect Browser wallet (window.ethereum)").click()
    page.wait_for_selector("#chain-id")
    assert page.inner_text("#chain-id") == str(anvil.chain_id)


def test_record_shows_the_oml_commitment_and_revealed_fingerprints(
    open_page, chain, store, deployed, model, registries
):
    from modelmint.fingerprints.oml.file import Fingerprint
    from modelmint.registry import commit_oml, reveal_oml

    pairs = [
        Fingerprint(
            key=f"secret key {i}", response=f"answer {i}", strategy="random_word", null_match_prob=1e-4
        )
        for i in range(4)
    ]
    committed = commit_oml(registries, model.token_id, pairs)
    reveal_oml(registries, model.token_id, 2)
    page = open_page({})
    connect(page)
    page.click("tr[data-ref='model/1']")
    page.wait_for_selector(".reveals")
    assert committed.root in page.inner_text(".fp-commitment")
    revealed = page.inner_text(".reveals")
    assert revealed.count("secret key") == 2
    assert "answer" in revealed


def test_record_shows_the_fingerprint_picture_checked_against_its_cid(
    open_page, tmp_path, chain, store, deployed, model_folder, registries
):
    from PIL import Image

    picture = tmp_path / "huref.png"
    Image.new("RGB", (8, 8), (200, 40, 40)).save(picture)
    register_model(registries, model_folder, name="with picture", image=picture)
    page = open_page({})
    connect(page)
    page.click("tr[data-ref='model/1']")
    page.wait_for_selector("#huref")
    assert page.evaluate("document.getElementById('huref').naturalWidth") == 8
