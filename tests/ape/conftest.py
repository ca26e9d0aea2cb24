"""Fixtures and helpers for the ape tests of the modelmint contracts.

Run with `tools/check-tools.sh ape` (ape test tests/ape in .venv-tools, against anvil started by
ape-foundry). Each test runs in an anvil snapshot that ape reverts afterwards, so the
module-scoped deployments below start every test from the same state.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from eth_utils import keccak

# CIDv1 prefix of a raw block with a sha2-256 multihash: version 1, codec raw (0x55),
# multihash sha2-256 (0x12), digest length 32 (0x20).
_RAW_CID_PREFIX = bytes([0x01, 0x55, 0x12, 0x20])


def ipfs_uri(content: bytes) -> str:
    """`ipfs://` URI of `content` as one raw block: what Kubo's `add --cid-version=1
    --raw-leaves` prints (with `--cid-base=base32`) for files up to 256 KiB."""
    cid = _RAW_CID_PREFIX + hashlib.sha256(content).digest()
    return "ipfs://b" + base64.b32encode(cid).decode().lower().rstrip("=")


def datapoint_hash(datapoint: bytes) -> bytes:
    """A datapoint's hash as committed in a dataset's Merkle tree: its SHA-256."""
    return hashlib.sha256(datapoint).digest()


def leaf(value: bytes) -> bytes:
    """OpenZeppelin `StandardMerkleTree` leaf of one `bytes32` value:
    keccak256(bytes.concat(keccak256(abi.encode(value)))); abi.encode of a bytes32 is itself."""
    assert len(value) == 32
    return keccak(keccak(value))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative node hash: keccak256 of the two children in sorted order."""
    return keccak(min(a, b) + max(a, b))


@pytest.fixture(scope="session")
def owner(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def dataset_nft(project, owner):
    return owner.deploy(project.DatasetNFT)


@pytest.fixture(scope="module")
def model_nft(project, owner, dataset_nft):
    return owner.deploy(project.ModelNFT, dataset_nft)


@pytest.fixture(scope="module")
def two_leaf_tree():
    """A two-datapoint dataset: (datapoint hashes, leaves, root)."""
    hashes = [datapoint_hash(b"the first datapoint"), datapoint_hash(b"the second datapoint")]
    leaves = [leaf(h) for h in hashes]
    return hashes, leaves, hash_pair(*leaves)
