"""The on-chain commitment to a fingerprint set: salted digests under a Merkle root.

Each fingerprint gets a random 32-byte salt; its digest names the token it is committed on:

    digest = keccak256(abi.encode(uint256 chainId, address contract, uint256 tokenId,
                                  bytes32 salt, bytes32 keccak256(key), bytes32 keccak256(response)))

and the commitment is the root of the dataset tree (:class:`modelmint.hashing.MerkleTree`,
OpenZeppelin's ``StandardMerkleTree`` over ``bytes32`` values) of the digests in file order,
so a leaf is ``keccak256(keccak256(digest))``. ModelNFT stores the root; revealing a
fingerprint publishes ``(salt, key, response)`` with a multiproof, and the contract
recomputes digest, leaf and root. docs/oml.md specifies it all. Because the digest names
chain, contract and token, a commitment or a reveal copied onto any other token proves
nothing there (issue 10, finding 1).

The salts make the digests (and the proof siblings a reveal publishes) say nothing about
unrevealed pairs, even for short responses drawn from small sets. Salts and pairs stay in
the local secrets file; only the root, the digests and the count are public before a
reveal.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmint._files import write_atomic, write_new
from modelmint.errors import InputError
from modelmint.fingerprints.oml.file import Fingerprint, null_match_probability
from modelmint.hashing import from_hex, to_hex
from modelmint.hashing.merkle import MerkleTree, MultiProof, keccak256

SALT_SIZE = 32
# v2: digests bound to chain, contract and token (v1 digests named none and are not accepted).
SECRETS_SCHEMA = "modelmint.oml-secrets.v2"
COMMITMENT_SCHEMA = "modelmint.oml-commitment.v2"
TREE_SCHEME = "openzeppelin.standard-merkle-tree.bytes32"
DIGEST_RULE = (
    "keccak256(abi.encode(uint256 chainId, address contract, uint256 tokenId, bytes32 salt, "
    "bytes32 keccak256(key), bytes32 keccak256(response)))"
)


@dataclass(frozen=True)
class Binding:
    """The token a fingerprint set is committed on: every digest names it."""

    chain_id: int
    contract: str
    token_id: int


def abi_encode_fingerprint(binding: Binding, salt: bytes, key: str, response: str) -> bytes:
    """``abi.encode(uint256 chainId, address contract, uint256 tokenId, bytes32 salt,
    bytes32 keccak256(key), bytes32 keccak256(response))``, strings as UTF-8: six static words."""
    if len(salt) != SALT_SIZE:
        raise ValueError(f"a salt is {SALT_SIZE} bytes, got {len(salt)}")
    address = bytes.fromhex(binding.contract.removeprefix("0x"))
    if len(address) != 20:
        raise ValueError(f"a contract address is 20 bytes, got {len(address)}")
    return (
        binding.chain_id.to_bytes(32, "big")
        + address.rjust(32, b"\0")
        + binding.token_id.to_bytes(32, "big")
        + bytes(salt)
        + keccak256(key.encode())
        + keccak256(response.encode())
    )


def fingerprint_digest(binding: Binding, salt: bytes, key: str, response: str) -> bytes:
    """The committed value of one fingerprint on the token ``binding`` names (``ModelNFT.fingerprintDigest``)."""
    return keccak256(abi_encode_fingerprint(binding, salt, key, response))


@dataclass(frozen=True)
class SaltedFingerprint:
    """A fingerprint with its salt, as the secrets file keeps it."""

    key: str
    response: str
    salt: bytes
    revealed: bool = False

    def digest(self, binding: Binding) -> bytes:
        return fingerprint_digest(binding, self.salt, self.key, self.response)


@dataclass(frozen=True)
class Secrets:
    """Everything needed to reveal later: the salted pairs, and the token they are committed on."""

    chain_id: int
    contract: str
    token_id: int
    root: bytes
    strategy: str
    null_match_prob: float | None
    fingerprints: tuple[SaltedFingerprint, ...]

    @property
    def binding(self) -> Binding:
        return Binding(self.chain_id, self.contract, self.token_id)

    def digests(self) -> list[bytes]:
        """Every fingerprint's digest, bound to this token, in file order: the tree's values."""
        return [f.digest(self.binding) for f in self.fingerprints]

    def tree(self) -> MerkleTree:
        return MerkleTree.build(self.digests())

    def with_revealed(self, indices: Sequence[int]) -> Secrets:
        marked = set(indices)
        updated = tuple(
            SaltedFingerprint(f.key, f.response, f.salt, f.revealed or i in marked)
            for i, f in enumerate(self.fingerprints)
        )
        return Secrets(
            self.chain_id,
            self.contract,
            self.token_id,
            self.root,
            self.strategy,
            self.null_match_prob,
            updated,
        )


def salt(
    fingerprints: Sequence[Fingerprint], random_bytes: Callable[[int], bytes] = secrets.token_bytes
) -> list[SaltedFingerprint]:
    """Gives each fingerprint a fresh random salt (from the OS's CSPRNG by default)."""
    return [SaltedFingerprint(f.key, f.response, random_bytes(SALT_SIZE)) for f in fingerprints]


def strategy_of(fingerprints: Sequence[Fingerprint]) -> str:
    """The strategy shared by a set, "mixed" if they differ, "" if unknown."""
    found = {f.strategy for f in fingerprints}
    return found.pop() if len(found) == 1 else "mixed"


def commitment_document(
    root: bytes,
    count: int,
    leaves_uri: str,
    strategy: str,
    null_match_prob: float | None,
    binding: Binding,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The public document a commitment's URI names: nothing secret, enough to check a reveal.

    ``leaves`` is the digest list (the dataset leaf-list format: ``count`` digests of 32
    bytes, file order), from which anyone rebuilds the tree and checks ``root`` and ``count``.
    ``nullMatchProbability`` is the owner's own figure, kept for information: a verifier
    computes its own from ``strategy`` and ``params`` (modelmint.fingerprints.oml.evidence).
    """
    return {
        "schema": COMMITMENT_SCHEMA,
        "kind": "OML",
        "chainId": binding.chain_id,
        "contract": binding.contract,
        "tokenId": binding.token_id,
        "root": to_hex(root),
        "count": count,
        "digest": DIGEST_RULE,
        "tree": TREE_SCHEME,
        "leaves": leaves_uri,
        "strategy": strategy,
        "nullMatchProbability": null_match_prob,
        "params": params or {},
    }


def reveal_plan(secrets_: Secrets, indices: Sequence[int]) -> tuple[list[int], MultiProof]:
    """The fingerprints to reveal, in the order the multiproof consumes them, and the multiproof."""
    tree = secrets_.tree()
    proof = tree.multiproof(indices)
    order: list[int] = []
    wanted = set(indices)
    for digest in proof.leaves:
        position = next(p for p in tree.values_for(digest) if p in wanted and p not in order)
        order.append(position)
    return order, proof


def new_secrets(
    fingerprints: Sequence[Fingerprint],
    chain_id: int,
    contract: str,
    token_id: int,
    salted: Sequence[SaltedFingerprint],
) -> Secrets:
    binding = Binding(chain_id, contract, token_id)
    root = MerkleTree.build([f.digest(binding) for f in salted]).root
    return Secrets(
        chain_id,
        contract,
        token_id,
        root,
        strategy_of(fingerprints),
        null_match_probability(fingerprints),
        tuple(salted),
    )


def write_secrets(path: Path, value: Secrets, *, update: bool = False) -> None:
    """Writes the secrets file, readable and writable by the owner only (mode 0600).

    A new file is written atomically and exclusively: an existing file is never replaced
    (it may hold the only salts of a commitment on chain). ``update`` rewrites the file of
    the same commitment (its revealed marks), refusing one that holds another root.

    Raises:
        InputError: the file exists (or, with ``update``, holds another commitment).
    """
    doc = {
        "schema": SECRETS_SCHEMA,
        "warning": "secret: these salts and pairs prove ownership; never publish this file",
        "chainId": value.chain_id,
        "contract": value.contract,
        "tokenId": value.token_id,
        "root": to_hex(value.root),
        "strategy": value.strategy,
        "nullMatchProbability": value.null_match_prob,
        "fingerprints": [
            {"key": f.key, "response": f.response, "salt": to_hex(f.salt), "revealed": f.revealed}
            for f in value.fingerprints
        ],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()
    if update:
        if read_secrets(path).root != value.root:
            raise InputError(
                f"{path} holds the secrets of another commitment", "keep it; write these elsewhere"
            )
        write_atomic(path, data)
        os.chmod(path, 0o600)
        return
    try:
        write_new(path, data)
    except FileExistsError:
        raise InputError(
            f"{path} exists already: a secrets file is never overwritten, it may open a commitment",
            "give another path for the new secrets file, or move the old one away if it opens nothing",
            hint="oml-secrets-exists",
        ) from None


def read_secrets(path: Path) -> Secrets:
    """Reads a secrets file written by :func:`write_secrets`.

    Raises:
        InputError: the file is missing or is not a modelmint OML secrets file.
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("schema") != SECRETS_SCHEMA:
            raise ValueError("wrong schema")
        fingerprints = tuple(
            SaltedFingerprint(
                str(f["key"]), str(f["response"]), from_hex(f["salt"], SALT_SIZE), bool(f.get("revealed"))
            )
            for f in doc["fingerprints"]
        )
        prob = doc.get("nullMatchProbability")
        return Secrets(
            int(doc["chainId"]),
            str(doc["contract"]),
            int(doc["tokenId"]),
            from_hex(doc["root"], 32),
            str(doc.get("strategy", "")),
            float(prob) if prob is not None else None,
            fingerprints,
        )
    except FileNotFoundError:
        raise InputError(
            f"no OML secrets file at {path}",
            "reveal from the machine and project folder that committed, or give the secrets file's path",
            hint="oml-secrets",
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path} is not a modelmint OML secrets file ({exc})",
            "give the file the commitment wrote (write_secrets)",
            hint="oml-secrets",
        ) from None
