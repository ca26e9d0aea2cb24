"""Use cases for OML fingerprints: commit a set on a model token, reveal some, verify a suspect.

Committing writes the salted pairs to a local secrets file first (mode 0600, in the project
folder, named by the root it opens and never overwritten), then the public commitment
document and digest list to the content store, then the root on-chain. Revealing publishes chosen pairs with their salts and one multiproof in
one transaction. Verifying reads only the chain's reveal events and the public commitment
document, so anyone can run it against any suspect model.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_typing import HexStr
from web3.logs import DISCARD

from modelmint._faults import fault_point
from modelmint.chain.client import Chain, Sent, guard
from modelmint.chain.contracts import FingerprintKind, Minted, ModelContract, RevealedFingerprint
from modelmint.errors import ChainError, InputError, IntegrityError
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
from modelmint.registry._pending import PendingSend, load_pending, pending_path, record_pending
from modelmint.registry.registries import Registries
from modelmint.storage import ContentStore, parse_uri, read_document, to_uri
from modelmint.storage.documents import OML_DOCUMENT_MAX_BYTES, Fields


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


def secrets_file(home: Home, chain_id: int, contract: str, token_id: int, root: bytes) -> Path:
    """Where ``oml commit`` keeps the salts that open ``root`` on a token: local state, never published.

    The name carries the root's first 8 bytes, so salts drawn for a commitment that never
    landed (a second commit while the first was pending) never replace the ones that did.
    """
    return home.root / "oml" / f"{_token_name(chain_id, contract, token_id)}-{root.hex()[:16]}.secrets.json"


def _token_name(chain_id: int, contract: str, token_id: int) -> str:
    return f"{chain_id}-{contract.lower()}-{token_id}"


def _pending_file(chain: Chain, contract: str, token_id: int, action: str) -> Path:
    return pending_path(
        chain.home.root / "oml", f"{_token_name(chain.chain_id, contract, token_id)}.{action}"
    )


def _refuse_pending(pending: PendingSend, chain: Chain, what: str, token_id: int) -> None:
    """Refuse to send while the record's transaction is still in the node's pool; forget a record
    whose transaction is not (the caller has already looked for what landed)."""
    tx = pending.in_pool(chain)
    if tx is None:
        pending.clear()
        return
    named = f"transaction {tx}" if tx else f"the transaction with nonce {pending.nonce}"
    raise ChainError(
        f"the {what} of model {token_id} sent earlier from {pending.signer} ({named}) is not mined yet",
        "wait until it is mined or dropped, then run the same call again: it reports what landed",
        hint="oml-pending",
    )


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
    salted = salt(fingerprints)
    kept = new_secrets(fingerprints, chain.chain_id, registries.models, token_id, salted)
    path = (
        Path(secrets_path)
        if secrets_path
        else secrets_file(chain.home, chain.chain_id, registries.models, token_id, kept.root)
    )
    write_secrets(path, kept)
    uri, leaves_uri = _publish(store, kept)
    return PreparedOml(token_id, kept.root, uri, leaves_uri, kept, path)


def _publish(store: ContentStore, kept: Secrets) -> tuple[str, str]:
    """Store the public side of ``kept`` (content-addressed: storing it again gives the same URIs)."""
    leaves_uri = to_uri(store.put(encode_leaf_list(kept.digests())))
    document = commitment_document(
        kept.root, len(kept.fingerprints), leaves_uri, kept.strategy, kept.null_match_prob, kept.binding,
        _params(kept),
    )  # fmt: skip
    return to_uri(store.put(canonical_json(document))), leaves_uri


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

    Safe to re-run after a crash: a commitment this machine sent that landed unseen is
    reported (same fingerprints) instead of refused, and one still in the node's pool refuses
    the re-run, since new salts would then open nothing (docs/security.md, "Crashes and retries").

    Raises:
        InputError: no fingerprints, or the token already has an OML commitment.
        ChainError: a commitment sent earlier for this token is still pending.
        RevertError: the contract refuses (not the owner, unknown token).
    """
    if not fingerprints:
        raise InputError(
            "there are no fingerprints to commit", "give a fingerprint file with at least one entry"
        )
    chain, contract = registries.chain, registries.model_contract
    pending = load_pending(_pending_file(chain, contract.address, token_id, "commit"))
    existing = contract.fingerprint(token_id, FingerprintKind.OML)
    if existing.committed:
        landed = _landed_commitment(registries, token_id, fingerprints, existing.commitment, pending)
        if landed is not None:
            return landed
        raise InputError(
            f"model {token_id} already has an OML commitment (root 0x{existing.commitment.hex()})",
            "a commitment is made once; reveal from it with reveal_oml",
            hint="oml-reveal",
            hint_values={"token_id": token_id},
        )
    if pending is not None:
        _refuse_pending(pending, chain, "OML commitment", token_id)
    prepared = prepare_oml(registries, token_id, fingerprints, secrets_path)
    fault_point("after-store")
    record = record_pending(
        _pending_file(chain, contract.address, token_id, "commit"),
        chain,
        {"root": "0x" + prepared.root.hex(), "secretsFile": str(prepared.secrets_file)},
    )
    sent = contract.commit_fingerprint(token_id, FingerprintKind.OML, prepared.root, prepared.uri)
    record.clear()
    return prepared.result(chain, contract.address, sent)


def _landed_commitment(
    registries: Registries,
    token_id: int,
    fingerprints: Sequence[Fingerprint],
    root: bytes,
    pending: PendingSend | None,
) -> OmlCommitment | None:
    """The commitment an interrupted run of this machine sent, if it is the one on chain and
    commits ``fingerprints``; None otherwise (then it is someone's finished commitment)."""
    if pending is None or pending.data.get("root") != "0x" + root.hex():
        return None
    landed = _report_landed(registries, token_id, fingerprints, root, Path(str(pending.data["secretsFile"])))
    if landed is not None:
        pending.clear()
    return landed


def landed_at_mint(
    registries: Registries, token_id: int, fingerprints: Sequence[Fingerprint], secrets_path: Path | None
) -> OmlCommitment | None:
    """The OML commitment made at the mint of ``token_id``, if it commits ``fingerprints`` with
    salts kept here: what a re-run of a mint with ``oml=`` reports (its first run may have died
    before it saw the receipt). None when the token has no such commitment."""
    chain, contract = registries.chain, registries.model_contract
    existing = contract.fingerprint(token_id, FingerprintKind.OML)
    if not existing.committed or existing.committed_at != contract.record(token_id).minted_at:
        return None
    path = Path(secrets_path) if secrets_path else (
        secrets_file(chain.home, chain.chain_id, contract.address, token_id, existing.commitment)
    )  # fmt: skip
    if not path.exists():
        return None
    return _report_landed(registries, token_id, fingerprints, existing.commitment, path)


def _report_landed(
    registries: Registries, token_id: int, fingerprints: Sequence[Fingerprint], root: bytes, path: Path
) -> OmlCommitment | None:
    """The commitment of ``root`` on chain, as its own run would have reported it, if the
    secrets file at ``path`` opens it and holds ``fingerprints``."""
    kept = read_secrets(path)
    if kept.root != root or [(f.key, f.response) for f in kept.fingerprints] != [
        (f.key, f.response) for f in fingerprints
    ]:
        return None
    chain, contract = registries.chain, registries.model_contract
    uri, leaves_uri = _publish(registries.store, kept)
    logs = contract.fingerprint_commitments(FingerprintKind.OML, token_id)
    tx_hash, block, gas = "", logs[0].block if logs else 0, 0
    if logs:
        # The commitment's own transaction: the receipt in its block that holds its event.
        event = contract.contract.events.FingerprintCommitted()
        for receipt in guard(lambda: chain.w3.eth.get_block_receipts(logs[0].block), chain.url):
            found = event.process_receipt(receipt, errors=DISCARD)
            if any(e["args"]["tokenId"] == token_id and e["args"]["commitment"] == root for e in found):
                tx_hash, gas = receipt["transactionHash"].to_0x_hex(), int(receipt["gasUsed"])
    prepared = PreparedOml(token_id, root, uri, leaves_uri, kept, path)
    return prepared.result(chain, contract.address, Sent(tx_hash, block, gas, None))


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
    path, kept = _committed_secrets(registries, token_id, secrets_path)
    digests = kept.digests()
    pending = load_pending(_pending_file(chain, contract.address, token_id, "reveal"))
    if pending is not None:
        landed = _landed_reveal(registries, token_id, path, kept, pending)
        if landed is not None:
            return landed
        _refuse_pending(pending, chain, "OML reveal", token_id)
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
    record = record_pending(
        _pending_file(chain, contract.address, token_id, "reveal"),
        chain,
        {"root": "0x" + kept.root.hex(), "digests": ["0x" + digests[i].hex() for i in order]},
    )
    sent = contract.reveal_fingerprints(
        token_id,
        [RevealedFingerprint(f.salt, f.key, f.response) for f in items],
        proof.proof,
        proof.proof_flags,
    )
    write_secrets(path, kept.with_revealed(order), update=True)
    record.clear()
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


def _committed_secrets(
    registries: Registries, token_id: int, secrets_path: Path | None
) -> tuple[Path, Secrets]:
    """The secrets file that opens the OML commitment on chain of ``token_id``, and its content.

    Without ``secrets_path`` it is the project folder's file named by the committed root
    (the name :func:`secrets_file` gives; files of commitments that never landed are ignored).

    Raises:
        InputError: no commitment, no such file, or a file for another token or root.
    """
    chain, contract = registries.chain, registries.model_contract
    on_chain = contract.fingerprint(token_id, FingerprintKind.OML)
    if secrets_path:
        path = Path(secrets_path)
    elif on_chain.committed:
        path = secrets_file(chain.home, chain.chain_id, contract.address, token_id, on_chain.commitment)
    else:
        raise InputError(
            f"no OML secrets file for model {token_id}: it has no OML commitment on chain "
            f"{chain.chain_id} ({contract.address})",
            "commit fingerprints on it first (commit_oml), or check the token id and chain",
            hint="oml-commit",
            hint_values={"token_id": token_id},
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
    if kept.root != on_chain.commitment:
        committed = f"root 0x{on_chain.commitment.hex()}" if on_chain.committed else "no OML commitment"
        raise InputError(
            f"{path} opens root 0x{kept.root.hex()}, but model {token_id} has {committed} on chain",
            "pass the secrets file written by the commitment that landed (its name carries the root's first "
            "16 hex digits)",
            hint="oml-secrets",
        )
    return path, kept


def _landed_reveal(
    registries: Registries, token_id: int, path: Path, kept: Secrets, pending: PendingSend
) -> OmlReveal | None:
    """The reveal an interrupted run sent, if every fingerprint it chose is public now."""
    contract = registries.model_contract
    wanted = [str(d) for d in pending.data.get("digests", [])]
    if pending.data.get("root") != "0x" + kept.root.hex() or not wanted:
        return None
    events = {"0x" + e.digest.hex(): e for e in contract.revealed_fingerprints(token_id)}
    if not all(d in events for d in wanted):
        return None
    digests = ["0x" + d.hex() for d in kept.digests()]
    order = [digests.index(d) for d in wanted]
    write_secrets(path, kept.with_revealed(order), update=True)
    pending.clear()
    tx = events[wanted[0]].tx_hash
    receipt = guard(lambda: registries.chain.w3.eth.get_transaction_receipt(HexStr(tx)), registries.chain.url)
    return OmlReveal(
        token_id=token_id,
        revealed=[
            RevealedPair(e.key, e.response, "0x" + e.salt.hex(), d) for d in wanted for e in [events[d]]
        ],
        revealed_total=len(events),
        committed=len(kept.fingerprints),
        secrets_file=str(path),
        tx_hash=tx,
        block=events[wanted[0]].block,
        gas_used=int(receipt["gasUsed"]),
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
    what = f"the OML commitment document of model {token_id}"
    document = read_document(store, parse_uri(record.uri), what=what, max_bytes=OML_DOCUMENT_MAX_BYTES)

    def refuse(why: str) -> IntegrityError:
        return IntegrityError(
            f"{what} ({record.uri}) is not a modelmint OML commitment ({why})",
            "the commitment was not made by modelmint; its false-match estimate is unknown",
        )

    # Every field the verification reads, by type (docs/security.md, "Untrusted documents").
    read = Fields(refuse)
    top = read.top(document)
    if top.get("schema") != COMMITMENT_SCHEMA or top.get("root") != "0x" + record.commitment.hex():
        raise refuse("not this commitment")
    if read.count(top, "tokenId") != token_id or read.count(top, "chainId") != contract.chain.chain_id:
        raise refuse("bound to another token")
    read.optional(top, "strategy", "", read.text)
    read.optional(top, "params", "", read.object)
    return dict(top)
