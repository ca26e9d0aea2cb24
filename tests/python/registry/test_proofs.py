"""Proofs anyone can check on-chain, built from nothing but the chain and the content store."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmint.datasets import iter_datapoint_hashes
from modelmint.errors import InputError
from modelmint.hashing import MerkleTree, MultiProof, leaf_hash, sha256
from modelmint.home import Home
from modelmint.registry import DatapointProof, check_proof, commit_dataset, prove_datapoints
from modelmint.registry.proofs import MULTIPROOF_SCHEMA, PROOF_SCHEMA
from modelmint.storage import parse_uri
from tests_support import REPO, SAMPLE


def _b(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text[2:])


def _leaves(store, committed) -> bytes:
    return store.get(parse_uri(committed.leaves_uri))


def _metadata(store, uri: str) -> bytes:
    return store.get(parse_uri(uri))


def test_a_single_proof_has_every_field_and_the_chain_accepts_it(chain, store, deployed, registries):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    proof = prove_datapoints(registries, committed.token_id, path=SAMPLE / "member.jsonl")
    data = proof.to_json()
    assert data["schema"] == PROOF_SCHEMA
    assert not proof.multi
    assert (data["chainId"], data["contract"], data["tokenId"]) == (
        31337,
        deployed.contracts["DatasetNFT"].address,
        1,
    )
    assert data["merkleRoot"] == committed.merkle_root
    assert data["datapointCount"] == 256
    [(_, h)] = iter_datapoint_hashes(SAMPLE / "member.jsonl")
    assert data["datapointHash"] == "0x" + h.hex()
    assert data["leaf"] == "0x" + leaf_hash(h).hex()
    tree = MerkleTree.build(_leaves(store, committed))
    assert tree.hash_at(data["position"]) == h
    assert MerkleTree.verify(_b(data["merkleRoot"]), h, [_b(p) for p in data["proof"]])
    assert data["function"] == "verifyDatapoint(uint256,bytes32,bytes32[])"
    # What `cast call <contract> --data <calldata>` does: a plain eth_call of the calldata.
    answer = chain.w3.eth.call({"to": data["contract"], "data": data["calldata"]})
    assert int.from_bytes(answer, "big") == 1

    assert DatapointProof.from_json(json.loads(json.dumps(data))) == proof
    check = check_proof(chain, proof)
    assert check.valid
    assert check.root_matches
    assert check.datapoints == 1


def test_a_multiproof_follows_openzeppelins_format(chain, store, deployed, registries):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    proof = prove_datapoints(registries, committed.token_id, positions=[200, 3, 77, 0])
    data = proof.to_json()
    assert data["schema"] == MULTIPROOF_SCHEMA
    assert proof.multi
    assert sorted(data["positions"]) == [0, 3, 77, 200]
    tree = MerkleTree.build(_leaves(store, committed))
    assert data["datapointHashes"] == ["0x" + tree.hash_at(p).hex() for p in data["positions"]]
    assert data["leaves"] == ["0x" + leaf_hash(_b(h)).hex() for h in data["datapointHashes"]]
    assert data["leaves"] == sorted(data["leaves"])  # the order multiProofVerify consumes them in
    expected = tree.multiproof([200, 3, 77, 0])
    assert (data["proof"], data["proofFlags"]) == (
        ["0x" + p.hex() for p in expected.proof],
        list(expected.proof_flags),
    )
    read_back = MultiProof(
        tuple(map(_b, data["datapointHashes"])), tuple(map(_b, data["proof"])), tuple(data["proofFlags"])
    )
    assert MerkleTree.verify_multiproof(tree.root, read_back)
    assert int.from_bytes(chain.w3.eth.call({"to": data["contract"], "data": data["calldata"]}), "big") == 1
    assert check_proof(chain, DatapointProof.from_json(data)).valid


def test_a_file_of_several_datapoints_gets_one_multiproof(chain, store, deployed, tmp_path, registries):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    lines = (SAMPLE / "train.jsonl").read_text().splitlines()
    picked = tmp_path / "picked.jsonl"
    picked.write_text("\n".join([lines[5], lines[9], lines[5]]) + "\n")  # a repeat is proven once
    proof = prove_datapoints(registries, committed.token_id, path=picked)
    assert proof.multi
    assert sorted(proof.positions) == [5, 9]
    assert check_proof(chain, proof).valid


def test_the_chain_rejects_a_proof_of_another_datapoint(chain, store, deployed, registries):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    contract = registries.dataset_contract
    proof = prove_datapoints(registries, committed.token_id, positions=[4])
    forged_hash = sha256(b"not in the dataset")
    forged = dataclasses.replace(
        proof,
        datapoint_hashes=("0x" + forged_hash.hex(),),
        leaves=("0x" + leaf_hash(forged_hash).hex(),),
        calldata=contract.verify_calldata(1, forged_hash, [_b(p) for p in proof.proof]),
    )
    result = check_proof(chain, forged)
    assert not result.valid
    assert result.root_matches

    with pytest.raises(InputError, match="calldata does not encode its fields"):
        check_proof(chain, dataclasses.replace(proof, proof=proof.proof[:-1]))
    with pytest.raises(InputError, match="is for chain 1 but"):
        check_proof(chain, dataclasses.replace(proof, chain_id=1))
    with pytest.raises(InputError, match="is not the leaf of datapoint hash"):
        DatapointProof.from_json({**proof.to_json(), "leaf": "0x" + "11" * 32})


def test_a_proof_naming_another_contract_needs_that_contract_trusted_explicitly(
    chain, store, deployed, registries
):
    commit_dataset(registries, SAMPLE / "train.jsonl")
    proof = prove_datapoints(registries, 1, positions=[0])
    other = "0x" + "ab" * 20
    with pytest.raises(InputError, match="not the DatasetNFT"):
        check_proof(registries, dataclasses.replace(proof, contract=other))
    assert check_proof(chain, proof, contract_address=deployed.contracts["DatasetNFT"].address).valid


def test_a_third_party_proves_from_the_chain_and_the_content_store_alone(
    chain, store, deployed, cli, tmp_path, registries
):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    # A fresh folder holding nothing but the deployment addresses and a copy of the store.
    stranger = Home(tmp_path / "stranger")
    shutil.copytree(chain.home.deployments_dir, stranger.deployments_dir)
    shutil.copytree(store.root, stranger.store_dir)
    env = {"MODELMINT_HOME": str(stranger.root)}
    proof_file = tmp_path / "proof.json"
    made = cli(
        "dataset",
        "prove",
        "--token",
        "1",
        "--index",
        "17",
        "--out",
        str(proof_file),
        "--rpc-url",
        chain.url,
        env=env,
    )
    assert made.code == 0, made.stderr
    data = json.loads(proof_file.read_text())
    assert data["position"] == 17
    assert data["merkleRoot"] == committed.merkle_root

    member = cli(
        "dataset", "prove", str(SAMPLE / "member.jsonl"), "--token", "1", "--rpc-url", chain.url, env=env
    )
    assert member.code == 0
    assert json.loads(member.stdout)["schema"] == PROOF_SCHEMA

    checked = cli("dataset", "check-proof", str(proof_file), "--rpc-url", chain.url, env=env)
    assert checked.code == 0, checked.stderr
    assert "valid" in checked.stdout, checked.stderr
    # Someone with only the proof file and a node: the contract is the one the proof names.
    nobody = {"MODELMINT_HOME": str(tmp_path / "nobody")}
    alone = cli("dataset", "check-proof", str(proof_file), "--rpc-url", chain.url, "--json", env=nobody)
    assert alone.code == 0
    assert json.loads(alone.stdout)["valid"] is True

    data["proof"][0] = "0x" + "00" * 32
    data["calldata"] = registries.dataset_contract.verify_calldata(
        1, _b(data["datapointHash"]), [_b(p) for p in data["proof"]]
    )
    proof_file.write_text(json.dumps(data))
    rejected = cli("dataset", "check-proof", str(proof_file), "--rpc-url", chain.url, env=env)
    assert rejected.code == 1
    assert "invalid" in rejected.stdout


def test_shards_are_proven_and_verified_one_file_at_a_time(chain, store, deployed, tmp_path, cli, registries):
    shards = []
    for index in range(3):
        path = tmp_path / f"train-{index:05d}-of-00003.parquet"
        pq.write_table(pa.table({"text": [f"shard {index} row {r}" for r in range(5)]}), path)
        shards.append(path)
    minted = cli("dataset", "mint", *map(str, reversed(shards)), "--json")
    assert minted.code == 0, minted.stderr
    record = json.loads(minted.stdout)
    assert record["datapointCount"] == 15
    assert record["hashScheme"] == "modelmint.shards.v1"
    metadata = json.loads(_metadata(store, record["metadataUri"]))
    assert [s["name"] for s in metadata["modelmint"]["shards"]] == [p.name for p in shards]
    assert cli("dataset", "verify", str(shards[1]), "--token", "1").code == 0
    proof = prove_datapoints(registries, 1, path=shards[2])
    assert sorted(proof.positions) == list(range(10, 15))
    assert check_proof(chain, proof).valid
    # The same rows in JSONL are the same datapoints: any row format checks against the dataset.
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "shard 1 row 4"}\n')
    assert prove_datapoints(registries, 1, path=rows).positions == (9,)


def test_proving_what_is_not_there_is_a_one_line_error(cli, deployed, tmp_path):
    assert cli("dataset", "mint", str(SAMPLE / "train.jsonl")).code == 0
    cli("dataset", "prove", str(SAMPLE / "outsider.jsonl"), "--token", "1").assert_user_error(
        "outsider.jsonl line 1", "is not in dataset 1"
    )
    cli("dataset", "prove", "--token", "1", "--index", "256").assert_user_error(
        "datapoint 256 is outside the dataset"
    )
    cli("dataset", "prove", "--token", "1", "--index", "3", "--index", "3").assert_user_error(
        "the same datapoint twice"
    )
    cli("dataset", "prove", "--token", "1").assert_user_error("give either a file of datapoints or positions")
    cli("dataset", "prove", str(SAMPLE / "member.jsonl"), "--token", "1", "--index", "1").assert_user_error(
        "not both"
    )
    cli("dataset", "prove", "--token", "9", "--index", "0").assert_user_error("ERC721NonexistentToken")
    (tmp_path / "junk.json").write_text('{"schema": "x"}')
    cli("dataset", "check-proof", str(tmp_path / "junk.json")).assert_user_error(
        "is not a modelmint dataset proof"
    )
    (tmp_path / "not.json").write_text("{")
    cli("dataset", "check-proof", str(tmp_path / "not.json")).assert_user_error("is not JSON")


def test_the_examples_in_docs_proofs_md_are_what_prove_writes(chain, store, deployed, tmp_path, registries):
    text = (REPO / "docs" / "proofs.md").read_text()
    examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]
    example = tmp_path / "example.jsonl"  # docs/hashing.md §7
    example.write_text(
        '{"text": "hello world", "label": 1}\n{"label": 0, "text": "caf\\u00e9"}\n{"text":"bonjour","label":1.0}\n'
    )
    commit_dataset(registries, example)
    made = [
        prove_datapoints(registries, 1, positions=[0]),
        prove_datapoints(registries, 1, positions=[0, 2]),
    ]
    for documented, proof in zip(examples, made, strict=True):
        documented["contract"] = deployed.contracts[
            "DatasetNFT"
        ].address  # the one field that depends on the deploy
        assert documented == proof.to_json()
