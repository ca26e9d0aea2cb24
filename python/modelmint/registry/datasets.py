"""Use cases for datasets: commit one on-chain, verify datapoints against a token.

Committing and verifying call the same hashing functions; verification reads nothing
but the chain and the content store, so a third party with neither the original files
nor this project folder can run it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmint.chain.client import Chain
from modelmint.chain.contracts import DatasetContract, DatasetRecord
from modelmint.datasets import hash_dataset, iter_datapoint_hashes
from modelmint.errors import IntegrityError
from modelmint.hashing.canonical import canonical_json
from modelmint.hashing.merkle import MerkleTree, decode_leaf_list, encode_leaf_list
from modelmint.storage import ContentStore, parse_uri, to_uri

METADATA_SCHEMA = "modelmint.dataset-metadata.v1"
TREE_SCHEME = "openzeppelin.standard-merkle-tree.bytes32"


@dataclass(frozen=True)
class DatasetCommitment:
    """What a dataset mint produced (or found already on-chain)."""

    token_id: int
    chain_id: int
    contract: str
    merkle_root: str
    datapoint_count: int
    format: str
    hash_scheme: str
    metadata_uri: str
    leaves_uri: str
    tx_hash: str | None
    block: int | None
    gas_used: int | None
    already_registered: bool


@dataclass(frozen=True)
class DatapointCheck:
    label: str
    datapoint_hash: str
    included: bool


@dataclass(frozen=True)
class DatasetVerification:
    token_id: int
    merkle_root: str
    checked: int
    included: int
    missing: list[DatapointCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing


def commit_dataset(
    chain: Chain,
    store: ContentStore,
    path: Path,
    *,
    name: str | None = None,
    description: str | None = None,
    owner: str | None = None,
    predecessor_id: int = 0,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> DatasetCommitment:
    """Hash ``path``, store its leaf list and metadata, and mint a DatasetNFT.

    Re-running on a dataset whose root is already registered reports that token instead
    of failing: the mint is idempotent. Content is stored before the mint; it is
    content-addressed, so a failed mint leaves nothing that blocks a retry.
    """
    contract = DatasetContract(chain)
    digest = hash_dataset(path, fmt, progress)
    tree = MerkleTree.build(digest.hashes)
    root_hex = "0x" + tree.root.hex()
    existing = contract.token_of_root(tree.root)
    if existing:
        record = contract.record(existing)
        metadata = read_metadata(store, record)
        return _commitment(chain, contract, record, metadata, sent=None)

    leaves_uri = to_uri(store.put(encode_leaf_list(digest.hashes)))
    metadata = dataset_metadata(
        name=name or Path(path).name,
        description=description,
        count=digest.count,
        fmt=digest.format,
        scheme=digest.scheme,
        root_hex=root_hex,
        leaves_uri=leaves_uri,
    )
    metadata_uri = to_uri(store.put(canonical_json(metadata)))
    minted = contract.mint(owner or chain.signer.address, tree.root, digest.count, metadata_uri, predecessor_id)
    record = contract.record(minted.token_id)
    return _commitment(chain, contract, record, metadata, sent=minted)


def verify_datapoints(chain: Chain, store: ContentStore, path: Path, token_id: int) -> DatasetVerification:
    """Check every datapoint in ``path`` against dataset ``token_id`` through the contract.

    The tree comes from the token's metadata in the content store; each datapoint found
    in it is proven with the contract's ``verifyDatapoint`` view, so the answer is the
    chain's, not this program's.
    """
    contract = DatasetContract(chain)
    record = contract.record(token_id)
    metadata = read_metadata(store, record)
    tree = load_tree(store, record, metadata)
    checked = included = 0
    missing: list[DatapointCheck] = []
    for label, datapoint_hash in iter_datapoint_hashes(path, metadata["modelmint"]["format"]):
        checked += 1
        positions = tree.values_for(datapoint_hash)
        ok = bool(positions) and contract.verify_datapoint(token_id, datapoint_hash, tree.proof(positions[0]))
        if ok:
            included += 1
        else:
            missing.append(DatapointCheck(label, "0x" + datapoint_hash.hex(), False))
    return DatasetVerification(token_id, "0x" + record.merkle_root.hex(), checked, included, missing)


def dataset_metadata(
    *, name: str, description: str | None, count: int, fmt: str, scheme: str, root_hex: str, leaves_uri: str
) -> dict[str, Any]:
    """The ERC-721 metadata JSON of a dataset token (stored as RFC 8785 canonical JSON)."""
    return {
        "name": name,
        "description": description or f"Dataset of {count} datapoints committed with modelmint ({scheme}).",
        "attributes": [
            {"trait_type": "kind", "value": "dataset"},
            {"trait_type": "datapoint count", "value": count, "display_type": "number"},
            {"trait_type": "format", "value": fmt},
            {"trait_type": "hash scheme", "value": scheme},
            {"trait_type": "merkle root", "value": root_hex},
        ],
        "modelmint": {
            "schema": METADATA_SCHEMA,
            "kind": "dataset",
            "format": fmt,
            "hashScheme": scheme,
            "datapointCount": count,
            "merkleRoot": root_hex,
            "tree": TREE_SCHEME,
            "leaves": leaves_uri,
        },
    }


def read_metadata(store: ContentStore, record: DatasetRecord) -> dict[str, Any]:
    try:
        metadata = json.loads(store.get(parse_uri(record.metadata_uri)))
        metadata["modelmint"]["leaves"]
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(
            f"the metadata of dataset {record.token_id} ({record.metadata_uri}) is not modelmint dataset metadata",
            "the token was not minted by modelmint; nothing can be verified against it",
        ) from None
    return metadata


def load_tree(store: ContentStore, record: DatasetRecord, metadata: dict[str, Any]) -> MerkleTree:
    """Rebuild the token's tree from its leaf list and check it against the on-chain root."""
    leaves_uri = metadata["modelmint"]["leaves"]
    tree = MerkleTree.build(decode_leaf_list(store.get(parse_uri(leaves_uri))))
    if tree.root != record.merkle_root:
        raise IntegrityError(
            f"the leaf list {leaves_uri} of dataset {record.token_id} does not give its on-chain root",
            "the metadata points at the wrong tree; the token cannot be verified",
        )
    return tree


def _commitment(
    chain: Chain, contract: DatasetContract, record: DatasetRecord, metadata: dict[str, Any], sent: Any
) -> DatasetCommitment:
    meta = metadata["modelmint"]
    return DatasetCommitment(
        token_id=record.token_id,
        chain_id=chain.chain_id,
        contract=contract.address,
        merkle_root="0x" + record.merkle_root.hex(),
        datapoint_count=record.datapoint_count,
        format=meta["format"],
        hash_scheme=meta["hashScheme"],
        metadata_uri=record.metadata_uri,
        leaves_uri=meta["leaves"],
        tx_hash=sent.tx_hash if sent else None,
        block=sent.block if sent else None,
        gas_used=sent.gas_used if sent else None,
        already_registered=sent is None,
    )
