"""Use cases for HuRef fingerprints: commit one for a model token, and identify a suspect model.

Committing stores the fingerprint bundle and its picture in the content store and commits
the bundle's SHA-256 and ``ipfs://`` URI on the ModelNFT (kind HuRef: once per token, by its
owner). Identifying reads nothing but the chain's ``FingerprintCommitted`` events and the
content store: every bundle is checked against its on-chain SHA-256 before it is used, and
one that does not match is refused, never ranked.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint._faults import fault_point
from modelmint.chain.client import Sent
from modelmint.chain.contracts import CommittedFingerprint, FingerprintKind
from modelmint.errors import ChainError, InputError, IntegrityError, ModelmintError
from modelmint.fingerprints import huref
from modelmint.registry.registries import Registries
from modelmint.storage import ContentStore, parse_uri, read_content, to_uri

# A recomputed fingerprint of the committed model matches its stored sketch this closely.
_SAME_MODEL_ICS = 0.999
#: Candidates whose ICS against the suspect is this close to the best one's hold the same or a
#: near-identical bundle: ``identify`` lists them all rather than picking the lower id.
SAME_BUNDLE_ICS = 0.001


@dataclass(frozen=True)
class StoredFingerprint:
    """A fingerprint written to the content store: the bundle, and the picture it names."""

    uri: str
    sha256: str
    size: int
    image_uri: str
    image_sha256: str


@dataclass(frozen=True)
class HurefCommitment:
    """What ``fingerprint huref`` produced (or found already committed)."""

    token_id: int | None
    chain_id: int | None
    contract: str | None
    uri: str
    sha256: str
    size: int
    image_uri: str
    tokens: int
    layers: str
    layer_indices: tuple[int, ...]
    seconds: float
    tx_hash: str | None = None
    block: int | None = None
    gas_used: int | None = None
    already_committed: bool = False


@dataclass(frozen=True)
class Candidate:
    """A registered model as the suspect compares to it."""

    token_id: int
    uri: str
    ics: float | None
    vector_similarity: float | None = None
    reason: str | None = None  # why it is not comparable
    owner: str = ""
    committed_at: int = 0
    commitment: str = ""
    committed_block: int = 0


@dataclass(frozen=True)
class Refusal:
    token_id: int
    uri: str
    reason: str


@dataclass(frozen=True)
class Identification:
    """Every registered model ranked by ICS against the suspect."""

    suspect: str
    tokens: int
    layers: str
    threshold: float
    fingerprint_seconds: float
    search_seconds: float
    ranking: list[Candidate] = field(default_factory=list)
    not_comparable: list[Candidate] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    #: Every token whose bundle is the best match's or near-identical to it (ICS within
    #: :data:`SAME_BUNDLE_ICS` of it), earliest commitment first: who committed it first.
    same_bundle: list[Candidate] = field(default_factory=list)

    @property
    def first_committed(self) -> Candidate | None:
        return self.same_bundle[0] if self.same_bundle else None

    @property
    def likely_base(self) -> Candidate | None:
        """The best match when its ICS reaches the threshold, else None."""
        if self.ranking and self.ranking[0].ics is not None and self.ranking[0].ics >= self.threshold:
            return self.ranking[0]
        return None


def store_fingerprint(store: ContentStore, fp: huref.Fingerprint) -> StoredFingerprint:
    """Store the picture, then the bundle that names it; both are content-addressed."""
    picture = fp.picture()
    image_uri = to_uri(store.put(picture))
    image_sha = huref.sha256_hex(picture)
    bundle = fp.to_bundle(image_uri, image_sha)
    uri = to_uri(store.put(bundle))
    return StoredFingerprint(uri, huref.sha256_hex(bundle), len(bundle), image_uri, image_sha)


def fingerprint_model(
    store: ContentStore, model: str | Path, *, tokens: int = huref.DEFAULT_TOKENS, layers: str = "last2"
) -> tuple[huref.Fingerprint, StoredFingerprint]:
    """Fingerprint ``model`` and store the result (no transaction)."""
    fp = huref.fingerprint(model, tokens=tokens, layers=layers)
    return fp, store_fingerprint(store, fp)


def commit_huref(
    registries: Registries,
    model: str | Path,
    token_id: int,
    *,
    tokens: int = huref.DEFAULT_TOKENS,
    layers: str = "last2",
    computed: tuple[huref.Fingerprint, StoredFingerprint] | None = None,
    weights_root: bytes | None = None,
) -> HurefCommitment:
    """Fingerprint ``model``, store it, and commit it as token ``token_id``'s HuRef fingerprint.

    The model's manifest root must be the token's weights root: a fingerprint of some other
    (famous) model cannot be put on a token (issue 10, finding 3). ``weights_root`` skips
    hashing the files again when the caller just did (a mint).

    Idempotent: when the token already has a HuRef fingerprint of this model (its stored
    sketch matches the recomputed one), that commitment is reported instead of failing.

    Raises:
        ChainError: the token does not exist, or the signer does not own it.
        InputError: the model is not the token's weights, or the token already has the HuRef
            fingerprint of a different model.
        IntegrityError: its committed fingerprint does not match its on-chain hash.
    """
    from modelmint.models import open_model

    chain, store, contract = registries.chain, registries.store, registries.model_contract
    record = contract.record(token_id)  # reverts (decoded) for a token that does not exist
    root = weights_root if weights_root is not None else open_model(model).manifest().root
    if root != record.weights_root:
        raise InputError(
            f"{model} has weights root 0x{root.hex()}, not model {token_id}'s 0x{record.weights_root.hex()}",
            "fingerprint the model registered as this token, or register this model as its own token first",
        )
    existing = contract.fingerprint(token_id, FingerprintKind.HuRef)
    if not existing.committed and not contract.authorized(token_id, record.owner, chain.signer.address):
        raise ChainError(
            f"model {token_id} is owned by {record.owner}, not by the signer {chain.signer.address}, nor approved for it",
            "only the owner commits a fingerprint, or an address it approved: sign with its key",
            hint="owner-key",
        )
    fp, stored = computed or fingerprint_model(store, model, tokens=tokens, layers=layers)
    if existing.committed:
        data = _fetch(store, token_id, existing.uri, existing.commitment)
        bundle = huref.read_bundle(data, f"the HuRef fingerprint of model {token_id} ({existing.uri})")
        found = huref.compare(fp, bundle)
        if found.ics is None or found.ics < _SAME_MODEL_ICS:
            score = "not comparable" if found.ics is None else f"ICS {found.ics:.4f}"
            raise InputError(
                f"model {token_id} already has a HuRef fingerprint ({existing.uri}) of another model ({score})",
                "a fingerprint is committed once per token: register this model as its own token",
            )
        image = bundle.image_uri
        found_sha = "0x" + existing.commitment.hex()
        return _commitment(registries, token_id, fp, existing.uri, len(data), found_sha, image, None)
    fault_point("after-store")
    sent = contract.commit_fingerprint(
        token_id, FingerprintKind.HuRef, bytes.fromhex(stored.sha256[2:]), stored.uri
    )
    return _commitment(
        registries, token_id, fp, stored.uri, stored.size, stored.sha256, stored.image_uri, sent
    )


def register_with_huref(
    registries: Registries,
    model: str | Path | Any,
    *,
    tokens: int = huref.DEFAULT_TOKENS,
    layers: str = "last2",
    **registration: Any,
) -> tuple[Any, HurefCommitment]:
    """Register a model with its HuRef fingerprint: fingerprint first, mint with the picture as the
    token's image, then commit.

    ``model`` is a local path or a local source from :func:`modelmint.models.open_model`;
    ``registration`` goes to :func:`~modelmint.registry.models.register_model`.

    The picture must exist before the mint, because the token's metadata (which names it)
    is immutable; the commitment follows in a second transaction.
    """
    from modelmint.registry.models import register_model

    local = model if isinstance(model, (str, Path)) else getattr(model, "path", None)
    if local is None:
        raise InputError(
            f"HuRef needs the weights of {getattr(model, 'label', model)} on this machine",
            "download the model and mint its local folder",
        )
    computed = fingerprint_model(registries.store, local, tokens=tokens, layers=layers)
    registered = register_model(registries, model, image=computed[1].image_uri, **registration)
    root = bytes.fromhex(registered.weights_root.removeprefix("0x"))
    return registered, commit_huref(
        registries, local, registered.token_id, computed=computed, weights_root=root
    )


def load_committed(store: ContentStore, token_id: int, uri: str, commitment: bytes) -> huref.Bundle:
    """The bundle a commitment names, checked against the committed SHA-256.

    Raises:
        IntegrityError: the content's SHA-256 is not the commitment, or it is no bundle (any
            field of its header of the wrong type or range), or it is over ``huref.MAX_BUNDLE_BYTES``.
        StoreError: the store cannot serve it.
        InputError: ``uri`` is not an ``ipfs://`` URI.
    """
    data = _fetch(store, token_id, uri, commitment)
    return huref.read_bundle(data, f"the HuRef fingerprint of model {token_id} ({uri})")


def _fetch(store: ContentStore, token_id: int, uri: str, commitment: bytes) -> bytes:
    what = f"the HuRef fingerprint of model {token_id} ({uri})"
    data = read_content(store, parse_uri(uri), what=what, max_bytes=huref.MAX_BUNDLE_BYTES)
    actual = huref.sha256_hex(data)
    if actual != "0x" + commitment.hex():
        raise IntegrityError(
            f"the HuRef fingerprint of model {token_id} ({uri}) has SHA-256 {actual}, "
            f"not its on-chain commitment 0x{commitment.hex()}",
            "refused: the stored content is not what the owner committed",
        )
    return data


def committed_fingerprints(registries: Registries) -> list[CommittedFingerprint]:
    """Every HuRef commitment on the ModelNFT, oldest first, from its ``FingerprintCommitted`` events."""
    return registries.model_contract.fingerprint_commitments(FingerprintKind.HuRef)


def identify(
    registries: Registries,
    model: str | Path | huref.Fingerprint,
    *,
    tokens: int = huref.DEFAULT_TOKENS,
    layers: str = "last2",
) -> Identification:
    """Fingerprint a suspect model and rank every registered HuRef fingerprint by ICS.

    Only on-chain commitments and the content store are used. ICS is estimated from the
    stored sketches (within 0.01 of the exact value, docs/huref.md); fingerprints over other
    token sets are listed as not comparable. A candidate that cannot be used (its bundle fails
    its hash, is malformed or too large, or its store cannot serve it: anyone can commit one)
    is refused with its reason, and the others are ranked all the same.
    """
    fp = (
        model
        if isinstance(model, huref.Fingerprint)
        else huref.fingerprint(model, tokens=tokens, layers=layers)
    )
    store, contract = registries.store, registries.model_contract
    started = time.perf_counter()
    ranking: list[Candidate] = []
    not_comparable: list[Candidate] = []
    refused: list[Refusal] = []
    for committed in committed_fingerprints(registries):
        token_id, commitment, uri, block = (
            committed.token_id,
            committed.commitment,
            committed.uri,
            committed.block,
        )
        try:
            found = huref.compare(fp, load_committed(store, token_id, uri, commitment))
        except ModelmintError as exc:  # this candidate's error, not the identification's
            refused.append(Refusal(token_id, uri, exc.problem))
            continue
        # Who holds it and since when: a copied bundle is told apart by its later commitment.
        owner = contract.record(token_id).owner
        committed_at = contract.fingerprint(token_id, FingerprintKind.HuRef).committed_at
        candidate = Candidate(
            token_id,
            uri,
            found.ics,
            found.vector_similarity if found.ics is not None else None,
            found.reason if found.ics is None else None,
            owner=owner,
            committed_at=committed_at,
            commitment="0x" + commitment.hex(),
            committed_block=block,
        )
        (not_comparable if found.ics is None else ranking).append(candidate)
    ranking.sort(key=lambda c: (-(c.ics or 0.0), c.committed_block, c.token_id))
    same: list[Candidate] = []
    if ranking:
        top = ranking[0]
        same = [
            c
            for c in ranking
            if c.commitment == top.commitment or (top.ics or 0) - (c.ics or 0) <= SAME_BUNDLE_ICS
        ]
        # Blocks order commitments strictly even when two share a timestamp.
        same.sort(key=lambda c: (c.committed_block, c.token_id))
    label = str(model) if not isinstance(model, huref.Fingerprint) else "the suspect"
    return Identification(
        suspect=label,
        tokens=fp.tokens.k,
        layers=fp.layers,
        threshold=huref.DECISION_THRESHOLD,
        fingerprint_seconds=fp.seconds,
        search_seconds=time.perf_counter() - started,
        ranking=ranking,
        not_comparable=not_comparable,
        refused=refused,
        same_bundle=same,
    )


def refusal_error(refused: Sequence[Refusal]) -> IntegrityError:
    """The one-line error for fingerprints refused during an identification."""
    more = (
        f" (and {len(refused) - 1} more: models {', '.join(str(r.token_id) for r in refused[1:])})"
        if len(refused) > 1
        else ""
    )
    return IntegrityError(
        f"{refused[0].reason}{more}",
        "refused, not ranked; every other fingerprint was ranked without it",
    )


def _commitment(
    registries: Registries,
    token_id: int,
    fp: huref.Fingerprint,
    uri: str,
    bundle_size: int,
    sha256: str,
    image_uri: str,
    sent: Sent | None,
) -> HurefCommitment:
    return HurefCommitment(
        token_id=token_id,
        chain_id=registries.chain.chain_id,
        contract=registries.models,
        uri=uri,
        sha256=sha256,
        size=bundle_size,
        image_uri=image_uri,
        tokens=fp.tokens.k,
        layers=fp.layers,
        layer_indices=fp.layer_indices,
        seconds=fp.seconds,
        tx_hash=sent.tx_hash if sent else None,
        block=sent.block if sent else None,
        gas_used=sent.gas_used if sent else None,
        already_committed=sent is None,
    )


__all__ = [
    "Candidate",
    "HurefCommitment",
    "Identification",
    "Refusal",
    "StoredFingerprint",
    "commit_huref",
    "committed_fingerprints",
    "fingerprint_model",
    "identify",
    "load_committed",
    "refusal_error",
    "register_with_huref",
    "store_fingerprint",
]
