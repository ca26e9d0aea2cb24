"""Builds a dataset Merkle tree with modelmint's Python code, for forge's FFI tests.

Usage: python merkle_proof.py SEED SIZE MASK

SEED is a 0x-prefixed bytes32, SIZE the number of datapoints (1..64), MASK a uint64 whose
set bits pick the datapoints of the multiproof (bit i = position i; none set means
position MASK % SIZE). Datapoint i is sha256(abi.encode(SEED, i)), which the Solidity test
recomputes. Prints, as 0x-hex for vm.ffi, abi.encode(bytes32 root, bytes32[][] proofs,
bytes32[] multiLeaves, bytes32[] multiProof, bool[] multiFlags), proofs[i] being the
proof of datapoint i.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

# The checkout's sources, so the test exercises this tree's code even without an install.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))

from eth_abi import encode  # noqa: E402

from modelmint.hashing.merkle import MerkleTree  # noqa: E402


def main(argv: list[str]) -> None:
    seed = bytes.fromhex(argv[1].removeprefix("0x"))
    size = int(argv[2])
    mask = int(argv[3])
    if len(seed) != 32 or not 1 <= size <= 64:
        raise SystemExit("usage: merkle_proof.py 0xSEED32 SIZE(1..64) MASK")
    hashes = [hashlib.sha256(seed + i.to_bytes(32, "big")).digest() for i in range(size)]
    tree = MerkleTree.build(hashes)
    positions = [i for i in range(size) if mask >> i & 1] or [mask % size]
    multi = tree.multiproof(positions)
    payload = encode(
        ["bytes32", "bytes32[][]", "bytes32[]", "bytes32[]", "bool[]"],
        [
            tree.root,
            [tree.proof(i) for i in range(size)],
            list(multi.leaves),
            list(multi.proof),
            list(multi.proof_flags),
        ],
    )
    sys.stdout.write("0x" + payload.hex())


if __name__ == "__main__":
    main(sys.argv)
