"""Reading what a model is from its files: Hugging Face folders, .bin checkpoints, GGUF, the Hub."""

from __future__ import annotations

import json
import re

import pytest
import torch
from huggingface_hub import constants as hf_constants

from model_samples import build_llama
from modelmint.errors import InputError
from modelmint.models import open_model


def test_hugging_face_folder(tiny_model, llama_template):
    details = open_model(tiny_model).details()
    assert details.name == "tiny-llama"
    assert details.source == "huggingface-folder"
    assert details.architecture == "LlamaForCausalLM"
    assert details.model_type == "llama"
    assert details.parameter_count == llama_template[1] == details.parameters_by_dtype["float32"]
    assert details.dtype == "float32"
    assert details.weights_format == "safetensors"
    assert (details.vocab_size, details.context_length, details.hidden_size, details.num_layers) == (
        128,
        256,
        32,
        2,
    )
    assert details.special_tokens == {"bos": "<s>", "eos": "</s>", "unk": "<unk>", "pad": "</s>"}
    assert details.pipeline_task == "text-generation"
    assert details.category == "Natural Language Processing"
    assert details.license == "apache-2.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", details.last_modified)
    assert open_model(tiny_model).details("my name").name == "my name"


def test_tied_embeddings_are_counted_once_and_bf16_is_reported(tmp_path):
    expected = build_llama(tmp_path / "tied", tied=True, dtype="bfloat16", card=False)
    details = open_model(tmp_path / "tied").details()
    assert details.parameter_count == expected
    assert details.dtype == "bfloat16"
    assert details.license is None  # no model card


def test_pytorch_bin_checkpoint_is_counted_without_loading(tiny_model, llama_template):
    from safetensors.torch import load_file

    state = load_file(tiny_model / "model.safetensors")
    state["lm_head.weight"] = state["model.embed_tokens.weight"]  # tied: one storage, two names
    torch.save(state, tiny_model / "pytorch_model.bin")
    (tiny_model / "model.safetensors").unlink()
    details = open_model(tiny_model).details()
    assert details.weights_format == "pytorch"
    assert details.parameter_count == llama_template[1] - 128 * 32


def test_a_truncated_safetensors_file_is_refused(tiny_model):
    weights = tiny_model / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:-100])
    with pytest.raises(InputError, match=r"model.safetensors is not a valid safetensors file: .*truncated"):
        open_model(tiny_model).details()
    weights.write_bytes(data + b"junk")
    with pytest.raises(InputError, match="followed by extra bytes"):
        open_model(tiny_model).details()
    weights.write_bytes(data[:6])
    with pytest.raises(InputError, match="shorter than the 8-byte header length"):
        open_model(tiny_model).details()
    weights.write_bytes((2**40).to_bytes(8, "little") + data[8:])
    with pytest.raises(InputError, match="header claims"):
        open_model(tiny_model).details()


def test_a_broken_config_is_refused(tiny_model):
    (tiny_model / "config.json").write_text("{not json")
    with pytest.raises(InputError, match=r"config\.json of the model is not readable JSON"):
        open_model(tiny_model).details()


def test_gguf_file(gguf_model):
    source = open_model(gguf_model)
    details = source.details()
    assert source.kind == "gguf"
    assert details.source == "gguf"
    assert details.name == "tiny gguf"
    assert details.architecture == "llama"
    assert details.parameter_count == 32 + 16 + 4
    assert details.parameters_by_dtype == {"F32": 52}
    assert details.dtype == "F32"
    assert details.context_length == 512
    assert details.vocab_size == 8
    assert details.special_tokens == {"bos": "<s>", "eos": "</s>"}
    assert details.license == "mit"
    assert details.pipeline_task == "text-generation"
    manifest = source.manifest()
    assert [e.path for e in manifest.files] == ["tiny.gguf"]


def test_a_gguf_with_a_bad_header_is_refused(gguf_model, tmp_path):
    data = gguf_model.read_bytes()
    bad_magic = tmp_path / "bad.gguf"
    bad_magic.write_bytes(b"GGUX" + data[4:])
    with pytest.raises(InputError, match=r"bad.gguf is not a GGUF file: it starts with b'GGUX'"):
        open_model(bad_magic)
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[:40])
    with pytest.raises(InputError, match=r"cut\.gguf has a GGUF header that cannot be read"):
        open_model(cut).details()
    version = tmp_path / "version.gguf"
    version.write_bytes(data[:4] + (99).to_bytes(4, "little") + data[8:])
    with pytest.raises(InputError, match=r"version\.gguf has a GGUF header that cannot be read"):
        open_model(version).details()


def test_a_hub_repo_id_offline_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(InputError) as caught:
        open_model("HuggingFaceTB/SmolLM2-135M")
    message = str(caught.value)
    assert (
        "HuggingFaceTB/SmolLM2-135M is not a local file or folder, and the Hugging Face Hub cannot be reached"
        in message
    )
    assert "HF_HUB_OFFLINE is set" in message
    assert "hf download HuggingFaceTB/SmolLM2-135M --local-dir DIR" in message
    assert "\n" not in message


def test_an_unreachable_hub_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(hf_constants, "ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(
        InputError, match=r"the Hugging Face Hub cannot be reached to read org/model@v1 \("
    ) as caught:
        open_model("hf://org/model@v1")
    assert "\n" not in str(caught.value)


def test_a_local_path_wins_over_a_repo_id(tiny_model, monkeypatch):
    monkeypatch.chdir(tiny_model.parent)
    assert open_model("tiny-llama/").kind == "huggingface-folder"
    nested = tiny_model.parent / "org"
    nested.mkdir()
    (tiny_model).rename(nested / "model")
    assert open_model("org/model").kind == "huggingface-folder"
    with pytest.raises(InputError, match="is not a Hub repo id"):
        open_model("hf://not a repo")


def test_details_serialise_as_camel_case_without_nulls(tiny_model):
    data = open_model(tiny_model).details().to_json()
    assert data["parameterCount"] > 0
    assert data["specialTokens"]["bos"] == "<s>"
    assert "repoId" not in data
    assert "revision" not in data
    json.dumps(data)
