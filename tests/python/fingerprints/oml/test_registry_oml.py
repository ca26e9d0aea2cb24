"""Commit, reveal and verify on a real anvil, with a tiny fingerprinted model as the suspect."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

import pytest

from modelmint.chain.contracts import FingerprintKind
from modelmint.errors import InputError, RevertError
from modelmint.fingerprints.oml.commitment import Binding, fingerprint_digest, read_secrets
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.fingerprints.oml.suspect import LocalModel, OpenAICompletions
from modelmint.hashing.merkle import MerkleTree, decode_leaf_list
from modelmint.registry.models import register_model
from modelmint.registry.oml import commit_oml, reveal_oml, verify_oml
from modelmint.storage import parse_uri
from oml_server import completions_server


def test_commit_reveal_verify(chain, deployed, store, tiny_marked, tiny_lm, tiny_fingerprints, registries):
    token = register_model(registries, tiny_marked).token_id
    committed = commit_oml(registries, token, tiny_fingerprints)
    models = registries.model_contract
    on_chain = models.fingerprint(token, FingerprintKind.OML)
    assert "0x" + on_chain.commitment.hex() == committed.root
    assert on_chain.uri == committed.uri

    # The public side: the document and digest list rebuild the root; nothing secret is in them.
    document = json.loads(store.get(parse_uri(committed.uri)))
    assert document["count"] == 8
    assert document["strategy"] == "random_word"
    assert document["nullMatchProbability"] == 1 / 8192
    digests = decode_leaf_list(store.get(parse_uri(document["leaves"])), 8)
    assert "0x" + MerkleTree.build(digests).root.hex() == committed.root
    public = store.get(parse_uri(committed.uri)) + store.get(parse_uri(document["leaves"]))
    assert not any(f.key.encode() in public for f in tiny_fingerprints)

    secrets_path = Path(committed.secrets_file)
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600
    assert str(chain.home.root) in str(secrets_path)
    assert read_secrets(secrets_path).root.hex() == committed.root[2:]

    revealed = reveal_oml(registries, token, 3, rng=random.Random(1))
    assert len(revealed.revealed) == 3
    assert revealed.revealed_total == 3
    assert revealed.gas_used > 0
    events = models.revealed_fingerprints(token)
    assert [e.key for e in events] == [r.key for r in revealed.revealed]
    binding = Binding(chain.chain_id, models.address, token)
    assert all(fingerprint_digest(binding, e.salt, e.key, e.response) == e.digest for e in events)
    assert sum(f.revealed for f in read_secrets(secrets_path).fingerprints) == 3

    marked = verify_oml(registries, token, LocalModel(tiny_marked))
    assert (marked.revealed, marked.matched) == (3, 3)
    assert marked.false_match_probability == pytest.approx(8192.0**-3)
    clean = verify_oml(registries, token, LocalModel(tiny_lm))
    assert clean.matched == 0
    assert clean.false_match_probability == 1.0

    with completions_server(tiny_marked) as url:
        served = verify_oml(registries, token, OpenAICompletions(url))
    assert served.matched == 3
    assert all(r.answer.startswith(r.response) for r in served.results)

    reveal_oml(registries, token, 5)
    with pytest.raises(InputError, match="only 0 of the 8 committed fingerprints are unrevealed"):
        reveal_oml(registries, token, 1)
    assert verify_oml(registries, token, LocalModel(tiny_marked)).matched == 8
    with pytest.raises(InputError, match="already has an OML commitment"):
        commit_oml(registries, token, tiny_fingerprints)


def test_reveals_the_contract_refuses(
    chain, deployed, store, tiny_marked, tiny_lm, tiny_fingerprints, tmp_path, registries
):
    first = register_model(registries, tiny_marked).token_id
    second = register_model(registries, tiny_lm).token_id
    committed = commit_oml(registries, first, tiny_fingerprints)

    # A reveal for the wrong token: the secrets name their token, and are refused for another.
    with pytest.raises(InputError, match=f"holds the fingerprints of model {first} .* not of model {second}"):
        reveal_oml(registries, second, 1, secrets_path=Path(committed.secrets_file))

    # The contract refuses it too: the same pairs, bound to `first`, do not verify on `second`.
    commit_oml(
        registries, second, [Fingerprint("another key", " other")], secrets_path=tmp_path / "second.json"
    )
    kept = read_secrets(Path(committed.secrets_file))
    from modelmint.chain.contracts import RevealedFingerprint
    from modelmint.fingerprints.oml.commitment import reveal_plan

    order, proof = reveal_plan(kept, [0, 1])
    items = [
        RevealedFingerprint(
            kept.fingerprints[i].salt, kept.fingerprints[i].key, kept.fingerprints[i].response
        )
        for i in order
    ]
    with pytest.raises(RevertError) as mismatch:
        registries.model_contract.reveal_fingerprints(second, items, proof.proof, proof.proof_flags)
    assert mismatch.value.name == "ModelInvalidFingerprintProof"
    assert registries.model_contract.revealed_fingerprints(second) == []

    with pytest.raises(InputError, match="has no revealed OML fingerprints"):
        verify_oml(registries, first, LocalModel(tiny_marked))


def test_finding_2_the_verifier_weighs_and_dates_the_evidence_itself(
    chain, deployed, store, tiny_marked, tiny_lm, tiny_fingerprints, registries
):
    """Issue 10, finding 2: the owner's p (here 0) is ignored, the commitment is dated and compared
    with the suspect's release, commit-at-mint is one transaction, and the registered weights are
    shown to answer the keys."""
    import dataclasses

    forged = [dataclasses.replace(f, null_match_prob=0.0) for f in tiny_fingerprints]
    minted = register_model(registries, tiny_marked, oml=forged)  # commit-at-mint: one transaction
    token = minted.token_id
    models = registries.model_contract
    record = models.fingerprint(token, FingerprintKind.OML)
    assert minted.oml is not None
    assert minted.oml.tx_hash == minted.tx_hash
    assert record.committed_at == models.record(token).minted_at
    reveal_oml(registries, token, 4, rng=random.Random(2))

    result = verify_oml(registries, token, LocalModel(tiny_marked), released=record.committed_at + 3600,
                        registered=LocalModel(tiny_marked), registered_path=tiny_marked)  # fmt: skip
    assert result.owner_null_match_prob == 0.0  # what the owner wrote, shown for what it is
    assert result.null_match_prob == 1 / 8192  # what the verifier computed
    assert result.false_match_probability == pytest.approx(8192.0**-4)
    assert result.false_match_probability > 0
    assert result.committed_at_mint
    assert result.committed_block == minted.block
    assert result.predates_release is True
    assert result.registered_checked
    assert result.registered_matched == 4

    # A suspect registered before the commitment: the commitment does not predate it.
    early = verify_oml(registries, token, LocalModel(tiny_marked), released=record.committed_at - 1)
    assert early.predates_release is False
    assert not early.registered_checked
    # Registered weights that are not the token's are refused before they are asked anything.
    with pytest.raises(InputError, match=f"not model {token}'s"):
        verify_oml(
            registries,
            token,
            LocalModel(tiny_marked),
            registered=LocalModel(tiny_lm),
            registered_path=tiny_lm,
        )


def test_finding_2_a_strategy_with_no_checkable_bound_is_refused(chain, deployed, store, tiny_lm, registries):
    token = register_model(registries, tiny_lm).token_id
    commit_oml(registries, token, [Fingerprint("a key", " an answer", "english", 0.0)])
    reveal_oml(registries, token, 1)
    with pytest.raises(InputError, match="'english' fingerprints cannot be computed by a verifier"):
        verify_oml(registries, token, LocalModel(tiny_lm))
