"""``modelmint model``, ``list`` and ``show`` as a user meets them: the real command in a subprocess."""

from __future__ import annotations

import csv
import json

from tests_support import SAMPLE


def test_mint_verify_and_mint_again(cli, deployed, tiny_model):
    minted = cli("model", "mint", str(tiny_model), "--name", "tiny", "--json")
    assert minted.code == 0, minted.stderr
    record = json.loads(minted.stdout)
    assert record["tokenId"] == 1
    assert record["txHash"]
    assert record["weightsRoot"].startswith("0x")

    again = cli("model", "mint", str(tiny_model))
    assert again.code == 0, again.stderr
    assert "already registered as model 1" in again.stdout
    assert "nothing minted" in again.stdout

    ok = cli("model", "verify", str(tiny_model), "--token", "1")
    assert ok.code == 0
    assert "match model 1" in ok.stdout

    (tiny_model / "generation_config.json").write_text("{}")
    (tiny_model / "tokenizer_config.json").unlink()
    (tiny_model / "notes.txt").write_text("extra")
    bad = cli("model", "verify", str(tiny_model), "--token", "1")
    assert bad.code == 1
    assert "differs: generation_config.json" in bad.stdout
    assert "missing: tokenizer_config.json" in bad.stdout
    assert "extra: notes.txt" in bad.stdout
    as_json = json.loads(cli("model", "verify", str(tiny_model), "--token", "1", "--json").stdout)
    assert as_json["ok"] is False
    assert as_json["missing"] == ["tokenizer_config.json"]


def test_mint_prints_the_record(cli, deployed, gguf_model):
    result = cli("model", "mint", str(gguf_model))
    assert result.code == 0, result.stderr
    assert "model minted as token 1" in result.stdout
    for label in ("weights root", "parameters", "manifest", "transaction", "gas used"):
        assert label in result.stdout


def test_lineage_list_and_show(cli, deployed, tiny_model, child_model, tmp_path):
    assert cli("dataset", "mint", str(SAMPLE / "train.jsonl"), "--name", "corpus").code == 0
    assert cli("model", "mint", str(tiny_model), "--name", "base", "--dataset", "1").code == 0
    tuned = cli("model", "mint", str(child_model), "--name", "tuned", "--parent", "1", "--dataset", "1")
    assert tuned.code == 0, tuned.stderr

    tree = cli("model", "lineage", "2")
    assert tree.code == 0, tree.stderr
    assert tree.stdout.index("model 1") < tree.stdout.index("model 2")
    assert "trained on dataset 1 corpus" in tree.stdout
    dot = cli("model", "lineage", "2", "--format", "dot")
    assert dot.stdout.startswith("digraph lineage {")
    assert '"model/1" -> "model/2"' in dot.stdout
    png = tmp_path / "lineage.png"
    assert cli("model", "lineage", "2", "--png", str(png)).code == 0
    assert png.read_bytes()[:4] == b"\x89PNG"

    table = cli("list", "--csv", str(tmp_path / "registry.csv"))
    assert table.code == 0, table.stderr
    for needle in ("dataset/1", "model/1", "model/2", "corpus", "tuned", "LlamaForCausalLM"):
        assert needle in table.stdout
    with open(tmp_path / "registry.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["ref"] for r in rows] == ["dataset/1", "model/1", "model/2"]
    assert rows[2]["parent_id"] == "1"
    assert rows[2]["parameters"]
    assert rows[0]["datapoints"] == "256"
    listed = json.loads(cli("list", "--json").stdout)
    assert [r["ref"] for r in listed] == ["dataset/1", "model/1", "model/2"]
    assert listed[1]["txHash"]

    shown = cli("show", "2")
    assert shown.code == 0
    assert "model/2 tuned" in shown.stdout
    assert '"weightsRoot"' in shown.stdout
    assert json.loads(cli("show", "dataset/1", "--json").stdout)["datapointCount"] == 256
    cli("show", "1").assert_user_error("1 is both dataset 1 and model 1", "dataset/1 or model/1")
    cli("show", "model/5").assert_user_error("there is no model 5")


def test_bad_input_gets_one_line_errors(cli, deployed, tiny_model, gguf_model, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    cli("model", "mint", str(folder)).assert_user_error("holds no files")
    (folder / "notes.txt").write_text("not a model")
    cli("model", "mint", str(folder)).assert_user_error("no config.json")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGML" + gguf_model.read_bytes()[4:])
    cli("model", "mint", str(bad)).assert_user_error("bad.gguf is not a GGUF file")

    cli("model", "mint", str(tiny_model), "--parent", "4").assert_user_error(
        "ModelUnknownParent(parentId=4)", "--parent"
    )
    cli("model", "mint", str(tiny_model), "--dataset", "9").assert_user_error(
        "ModelUnknownDataset(datasetId=9)"
    )
    cli("model", "verify", str(tiny_model), "--token", "3").assert_user_error("there is no model 3")
    cli("model", "lineage", "3").assert_user_error("there is no model 3")

    weights = tiny_model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    cli("model", "mint", str(tiny_model)).assert_user_error(
        "model.safetensors is not a valid safetensors file"
    )
    cli("model", "mint", "someone/some-model", env={"HF_HUB_OFFLINE": "1"}).assert_user_error(
        "the Hugging Face Hub cannot be reached", "HF_HUB_OFFLINE"
    )


def test_symbolic_links_need_the_flag(cli, deployed, tiny_model, tmp_path):
    target = tmp_path / "blob"
    (tiny_model / "config.json").rename(target)
    (tiny_model / "config.json").symlink_to(target)
    cli("model", "mint", str(tiny_model)).assert_user_error(
        "config.json is a symbolic link", "--follow-symlinks"
    )
    assert cli("model", "mint", str(tiny_model), "--follow-symlinks").code == 0
