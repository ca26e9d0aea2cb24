"""Use cases for datasets: commit one on-chain, verify datapoints against a token, export the tree.

Committing and verifying call the same hashing functions; verifying and exporting read
nothing but the chain and the content store (the tree is rebuilt from the leaf list the
token's metadata names), so a third party with neither the original files nor this project
folder can run them. Proofs are in :mod:`modelmint.registry.proofs`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from modelmint._faults import fault_point
from modelmint.chain.client import DEFAULT_WINDOW
from modelmint.chain.contracts import (
    DatasetMint,
    DatasetRecord,
    MintCommitment,
    Minted,
    checked_address,
    two_step_default,
)
from modelmint.datasets import (
    DatasetDigest,
    detect_format,
    hash_dataset,
    hash_shards,
    input_size,
    iter_datapoint_hashes,
    shards_input_size,
)
from modelmint.datasets.engine import Engine
from modelmint.errors import ChainError, InputError, IntegrityError, ModelmintError
from modelmint.hashing.canonical import canonical_json
from modelmint.hashing.merkle import MerkleTree, decode_leaf_list, encode_leaf_list
from modelmint.hashing.oz_dump import write_standard_tree_dump
from modelmint.registry._tokens import read_token_metadata
from modelmint.registry.claims import Claim, claims_of, own_claim
from modelmint.registry.metadata import DatasetMetadata
from modelmint.registry.registries import Registries
from modelmint.storage import ContentStore, parse_uri, to_uri

METADATA_SCHEMA = "modelmint.dataset-metadata.v1"
TREE_SCHEME = "openzeppelin.standard-merkle-tree.bytes32"
MAX_EXPORT_LEAVES = 2**20
"""The largest tree ``export_tree`` writes. A dump of 2^20 leaves is 250 MB of JSON, which
``StandardMerkleTree.load`` takes about 1 GB and two minutes to check on a 2-core machine."""

_PREPARE_THREADS = 8  # a batch's sources hashed and stored at once

# Formats whose datapoints are JSON objects: a row in any of them has the same bytes as the
# same row in another, so a file of one checks against a dataset of another.
_ROW_FORMATS = ("jsonl", "csv", "parquet", "hf-datasets")

Paths = Path | str | Sequence[Path | str]
"""One dataset path, or several shard files of one dataset."""


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
    claimed_at: int = 0
    #: Every claim of the root, earliest first, this one included (docs/security.md).
    claims: tuple[Claim, ...] = ()
    #: The commit transaction of a two-step (front-running-proof) mint, None for one step.
    commit_tx_hash: str | None = None
    commit_gas_used: int | None = None

    @property
    def other_claims(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.token_id != self.token_id)


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
    registries: Registries,
    path: Paths,
    *,
    name: str | None = None,
    description: str | None = None,
    owner: str | None = None,
    predecessor_id: int = 0,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
    two_step: bool | None = None,
    engine: Engine | None = None,
) -> DatasetCommitment:
    """Hash ``path``, store its leaf list and metadata, and mint a DatasetNFT.

    ``path`` is one dataset, or a list of several shard files committed as one dataset
    (a list of one is that one dataset). Re-running on a dataset whose root the owner
    already claims reports that token instead of failing: the mint is idempotent. A root
    claimed by someone else does not stop the mint: it adds this claim, and the result lists
    every claimant (``claims``). Content is stored before the mint; it is content-addressed,
    so a failed mint leaves nothing that blocks a retry.

    Args:
        two_step: commit-reveal (two transactions, cannot be front-run) or one transaction;
            [default: two steps on every chain but the devnet, :func:`two_step_default`].
        engine: where the datapoints are hashed (docs/engine.md); [default: this machine].
    """
    chain, store, contract = registries.chain, registries.store, registries.dataset_contract
    digest = hash_paths(path, fmt, progress) if engine is None else engine.hash(_as_list(path), fmt, progress)
    tree = MerkleTree.build(digest.hashes)
    root_hex = "0x" + tree.root.hex()
    to = owner or chain.signer.address
    claims = claims_of(contract, tree.root)
    mine = own_claim(claims, to)
    if mine:
        record = contract.record(mine.token_id)
        return _commitment(registries, record, read_metadata(store, record), sent=None, claims=claims)

    if predecessor_id:
        contract.record(predecessor_id)  # an unknown predecessor fails here, before anything is stored
    metadata, metadata_uri = _store_dataset(store, path, digest, root_hex, name, description)
    fault_point("after-store")
    commit = None
    if two_step_default(chain) if two_step is None else two_step:
        # The commitment hides the root; the reveal, a block later, cannot be replayed by
        # anyone else (it names this signer), and the claim is dated by the commitment.
        commit = contract.commit_mint(tree.root, chain.signer.address)
        minted = contract.reveal_mint(to, tree.root, digest.count, metadata_uri, commit.salt, predecessor_id)
    else:
        minted = contract.mint(to, tree.root, digest.count, metadata_uri, predecessor_id)
    record = contract.record(minted.token_id)
    return _commitment(
        registries,
        record,
        DatasetMetadata.from_document(metadata),
        sent=minted,
        claims=claims_of(contract, tree.root),
        commit=commit,
    )


@dataclass(frozen=True)
class DatasetMintResult:
    """One source of :func:`commit_datasets`: its commitment, or the error that stopped it."""

    source: Paths
    commitment: DatasetCommitment | None = None
    error: ModelmintError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Pending:
    """A source of a batch on its way to the chain."""

    index: int
    source: Paths
    digest: DatasetDigest
    root: bytes
    others: list[Claim] = field(default_factory=list)  # claims of the root by other owners
    metadata: dict[str, Any] = field(default_factory=dict)
    metadata_uri: str = ""
    commit: MintCommitment | None = None


def commit_datasets(
    registries: Registries,
    sources: Sequence[Paths],
    *,
    owner: str | None = None,
    fmt: str | None = None,
    two_step: bool | None = None,
    window: int = DEFAULT_WINDOW,
) -> list[DatasetMintResult]:
    """:func:`commit_dataset` of many datasets at once, the mints pipelined.

    Each source (one dataset path, or a list of shard files of one) is hashed and stored as
    :func:`commit_dataset` does, under the same rules: a root this owner already claims is
    reported, not minted again; a root claimed by others gets this claim too; on a two-step
    chain every root is committed first, then revealed once the commitments have matured.
    The transactions are sent without waiting for each receipt, up to ``window`` in flight,
    with nonces from the signer's inter-process lock (docs/security.md, "Nonces"), so several
    processes may run batches with one key at once. A source that appears twice (the same
    root) is minted once; the later one reports that token as already registered.

    Returns one result per source, in order: a bad source, a refused mint or a failed
    transaction is that source's error, and the others go on.
    """
    to = checked_address(owner or registries.chain.signer.address)
    results: list[DatasetMintResult | None] = [None] * len(sources)
    roots: list[bytes | None] = []
    first_index: dict[bytes, int] = {}
    batch: list[_Pending] = []
    # Threads: the store's fsyncs and the hashing overlap each other and the node's round trips.
    with ThreadPoolExecutor(_PREPARE_THREADS) as pool:
        for i, digest in enumerate(pool.map(partial(_digest_or_error, fmt), sources)):
            if isinstance(digest, ModelmintError):
                results[i] = DatasetMintResult(sources[i], error=digest)
                roots.append(None)
                continue
            root = MerkleTree.build(digest.hashes).root
            if root not in first_index:
                first_index[root] = i
                batch.append(_Pending(i, sources[i], digest, root))
            roots.append(root)
        to_mint = _unclaimed(registries, batch, to, results)
        stored = [pool.submit(_store_pending, registries.store, p) for p in to_mint]
        _mint_batch(registries, to_mint, stored, to, two_step, window, results)
    for i, repeated in enumerate(roots):
        earlier = results[first_index[repeated]] if repeated is not None else None
        if results[i] is None and earlier is not None:  # a repeat of an earlier source
            again = earlier.commitment and dataclasses.replace(
                earlier.commitment,
                already_registered=True,
                tx_hash=None,
                block=None,
                gas_used=None,
                commit_tx_hash=None,
                commit_gas_used=None,
            )
            results[i] = DatasetMintResult(sources[i], again or None, earlier.error)
    return [r for r in results if r is not None]


def _unclaimed(
    registries: Registries, batch: list[_Pending], to: str, results: list[DatasetMintResult | None]
) -> list[_Pending]:
    """The sources of ``batch`` whose root ``to`` does not claim yet; the others' results are
    the tokens found, as :func:`commit_dataset` reports them."""
    contract, to_mint = registries.dataset_contract, []
    for pending, ids in zip(batch, contract.claims_of_roots([p.root for p in batch]), strict=True):
        claims = claims_of(contract, pending.root) if ids else []
        mine = own_claim(claims, to)
        if mine:
            record = contract.record(mine.token_id)
            metadata = read_metadata(registries.store, record)
            found = _commitment(registries, record, metadata, sent=None, claims=claims)
            results[pending.index] = DatasetMintResult(pending.source, found)
        else:
            pending.others = claims
            to_mint.append(pending)
    return to_mint


def _store_pending(store: ContentStore, pending: _Pending) -> None:
    root_hex = "0x" + pending.root.hex()
    pending.metadata, pending.metadata_uri = _store_dataset(
        store, pending.source, pending.digest, root_hex, None, None
    )


def _mint_batch(
    registries: Registries,
    to_mint: list[_Pending],
    stored: list[Future[None]],
    to: str,
    two_step: bool | None,
    window: int,
    results: list[DatasetMintResult | None],
) -> None:
    """Mint (or commit, then reveal) every source of a batch, pipelined; each mint is sent
    once its content is stored (content first, as for one mint)."""
    chain, contract = registries.chain, registries.dataset_contract
    if two_step_default(chain) if two_step is None else two_step:
        # The commitments hide the roots, so they need nothing stored yet.
        commits = contract.commit_mints([p.root for p in to_mint], chain.signer.address, window=window)
        for pending, commit in zip(to_mint, commits, strict=True):
            if isinstance(commit, ChainError):
                results[pending.index] = DatasetMintResult(pending.source, error=commit)
            else:
                pending.commit = commit
    sent_for: list[_Pending] = []

    def mints() -> Iterator[DatasetMint]:
        for pending, future in zip(to_mint, stored, strict=True):
            if results[pending.index] is not None:
                continue  # its commitment failed
            try:
                future.result()
            except ModelmintError as exc:
                results[pending.index] = DatasetMintResult(pending.source, error=exc)
                continue
            sent_for.append(pending)
            salt = pending.commit.salt if pending.commit else None
            yield DatasetMint(to, pending.root, pending.digest.count, pending.metadata_uri, salt=salt)

    minted = contract.mint_many(mints(), window=window)
    blocks = [m.block for m in minted if isinstance(m, Minted)]
    timestamps = chain.block_timestamps(blocks + [p.commit.sent.block for p in sent_for if p.commit])
    for pending, outcome in zip(sent_for, minted, strict=True):
        if isinstance(outcome, ChainError):
            results[pending.index] = DatasetMintResult(pending.source, error=outcome)
            continue
        # The record as the mint wrote it: reading it back would cost four calls a token.
        at = timestamps[outcome.block]
        record = DatasetRecord(
            token_id=outcome.token_id,
            owner=to,
            merkle_root=pending.root,
            datapoint_count=pending.digest.count,
            predecessor_id=0,
            minted_at=at,
            metadata_uri=pending.metadata_uri,
            claimed_at=timestamps[pending.commit.sent.block] if pending.commit else at,
        )
        own = Claim(record.token_id, to, record.claimed_at, record.minted_at)
        claims = claims_of(contract, pending.root) if pending.others else [own]
        metadata = DatasetMetadata.from_document(pending.metadata)
        made = _commitment(registries, record, metadata, outcome, claims, pending.commit)
        results[pending.index] = DatasetMintResult(pending.source, made)


def verify_datapoints(registries: Registries, path: Paths, token_id: int) -> DatasetVerification:
    """Check every datapoint in ``path`` (one file or folder, or several) against dataset
    ``token_id`` through the contract.

    The tree comes from the token's metadata in the content store; each datapoint found
    in it is proven with the contract's ``verifyDatapoint`` view, so the answer is the
    chain's, not this program's. Files are read as :func:`datapoint_hashes_of` says.
    """
    store, contract = registries.store, registries.dataset_contract
    record = contract.record(token_id)
    metadata = read_metadata(store, record)
    tree = load_tree(store, record, metadata)
    checked = included = 0
    missing: list[DatapointCheck] = []
    for label, datapoint_hash in datapoint_hashes_of(path, metadata.format):
        checked += 1
        positions = tree.values_for(datapoint_hash)
        ok = bool(positions) and contract.verify_datapoint(token_id, datapoint_hash, tree.proof(positions[0]))
        if ok:
            included += 1
        else:
            missing.append(DatapointCheck(label, "0x" + datapoint_hash.hex(), False))
    return DatasetVerification(token_id, "0x" + record.merkle_root.hex(), checked, included, missing)


def export_tree(
    out: TextIO,
    *,
    registries: Registries | None = None,
    token_id: int | None = None,
    path: Paths | None = None,
    fmt: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the tree of dataset ``token_id`` (or of the dataset at ``path``) as
    OpenZeppelin's ``StandardMerkleTree`` dump; returns the number of leaves.

    The token's tree is rebuilt from the content store and checked against the on-chain
    root. Trees of more than :data:`MAX_EXPORT_LEAVES` leaves are refused before the tree
    is built.

    Raises:
        InputError: neither or both of a token and a path, or too many leaves.
    """
    if (token_id is None) == (path is None):
        raise InputError("give either a token or a dataset path to export", "give token_id or path, not both")
    if token_id is not None:
        if registries is None:
            raise ValueError("exporting a token's tree needs the registries")
        store = registries.store
        record = registries.dataset_contract.record(token_id)
        _check_export_size(record.datapoint_count, f"dataset {token_id}")
        tree = load_tree(store, record, read_metadata(store, record))
    else:
        assert path is not None
        digest = hash_paths(path, fmt, progress)
        _check_export_size(digest.count, _describe_paths(path))
        tree = MerkleTree.build(digest.hashes)
    write_standard_tree_dump(tree, out)
    return len(tree)


def hash_paths(
    path: Paths, fmt: str | None = None, progress: Callable[[int], None] | None = None
) -> DatasetDigest:
    """Hashes one dataset, or several shard files as one dataset."""
    paths = _as_list(path)
    return hash_dataset(paths[0], fmt, progress) if len(paths) == 1 else hash_shards(paths, fmt, progress)


def paths_input_size(path: Paths, fmt: str | None = None) -> int:
    """The bytes :func:`hash_paths` reports to its progress callback in total."""
    paths = _as_list(path)
    return input_size(paths[0], fmt) if len(paths) == 1 else shards_input_size(paths, fmt)


def datapoint_hashes_of(path: Paths, token_format: str) -> Iterator[tuple[str, bytes]]:
    """Yields ``(label, SHA-256)`` of every datapoint in the files to check against a
    dataset of ``token_format``.

    A folder dataset's datapoints are files, so every path is read as a folder dataset (a
    single file is one datapoint). Other datasets' datapoints are JSON objects, which have
    the same bytes in every row format, so a file is read in its own row format when its
    extension (or an HF dataset folder) tells one, and in the dataset's format otherwise.
    Labels name the file when several are given.
    """
    paths = _as_list(path)
    for p in paths:
        prefix = f"{p}: " if len(paths) > 1 else ""
        for label, h in iter_datapoint_hashes(p, _reading_format(p, token_format)):
            yield prefix + label, h


def dataset_metadata(
    *,
    name: str,
    description: str | None,
    count: int,
    fmt: str,
    scheme: str,
    root_hex: str,
    leaves_uri: str,
    shards: Sequence[tuple[str, int]] = (),
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
            **({"shards": [{"name": n, "datapoints": c} for n, c in shards]} if shards else {}),
        },
    }


def read_metadata(store: ContentStore, record: DatasetRecord) -> DatasetMetadata:
    """The token's metadata, checked to be modelmint dataset metadata.

    Raises:
        IntegrityError: it is not (the token was minted by something else), or not a document
            modelmint reads at all (docs/security.md, "Untrusted documents").
        StoreError: the store cannot serve it.
    """
    what = f"the metadata of dataset {record.token_id}"
    document = read_token_metadata(store, record.metadata_uri, what)
    return DatasetMetadata.from_document(document, f"{what} ({record.metadata_uri})")


#: Bytes a leaf list may have beyond 32 per datapoint its record claims and still be read: a list
#: a little longer than the count gets the count check's error, which names both numbers.
LEAF_LIST_SLACK = 64 << 10


def load_tree(store: ContentStore, record: DatasetRecord, metadata: DatasetMetadata) -> MerkleTree:
    """Rebuild the token's tree from its leaf list and check it against the on-chain root."""
    leaves_uri = metadata.leaves
    # Never more than the record's count can explain (docs/security.md): the store is untrusted.
    leaves = decode_leaf_list(store.get(parse_uri(leaves_uri), 32 * record.datapoint_count + LEAF_LIST_SLACK))
    # The contract cannot check the count a minter states; every reader of a tree does.
    if len(leaves) != record.datapoint_count:
        raise IntegrityError(
            f"dataset {record.token_id} claims {record.datapoint_count:,} datapoints but its leaf list "
            f"{leaves_uri} has {len(leaves):,}",
            "refused: the token's datapointCount is false; its owner minted a count its tree does not have",
        )
    tree = MerkleTree.build(leaves)
    if tree.root != record.merkle_root:
        raise IntegrityError(
            f"the leaf list {leaves_uri} of dataset {record.token_id} does not give its on-chain root",
            "the metadata points at the wrong tree; the token cannot be verified",
        )
    return tree


def _store_dataset(
    store: ContentStore,
    path: Paths,
    digest: DatasetDigest,
    root_hex: str,
    name: str | None,
    description: str | None,
) -> tuple[dict[str, Any], str]:
    """Store the leaf list and the metadata of a dataset about to be minted; returns both."""
    leaves_uri = to_uri(store.put(encode_leaf_list(digest.hashes)))
    metadata = dataset_metadata(
        name=name or _default_name(path, digest),
        description=description,
        count=digest.count,
        fmt=digest.format,
        scheme=digest.scheme,
        root_hex=root_hex,
        leaves_uri=leaves_uri,
        shards=digest.shards,
    )
    return metadata, to_uri(store.put(canonical_json(metadata)))


def _digest_or_error(fmt: str | None, path: Paths) -> DatasetDigest | ModelmintError:
    try:
        return hash_paths(path, fmt)
    except ModelmintError as exc:
        return exc


def _commitment(
    registries: Registries,
    record: DatasetRecord,
    metadata: DatasetMetadata,
    sent: Minted | None,
    claims: Sequence[Claim] = (),
    commit: MintCommitment | None = None,
) -> DatasetCommitment:
    return DatasetCommitment(
        token_id=record.token_id,
        chain_id=registries.chain.chain_id,
        contract=registries.datasets,
        merkle_root="0x" + record.merkle_root.hex(),
        datapoint_count=record.datapoint_count,
        format=metadata.format,
        hash_scheme=metadata.hash_scheme,
        metadata_uri=record.metadata_uri,
        leaves_uri=metadata.leaves,
        tx_hash=sent.tx_hash if sent else None,
        block=sent.block if sent else None,
        gas_used=sent.gas_used if sent else None,
        already_registered=sent is None,
        claimed_at=record.claimed_at,
        claims=tuple(claims),
        commit_tx_hash=commit.sent.tx_hash if commit else None,
        commit_gas_used=commit.sent.gas_used if commit else None,
    )


def _reading_format(path: Path | str, token_format: str) -> str:
    if token_format == "folder":
        return "folder"
    try:
        fmt = detect_format(path)
    except InputError:
        return token_format  # a missing path is reported when it is read
    return fmt if fmt in _ROW_FORMATS else token_format


def _as_list(path: Paths) -> list[Path]:
    if isinstance(path, (str, os.PathLike)):
        return [Path(path)]
    paths = [Path(p) for p in path]
    if not paths:
        raise InputError("no dataset path given", "give a dataset file or folder, or its shard files")
    return paths


def _default_name(path: Paths, digest: DatasetDigest) -> str:
    if digest.shards:
        first = Path(digest.shards[0][0]).name
        return f"{first} and {len(digest.shards) - 1} more shards"
    return _as_list(path)[0].name


def _describe_paths(path: Paths) -> str:
    paths = _as_list(path)
    return str(paths[0]) if len(paths) == 1 else f"the {len(paths)} shards"


def _check_export_size(count: int, what: str) -> None:
    if count > MAX_EXPORT_LEAVES:
        raise InputError(
            f"{what} has {count:,} datapoints, more than the {MAX_EXPORT_LEAVES:,} an OpenZeppelin tree dump is made for",
            "prove datapoints instead (modelmint.prove_datapoints), which works at any size",
            hint="prove-instead",
        )
