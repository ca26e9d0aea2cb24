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

from modelmint.chain.client import Chain
from modelmint.chain.contracts import FingerprintKind, ModelContract, RevealedFingerprint
from modelmint.errors import InputError, IntegrityError
from modelmint.fingerprints.oml.commitment import (
    COMMITMENT_SCHEMA,
    commitment_document,
    fingerprint_digest,
    new_secrets,
    read_secrets,
    reveal_plan,
    salt,
    write_secrets,
)
from modelmint.fingerprints.oml.evidence import false_match_probability
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.fingerprints.oml.suspect import Suspect
from modelmint.hashing.canonical import canonical_json
from modelmint.hashing.merkle import encode_leaf_list
from modelmint.home import Home
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
    """A suspect's answers to a token's revealed fingerprints.

    ``false_match_probability`` is the chance that a model not derived from the committed
    one matches at least ``matched`` of ``revealed`` (None when the commitment gives no
    null-match probability): the smaller, the stronger the evidence.
    """

    token_id: int
    suspect: str
    revealed: int
    matched: int
    strategy: str
    null_match_prob: float | None
    false_match_probability: float | None
    results: list[FingerprintMatch] = field(default_factory=list)


def secrets_file(home: Home, chain_id: int, contract: str, token_id: int) -> Path:
    """Where ``oml commit`` keeps the salts of a token's fingerprints: local state, never published."""
    return home.root / "oml" / f"{chain_id}-{contract.lower()}-{token_id}.secrets.json"


def commit_oml(
    chain: Chain,
    store: ContentStore,
    token_id: int,
    fingerprints: Sequence[Fingerprint],
    *,
    secrets_path: Path | None = None,
) -> OmlCommitment:
    """Salt ``fingerprints``, keep the secrets locally, and commit their Merkle root on model ``token_id``.

    Raises:
        InputError: no fingerprints, or the token already has an OML commitment.
        RevertError: the contract refuses (not the owner, unknown token).
    """
    if not fingerprints:
        raise InputError("there are no fingerprints to commit", "give a fingerprint file with at least one entry")
    contract = ModelContract(chain)
    existing = contract.fingerprint(token_id, FingerprintKind.OML)
    if existing.committed:
        raise InputError(
            f"model {token_id} already has an OML commitment (root 0x{existing.commitment.hex()})",
            "a commitment is made once; reveal from it with `modelmint fingerprint oml reveal`",
        )
    path = Path(secrets_path) if secrets_path else secrets_file(chain.home, chain.chain_id, contract.address, token_id)
    salted = salt(fingerprints)
    kept = new_secrets(fingerprints, chain.chain_id, contract.address, token_id, salted)
    # The secrets exist on disk before the root exists on chain, so no commitment is ever
    # left without the salts that open it.
    write_secrets(path, kept)
    leaves_uri = to_uri(store.put(encode_leaf_list([f.digest for f in salted])))
    document = commitment_document(kept.root, len(salted), leaves_uri, kept.strategy, kept.null_match_prob)
    uri = to_uri(store.put(canonical_json(document)))
    sent = contract.commit_fingerprint(token_id, FingerprintKind.OML, kept.root, uri)
    return OmlCommitment(
        token_id=token_id,
        chain_id=chain.chain_id,
        contract=contract.address,
        root="0x" + kept.root.hex(),
        count=len(salted),
        uri=uri,
        leaves_uri=leaves_uri,
        strategy=kept.strategy,
        null_match_prob=kept.null_match_prob,
        secrets_file=str(path),
        tx_hash=sent.tx_hash,
        block=sent.block,
        gas_used=sent.gas_used,
    )


def reveal_oml(
    chain: Chain, token_id: int, count: int, *, secrets_path: Path | None = None, rng: Any = None
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
        raise InputError(f"--count must be at least 1, not {count}")
    contract = ModelContract(chain)
    path = Path(secrets_path) if secrets_path else secrets_file(chain.home, chain.chain_id, contract.address, token_id)
    kept = read_secrets(path)
    unrevealed = [i for i, f in enumerate(kept.fingerprints) if not contract.fingerprint_revealed(token_id, f.digest)]
    if count > len(unrevealed):
        raise InputError(
            f"only {len(unrevealed)} of the {len(kept.fingerprints)} committed fingerprints are unrevealed",
            f"reveal at most {len(unrevealed)}" if unrevealed else "every fingerprint of this commitment is public",
        )
    chosen = (rng or secrets.SystemRandom()).sample(unrevealed, count)
    order, proof = reveal_plan(kept, chosen)
    items = [kept.fingerprints[i] for i in order]
    sent = contract.reveal_fingerprints(
        token_id, [RevealedFingerprint(f.salt, f.key, f.response) for f in items], proof.proof, proof.proof_flags
    )
    write_secrets(path, kept.with_revealed(order))
    return OmlReveal(
        token_id=token_id,
        revealed=[RevealedPair(f.key, f.response, "0x" + f.salt.hex(), "0x" + f.digest.hex()) for f in items],
        revealed_total=len(kept.fingerprints) - len(unrevealed) + count,
        committed=len(kept.fingerprints),
        secrets_file=str(path),
        tx_hash=sent.tx_hash,
        block=sent.block,
        gas_used=sent.gas_used,
    )


def verify_oml(
    chain: Chain, store: ContentStore, token_id: int, suspect: Suspect, *, max_new_tokens: int | None = None
) -> OmlVerification:
    """Ask ``suspect`` every fingerprint revealed for ``token_id`` and count exact matches.

    Raises:
        InputError: nothing has been revealed for the token.
        IntegrityError: a revealed event does not hash to its digest, or the commitment
            document is not a modelmint OML commitment.
    """
    contract = ModelContract(chain)
    revealed = contract.revealed_fingerprints(token_id)
    if not revealed:
        raise InputError(
            f"model {token_id} has no revealed OML fingerprints",
            "the owner reveals some with `modelmint fingerprint oml reveal --token ID --count N`",
        )
    for item in revealed:
        if fingerprint_digest(item.salt, item.key, item.response) != item.digest:
            raise IntegrityError(f"a reveal event of model {token_id} does not hash to its digest", "check the RPC node")
    document = _commitment_document(store, contract, token_id)
    longest = max(len(r.response) for r in revealed)
    answers = suspect.answer([r.key for r in revealed], max_new_tokens or min(64, 8 + longest // 2))
    results = [FingerprintMatch(r.key, r.response, a.text, suspect.matches(a, r.response)) for r, a in zip(revealed, answers)]
    matched = sum(r.matched for r in results)
    p = document.get("nullMatchProbability")
    return OmlVerification(
        token_id=token_id,
        suspect=suspect.name,
        revealed=len(revealed),
        matched=matched,
        strategy=str(document.get("strategy") or ""),
        null_match_prob=float(p) if p is not None else None,
        false_match_probability=false_match_probability(len(revealed), matched, float(p)) if p is not None else None,
        results=results,
    )


def _commitment_document(store: ContentStore, contract: ModelContract, token_id: int) -> dict[str, Any]:
    record = contract.fingerprint(token_id, FingerprintKind.OML)
    if not record.uri:
        return {}
    try:
        document = json.loads(store.get(parse_uri(record.uri)))
        if document.get("schema") != COMMITMENT_SCHEMA or document.get("root") != "0x" + record.commitment.hex():
            raise ValueError("not this commitment")
    except (ValueError, TypeError, AttributeError):
        raise IntegrityError(
            f"the OML commitment document of model {token_id} ({record.uri}) is not a modelmint OML commitment",
            "the commitment was not made by modelmint; its false-match estimate is unknown",
        ) from None
    return document  # type: ignore[no-any-return]
