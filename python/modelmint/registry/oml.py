"""Use cases for OML fingerprints: commit a set on a model token, reveal some, verify a suspect.

Committing writes the salted pairs to a local secrets file first (mode 0600, in the project
folder), then the public commitment document and digest list to the content store, then
the root on-chain. Revealing publishes chosen pairs with their salts and one multiproof in
one transaction. Verifying reads only the chain's reveal events and the public commitment
document, so anyone can run it against any suspect model.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint.chain.client import Chain, Sent
from modelmint.chain.contracts import FingerprintKind, Minted, ModelContract, RevealedFingerprint
from modelmint.errors import InputError, IntegrityError
from modelmint.fingerprints.oml.commitment import (
    COMMITMENT_SCHEMA,
    Binding,
    Secrets,
    commitment_document,
    fingerprint_digest,
    new_secrets,
    read_secrets,
    reveal_plan,
    salt,
    write_secrets,
)
from modelmint.fingerprints.oml.evidence import false_match_probability, null_match_bound
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.fingerprints.oml.suspect import Suspect
from modelmint.hashing.canonical import canonical_json
from modelmint.hashing.merkle import encode_leaf_list
from modelmint.home import Home
from modelmint.registry.registries import Registries
from modelmint.storage import ContentStore, parse_uri, to_uri


@dataclass(frozen=True)
class OmlCommitment:
    token_id: int
    chain_id: int
    contract: str
    root: str
    count: int
    uri: str
    leaves_uri: str
    strategy: str
    null_match_prob: float | None
    secrets_file: str
    tx_hash: str
    block: int
    gas_used: int


@dataclass(frozen=True)
class RevealedPair:
    key: str
    response: str
    salt: str
    digest: str


@dataclass(frozen=True)
class OmlReveal:
    token_id: int
    revealed: list[RevealedPair]
    revealed_total: int
    committed: int
    secrets_file: str
    tx_hash: str
    block: int
    gas_used: int


@dataclass(frozen=True)
class FingerprintMatch:
    key: str
    response: str
    answer: str
    matched: bool


@dataclass(frozen=True)
class OmlVerification:
    """A suspect's answers to a token's revealed fingerprints, and what dates and binds them.

    ``false_match_probability`` is the chance that a model not derived from the committed
    one matches at least ``matched`` of ``revealed``, with the per-fingerprint bound
    ``null_match_prob`` the verifier computed itself (never the owner's figure): the smaller,
    the stronger the evidence. ``predates_release`` says whether the commitment was on chain
    before the suspect was released (None when no release time is known); ``registered_checked``
    whether the token's own registered weights were shown to answer the keys.
    """

    token_id: int
    suspect: str
    revealed: int
    matched: int
    strategy: str
    null_match_prob: float
    false_match_probability: float
    committed_at: int
    committed_block: int | None
    committed_at_mint: bool
    release_time: int | None = None
    release_source: str | None = None
    predates_release: bool | None = None
    registered_checked: bool = False
    registered_matched: int | None = None
    owner_null_match_prob: float | None = None
    results: list[FingerprintMatch] = field(default_factory=list)


def secrets_file(home: Home, chain_id: int, contract: str, token_id: int) -> Path:
    """Where ``oml commit`` keeps the salts of a token's fingerprints: local state, never published."""
    return home.root / "oml" / f"{chain_id}-{contract.lower()}-{token_id}.secrets.json"


@dataclass(frozen=True)
class PreparedOml:
    """An OML commitment ready to send: secrets on disk, document and leaves in the store."""

    token_id: int
    root: bytes
    uri: str
    leaves_uri: str
    secrets: Secrets
    secrets_file: Path

    def at_mint(self) -> tuple[int, bytes, str]:
        """The ``MintFingerprint`` argument of ``mintWithFingerprint`` / ``revealMint``."""
        return (self.token_id, self.root, self.uri)

    def result(self, chain: Chain, contract: str, sent: Sent | Minted) -> OmlCommitment:
        return OmlCommitment(
            token_id=self.token_id,
            chain_id=chain.chain_id,
            contract=contract,
            root="0x" + self.root.hex(),
            count=len(self.secrets.fingerprints),
            uri=self.uri,
            leaves_uri=self.leaves_uri,
            strategy=self.secrets.strategy,
            null_match_prob=self.secrets.null_match_prob,
            secrets_file=str(self.secrets_file),
            tx_hash=sent.tx_hash,
            block=sent.block,
            gas_used=sent.gas_used,
        )


def prepare_oml(
    registries: Registries,
    token_id: int,
    fingerprints: Sequence[Fingerprint],
    secrets_path: Path | None = None,
) -> PreparedOml:
    """Salt ``fingerprints`` with leaves bound to token ``token_id``, write the secrets, store the public side.

    The secrets exist on disk before the root exists on chain, so no commitment is ever left
    without the salts that open it.
    """
    if not fingerprints:
        raise InputError(
            "there are no fingerprints to commit", "give a fingerprint file with at least one entry"
        )
    chain, store = registries.chain, registries.store
    path = (
        Path(secrets_path)
        if secrets_path
        else secrets_file(chain.home, chain.chain_id, registries.models, token_id)
    )
    salted = salt(fingerprints)
    kept = new_secrets(fingerprints, chain.chain_id, registries.models, token_id, salted)
    write_secrets(path, kept)
    leaves_uri = to_uri(store.put(encode_leaf_list(kept.digests())))
    document = commitment_document(
        kept.root, len(salted), leaves_uri, kept.strategy, kept.null_match_prob, kept.binding, _params(kept)
    )
    uri = to_uri(store.put(canonical_json(document)))
    return PreparedOml(token_id, kept.root, uri, leaves_uri, kept, path)


def commit_oml(
    registries: Registries,
    token_id: int,
    fingerprints: Sequence[Fingerprint],
    *,
    secrets_path: Path | None = None,
) -> OmlCommitment:
    """Salt ``fingerprints``, keep the secrets locally, and commit their Merkle root on model ``token_id``.

    Committing at mint (``register_model(oml=...)``, ``model mint --oml-commit``) is stronger
    evidence: the commitment then provably existed when the model was registered.

    Raises:
        InputError: no fingerprints, or the token already has an OML commitment.
        RevertError: the contract refuses (not the owner, unknown token).
    """
    if not fingerprints:
        raise InputError(
            "there are no fingerprints to commit", "give a fingerprint file with at least one entry"
        )
    contract = registries.model_contract
    existing = contract.fingerprint(token_id, FingerprintKind.OML)
    if existing.committed:
        raise InputError(
            f"model {token_id} already has an OML commitment (root 0x{existing.commitment.hex()})",
            "a commitment is made once; reveal from it with reveal_oml",
            hint="oml-reveal",
            hint_values={"token_id": token_id},
        )
    prepared = prepare_oml(registries, token_id, fingerprints, secrets_path)
    sent = contract.commit_fingerprint(token_id, FingerprintKind.OML, prepared.root, prepared.uri)
    return prepared.result(registries.chain, contract.address, sent)


def _params(kept: Secrets) -> dict[str, Any]:
    """The generation parameters a verifier can use: the perinucleus width ``k`` from ``p = 1/k``."""
    if kept.strategy in ("perinucleus", "inverse_nucleus") and kept.null_match_prob:
        return {"nucleus_k": round(1 / kept.null_match_prob)}
    return {}


def reveal_oml(
    registries: Registries, token_id: int, count: int, *, secrets_path: Path | None = None, rng: Any = None
) -> OmlReveal:
    """Reveal ``count`` unrevealed fingerprints of ``token_id``, chosen at random, in one transaction.

    Which are unrevealed is asked of the contract, not the secrets file, so a reveal sent
    from another copy of the file is taken into account.

    Raises:
        InputError: ``count`` is not positive or exceeds the unrevealed fingerprints, or the
            secrets file is missing or malformed.
        RevertError: the contract refuses (no commitment, not the owner, proofs that do not
            lead to the committed root).
    """
    if count < 1:
        raise InputError(f"the count of fingerprints to reveal must be at least 1, not {count}")
    chain, contract = registries.chain, registries.model_contract
    path = (
        Path(secrets_path)
        if secrets_path
        else secrets_file(chain.home, chain.chain_id, contract.address, token_id)
    )
    kept = read_secrets(path)
    if (kept.chain_id, kept.contract.lower(), kept.token_id) != (
        chain.chain_id,
        contract.address.lower(),
        token_id,
    ):
        raise InputError(
            f"{path} holds the fingerprints of model {kept.token_id} on chain {kept.chain_id} ({kept.contract}), "
            f"not of model {token_id} on chain {chain.chain_id} ({contract.address})",
            "their leaves name that token and verify for it only: pass the secrets file of this token",
        )
    digests = kept.digests()
    unrevealed = [i for i, d in enumerate(digests) if not contract.fingerprint_revealed(token_id, d)]
    if count > len(unrevealed):
        raise InputError(
            f"only {len(unrevealed)} of the {len(kept.fingerprints)} committed fingerprints are unrevealed",
            f"reveal at most {len(unrevealed)}"
            if unrevealed
            else "every fingerprint of this commitment is public",
        )
    chosen = (rng or secrets.SystemRandom()).sample(unrevealed, count)
    order, proof = reveal_plan(kept, chosen)
    items = [kept.fingerprints[i] for i in order]
    sent = contract.reveal_fingerprints(
        token_id,
        [RevealedFingerprint(f.salt, f.key, f.response) for f in items],
        proof.proof,
        proof.proof_flags,
    )
    write_secrets(path, kept.with_revealed(order))
    return OmlReveal(
        token_id=token_id,
        revealed=[
            RevealedPair(f.key, f.response, "0x" + f.salt.hex(), "0x" + digests[i].hex())
            for i, f in zip(order, items, strict=True)
        ],
        revealed_total=len(kept.fingerprints) - len(unrevealed) + count,
        committed=len(kept.fingerprints),
        secrets_file=str(path),
        tx_hash=sent.tx_hash,
        block=sent.block,
        gas_used=sent.gas_used,
    )


def verify_oml(
    registries: Registries,
    token_id: int,
    suspect: Suspect,
    *,
    max_new_tokens: int | None = None,
    released: int | None = None,
    suspect_token: int | None = None,
    registered: Suspect | None = None,
    registered_path: str | Path | None = None,
) -> OmlVerification:
    """Ask ``suspect`` every fingerprint revealed for ``token_id`` and weigh the matches.

    Args:
        released: when the suspect was released (Unix time), if the user knows it.
        suspect_token: the suspect's own ModelNFT, whose claim time is then its release time.
        registered: the model registered as ``token_id``, to show that its weights answer the
            keys (``registered_path`` is its folder, checked against the token's weights root).

    Raises:
        InputError: nothing has been revealed, the strategy has no checkable bound, or the
            ``registered`` model is not the token's weights.
        IntegrityError: a revealed event does not hash to its digest, or the commitment
            document is not a modelmint OML commitment of this token.
    """
    chain, store, contract = registries.chain, registries.store, registries.model_contract
    revealed = contract.revealed_fingerprints(token_id)
    if not revealed:
        raise InputError(
            f"model {token_id} has no revealed OML fingerprints",
            "the owner reveals some with reveal_oml",
            hint="oml-reveal",
            hint_values={"token_id": token_id},
        )
    binding = Binding(chain.chain_id, contract.address, token_id)
    for item in revealed:
        if fingerprint_digest(binding, item.salt, item.key, item.response) != item.digest:
            raise IntegrityError(
                f"a reveal event of model {token_id} does not hash to its digest", "check the RPC node"
            )
    document = _commitment_document(store, contract, token_id)
    strategy = str(document.get("strategy") or "")
    p = null_match_bound(strategy, [r.response for r in revealed], document.get("params") or {})
    record = contract.fingerprint(token_id, FingerprintKind.OML)
    committed_block = _commit_block(contract, token_id)
    model_record = contract.record(token_id)

    release_time, release_source = released, "given with --released" if released is not None else None
    if suspect_token is not None:
        other = contract.record(suspect_token) if contract.exists(suspect_token) else None
        if other is None:
            raise InputError(
                f"there is no model {suspect_token}",
                "give the suspect's ModelNFT id, or its release time instead",
                hint="oml-suspect-token",
            )
        release_time, release_source = other.claimed_at, f"the claim of model {suspect_token}"

    questions = max_new_tokens or min(64, 8 + max(len(r.response) for r in revealed) // 2)
    answers = suspect.answer([r.key for r in revealed], questions)
    results = [
        FingerprintMatch(r.key, r.response, a.text, suspect.matches(a, r.response))
        for r, a in zip(revealed, answers, strict=True)
    ]
    matched = sum(r.matched for r in results)

    registered_matched = None
    if registered is not None:
        if registered_path is not None:
            _check_registered_weights(model_record, registered_path, token_id)
        own = registered.answer([r.key for r in revealed], questions)
        registered_matched = sum(
            registered.matches(a, r.response) for r, a in zip(revealed, own, strict=True)
        )
    owner_p = document.get("nullMatchProbability")
    return OmlVerification(
        token_id=token_id,
        suspect=suspect.name,
        revealed=len(revealed),
        matched=matched,
        strategy=strategy,
        null_match_prob=p,
        false_match_probability=false_match_probability(len(revealed), matched, p),
        committed_at=record.committed_at,
        committed_block=committed_block,
        committed_at_mint=record.committed_at == model_record.minted_at,
        release_time=release_time,
        release_source=release_source,
        predates_release=None if release_time is None else record.committed_at < release_time,
        registered_checked=registered_matched is not None and registered_path is not None,
        registered_matched=registered_matched,
        owner_null_match_prob=float(owner_p) if isinstance(owner_p, (int, float)) else None,
        results=results,
    )


def _check_registered_weights(record: Any, path: str | Path, token_id: int) -> None:
    """Refuse a registered model whose manifest root is not the token's weights root."""
    from modelmint.models import open_model

    root = open_model(path).manifest().root
    if root != record.weights_root:
        raise InputError(
            f"{path} has weights root 0x{root.hex()}, not model {token_id}'s 0x{record.weights_root.hex()}",
            "give the folder of the model registered as this token",
            hint="oml-registered",
        )


def _commit_block(contract: ModelContract, token_id: int) -> int | None:
    """The block of the token's OML ``FingerprintCommitted`` event (None if the node has no such log)."""
    logs = contract.fingerprint_commitments(FingerprintKind.OML, token_id)
    return logs[0].block if logs else None


def _commitment_document(store: ContentStore, contract: ModelContract, token_id: int) -> dict[str, Any]:
    record = contract.fingerprint(token_id, FingerprintKind.OML)
    if not record.uri:
        raise InputError(
            f"the OML commitment of model {token_id} names no document",
            "without its strategy the evidence cannot be weighed; the owner commits one with commit_oml",
        )
    try:
        document = json.loads(store.get(parse_uri(record.uri)))
        if (
            document.get("schema") != COMMITMENT_SCHEMA
            or document.get("root") != "0x" + record.commitment.hex()
        ):
            raise ValueError("not this commitment")
        if (
            int(document.get("tokenId", -1)) != token_id
            or int(document.get("chainId", -1)) != contract.chain.chain_id
        ):
            raise ValueError("bound to another token")
    except (ValueError, TypeError, AttributeError):
        raise IntegrityError(
            f"the OML commitment document of model {token_id} ({record.uri}) is not a modelmint OML commitment",
            "the commitment was not made by modelmint; its false-match estimate is unknown",
        ) from None
    return document  # type: ignore[no-any-return]
