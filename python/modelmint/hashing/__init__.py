"""Hashes of datapoints and the Merkle trees that commit to them.

The rules are specified in docs/hashing.md; this package is their one implementation:
canonical bytes and SHA-256 of a datapoint (:mod:`.canonical`), the OpenZeppelin-compatible
tree, proofs, multiproofs and the leaf list file (:mod:`.merkle`), and the tree written as
OpenZeppelin's dump (:mod:`.oz_dump`), folders listed and hashed with a check that they do
not change meanwhile (:mod:`.files`), and hashes written as ``0x`` hex.
"""

from modelmint.hashing._hex import from_hex, sha256_hex, to_hex
from modelmint.hashing.canonical import (
    MAX_SAFE_INTEGER,
    canonical_json,
    canonicalize_json_text,
    sha256,
    sha256_file,
)
from modelmint.hashing.merkle import (
    MerkleTree,
    MultiProof,
    decode_leaf_list,
    encode_leaf_list,
    keccak256,
    leaf_hash,
    node_hash,
)
from modelmint.hashing.oz_dump import standard_tree_dump, write_standard_tree_dump

__all__ = [
    "MAX_SAFE_INTEGER",
    "MerkleTree",
    "MultiProof",
    "canonical_json",
    "canonicalize_json_text",
    "decode_leaf_list",
    "encode_leaf_list",
    "from_hex",
    "keccak256",
    "leaf_hash",
    "node_hash",
    "sha256",
    "sha256_file",
    "sha256_hex",
    "standard_tree_dump",
    "to_hex",
    "write_standard_tree_dump",
]
