"""The ``modelmint fingerprint oml`` commands: a happy path, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelmint.fingerprints.oml.file import read_fingerprints
from modelmint.registry.models import register_model
from oml_support import build_tiny_lm


def test_generate_writes_an_oml_file(cli, tmp_path):
    out = tmp_path / "rw.json"
    result = cli("fingerprint", "oml", "generate", "--strategy", "random_word", "-n", "4", "--key-length", "5",
                 "--response-length", "2", "--out", str(out), "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["count"] == 4
    assert [len(f.key.split()) for f in read_fingerprints(out)] == [5] * 4
    cli("fingerprint", "oml", "generate", "--strategy", "random_word", "--out", str(out)).assert_user_error(
        "already exists", "--overwrite"
    )
    cli("fingerprint", "oml", "generate", "--strategy", "perinucleus", "--response-length", "3", "--out",
        str(tmp_path / "x.json")).assert_user_error("perinucleus responses are one token")  # fmt: skip
    keys = tmp_path / "keys.json"
    keys.write_text('["my first key", "my second key"]')
    from_keys = cli("fingerprint", "oml", "generate", "--strategy", "random_word", "--keys-file", str(keys),
                    "--out", str(tmp_path / "k.json"))  # fmt: skip
    assert from_keys.code == 0, from_keys.stderr
    assert [f.key for f in read_fingerprints(tmp_path / "k.json")] == ["my first key", "my second key"]


def test_check_exits_1_when_fingerprints_are_missing(cli, tiny_marked, tiny_lm, fingerprint_file):
    heldout = Path(__file__).resolve().parents[4] / "generated_data" / "oml" / "heldout.txt"
    good = cli("fingerprint", "oml", "check", str(tiny_marked), "-f", str(fingerprint_file), "--heldout-text",
               str(heldout), "--json")  # fmt: skip
    assert good.code == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["plain"]["exact"] == 8
    assert report["plain"]["tokenAccuracy"] == 1.0
    assert report["perplexity"] > 1000, "a random tiny model is close to uniform over 49,152 tokens"
    assert report["augmented"]["prompts"] == 8
    bad = cli("fingerprint", "oml", "check", str(tiny_lm), "-f", str(fingerprint_file), "--no-augmented")
    assert bad.code == 1
    assert "not recalled" in bad.stdout
    assert "0/8" in bad.stdout


def test_embed_bad_input(cli, tiny_lm, fingerprint_file, tmp_path, smollm2):
    embed = ("fingerprint", "oml", "embed", str(tiny_lm), "--out", str(tmp_path / "out"))
    malformed = tmp_path / "bad.json"
    malformed.write_text('[{"key": "only a key"}]')
    cli(*embed, "-f", str(malformed)).assert_user_error("entry 0 has no non-empty string 'response'")
    malformed.write_text("[{]")
    cli(*embed, "-f", str(malformed)).assert_user_error("is not valid JSON")
    cli(*embed, "-f", str(fingerprint_file), "--max-key-length", "3").assert_user_error(
        "more than max-key-length 3", "raise --max-key-length"
    )
    cli(*embed, "-f", str(fingerprint_file), "--deepspeed").assert_user_error(
        "no CUDA GPU is visible", "drop --deepspeed"
    )
    cli(*embed, "-f", str(fingerprint_file), "--forgetting-regularizer", "1.5").assert_user_error(
        "must be in [0, 1)"
    )
    bare = build_tiny_lm(tmp_path / "bare", smollm2, chat_template=False)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    cli("fingerprint", "oml", "embed", str(bare), "-f", str(fingerprint_file), "--out", str(tmp_path / "o2"),
        "--augment").assert_user_error("has no chat template, which prompt augmentation needs")  # fmt: skip
    cli("fingerprint", "oml", "embed", str(tmp_path), "-f", str(fingerprint_file), "--out", str(tmp_path / "o3")
        ).assert_user_error("is not a Hugging Face model folder")  # fmt: skip


@pytest.mark.slow  # an embed and a reveal; the demo runs the same commands on SmolLM2 in every CI run
def test_commit_reveal_verify_through_the_cli(
    cli, chain, deployed, store, tiny_marked, tiny_lm, fingerprint_file, tmp_path, registries
):
    first = register_model(registries, tiny_marked).token_id
    second = register_model(registries, tiny_lm).token_id
    oml = ("fingerprint", "oml")

    cli(*oml, "reveal", "--token", str(first), "--count", "2").assert_user_error("no OML secrets file")
    committed = cli(*oml, "commit", "--token", str(first), "-f", str(fingerprint_file), "--json")
    assert committed.code == 0, committed.stderr
    secrets = json.loads(committed.stdout)["secretsFile"]
    cli(*oml, "commit", "--token", str(first), "-f", str(fingerprint_file)).assert_user_error(
        "already has an OML commitment"
    )
    # A reveal for the wrong token, before and after it has a commitment: the secrets' leaves
    # name the first token (issue 10, finding 1), so they are refused before anything is sent.
    cli(*oml, "reveal", "--token", str(second), "--count", "1", "--secrets", secrets).assert_user_error(
        f"holds the fingerprints of model {first}", f"not of model {second}", "verify for it only"
    )
    other = tmp_path / "other.json"
    other.write_text('[{"key": "some other key", "response": " other"}]')
    assert (
        cli(
            *oml, "commit", "--token", str(second), "-f", str(other), "--secrets", str(tmp_path / "s2.json")
        ).code
        == 0
    )
    cli(*oml, "reveal", "--token", str(second), "--count", "1", "--secrets", secrets).assert_user_error(
        f"holds the fingerprints of model {first}"
    )
    malformed = tmp_path / "bad.json"
    malformed.write_text('{"key": "k"}')
    cli(*oml, "commit", "--token", str(second), "-f", str(malformed)).assert_user_error(
        "is not a non-empty JSON list"
    )

    revealed = cli(*oml, "reveal", "--token", str(first), "--count", "4", "--json")
    assert revealed.code == 0, revealed.stderr
    assert len(json.loads(revealed.stdout)["revealed"]) == 4
    cli(*oml, "reveal", "--token", str(first), "--count", "5").assert_user_error("only 4 of the 8")
    verified = cli(*oml, "verify", str(tiny_marked), "--token", str(first))
    assert verified.code == 0, verified.stderr
    assert "4 of 4 revealed fingerprints" in verified.stdout
    assert "false-match probability: 2.22e-16" in verified.stdout
    assert "computed by this verifier" in verified.stdout
    assert "(after mint)" in verified.stdout
    assert "release of the suspect: unknown" in verified.stdout
    assert "registered weights: not checked" in verified.stdout
    dated = cli(*oml, "verify", str(tiny_marked), "--token", str(first), "--released", "2000-01-01",
                "--registered", str(tiny_marked))  # fmt: skip
    assert dated.code == 0, dated.stderr
    assert "not before the suspect's release (2000-01-01T00:00:00Z, given with --released)" in " ".join(
        dated.stdout.split()
    )
    assert "registered weights answer 4 of 4 revealed keys (checked)" in dated.stdout
    cli(*oml, "verify", str(tiny_marked), "--token", str(first), "--released", "yesterday").assert_user_error(
        "--released 'yesterday' is not a date"
    )
    cli(
        *oml, "verify", str(tiny_marked), "--token", str(first), "--registered", str(tiny_lm)
    ).assert_user_error(f"not model {first}'s", "--registered")
    cli(*oml, "verify", str(tmp_path / "nothing"), "--token", str(first)).assert_user_error(
        "neither an http(s):// URL nor a Hugging Face model folder"
    )
