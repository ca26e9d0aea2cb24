"""Use cases for models: register one as a ModelNFT and verify files against it.

Registering and verifying hash with the same manifest routine; verifying reads nothing but
the chain and the content store, so a third party with neither the original files nor this
project folder can run it. Lineage is in :mod:`~modelmint.registry.lineage`, listings in
:mod:`~modelmint.registry.records`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint._faults import fault_point
from modelmint.chain.contracts import MintCommitment, Minted, ModelContract, ModelRecord, two_step_default
from modelmint.errors import InputError, IntegrityError
from modelmint.hashing import to_hex
from modelmint.hashing.canonical import canonical_json
from modelmint.models import (
    MANIFEST_SCHEME,
    FileDifference,
    ModelDetails,
    ModelSource,
    WeightsManifest,
    open_model,
)
from modelmint.models._manifest import TREE as MANIFEST_TREE
from modelmint.registry._tokens import metadata_or_none, model_facts, read_token_metadata, token_name
from modelmint.registry.claims import Claim, claims_of, own_claim
from modelmint.registry.metadata import ModelMetadata
from modelmint.registry.registries import Registries
from modelmint.storage import ContentStore, parse_uri, to_uri
from modelmint.storage.documents import MANIFEST_MAX_BYTES

METADATA_SCHEMA = "modelmint.model-metadata.v1"


@dataclass(frozen=True)
class ModelRegistration:
    """What a model mint produced (or found already on-chain)."""

    token_id: int
    chain_id: int
    contract: str
    name: str | None
    weights_root: str
    metadata_uri: str
    manifest_uri: str | None  # None only when an existing token's metadata cannot be read
    parent_id: int
    dataset_ids: tuple[int, ...]
    file_count: int
    total_size: int
    parameter_count: int | None
    tx_hash: str | None
    block: int | None
    gas_used: int | None
    already_registered: bool
    claimed_at: int = 0
    #: Every claim of the weights root, earliest first, this one included (docs/security.md).
    claims: tuple[Claim, ...] = ()
    #: The commit transaction of a two-step (front-running-proof) mint, None for one step.
    commit_tx_hash: str | None = None
    commit_gas_used: int | None = None
    #: The OML commitment made in the mint's transaction (``oml=``), if any.
    oml: Any = None

    @property
    def other_claims(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.token_id != self.token_id)


@dataclass(frozen=True)
class ModelVerification:
    """Local files against a token's manifest, by path; ``ok`` when they are the same files."""

    token_id: int
    weights_root: str
    local_root: str
    checked: int
    matching: int
    differing: list[FileDifference] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.local_root == self.weights_root and not (self.differing or self.missing or self.extra)


def register_model(
    registries: Registries,
    model: str | Path | ModelSource,
    *,
    dataset_ids: Sequence[int] = (),
    parent_id: int = 0,
    name: str | None = None,
    description: str | None = None,
    owner: str | None = None,
    image: str | Path | None = None,
    follow_symlinks: bool = False,
    progress: Callable[[int], None] | None = None,
    two_step: bool | None = None,
    allow_partial: bool = False,
    oml: Sequence[Any] | None = None,
    oml_secrets: Path | None = None,
) -> ModelRegistration:
    """Hash a model's files, store its manifest and metadata, and mint a ModelNFT.

    Re-running on weights the owner already claims reports that token instead of failing:
    the mint is idempotent. Weights claimed by someone else are claimed again, and the result
    lists every claimant (``claims``). Content is stored before the mint; it is
    content-addressed, so a failed mint (an unknown parent or dataset) leaves nothing that
    blocks a retry.

    Args:
        model: a model folder, a GGUF file, a Hub repo id, or a source from :func:`open_model`.
        dataset_ids: DatasetNFT tokens the model was trained on.
        parent_id: the ModelNFT this model was derived from (fine-tuned, quantised), 0 for none.
        name: token name [default: the model's own name, or its folder or file name].
        image: the picture for the token (a fingerprint picture): a file stored in the
            content store, or an ``ipfs://`` URI.
        progress: called with the bytes just hashed, possibly from several threads in turn.
        two_step: commit-reveal (two transactions, cannot be front-run) or one transaction;
            [default: two steps on every chain but the devnet].
        allow_partial: register a folder that ``fingerprint oml embed`` marked incomplete
            (not every fingerprint recalled) [default: refused].
        oml: OML fingerprints to commit in the mint's own transaction, so the commitment
            provably existed when the model was registered; ``oml_secrets`` is where their
            salts go [default: the project folder].
    """
    chain, store, contract = registries.chain, registries.store, registries.model_contract
    to = owner or chain.signer.address
    # Cheap checks first, so a wrong parent or a truncated shard fails before gigabytes are hashed.
    contract.check_lineage(to, parent_id, dataset_ids)
    source = open_model(model, follow_symlinks=follow_symlinks)
    if not allow_partial:
        _refuse_incomplete(source)
    details = source.details(name)
    manifest = source.manifest(progress)
    claims = claims_of(contract, manifest.root)
    mine = own_claim(claims, to)
    if mine:
        landed = None
        if oml:
            from modelmint.registry.oml import landed_at_mint

            # A re-run of a mint whose first run died unseen reports its commitment too.
            landed = landed_at_mint(registries, mine.token_id, oml, oml_secrets)
        if oml and landed is None:
            raise InputError(
                f"already registered as {mine.describe('model')}: OML fingerprints at mint apply to a new mint only",
                f"commit the fingerprints on token {mine.token_id} with commit_oml",
                hint="oml-commit",
                hint_values={"token_id": mine.token_id},
            )
        record = contract.record(mine.token_id)
        return _registration(
            registries,
            record,
            metadata_or_none(store, record.metadata_uri),
            manifest,
            None,
            claims=claims,
            oml=landed,
        )

    image_uri = _image_uri(store, image)  # first: a missing picture fails before anything is stored
    manifest_uri = to_uri(store.put(manifest.canonical()))
    metadata = model_metadata(
        details=details,
        manifest=manifest,
        manifest_uri=manifest_uri,
        name=name,
        description=description,
        parent_id=parent_id,
        dataset_ids=dataset_ids,
        image=image_uri,
    )
    metadata_uri = to_uri(store.put(canonical_json(metadata)))
    two = two_step_default(chain) if two_step is None else two_step
    commit = contract.commit_mint(manifest.root, chain.signer.address) if two else None
    prepared = None
    if oml:
        from modelmint.registry.oml import prepare_oml

        # OML leaves name their token, so they are built for the id this mint will give;
        # the contract refuses the mint (ModelUnexpectedTokenId) if another mint came first.
        prepared = prepare_oml(registries, contract.next_token_id(), oml, oml_secrets)
    at_mint = prepared.at_mint() if prepared else None
    fault_point("after-store")
    if commit is not None:
        minted = contract.reveal_mint(
            to, manifest.root, metadata_uri, parent_id, dataset_ids, commit.salt, at_mint
        )
    elif at_mint is not None:
        minted = contract.mint_with_fingerprint(
            to, manifest.root, metadata_uri, parent_id, dataset_ids, at_mint
        )
    else:
        minted = contract.mint(to, manifest.root, metadata_uri, parent_id, dataset_ids)
    return _registration(
        registries, contract.record(minted.token_id), metadata, manifest, minted,
        claims=claims_of(contract, manifest.root), commit=commit,
        oml=prepared.result(chain, contract.address, minted) if prepared else None,
    )  # fmt: skip


def _refuse_incomplete(source: ModelSource) -> None:
    """A folder an OML embed left before every fingerprint was recalled is not registered by
    accident: its fingerprints would not prove what the commitment says they prove."""
    from modelmint.fingerprints.oml.embed import INCOMPLETE_MARKER, incomplete_marker

    folder = getattr(source, "path", None)
    marker = incomplete_marker(folder) if isinstance(folder, Path) and folder.is_dir() else None
    if marker is None:
        return
    missed, total = marker.get("notRecalled"), marker.get("fingerprints")
    told = f" ({len(missed)} of {total} fingerprints not recalled)" if isinstance(missed, list) else ""
    raise InputError(
        f"{folder} is marked incomplete by fingerprint oml embed{told}: {INCOMPLETE_MARKER}",
        "embed again until every fingerprint is recalled, or register it as it is with allow_partial=True",
        hint="allow-partial",
    )


def verify_model(
    registries: Registries,
    model: str | Path | ModelSource,
    token_id: int,
    *,
    follow_symlinks: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ModelVerification:
    """Hash a model's files and compare them, by path, with the manifest of model ``token_id``.

    The manifest comes from the token's metadata in the content store and is checked
    against the on-chain weights root before it is trusted.
    """
    store = registries.store
    record = existing_model(registries.model_contract, token_id)
    expected = load_manifest(store, record, read_model_metadata(store, record))
    actual = open_model(model, follow_symlinks=follow_symlinks).manifest(progress)
    diff = expected.compare(actual)
    bad = {d.path for d in diff.differing} | set(diff.extra)
    return ModelVerification(
        token_id=token_id,
        weights_root=to_hex(record.weights_root),
        local_root=to_hex(actual.root),
        checked=len(actual.files),
        matching=sum(1 for f in actual.files if f.path not in bad),
        differing=diff.differing,
        missing=diff.missing,
        extra=diff.extra,
    )


def model_metadata(
    *,
    details: ModelDetails,
    manifest: WeightsManifest,
    manifest_uri: str,
    name: str | None,
    description: str | None,
    parent_id: int,
    dataset_ids: Sequence[int],
    image: str | None,
) -> dict[str, Any]:
    """The ERC-721 metadata JSON of a model token (stored as RFC 8785 canonical JSON; docs/models.md)."""
    root_hex = to_hex(manifest.root)
    title = name or details.name
    traits: list[tuple[str, Any, bool]] = [
        ("kind", "model", False),
        ("architecture", details.architecture, False),
        ("model type", details.model_type, False),
        ("parameters", details.parameter_count, True),
        ("dtype", details.dtype, False),
        ("context length", details.context_length, True),
        ("vocabulary size", details.vocab_size, True),
        ("pipeline task", details.pipeline_task, False),
        ("category", details.category, False),
        ("license", details.license, False),
        ("files", len(manifest.files), True),
        ("weights root", root_hex, False),
        ("parent model", parent_id or None, True),
        ("training datasets", len(dataset_ids) or None, True),
    ]
    attributes = [
        {"trait_type": t, "value": v, **({"display_type": "number"} if number else {})}
        for t, v, number in traits
        if v is not None
    ]
    size = f"{details.parameter_count:,}-parameter " if details.parameter_count else ""
    doc: dict[str, Any] = {
        "name": title,
        "description": description
        or f"{size}{details.architecture or 'model'} registered with modelmint; weights root {root_hex}.",
        "attributes": attributes,
        "modelmint": {
            "schema": METADATA_SCHEMA,
            "kind": "model",
            "weightsRoot": root_hex,
            "manifest": manifest_uri,
            "manifestScheme": MANIFEST_SCHEME,
            "tree": MANIFEST_TREE,
            "parentModelId": parent_id,
            "datasetIds": list(dataset_ids),
            "totalSize": manifest.total_size,
            "files": [{"path": f.path, "size": f.size} for f in manifest.files],
            "model": details.to_json(),
        },
    }
    if image:
        doc["image"] = image
    return doc


def read_model_metadata(store: ContentStore, record: ModelRecord) -> ModelMetadata:
    """The token's metadata, checked to be modelmint model metadata.

    Raises:
        IntegrityError: it is not (the token was minted by something else), or not a document
            modelmint reads at all (docs/security.md, "Untrusted documents").
        StoreError: the store cannot serve it.
    """
    what = f"the metadata of model {record.token_id}"
    metadata = ModelMetadata.from_document(
        read_token_metadata(store, record.metadata_uri, what), f"{what} ({record.metadata_uri})"
    )
    why = None if metadata.schema == METADATA_SCHEMA else f"modelmint.schema is not {METADATA_SCHEMA}"
    try:
        parse_uri(metadata.manifest)
    except InputError:
        why = why or "modelmint.manifest is not an ipfs:// URI"
    if why:
        raise IntegrityError(
            f"{what} ({record.metadata_uri}) is not modelmint model metadata ({why})",
            "the token was not registered by modelmint; nothing can be verified against it",
        )
    return metadata


def load_manifest(store: ContentStore, record: ModelRecord, metadata: ModelMetadata) -> WeightsManifest:
    """The token's manifest from the content store, checked against the on-chain weights root."""
    uri = metadata.manifest
    manifest = WeightsManifest.from_json(store.get(parse_uri(uri), MANIFEST_MAX_BYTES), f"the manifest {uri}")
    if manifest.root != record.weights_root:
        raise IntegrityError(
            f"the manifest {uri} of model {record.token_id} does not give its on-chain weights root",
            "the metadata points at the wrong manifest; the token cannot be verified",
        )
    return manifest


def _registration(
    registries: Registries,
    record: ModelRecord,
    metadata: dict[str, Any] | None,
    manifest: WeightsManifest,
    sent: Minted | None,
    *,
    claims: Sequence[Claim] = (),
    commit: MintCommitment | None = None,
    oml: Any = None,
) -> ModelRegistration:
    try:
        manifest_uri: str | None = ModelMetadata.from_document(metadata).manifest
    except IntegrityError:  # an existing token's metadata that modelmint cannot read
        manifest_uri = None
    return ModelRegistration(
        token_id=record.token_id,
        chain_id=registries.chain.chain_id,
        contract=registries.models,
        name=token_name(metadata),
        weights_root=to_hex(record.weights_root),
        metadata_uri=record.metadata_uri,
        manifest_uri=manifest_uri,
        parent_id=record.parent_id,
        dataset_ids=record.dataset_ids,
        file_count=len(manifest.files),
        total_size=manifest.total_size,
        parameter_count=model_facts(metadata).get("parameterCount"),
        tx_hash=sent.tx_hash if sent else None,
        block=sent.block if sent else None,
        gas_used=sent.gas_used if sent else None,
        already_registered=sent is None,
        claimed_at=record.claimed_at,
        claims=tuple(claims),
        commit_tx_hash=commit.sent.tx_hash if commit else None,
        commit_gas_used=commit.sent.gas_used if commit else None,
        oml=oml,
    )


def existing_model(models: ModelContract, token_id: int) -> ModelRecord:
    """Model ``token_id``'s record.

    Raises:
        InputError: there is no such model.
    """
    if not models.exists(token_id):
        raise InputError(
            f"there is no model {token_id}", "list the models with list_records", hint="list-models"
        )
    return models.record(token_id)


def _image_uri(store: ContentStore, image: str | Path | None) -> str | None:
    if image is None:
        return None
    if isinstance(image, str) and image.startswith("ipfs://"):
        parse_uri(image)
        return image
    return to_uri(store.put_file(Path(image)))
