"""Use cases for datasets: commit one on-chain, verify and prove datapoints against a token,
check a proof, export the tree.

Committing and verifying call the same hashing functions; verifying, proving and exporting
read nothing but the chain and the content store (the tree is rebuilt from the leaf list
the token's metadata names), so a third party with neither the original files nor this
project folder can run them. docs/proofs.md specifies the proof file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from modelmint.chain import deployments
from modelmint.chain.client import Chain
from modelmint.chain.contracts import DatasetContract, DatasetRecord, MintCommitment, two_step_default
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
from modelmint.errors import InputError, IntegrityError
from modelmint.hashing.canonical import canonical_json
from modelmint.hashing.merkle import MerkleTree, MultiProof, decode_leaf_list, encode_leaf_list, leaf_hash
from modelmint.hashing.oz_dump import write_standard_tree_dump
from modelmint.registry.claims import Claim, claims_of, own_claim
from modelmint.storage import ContentStore, parse_uri, to_uri

METADATA_SCHEMA = "modelmint.dataset-metadata.v1"
TREE_SCHEME = "openzeppelin.standard-merkle-tree.bytes32"
PROOF_SCHEMA = "modelmint.dataset-proof.v1"
MULTIPROOF_SCHEMA = "modelmint.dataset-multiproof.v1"
MAX_EXPORT_LEAVES = 2**20
"""The largest tree ``export_tree`` writes. A dump of 2^20 leaves is 250 MB of JSON, which
``StandardMerkleTree.load`` takes about 1 GB and two minutes to check on a 2-core machine."""

# Formats whose datapoints are JSON objects: a row in any of them has the same bytes as the
# same row in another, so a file of one checks against a dataset of another.
_ROW_FORMATS = ("jsonl", "csv", "parquet", "hf-datasets")

_PROOF_FIX = "give a file `modelmint dataset prove` wrote"

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
class DatapointProof:
    """A proof that datapoints are in dataset ``token_id``, which anyone can check with the
    contract's view call: one datapoint's sibling path, or an OpenZeppelin multiproof.

    ``positions``, ``datapoint_hashes`` and ``leaves`` run in the order the proof consumes
    them (for a multiproof, ascending leaf, as ``multiVerifyDatapoints`` needs them).
    ``proof_flags`` is None for a single datapoint. Hashes are 0x-hex. Its JSON form
    (:meth:`to_json`) is specified in docs/proofs.md.
    """

    chain_id: int
    contract: str
    token_id: int
    merkle_root: str
    datapoint_count: int
    positions: tuple[int, ...]
    datapoint_hashes: tuple[str, ...]
    leaves: tuple[str, ...]
    proof: tuple[str, ...]
    proof_flags: tuple[bool, ...] | None
    calldata: str

    @property
    def multi(self) -> bool:
        return self.proof_flags is not None

    @property
    def function(self) -> str:
        if self.multi:
            return "multiVerifyDatapoints(uint256,bytes32[],bytes32[],bool[])"
        return "verifyDatapoint(uint256,bytes32,bytes32[])"

    def to_json(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "schema": MULTIPROOF_SCHEMA if self.multi else PROOF_SCHEMA,
            "chainId": self.chain_id,
            "contract": self.contract,
            "tokenId": self.token_id,
            "merkleRoot": self.merkle_root,
            "datapointCount": self.datapoint_count,
        }
        if self.multi:
            body: dict[str, Any] = {
                "positions": list(self.positions),
                "datapointHashes": list(self.datapoint_hashes),
                "leaves": list(self.leaves),
                "proof": list(self.proof),
                "proofFlags": list(self.proof_flags or ()),
            }
        else:
            body = {
                "position": self.positions[0],
                "datapointHash": self.datapoint_hashes[0],
                "leaf": self.leaves[0],
                "proof": list(self.proof),
            }
        return {**head, **body, "function": self.function, "calldata": self.calldata}

    @classmethod
    def from_json(cls, data: Any, source: str = "the proof") -> DatapointProof:
        """Reads :meth:`to_json`'s form back, checking every field's shape.

        Raises:
            InputError: a field is missing or malformed, or the leaves do not match the
                datapoint hashes.
        """
        try:
            schema = data["schema"]
            multi = schema == MULTIPROOF_SCHEMA
            if schema not in (PROOF_SCHEMA, MULTIPROOF_SCHEMA):
                raise ValueError(f"schema {schema!r} is not {PROOF_SCHEMA} or {MULTIPROOF_SCHEMA}")
            if multi:
                positions = tuple(_count(p) for p in data["positions"])
                hashes = tuple(_hash32(h) for h in data["datapointHashes"])
                leaves = tuple(_hash32(h) for h in data["leaves"])
                flags: tuple[bool, ...] | None = tuple(_flag(f) for f in data["proofFlags"])
            else:
                positions = (_count(data["position"]),)
                hashes = (_hash32(data["datapointHash"]),)
                leaves = (_hash32(data["leaf"]),)
                flags = None
            proof = cls(
                chain_id=_count(data["chainId"]),
                contract=_text(data["contract"]),
                token_id=_count(data["tokenId"]),
                merkle_root=_hash32(data["merkleRoot"]),
                datapoint_count=_count(data["datapointCount"]),
                positions=positions,
                datapoint_hashes=hashes,
                leaves=leaves,
                proof=tuple(_hash32(h) for h in data["proof"]),
                proof_flags=flags,
                calldata=_text(data["calldata"]).lower(),
            )
        except (KeyError, TypeError, ValueError) as e:
            detail = f"no field {e}" if isinstance(e, KeyError) else str(e)
            raise InputError(f"{source} is not a modelmint dataset proof ({detail})", _PROOF_FIX) from None
        if not (len(positions) == len(hashes) == len(leaves)) or not hashes:
            raise InputError(
                f"{source} lists {len(positions)} positions, {len(hashes)} hashes and {len(leaves)} leaves",
                _PROOF_FIX,
            )
        for h, leaf in zip(hashes, leaves, strict=True):
            if "0x" + leaf_hash(bytes.fromhex(h[2:])).hex() != leaf:
                raise InputError(
                    f"{source}: leaf {leaf} is not the leaf of datapoint hash {h}",
                    "the file was altered; prove the datapoint again",
                )
        return proof


@dataclass(frozen=True)
class ProofCheck:
    """The chain's verdict on a proof: ``valid`` is what the contract's view call returned."""

    valid: bool
    chain_id: int
    contract: str
    token_id: int
    datapoints: int
    onchain_root: str
    root_matches: bool


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
    contract = DatasetContract(chain)
    digest = hash_paths(path, fmt, progress) if engine is None else engine.hash(_as_list(path), fmt, progress)
    tree = MerkleTree.build(digest.hashes)
    root_hex = "0x" + tree.root.hex()
    to = owner or chain.signer.address
    claims = claims_of(contract, tree.root)
    mine = own_claim(claims, to)
    if mine:
        record = contract.record(mine.token_id)
        metadata = read_metadata(store, record)
        return _commitment(chain, contract, record, metadata, sent=None, claims=claims)

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
    metadata_uri = to_uri(store.put(canonical_json(metadata)))
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
        chain, contract, record, metadata, sent=minted, claims=claims_of(contract, tree.root), commit=commit
    )


def verify_datapoints(chain: Chain, store: ContentStore, path: Paths, token_id: int) -> DatasetVerification:
    """Check every datapoint in ``path`` (one file or folder, or several) against dataset
    ``token_id`` through the contract.

    The tree comes from the token's metadata in the content store; each datapoint found
    in it is proven with the contract's ``verifyDatapoint`` view, so the answer is the
    chain's, not this program's. Files are read as :func:`datapoint_hashes_of` says.
    """
    contract = DatasetContract(chain)
    record = contract.record(token_id)
    metadata = read_metadata(store, record)
    tree = load_tree(store, record, metadata)
    checked = included = 0
    missing: list[DatapointCheck] = []
    for label, datapoint_hash in datapoint_hashes_of(path, metadata["modelmint"]["format"]):
        checked += 1
        positions = tree.values_for(datapoint_hash)
        ok = bool(positions) and contract.verify_datapoint(token_id, datapoint_hash, tree.proof(positions[0]))
        if ok:
            included += 1
        else:
            missing.append(DatapointCheck(label, "0x" + datapoint_hash.hex(), False))
    return DatasetVerification(token_id, "0x" + record.merkle_root.hex(), checked, included, missing)


def prove_datapoints(
    chain: Chain,
    store: ContentStore,
    token_id: int,
    *,
    path: Paths | None = None,
    positions: Sequence[int] | None = None,
) -> DatapointProof:
    """Build the proof that datapoints are in dataset ``token_id``, for anyone to check on-chain.

    Give either ``path``, a file (or files) of datapoints, read as
    :func:`datapoint_hashes_of` says, or dataset ``positions`` (from 0). One datapoint gets
    a ``verifyDatapoint`` proof, several an OpenZeppelin multiproof for
    ``multiVerifyDatapoints``; a datapoint that ``path`` repeats is proven once. The tree
    comes from the token's metadata in the content store, and the proof is checked with
    the contract's view call before it is returned.

    Raises:
        InputError: neither or both of ``path`` and ``positions``, a position outside the
            dataset or given twice, or a datapoint of ``path`` that is not in the dataset.
    """
    if (path is None) == (positions is None):
        raise InputError(
            "give either a file of datapoints or positions to prove", "pass FILE or --index N, not both"
        )
    contract = DatasetContract(chain)
    record = contract.record(token_id)
    metadata = read_metadata(store, record)
    tree = load_tree(store, record, metadata)
    if path is not None:
        wanted: dict[int, None] = {}
        paths = _as_list(path)
        where = f"{paths[0]} " if len(paths) == 1 else ""
        for label, datapoint_hash in datapoint_hashes_of(paths, metadata["modelmint"]["format"]):
            found = tree.values_for(datapoint_hash)
            if not found:
                raise InputError(
                    f"{where}{label} (sha256 0x{datapoint_hash.hex()}) is not in dataset {token_id}",
                    "only datapoints of the dataset can be proven; `modelmint dataset verify` lists which are not",
                )
            wanted.setdefault(found[0])
        chosen = list(wanted)
    else:
        chosen = list(positions or [])
        if not chosen:
            raise InputError("no positions to prove", "pass --index N at least once")
    root_hex = "0x" + tree.root.hex()
    if len(chosen) == 1:
        position = chosen[0]
        h = tree.hash_at(position)
        siblings = tree.proof(position)
        proof = DatapointProof(
            chain_id=chain.chain_id,
            contract=contract.address,
            token_id=token_id,
            merkle_root=root_hex,
            datapoint_count=len(tree),
            positions=(position,),
            datapoint_hashes=(_hex(h),),
            leaves=(_hex(leaf_hash(h)),),
            proof=tuple(_hex(p) for p in siblings),
            proof_flags=None,
            calldata=contract.verify_calldata(token_id, h, siblings),
        )
        ok = contract.verify_datapoint(token_id, h, siblings)
    else:
        multi = tree.multiproof(chosen)
        order = _multiproof_positions(tree, chosen, multi)
        proof = DatapointProof(
            chain_id=chain.chain_id,
            contract=contract.address,
            token_id=token_id,
            merkle_root=root_hex,
            datapoint_count=len(tree),
            positions=tuple(order),
            datapoint_hashes=tuple(_hex(h) for h in multi.leaves),
            leaves=tuple(_hex(leaf_hash(h)) for h in multi.leaves),
            proof=tuple(_hex(p) for p in multi.proof),
            proof_flags=multi.proof_flags,
            calldata=contract.multi_verify_calldata(
                token_id, list(multi.leaves), list(multi.proof), list(multi.proof_flags)
            ),
        )
        ok = contract.multi_verify(token_id, list(multi.leaves), list(multi.proof), list(multi.proof_flags))
    if not ok:
        raise IntegrityError(
            f"the contract rejects the proof built from dataset {token_id}'s leaf list",
            "the content store holds a tree the chain does not accept; report this",
        )
    return proof


def check_proof(chain: Chain, proof: DatapointProof, contract_address: str | None = None) -> ProofCheck:
    """Ask the chain whether ``proof`` holds: the contract's view call decides.

    The contract is ``contract_address`` when given. Otherwise it is this project's
    DatasetNFT on the proof's chain if there is a recorded deployment (a proof naming
    another contract is refused, so a made-up contract cannot vouch for itself), else the
    contract the proof names.

    Raises:
        InputError: the proof is for another chain, names another contract than the
            deployment, or its calldata does not encode its fields.
    """
    if proof.chain_id != chain.chain_id:
        raise InputError(
            f"the proof is for chain {proof.chain_id} but the node at {chain.url} is chain {chain.chain_id}",
            "pass the --rpc-url of a node of that chain",
        )
    if contract_address is None and deployments.deployment_file(chain).exists():
        contract = DatasetContract(chain)
        if contract.address.lower() != proof.contract.lower():
            raise InputError(
                f"the proof names contract {proof.contract}, not this project's DatasetNFT {contract.address}",
                f"pass --contract {proof.contract} if you trust that contract",
            )
    else:
        contract = DatasetContract.at(chain, contract_address or proof.contract)
    hashes = [bytes.fromhex(h[2:]) for h in proof.datapoint_hashes]
    siblings = [bytes.fromhex(p[2:]) for p in proof.proof]
    if proof.proof_flags is None:
        calldata = contract.verify_calldata(proof.token_id, hashes[0], siblings)
    else:
        calldata = contract.multi_verify_calldata(proof.token_id, hashes, siblings, list(proof.proof_flags))
    if calldata.lower() != proof.calldata:
        raise InputError(
            "the proof's calldata does not encode its fields",
            "the file was altered; prove the datapoints again",
        )
    record = contract.record(proof.token_id)
    if proof.proof_flags is None:
        valid = contract.verify_datapoint(proof.token_id, hashes[0], siblings)
    else:
        valid = contract.multi_verify(proof.token_id, hashes, siblings, list(proof.proof_flags))
    onchain_root = _hex(record.merkle_root)
    return ProofCheck(
        valid=valid,
        chain_id=chain.chain_id,
        contract=contract.address,
        token_id=proof.token_id,
        datapoints=len(hashes),
        onchain_root=onchain_root,
        root_matches=onchain_root == proof.merkle_root,
    )


def read_proof(path: Path) -> DatapointProof:
    """Reads a proof file that :func:`prove_datapoints` produced (as JSON).

    Raises:
        InputError: the file cannot be read, is not JSON, or is not a proof.
    """
    try:
        data = json.loads(Path(path).read_bytes())
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", "check the path") from None
    except ValueError as e:
        raise InputError(f"{path} is not JSON ({e})", _PROOF_FIX) from None
    return DatapointProof.from_json(data, str(path))


def export_tree(
    out: TextIO,
    *,
    chain: Chain | None = None,
    store: ContentStore | None = None,
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
        raise InputError(
            "give either a token or a dataset path to export", "pass --token ID or PATH, not both"
        )
    if token_id is not None:
        if chain is None or store is None:
            raise ValueError("exporting a token's tree needs the chain and the content store")
        record = DatasetContract(chain).record(token_id)
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
    leaves = decode_leaf_list(store.get(parse_uri(leaves_uri)))
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


def _commitment(
    chain: Chain,
    contract: DatasetContract,
    record: DatasetRecord,
    metadata: dict[str, Any],
    sent: Any,
    claims: Sequence[Claim] = (),
    commit: MintCommitment | None = None,
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
            "prove datapoints with `modelmint dataset prove`, which works at any size",
        )


def _multiproof_positions(tree: MerkleTree, chosen: Sequence[int], multi: MultiProof) -> list[int]:
    """The dataset position of each multiproof leaf, in the proof's order."""
    indices = tree.tree_indices()
    by_tree_index = {int(indices[p]): p for p in chosen}
    return [by_tree_index[i] for i in sorted(by_tree_index, reverse=True)]


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a non-negative integer")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _hash32(value: Any) -> str:
    text = _text(value).lower()
    if len(text) != 66 or not text.startswith("0x") or any(c not in "0123456789abcdef" for c in text[2:]):
        raise ValueError(f"{value!r} is not a 0x-prefixed 32-byte hex value")
    return text
