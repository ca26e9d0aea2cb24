"""Issue 10, "evidence that holds up in a dispute": one end-to-end test per finding, on a real anvil.

Each test replays the attack the review reproduced and shows that it now fails, with a
decoded custom error or a one-line message, and that no state changed. Finding 2 (forged OML
evidence) needs a fingerprinted model and lives in tests/python/fingerprints/oml/test_registry_oml.py;
finding 3 (HuRef) in tests/python/fingerprints/huref/test_huref_cli.py.
"""

from __future__ import annotations

import random

import pytest
from web3.exceptions import ContractLogicError

from modelmint.chain import wallet
from modelmint.chain.client import Chain, decode_revert
from modelmint.chain.contracts import (
    FingerprintKind,
    RevealedFingerprint,
    mint_commitment_of,
)
from modelmint.errors import IntegrityError, RevertError
from modelmint.fingerprints.oml.commitment import Binding, fingerprint_digest
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.hashing.merkle import MerkleTree
from modelmint.registry import commit_dataset, register_model, verify_datapoints
from modelmint.registry.oml import commit_oml, reveal_oml
from tests_support import SAMPLE


def _as(chain: Chain, index: int) -> Chain:
    """The same node and project folder, signing with anvil's dev key ``index``: a second real party."""
    other = Chain.connect(chain.home)
    other.__dict__["signer"] = wallet.dev_account(index)
    return other


def _pairs(n: int) -> list[Fingerprint]:
    return [Fingerprint(f"secret key {i}", f" answer{i}", "random_word", 2.0**-13) for i in range(n)]


def test_finding_1_a_copied_commitment_and_a_replayed_reveal_prove_nothing(
    chain, store, deployed, tiny_model, child_model, registries
):
    owner_token = register_model(registries, tiny_model).token_id
    committed = commit_oml(registries, owner_token, _pairs(6))
    reveal_oml(registries, owner_token, 3, rng=random.Random(0))
    models = registries.model_contract
    public = models.revealed_fingerprints(owner_token)

    observer = _as(chain, 1)
    theirs = registries.with_chain(observer).model_contract
    copy_token = register_model(registries.with_chain(observer), child_model).token_id
    # Copying the owner's root and document onto another token is refused, naming the token.
    with pytest.raises(RevertError) as copied:
        theirs.commit_fingerprint(
            copy_token, FingerprintKind.OML, bytes.fromhex(committed.root[2:]), committed.uri
        )
    assert copied.value.name == "ModelFingerprintCommittedElsewhere"
    assert str(owner_token) in str(copied.value)
    assert not theirs.fingerprint(copy_token, FingerprintKind.OML).committed

    # A tree holding the owner's published digests (plus one, so the root is new) does not help:
    # the owner's reveal, replayed for the observer's token, hashes to other digests there.
    digests = [r.digest for r in public] + [b"\x42" * 32]
    tree = MerkleTree.build(digests)
    theirs.commit_fingerprint(copy_token, FingerprintKind.OML, tree.root)
    proof = tree.multiproof(list(range(len(public))))
    by_digest = {r.digest: r for r in public}
    replay = [
        RevealedFingerprint(by_digest[d].salt, by_digest[d].key, by_digest[d].response) for d in proof.leaves
    ]
    with pytest.raises(RevertError) as replayed:
        theirs.reveal_fingerprints(copy_token, replay, proof.proof, proof.proof_flags)
    assert replayed.value.name == "ModelInvalidFingerprintProof"
    assert theirs.revealed_fingerprints(copy_token) == []
    assert theirs.fingerprint_revealed(copy_token, public[0].digest) is False

    # The owner's evidence is bound to the owner's token only.
    mine = Binding(chain.chain_id, models.address, owner_token)
    assert all(fingerprint_digest(mine, r.salt, r.key, r.response) == r.digest for r in public)
    other = Binding(chain.chain_id, models.address, copy_token)
    assert all(fingerprint_digest(other, r.salt, r.key, r.response) != r.digest for r in public)


def test_finding_4_a_squatter_cannot_stop_the_owner_and_every_claim_is_shown(
    chain, store, deployed, cli, registries
):
    squatter = _as(chain, 1)
    squat = commit_dataset(registries.with_chain(squatter), SAMPLE / "train.jsonl")
    # The owner still registers; both claims are recorded and listed, earliest first.
    own = commit_dataset(registries, SAMPLE / "train.jsonl")
    assert not own.already_registered
    assert own.token_id != squat.token_id
    assert [c.token_id for c in own.claims] == [squat.token_id, own.token_id]
    assert [c.owner for c in own.claims] == [squatter.signer.address, chain.signer.address]
    assert own.other_claims[0].claimed_at == registries.dataset_contract.record(squat.token_id).claimed_at
    datasets = registries.dataset_contract
    assert datasets.token_of_root(bytes.fromhex(own.merkle_root[2:])) == squat.token_id  # the earliest claim

    # Re-running names the existing owner and time, and the other claimant.
    again = cli("dataset", "mint", str(SAMPLE / "train.jsonl"))
    assert again.code == 0, again.stderr
    out = " ".join(again.stdout.split())
    assert f"already registered as dataset {own.token_id} (owner {chain.signer.address}, claimed" in out
    assert f"already claimed by dataset {squat.token_id} (owner {squatter.signer.address}, claimed" in out
    assert datasets.total_minted() == 2


def test_finding_4_a_two_step_mint_cannot_be_copied_replayed_or_revealed_early(
    chain, store, deployed, tmp_path, registries
):
    minted = commit_dataset(registries, SAMPLE / "train.jsonl", two_step=True)
    assert minted.commit_tx_hash
    assert minted.commit_gas_used
    assert minted.gas_used
    datasets = registries.dataset_contract
    record = datasets.record(minted.token_id)
    assert record.claimed_at <= record.minted_at

    # The reveal's calldata, copied from the mempool and sent by someone else, finds no commitment.
    copier = registries.with_chain(_as(chain, 1)).dataset_contract
    root, uri = record.merkle_root, record.metadata_uri
    with pytest.raises(RevertError) as copied:
        copier.reveal_mint(copier.chain.signer.address, root, record.datapoint_count, uri, b"\x07" * 32)
    assert copied.value.name == "MintCommitmentUnknown"

    # A commitment is used once: the owner's own replay is refused too.
    committed = datasets.commit_mint(b"\x09" * 32, chain.signer.address)
    # Revealed in the commitment's own block (simulated at that block): not matured yet.
    fn = datasets.contract.functions.revealMint(chain.signer.address, b"\x09" * 32, 1, uri, 0, committed.salt)
    with pytest.raises(ContractLogicError) as early:
        fn.call({"from": chain.signer.address}, block_identifier=committed.sent.block)
    decoded = decode_revert(getattr(early.value, "data", None), str(early.value))
    assert isinstance(decoded, RevertError)
    assert decoded.name == "MintCommitmentNotMatured"
    datasets.reveal_mint(chain.signer.address, b"\x09" * 32, 1, uri, committed.salt)
    with pytest.raises(RevertError) as replayed:
        datasets.reveal_mint(chain.signer.address, b"\x09" * 32, 1, uri, committed.salt)
    assert replayed.value.name == "MintCommitmentUnknown"
    used = mint_commitment_of(b"\x09" * 32, chain.signer.address, committed.salt)
    assert "0x" + used.hex() in str(replayed.value)
    assert datasets.total_minted() == 2


def test_finding_5_a_false_datapoint_count_is_refused_wherever_the_tree_is_loaded(
    chain, store, deployed, registries
):
    honest = commit_dataset(registries, SAMPLE / "train.jsonl")
    record = registries.dataset_contract.record(honest.token_id)
    # A claim of the same root and metadata with a count its tree does not have.
    liar = registries.with_chain(_as(chain, 1)).dataset_contract
    forged = liar.mint(
        liar.chain.signer.address, record.merkle_root, record.datapoint_count + 1, record.metadata_uri
    )
    with pytest.raises(
        IntegrityError, match=f"dataset {forged.token_id} claims 257 datapoints but its leaf list .* has 256"
    ):
        verify_datapoints(registries, SAMPLE / "member.jsonl", forged.token_id)
    assert verify_datapoints(registries, SAMPLE / "member.jsonl", honest.token_id).ok
