"""Proofs that datapoints are in a dataset token: build one, read one back, and ask the chain.

A proof reads nothing but the chain and the content store (the tree is rebuilt from the leaf
list the token's metadata names), and the contract's view call is its verdict, so anyone can
build or check one. docs/proofs.md specifies the proof file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmint.chain.client import Chain
from modelmint.chain.contracts import DatasetContract
from modelmint.errors import InputError, IntegrityError
from modelmint.hashing import to_hex
from modelmint.hashing.canonical import parse_json_text
from modelmint.hashing.merkle import MerkleTree, MultiProof, leaf_hash
from modelmint.registry.datasets import Paths, _as_list, datapoint_hashes_of, load_tree, read_metadata
from modelmint.registry.registries import Registries

PROOF_SCHEMA = "modelmint.dataset-proof.v1"
MULTIPROOF_SCHEMA = "modelmint.dataset-multiproof.v1"

_PROOF_FIX = "give a proof file that modelmint.prove_datapoints wrote (docs/proofs.md)"


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


def prove_datapoints(
    registries: Registries,
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
            "give either a file of datapoints or positions to prove", "give path or positions, not both"
        )
    chain, store, contract = registries.chain, registries.store, registries.dataset_contract
    record = contract.record(token_id)
    metadata = read_metadata(store, record)
    tree = load_tree(store, record, metadata)
    if path is not None:
        wanted: dict[int, None] = {}
        paths = _as_list(path)
        where = f"{paths[0]} " if len(paths) == 1 else ""
        for label, datapoint_hash in datapoint_hashes_of(paths, metadata.format):
            found = tree.values_for(datapoint_hash)
            if not found:
                raise InputError(
                    f"{where}{label} (sha256 0x{datapoint_hash.hex()}) is not in dataset {token_id}",
                    "only datapoints of the dataset can be proven; verify_datapoints lists which are not",
                )
            wanted.setdefault(found[0])
        chosen = list(wanted)
    else:
        chosen = list(positions or [])
        if not chosen:
            raise InputError("no positions to prove", "give at least one position")
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
            datapoint_hashes=(to_hex(h),),
            leaves=(to_hex(leaf_hash(h)),),
            proof=tuple(to_hex(p) for p in siblings),
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
            datapoint_hashes=tuple(to_hex(h) for h in multi.leaves),
            leaves=tuple(to_hex(leaf_hash(h)) for h in multi.leaves),
            proof=tuple(to_hex(p) for p in multi.proof),
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


def check_proof(
    registries: Registries | Chain, proof: DatapointProof, contract_address: str | None = None
) -> ProofCheck:
    """Ask the chain whether ``proof`` holds: the contract's view call decides.

    The contract is ``contract_address`` when given. Otherwise, given ``registries``, it is
    their DatasetNFT (a proof naming another contract is refused, so a made-up contract cannot
    vouch for itself); given a bare chain, it is the contract the proof names. A contract not
    from a recorded deployment must hold this version's DatasetNFT code
    (:meth:`DatasetContract.at`), or it is refused as not modelmint's.

    Raises:
        InputError: the proof is for another chain, names another contract than the
            registries' DatasetNFT, or its calldata does not encode its fields.
        ChainError: the contract asked is not a modelmint DatasetNFT.
    """
    chain = registries.chain if isinstance(registries, Registries) else registries
    if proof.chain_id != chain.chain_id:
        raise InputError(
            f"the proof is for chain {proof.chain_id} but the node at {chain.url} is chain {chain.chain_id}",
            "check it through a node of that chain",
            hint="rpc-url",
            hint_values={"chain_id": proof.chain_id},
        )
    if contract_address is None and isinstance(registries, Registries):
        contract = registries.dataset_contract
        if contract.address.lower() != proof.contract.lower():
            raise InputError(
                f"the proof names contract {proof.contract}, not the DatasetNFT {contract.address}",
                f"check it against contract {proof.contract} only if you trust that contract",
                hint="trust-contract",
                hint_values={"contract": proof.contract},
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
    onchain_root = to_hex(record.merkle_root)
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
        raw = Path(path).read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", "check the path") from None
    try:
        # The datapoints' JSON rules, nesting checked first: json.loads alone lets a deeply
        # nested file overflow the C stack once web3 has raised the recursion limit.
        data = parse_json_text(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text (byte {e.start})", _PROOF_FIX) from None
    except InputError as e:
        raise InputError(f"{path} is not JSON ({e.problem})", _PROOF_FIX) from None
    return DatapointProof.from_json(data, str(path))


def _multiproof_positions(tree: MerkleTree, chosen: Sequence[int], multi: MultiProof) -> list[int]:
    """The dataset position of each multiproof leaf, in the proof's order."""
    indices = tree.tree_indices()
    by_tree_index = {int(indices[p]): p for p in chosen}
    return [by_tree_index[i] for i in sorted(by_tree_index, reverse=True)]


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
