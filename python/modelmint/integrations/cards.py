"""A registered model's card: written from the chain's record, and checked against it.

:func:`write_card` builds the card's claims from what the chain says (never from what the
caller believes), so a card this writes is true when written. :func:`verify_card` reads a
card and compares every claim with the chain again: chain id, contracts, token, weights
root, parent, datasets and fingerprint commitments; the provenance section against the
claims; and the folder's files against the registered manifest. README.md itself is left
out of that file check: it names the token, so it is written after the mint and cannot be
in the manifest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from modelmint._files import write_atomic
from modelmint.errors import InputError
from modelmint.models._card import (
    CARD_FILE,
    CardClaims,
    DatasetClaim,
    FingerprintClaim,
    read_card,
    render_card,
    render_section,
)
from modelmint.registry import ModelVerification, Registries, show, verify_model


@dataclass(frozen=True)
class CardCheck:
    """One claim of a card: what the card says, what the chain says."""

    claim: str
    card: str
    chain: str

    @property
    def ok(self) -> bool:
        return self.card == self.chain


@dataclass(frozen=True)
class CardVerification:
    token_id: int
    checks: tuple[CardCheck, ...]
    files: ModelVerification

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and self.files_ok

    @property
    def files_ok(self) -> bool:
        return not self.files.differing and not self.files.missing and not self.files.extra


def card_claims(
    registries: Registries,
    token_id: int,
    *,
    base_model: str | None = None,
    dataset_names: Sequence[str | None] = (),
    folder: str = ".",
) -> CardClaims:
    """The claims of model ``token_id``, read from the chain; ``dataset_names`` (a Hub id or
    None per training dataset, in lineage order) default to the dataset tokens' names."""
    model = show(registries, f"model/{token_id}")
    parent_root = show(registries, f"model/{model.parent_id}").root if model.parent_id else None
    datasets = tuple(_dataset_claim(registries, i) for i in model.dataset_ids)
    return CardClaims(
        chain_id=registries.chain.chain_id,
        model_contract=model.contract,
        dataset_contract=registries.datasets,
        token_id=token_id,
        weights_root=model.root,
        parent_token_id=model.parent_id,
        parent_weights_root=parent_root,
        datasets=datasets,
        fingerprints=tuple(
            FingerprintClaim(f.kind.name, "0x" + f.commitment.hex(), f.uri)
            for f in model.fingerprints
            if f.committed
        ),
        base_model=base_model
        or (show(registries, f"model/{model.parent_id}").name if model.parent_id else None),
        dataset_names=tuple(
            (dataset_names[i] if i < len(dataset_names) else None) or d.name or f"dataset {d.token_id}"
            for i, d in enumerate(datasets)
        ),
        folder=folder,
    )


def write_card(
    registries: Registries,
    folder: str | os.PathLike[str],
    token_id: int,
    *,
    base_model: str | None = None,
    dataset_names: Sequence[str | None] = (),
) -> Path:
    """Writes (or updates) ``folder/README.md`` with model ``token_id``'s front matter and
    provenance section; an existing card's prose and other keys are kept. Returns its path.

    Args:
        base_model, dataset_names: the Hub front matter (repo ids) [default: the parent's
            and the datasets' token names].
    """
    path = Path(folder) / CARD_FILE
    claims = card_claims(
        registries,
        token_id,
        base_model=base_model,
        dataset_names=dataset_names,
        folder=Path(folder).resolve().name,
    )
    write_atomic(path, render_card(claims, read_card(path)).encode("utf-8"))
    return path


def verify_card(registries: Registries, folder: str | os.PathLike[str]) -> CardVerification:
    """Checks every claim of ``folder/README.md`` against the chain, and the folder's other
    files against the token's manifest.

    Raises:
        InputError: the folder has no modelmint card, or the card is for another chain.
    """
    path = Path(folder) / CARD_FILE
    card = read_card(path)
    if not card.claims_present:
        raise InputError(
            f"{path} holds no modelmint provenance",
            "give the token to check the files against",
            hint="model-token",
        )
    claims = CardClaims.from_front(card.front, str(path))
    chain = registries.chain
    if claims.chain_id != chain.chain_id:
        raise InputError(
            f"{path} is the card of a model on chain {claims.chain_id}, and this node is chain {chain.chain_id}",
            f"check it through a node of chain {claims.chain_id}",
            hint="rpc-url",
            hint_values={"chain_id": claims.chain_id},
        )
    truth = card_claims(
        registries,
        claims.token_id,
        base_model=claims.base_model,
        dataset_names=claims.dataset_names,
        folder=claims.folder,
    )
    checks = [
        CardCheck("ModelNFT contract", claims.model_contract.lower(), truth.model_contract.lower()),
        CardCheck("DatasetNFT contract", claims.dataset_contract.lower(), truth.dataset_contract.lower()),
        CardCheck("weights root", claims.weights_root, truth.weights_root),
        CardCheck("parent model", _parent(claims), _parent(truth)),
        CardCheck("training datasets", _datasets(claims), _datasets(truth)),
        CardCheck("fingerprints", _fingerprints(claims), _fingerprints(truth)),
        # The prose a reader sees must say what the checked claims say.
        CardCheck("provenance section", card.section or "(none)", render_section(claims)),
    ]
    files = verify_model(registries, Path(folder), claims.token_id)
    files = _without_card(files)
    return CardVerification(claims.token_id, tuple(checks), files)


def _dataset_claim(registries: Registries, token_id: int) -> DatasetClaim:
    record = show(registries, f"dataset/{token_id}")
    return DatasetClaim(token_id, record.root, record.name)


def _parent(c: CardClaims) -> str:
    return f"token {c.parent_token_id} ({c.parent_weights_root})" if c.parent_token_id else "none"


def _datasets(c: CardClaims) -> str:
    return ", ".join(f"token {d.token_id} ({d.merkle_root})" for d in c.datasets) or "none"


def _fingerprints(c: CardClaims) -> str:
    return ", ".join(f"{f.kind} {f.commitment} {f.uri}".rstrip() for f in c.fingerprints) or "none"


def _without_card(files: ModelVerification) -> ModelVerification:
    """The file check with README.md left out: the card is written after the mint."""
    import dataclasses

    return dataclasses.replace(
        files,
        differing=[d for d in files.differing if d.path != CARD_FILE],
        missing=[p for p in files.missing if p != CARD_FILE],
        extra=[p for p in files.extra if p != CARD_FILE],
    )
