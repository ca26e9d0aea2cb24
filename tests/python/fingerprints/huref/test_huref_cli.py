"""``modelmint fingerprint huref``, ``identify`` and ``model mint --huref`` through the real command,
against a real devnet: commitments, ranking, refusals and the one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modelmint.chain.contracts import FingerprintKind
from modelmint.fingerprints import huref
from modelmint.fingerprints.huref.disguise import disguise_model
from modelmint.models import open_model
from modelmint.registry.fingerprints import commit_huref
from modelmint.registry.models import register_model
from modelmint.storage import parse_uri, to_uri


@pytest.fixture(scope="module")
def tiny_models(smollm2: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small random Llamas with SmolLM2's tokenizer ("a", "b", "c"), and a disguised copy of "a"."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("tiny-huref")
    folders: dict[str, Path] = {}
    for seed, name in enumerate("abc"):
        torch.manual_seed(seed)
        config = LlamaConfig(
            vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
        )  # fmt: skip
        folder = root / name
        LlamaForCausalLM(config).save_pretrained(folder)
        for file in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(smollm2 / file, folder / file)
        folders[name] = folder
    folders["a-disguised"] = disguise_model(folders["a"], root / "a-disguised", seed=3)
    return folders


def _mint(registries, folder: Path, owner: str | None = None) -> int:
    return register_model(registries, folder, owner=owner).token_id


def test_commit_once_by_the_owner(cli, chain, deployed, store, tiny_models, registries) -> None:
    token = _mint(registries, tiny_models["a"])
    result = cli("fingerprint", "huref", str(tiny_models["a"]), "--token", str(token), "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    onchain = registries.model_contract.fingerprint(token, FingerprintKind.HuRef)
    assert onchain.uri == out["uri"]
    assert "0x" + onchain.commitment.hex() == out["sha256"]
    data = store.get(parse_uri(out["uri"]))
    assert huref.sha256_hex(data) == out["sha256"]
    assert len(data) <= 16 * 2**20
    bundle = huref.read_bundle(data, out["uri"])
    assert bundle.header["image"]["uri"] == out["imageUri"]
    assert store.get(parse_uri(out["imageUri"])).startswith(b"\x89PNG")

    again = cli("fingerprint", "huref", str(tiny_models["a"]), "--token", str(token))
    assert again.code == 0
    assert "already has this HuRef fingerprint" in again.stdout
    # Finding 3 (issue 10): another model's fingerprint cannot be put on this token.
    cli("fingerprint", "huref", str(tiny_models["b"]), "--token", str(token)).assert_user_error(
        f"has weights root 0x{open_model(tiny_models['b']).manifest().root.hex()}", f"not model {token}'s"
    )

    theirs = _mint(registries, tiny_models["b"], owner="0x000000000000000000000000000000000000dEaD")
    cli("fingerprint", "huref", str(tiny_models["b"]), "--token", str(theirs)).assert_user_error(
        f"model {theirs} is owned by 0x000000000000000000000000000000000000dEaD", "only the owner commits"
    )


def test_an_approved_operator_commits_and_a_stranger_is_refused(
    home, chain, deployed, tiny_models, registries, tmp_path, monkeypatch
) -> None:
    """The contract lets the owner's approved addresses commit (ERC-721 approvals); the
    library's own check before sending must agree with it, in both directions."""
    from modelmint.chain import wallet
    from modelmint.chain.client import Chain
    from modelmint.errors import ChainError

    token = _mint(registries, tiny_models["c"])
    fns = registries.model_contract.contract.functions

    def as_account(index: int):
        keystore = tmp_path / f"account-{index}.json"
        wallet.create_keystore(keystore, "pw", wallet.dev_account(index).key.hex())
        return registries.with_chain(Chain.connect(home, keystore=keystore))

    monkeypatch.setenv(wallet.PASSWORD_ENV, "pw")
    stranger = as_account(2)
    with pytest.raises(ChainError, match="nor approved for it"):
        commit_huref(stranger, tiny_models["c"], token)
    assert not registries.model_contract.fingerprint(token, FingerprintKind.HuRef).committed

    operator = wallet.dev_account(1).address
    chain.send(fns.approve(operator, token))
    committed = commit_huref(as_account(1), tiny_models["c"], token)
    onchain = registries.model_contract.fingerprint(token, FingerprintKind.HuRef)
    assert onchain.committed
    assert onchain.uri == committed.uri
    assert registries.model_contract.record(token).owner == chain.signer.address  # still the owner's token


def test_mint_with_huref_sets_the_picture_and_commits(
    cli, chain, deployed, store, tiny_models, registries
) -> None:
    result = cli("model", "mint", str(tiny_models["c"]), "--huref", "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    metadata = json.loads(store.get(parse_uri(out["metadataUri"])))
    assert metadata["image"] == out["huref"]["imageUri"]
    onchain = registries.model_contract.fingerprint(out["tokenId"], FingerprintKind.HuRef)
    assert onchain.committed
    assert onchain.uri == out["huref"]["uri"]


def test_identify_names_the_base_of_a_disguised_copy(
    cli, chain, deployed, store, tiny_models, registries
) -> None:
    tokens = {name: _mint(registries, tiny_models[name]) for name in "ab"}
    for name, token in tokens.items():
        commit_huref(registries, tiny_models[name], token)
    result = cli("identify", str(tiny_models["a-disguised"]), "--json")
    assert result.code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["likelyBase"]["tokenId"] == tokens["a"]
    assert out["likelyBase"]["ics"] > 0.99
    assert [c["tokenId"] for c in out["ranking"]] == [tokens["a"], tokens["b"]]
    assert out["ranking"][1]["ics"] < out["threshold"] == huref.DECISION_THRESHOLD

    text = cli("identify", str(tiny_models["a-disguised"]))
    assert f"likely base model: token {tokens['a']}" in text.stdout
    assert "threshold 0.5" in text.stdout


def test_identify_shows_every_holder_of_a_bundle_and_who_committed_first(
    chain, deployed, store, tiny_models, registries
) -> None:
    """Finding 3 (issue 10): a squatter who claims the same weights and commits the same bundle is
    listed beside the owner, with owner and time, and the earlier commitment is named; ties no
    longer go silently to the lower id."""
    from modelmint.chain import wallet
    from modelmint.chain.client import Chain
    from modelmint.registry.fingerprints import identify

    squatter = Chain.connect(chain.home)
    squatter.__dict__["signer"] = wallet.dev_account(1)  # a second real key on the devnet
    theirs = _mint(registries.with_chain(squatter), tiny_models["a"])  # the public weights, claimed first
    ours = _mint(registries, tiny_models["a"])  # the owner can still claim them
    commit_huref(registries, tiny_models["a"], ours)
    commit_huref(registries.with_chain(squatter), tiny_models["a"], theirs)
    found = identify(registries, tiny_models["a-disguised"])
    assert {c.token_id for c in found.same_bundle} == {ours, theirs}
    assert found.first_committed.token_id == ours
    assert found.first_committed.owner == chain.signer.address
    holders = {c.token_id: c for c in found.same_bundle}
    assert holders[theirs].owner == squatter.signer.address
    assert holders[ours].committed_at <= holders[theirs].committed_at


def test_identify_refuses_a_fingerprint_that_does_not_match_its_commitment(
    cli, chain, deployed, store, tiny_models, registries
) -> None:
    honest, cheat = _mint(registries, tiny_models["a"]), _mint(registries, tiny_models["b"])
    commit_huref(registries, tiny_models["a"], honest)
    real = huref.fingerprint(tiny_models["b"]).to_bundle()
    uri = to_uri(store.put(real))
    registries.model_contract.commit_fingerprint(cheat, FingerprintKind.HuRef, b"\x11" * 32, uri)
    result = cli("identify", str(tiny_models["a-disguised"]))
    assert result.code == 0, result  # a junk commitment on someone's own token fails no one's identification
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, result.stderr
    for needle in (f"the HuRef fingerprint of model {cheat}", "not its on-chain commitment", "refused"):
        assert needle in warnings[0]
    assert warnings[0].startswith("warning: ")
    assert f"refused: model {cheat}" in result.stdout
    assert f"likely base model: token {honest}" in result.stdout  # the honest ones are still ranked


@pytest.mark.parametrize("case", ["unsupported architecture", "missing weights", "too few tokens"])
def test_bad_models_fail_in_one_line(cli, tmp_path: Path, tiny_models, case: str) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_models["a"], folder)
    if case == "unsupported architecture":
        config = json.loads((folder / "config.json").read_text())
        config.update(model_type="gpt2", architectures=["GPT2LMHeadModel"])
        (folder / "config.json").write_text(json.dumps(config))
        needles = ("GPT2LMHeadModel", "supported architectures: LlamaForCausalLM (llama), MistralForCausalLM")
        args = ()
    elif case == "missing weights":
        from safetensors.torch import load_file, save_file

        state = load_file(str(folder / "model.safetensors"))
        state = {k: v for k, v in state.items() if ".self_attn." not in k}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
        needles = ("has no model.layers.0.self_attn.q_proj.weight", "attention/FFN weights")
        args = ()
    else:
        needles = ("has 49152 tokens, fewer than the 65536",)
        args = ("--tokens", "65536")
    cli("fingerprint", "huref", str(folder), *args).assert_user_error(*needles)


@pytest.mark.slow  # SmolLM2, a disguised copy and Gemma: the tiny-model tests above check the same rules
def test_real_weights_identify_and_vocabularies(
    cli, chain, deployed, store, smollm2, disguised, gemma, tiny_models, registries
) -> None:
    base = _mint(registries, smollm2)
    decoy = _mint(registries, tiny_models["b"])
    commit_huref(registries, smollm2, base)
    commit_huref(registries, tiny_models["b"], decoy)

    out = json.loads(cli("identify", str(disguised), "--json").stdout)
    assert out["likelyBase"]["tokenId"] == base
    assert out["likelyBase"]["ics"] > 0.99

    other = cli("identify", str(gemma))
    assert other.code == 0, other.stderr
    assert "no registered model reaches the threshold" in other.stdout
    assert "not comparable: 2 registered fingerprints (different vocabularies" in other.stdout

    shared = cli("fingerprint", "compare", str(smollm2), str(gemma), "--shared-tokens")
    assert shared.code == 0, shared.stderr
    assert "tokens shared by text between the two vocabularies: unrelated" in shared.stdout
    assert "PCS: not comparable" in shared.stdout
