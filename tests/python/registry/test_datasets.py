"""Committing datasets and verifying datapoints end to end: real anvil, real content store."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from modelmint.chain.client import Chain
from modelmint.errors import InputError, RevertError
from modelmint.home import Home
from modelmint.registry import commit_dataset, verify_datapoints
from modelmint.registry.registries import Registries
from modelmint.storage import LocalStore, parse_uri
from tests_support import SAMPLE


def test_commit_then_verify_members_and_outsiders(chain, store, deployed, registries):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl", name="sample")
    assert committed.token_id == 1
    assert not committed.already_registered
    assert committed.datapoint_count == 256
    assert committed.metadata_uri.startswith("ipfs://b")
    assert committed.gas_used > 0

    member = verify_datapoints(registries, SAMPLE / "member.jsonl", committed.token_id)
    assert member.ok
    assert member.checked == member.included == 1

    outsider = verify_datapoints(registries, SAMPLE / "outsider.jsonl", committed.token_id)
    assert not outsider.ok
    assert outsider.included == 0
    assert outsider.missing[0].label == "line 1"

    every_row = verify_datapoints(registries, SAMPLE / "train.jsonl", committed.token_id)
    assert every_row.ok
    assert every_row.included == 256


def test_metadata_is_erc721_json_in_the_content_store(chain, store, deployed, registries):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl", name="sample", description="d")
    metadata = json.loads(store.get(parse_uri(committed.metadata_uri)))
    assert metadata["name"] == "sample"
    assert metadata["description"] == "d"
    traits = {a["trait_type"]: a["value"] for a in metadata["attributes"]}
    assert traits["datapoint count"] == 256
    assert traits["merkle root"] == committed.merkle_root
    assert traits["hash scheme"] == committed.hash_scheme
    record = registries.dataset_contract.record(committed.token_id)
    assert record.metadata_uri == committed.metadata_uri  # tokenURI round-trips the ipfs:// URI


def test_re_running_a_mint_reports_the_existing_token(chain, store, deployed, registries):
    first = commit_dataset(registries, SAMPLE / "train.jsonl")
    again = commit_dataset(registries, SAMPLE / "train.jsonl")
    assert again.already_registered
    assert again.token_id == first.token_id
    assert again.tx_hash is None
    assert registries.dataset_contract.total_minted() == 1


def test_a_failed_mint_leaves_nothing_that_blocks_a_retry(chain, store, deployed, registries):
    with pytest.raises(RevertError) as caught:
        commit_dataset(registries, SAMPLE / "train.jsonl", predecessor_id=42)
    assert caught.value.name == "ERC721NonexistentToken"
    assert registries.dataset_contract.total_minted() == 0
    retried = commit_dataset(registries, SAMPLE / "train.jsonl")
    assert retried.token_id == 1
    assert not retried.already_registered


def test_a_new_version_points_at_its_predecessor(chain, store, deployed, tmp_path, registries):
    first = commit_dataset(registries, SAMPLE / "train.jsonl")
    grown = tmp_path / "grown.jsonl"
    grown.write_text((SAMPLE / "train.jsonl").read_text() + (SAMPLE / "outsider.jsonl").read_text())
    second = commit_dataset(registries, grown, predecessor_id=first.token_id)
    assert registries.dataset_contract.record(second.token_id).predecessor_id == first.token_id


def test_a_third_party_verifies_with_only_the_chain_and_the_content_store(
    chain, store, deployed, tmp_path, registries
):
    committed = commit_dataset(registries, SAMPLE / "train.jsonl")
    # A fresh folder: no devnet record, no caches; only the deployment addresses and the store.
    stranger = Home(tmp_path / "stranger")
    shutil.copytree(chain.home.deployments_dir, stranger.deployments_dir)
    stranger_store = LocalStore(tmp_path / "public-store")
    for cid in (parse_uri(committed.metadata_uri), parse_uri(committed.leaves_uri)):
        stranger_store.put(store.get(cid))
    their_registries = Registries.from_project(stranger, Chain.connect(stranger, chain.url), stranger_store)
    result = verify_datapoints(their_registries, SAMPLE / "member.jsonl", 1)
    assert result.ok


def test_folder_and_csv_datasets(chain, store, deployed, tmp_path, registries):
    folder = tmp_path / "images"
    (folder / "cats").mkdir(parents=True)
    (folder / "cats" / "a.bin").write_bytes(b"\x89PNG fake cat")
    (folder / "dog.txt").write_text("woof")
    (folder / "empty.dat").write_bytes(b"")
    committed = commit_dataset(registries, folder)
    assert committed.datapoint_count == 3
    assert committed.format == "folder"
    assert verify_datapoints(registries, folder / "dog.txt", committed.token_id).ok
    stranger = tmp_path / "other.txt"
    stranger.write_text("meow")
    assert not verify_datapoints(registries, stranger, committed.token_id).ok

    table = tmp_path / "rows.csv"
    with open(table, "w", newline="") as f:
        csv.writer(f).writerows([["name", "score"], ["ada", "3"], ["alan", "5"]])
    rows = commit_dataset(registries, table)
    assert rows.datapoint_count == 2
    assert rows.format == "csv"
    assert verify_datapoints(registries, table, rows.token_id).included == 2


def test_bad_datasets_are_refused_before_anything_is_sent(chain, store, deployed, tmp_path, registries):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError):
        commit_dataset(registries, empty)
    with pytest.raises(InputError):
        commit_dataset(registries, tmp_path / "missing.jsonl")
    assert registries.dataset_contract.total_minted() == 0


def test_hugging_face_dataset_dict(chain, store, deployed, tmp_path, registries):
    hf = pytest.importorskip("datasets")
    hf.disable_progress_bars()
    train = hf.Dataset.from_dict({"text": ["a", "b", "c"], "label": [0, 1, 0]})
    test = hf.Dataset.from_dict({"text": ["z"], "label": [1]})
    hf.DatasetDict({"train": train, "test": test}).save_to_disk(tmp_path / "dd")
    committed = commit_dataset(registries, tmp_path / "dd")
    assert (committed.format, committed.hash_scheme, committed.datapoint_count) == (
        "hf-datasets",
        "modelmint.hf-datasets.v1",
        4,
    )
    assert verify_datapoints(registries, tmp_path / "dd", committed.token_id).included == 4
    # One split, saved on its own, and the same rows as JSONL check against the whole.
    train.save_to_disk(tmp_path / "train")
    assert verify_datapoints(registries, tmp_path / "train", committed.token_id).included == 3
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"label": 1, "text": "z"}\n{"label": "1", "text": "z"}\n')
    result = verify_datapoints(registries, rows, committed.token_id)
    assert result.included == 1
    assert [m.label for m in result.missing] == ["line 2"]
