"""Registering, verifying and tracing models end to end: real anvil, real content store, real models."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from modelmint.chain.client import Chain
from modelmint.chain.contracts import FingerprintKind
from modelmint.cli._lineage_png import draw_lineage
from modelmint.errors import InputError, RevertError
from modelmint.hashing import canonical_json
from modelmint.home import Home
from modelmint.models import WeightsManifest, open_model
from modelmint.registry import (
    commit_dataset,
    lineage,
    list_records,
    register_model,
    show,
    verify_model,
)
from modelmint.registry.records import CSV_COLUMNS, resolve_ref
from modelmint.registry.registries import Registries
from modelmint.storage import LocalStore, parse_uri
from tests_support import SAMPLE


def test_register_stores_manifest_and_erc721_metadata(
    chain, store, deployed, tiny_model, llama_template, registries
):
    result = register_model(registries, tiny_model, name="tiny", description="a test model")
    assert result.token_id == 1
    assert not result.already_registered
    assert result.gas_used > 0
    assert result.tx_hash
    assert result.parameter_count == llama_template[1]

    manifest = WeightsManifest.from_json(store.get(parse_uri(result.manifest_uri)))
    assert (
        "0x" + manifest.root.hex()
        == result.weights_root
        == "0x" + open_model(tiny_model).manifest().root.hex()
    )
    record = registries.model_contract.record(1)
    assert record.weights_root == manifest.root
    assert record.metadata_uri == result.metadata_uri

    raw = store.get(parse_uri(result.metadata_uri))
    metadata = json.loads(raw)
    assert raw == canonical_json(metadata)  # stored as RFC 8785 canonical JSON
    assert metadata["name"] == "tiny"
    assert metadata["description"] == "a test model"
    assert "image" not in metadata
    traits = {a["trait_type"]: a["value"] for a in metadata["attributes"]}
    assert traits["kind"] == "model"
    assert traits["architecture"] == "LlamaForCausalLM"
    assert traits["parameters"] == llama_template[1]
    assert traits["weights root"] == result.weights_root
    assert traits["vocabulary size"] == 128
    assert traits["context length"] == 256
    assert traits["license"] == "apache-2.0"
    section = metadata["modelmint"]
    assert section["schema"] == "modelmint.model-metadata.v1"
    assert section["manifest"] == result.manifest_uri
    assert section["parentModelId"] == 0
    assert section["datasetIds"] == []
    assert {f["path"] for f in section["files"]} == {e.path for e in manifest.files}
    assert section["model"]["specialTokens"]["eos"] == "</s>"


def test_the_same_weights_twice_report_the_existing_token(
    chain, store, deployed, tiny_model, tmp_path, registries
):
    first = register_model(registries, tiny_model)
    commit_dataset(registries, SAMPLE / "train.jsonl")
    copy = shutil.copytree(tiny_model, tmp_path / "elsewhere")
    again = register_model(registries, copy, name="another name", dataset_ids=[1])
    assert again.already_registered
    assert again.token_id == first.token_id
    assert again.tx_hash is None
    assert again.name == first.name
    assert again.dataset_ids == ()
    assert registries.model_contract.total_minted() == 1


def test_a_wrong_lineage_fails_before_anything_is_hashed(chain, store, deployed, tiny_model, registries):
    hashed: list[int] = []
    with pytest.raises(RevertError, match="ModelUnknownParent"):
        register_model(registries, tiny_model, parent_id=3, progress=hashed.append)
    assert hashed == []


def test_verify_names_every_differing_missing_and_extra_file(chain, store, deployed, tiny_model, registries):
    register_model(registries, tiny_model)
    same = verify_model(registries, tiny_model, 1)
    assert same.ok
    assert same.matching == same.checked
    assert same.local_root == same.weights_root

    weights = tiny_model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x40")  # the last norm weight: 1.0 -> 2.0
    (tiny_model / "tokenizer.json").unlink()
    (tiny_model / "adapter.safetensors").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
    result = verify_model(registries, tiny_model, 1)
    assert not result.ok
    assert result.local_root != result.weights_root
    assert [d.path for d in result.differing] == ["model.safetensors"]
    assert result.differing[0].expected_size == result.differing[0].actual_size
    assert result.missing == ["tokenizer.json"]
    assert result.extra == ["adapter.safetensors"]
    assert result.matching == result.checked - 2


def test_verify_a_folder_that_lost_its_config(chain, store, deployed, tiny_model, registries):
    register_model(registries, tiny_model)
    (tiny_model / "config.json").unlink()
    with pytest.raises(InputError, match=r"no config\.json"):
        verify_model(registries, tiny_model, 1)


def test_lineage_of_a_fine_tune(chain, store, deployed, tiny_model, child_model, tmp_path, registries):
    corpus = commit_dataset(registries, SAMPLE / "train.jsonl", name="corpus")
    base = register_model(registries, tiny_model, name="base", dataset_ids=[corpus.token_id])
    tuned = register_model(registries, child_model, name="tuned", parent_id=base.token_id, dataset_ids=[1])
    assert (tuned.parent_id, tuned.dataset_ids) == (1, (1,))

    tree = lineage(registries, tuned.token_id)
    assert [(m.token_id, m.name) for m in tree.chain()] == [(2, "tuned"), (1, "base")]
    assert tree.datasets[0].name == "corpus"
    assert tree.datasets[0].datapoint_count == 256
    assert tree.parent.architecture == "LlamaForCausalLM"
    assert tree.parent.parent is None

    dot = tree.to_dot()
    assert dot.startswith("digraph lineage {")
    assert '"model/1" -> "model/2"' in dot
    assert '"dataset/1" -> "model/2"' in dot
    assert '"dataset/1" -> "model/1"' in dot
    png = tmp_path / "lineage.png"
    draw_lineage(tree, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # The structure needs the chain only: with an empty store, names are unknown, nothing fails.
    bare = lineage(dataclasses.replace(registries, store=LocalStore(tmp_path / "empty-store")), 2)
    assert bare.name is None
    assert bare.parent.token_id == 1
    assert bare.datasets[0].token_id == 1


def test_unknown_parent_or_dataset_reverts_and_blocks_nothing(chain, store, deployed, tiny_model, registries):
    with pytest.raises(RevertError) as caught:
        register_model(registries, tiny_model, parent_id=7)
    assert caught.value.name == "ModelUnknownParent"
    assert caught.value.values == {"parentId": 7}
    with pytest.raises(RevertError) as caught:
        register_model(registries, tiny_model, dataset_ids=[3])
    assert caught.value.name == "ModelUnknownDataset"
    assert caught.value.values == {"datasetId": 3}
    assert registries.model_contract.total_minted() == 0
    assert register_model(registries, tiny_model).token_id == 1


def test_list_and_show_every_record(chain, store, deployed, tiny_model, gguf_model, registries):
    commit_dataset(registries, SAMPLE / "train.jsonl", name="corpus")
    register_model(registries, tiny_model, name="tiny", dataset_ids=[1])
    register_model(registries, gguf_model)
    records = list_records(registries)
    assert [r.ref for r in records] == ["dataset/1", "model/1", "model/2"]
    assert [r.name for r in records] == ["corpus", "tiny", "tiny gguf"]
    assert records[1].architecture == "LlamaForCausalLM"
    assert records[2].architecture == "llama"
    assert all(r.tx_hash and r.block and r.minted_at and r.owner == chain.signer.address for r in records)
    row = records[1].row()
    assert tuple(row) == CSV_COLUMNS
    assert row["pipeline_task"] == "text-generation"
    assert row["dataset_ids"] == "1"
    assert [r.ref for r in list_records(registries, "model")] == ["model/1", "model/2"]

    assert show(registries, "dataset/1").datapoint_count == 256
    assert show(registries, "2").ref == "model/2"  # only a model has id 2
    with pytest.raises(InputError, match="1 is both dataset 1 and model 1: say which: dataset/1 or model/1"):
        show(registries, "1")
    with pytest.raises(InputError, match="no dataset or model has token id 9"):
        resolve_ref(registries, "9")
    with pytest.raises(InputError, match="there is no dataset 2"):
        show(registries, "dataset/2")
    with pytest.raises(InputError, match="not a token reference"):
        show(registries, "models/1")


def test_show_includes_committed_fingerprints(chain, store, deployed, tiny_model, registries):
    register_model(registries, tiny_model)
    registries.model_contract.commit_fingerprint(1, FingerprintKind.HuRef, b"\x11" * 32)
    record = show(registries, "model/1")
    committed = [f for f in record.fingerprints if f.committed]
    assert [(f.kind, f.commitment) for f in committed] == [(FingerprintKind.HuRef, b"\x11" * 32)]
    assert record.to_json()["fingerprints"][0]["kind"] == "HuRef"


def test_image_hook_puts_the_picture_in_the_store(chain, store, deployed, tiny_model, tmp_path, registries):
    picture = tmp_path / "fingerprint.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    result = register_model(registries, tiny_model, image=picture)
    metadata = json.loads(store.get(parse_uri(result.metadata_uri)))
    assert store.get(parse_uri(metadata["image"])) == picture.read_bytes()


def test_a_third_party_verifies_with_only_the_chain_and_the_content_store(
    chain, store, deployed, tiny_model, tmp_path, registries
):
    result = register_model(registries, tiny_model)
    stranger = Home(tmp_path / "stranger")
    shutil.copytree(chain.home.deployments_dir, stranger.deployments_dir)
    public = LocalStore(tmp_path / "public-store")
    for uri in (result.metadata_uri, result.manifest_uri):
        public.put(store.get(parse_uri(uri)))
    their_chain = Chain.connect(stranger, chain.url)
    assert verify_model(
        Registries.from_project(stranger, their_chain, public), tiny_model, result.token_id
    ).ok


def test_a_gguf_model_registers_and_verifies(chain, store, deployed, gguf_model, registries):
    result = register_model(registries, gguf_model)
    assert result.file_count == 1
    assert result.parameter_count == 52
    assert verify_model(registries, gguf_model, result.token_id).ok
    with pytest.raises(InputError, match="there is no model 2"):
        verify_model(registries, gguf_model, 2)
