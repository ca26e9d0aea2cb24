"""Deploying, finding the deployment again, and decoding reverts, on the session's anvil."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from modelmint.chain import deployments
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.client import Chain
from modelmint.chain.contracts import mint_commitment_of
from modelmint.errors import ChainError, RevertError
from modelmint.home import Home
from modelmint.storage import cid_of_bytes, to_uri


def _uri(payload: bytes) -> str:
    return to_uri(cid_of_bytes(payload))


def test_deploy_records_addresses_block_and_bytecode_hash(chain, deployed):
    recorded = json.loads(deployments.deployment_file(chain).read_text())
    assert recorded["chainId"] == 31337
    assert set(recorded["contracts"]) == {"DatasetNFT", "ModelNFT"}
    for name, item in recorded["contracts"].items():
        assert item["address"].startswith("0x")
        assert item["block"] >= 1
        from eth_utils import keccak

        assert item["bytecodeHash"] == "0x" + keccak(load_artifact(name).bytecode).hex()
    assert deployments.load(chain) == deployed


def test_a_reset_chain_is_detected_instead_of_calling_empty_addresses(tmp_path):
    from modelmint.chain import devnet

    home = Home(tmp_path)
    devnet.start(home)
    try:
        chain = Chain.connect(home)
        deployments.deploy(chain)
        requests.post(chain.url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_reset", "params": []})
        with pytest.raises(
            ChainError, match=r"the chain was reset since the deploy.*deploy the registries again"
        ):
            deployments.load(chain)
    finally:
        devnet.stop(home)


def test_missing_deployment_says_to_deploy(tmp_path, anvil):
    chain = Chain.connect(Home(tmp_path), anvil.url)
    with pytest.raises(ChainError, match="modelmint is not deployed on chain 31337"):
        deployments.load(chain)


def test_custom_errors_are_decoded_by_name_with_their_values(chain, deployed, registries):
    datasets = registries.dataset_contract
    root = hashlib.sha256(b"root").digest()
    # A reveal with no matching commitment: the error names the commitment it looked for.
    with pytest.raises(RevertError) as caught:
        datasets.reveal_mint(chain.signer.address, root, 3, _uri(b"meta"), b"\x01" * 32)
    assert caught.value.name == "MintCommitmentUnknown"
    assert (
        caught.value.values["commitment"]
        == "0x" + mint_commitment_of(root, chain.signer.address, b"\x01" * 32).hex()
    )
    assert "reverted with MintCommitmentUnknown(commitment=0x" in str(
        caught.value
    )  # an error both registries share
    with pytest.raises(RevertError) as caught:
        datasets.record(999)
    assert caught.value.name == "ERC721NonexistentToken"
    with pytest.raises(RevertError) as caught:
        datasets.mint(
            chain.signer.address, hashlib.sha256(b"other").digest(), 3, "https://example.com/x.json"
        )
    assert caught.value.name == "IpfsURIInvalid"


def test_an_rpc_url_that_does_not_answer_is_one_clear_error(tmp_path):
    with pytest.raises(ChainError, match=r"no Ethereum node answers at http://127\.0\.0\.1:9"):
        Chain.connect(Home(tmp_path), "http://127.0.0.1:9")
