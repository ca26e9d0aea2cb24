"""OML commit and reveal from the page (issue 13, item 2), in a real Chromium with the test wallet
on anvil: the fingerprint and secrets files are read in the browser and never sent anywhere;
every request the page made is inspected. The Python side reads what the page committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from modelmint.chain.contracts import FingerprintKind
from modelmint.fingerprints.oml.commitment import read_secrets
from modelmint.fingerprints.oml.file import write_fingerprints
from modelmint.fingerprints.oml.generate import GenerateConfig, generate
from modelmint.registry import register_model
from tests_support import rpc

ACCOUNT = 3


@pytest.fixture
def owned_model(anvil, registries, tiny_model) -> int:
    owner = Web3.to_checksum_address(rpc(anvil.url, "eth_accounts")[ACCOUNT])
    return register_model(registries, tiny_model, owner=owner).token_id


@pytest.fixture
def pairs_file(tmp_path: Path) -> tuple[Path, list]:
    pairs = generate(
        GenerateConfig(strategy="random_word", num_fingerprints=6, key_length=6, response_length=1, seed=11)
    )
    path = tmp_path / "fingerprints.json"
    write_fingerprints(path, pairs)
    return path, pairs


def _page(open_page, requests: list, **wallet):
    page = open_page({"account": ACCOUNT, **wallet})
    page.on("request", lambda r: requests.append((r.url, r.post_data or "")))
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.wait_for_selector("#chain-id")
    return page


def _commit(page, token: int, pairs: Path, tmp_path: Path) -> Path:
    page.fill("#oml-token", str(token))
    page.set_input_files("#oml-file", str(pairs))
    with page.expect_download() as download:
        page.click("#oml-commit")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    page.wait_for_selector("#oml-committed, #oml-result .error")
    return saved


def test_commit_and_reveal_from_the_page_never_send_the_secrets(
    open_page, server, anvil, deployed, registries, owned_model, pairs_file, tmp_path
):
    pairs_path, pairs = pairs_file
    requests: list[tuple[str, str]] = []
    page = _page(open_page, requests)
    secrets_path = _commit(page, owned_model, pairs_path, tmp_path)
    assert page.is_visible("#oml-committed"), page.inner_text("#oml-result")

    # The secrets file the page wrote is the CLI's format, and opens the root on chain.
    secrets = read_secrets(secrets_path)
    on_chain = registries.model_contract.fingerprint(owned_model, FingerprintKind.OML)
    assert on_chain.commitment == secrets.root == secrets.tree().root
    assert (secrets.chain_id, secrets.contract, secrets.token_id) == (
        anvil.chain_id,
        registries.models,
        owned_model,
    )
    assert [(f.key, f.response) for f in secrets.fingerprints] == [(p.key, p.response) for p in pairs]
    document = json.loads(registries.store.get(on_chain.uri.removeprefix("ipfs://")))
    assert (document["schema"], document["root"], document["count"]) == (
        "modelmint.oml-commitment.v2", "0x" + secrets.root.hex(), 6,
    )  # fmt: skip

    page.fill("#oml-count", "2")
    page.set_input_files("#oml-secrets", str(secrets_path))
    page.click("#oml-reveal")
    page.wait_for_selector("#oml-revealed, #oml-result .error")
    assert page.get_attribute("#oml-revealed", "data-count") == "2", page.inner_text("#oml-result")
    revealed = registries.model_contract.revealed_fingerprints(owned_model)
    opened = {r.key for r in revealed}
    assert len(opened) == 2
    assert opened <= {p.key for p in pairs}

    # No request carried a salt, nor a key that was not revealed; the page's server got no key at all.
    server_origin = server.url.rstrip("/")
    for url, body in requests:
        sent = url + body
        for f in secrets.fingerprints:
            if f.key not in opened:
                assert f.key not in sent, url
                assert f.salt.hex() not in sent, url
        if url.startswith(server_origin):
            assert not any(f.key in sent for f in secrets.fingerprints), url
            assert "secret" not in body
    assert not page.errors


def test_a_secrets_file_that_does_not_match_the_commitment_is_refused(
    open_page, deployed, registries, owned_model, pairs_file, tmp_path
):
    pairs_path, _ = pairs_file
    requests: list[tuple[str, str]] = []
    page = _page(open_page, requests)
    secrets_path = _commit(page, owned_model, pairs_path, tmp_path)
    doc = json.loads(secrets_path.read_text())
    doc["fingerprints"][0]["salt"] = "0x" + "11" * 32
    tampered = tmp_path / "tampered.secrets.json"
    tampered.write_text(json.dumps(doc))
    sent_before = len(page.evaluate("window.__sentTransactions"))
    page.set_input_files("#oml-secrets", str(tampered))
    page.click("#oml-reveal")
    page.wait_for_selector("#oml-result .error")
    assert "the secrets do not match it, so nothing was sent" in page.inner_text("#oml-result")
    other = dict(doc, tokenId=owned_model + 1)
    (tmp_path / "other.secrets.json").write_text(json.dumps(other))
    page.set_input_files("#oml-secrets", str(tmp_path / "other.secrets.json"))
    page.click("#oml-reveal")
    page.wait_for_selector(f"#oml-result .error:has-text('not of model {owned_model}')")
    assert len(page.evaluate("window.__sentTransactions")) == sent_before
    assert registries.model_contract.revealed_fingerprints(owned_model) == []


def test_a_second_commitment_and_a_malformed_file_are_refused(
    open_page, deployed, registries, owned_model, pairs_file, tmp_path
):
    pairs_path, _ = pairs_file
    page = _page(open_page, [])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"key": "a", "response": "b"}, {"key": "a", "response": "c"}]))
    page.fill("#oml-token", str(owned_model))
    page.set_input_files("#oml-file", str(bad))
    page.click("#oml-commit")
    page.wait_for_selector("#oml-result .error:has-text('repeats the key')")
    _commit(page, owned_model, pairs_path, tmp_path)
    page.set_input_files("#oml-file", str(pairs_path))
    page.click("#oml-commit")
    page.wait_for_selector("#oml-result .error:has-text('already has an OML commitment')")
