"""Builds an OML commitment and a reveal with modelmint's Python code, for forge's FFI tests.

Usage: python oml_reveal.py SEED SIZE MASK CHAIN_ID CONTRACT TOKEN_ID

Fingerprint i (0 <= i < SIZE) is key "key <i> of <SEED>", response " answer<i % 5>", salt
keccak256(SEED || i as uint256); the Solidity test recomputes all three. MASK's set bits pick
the fingerprints revealed (none set: position MASK % SIZE). The leaves are bound to token
TOKEN_ID of the ModelNFT at CONTRACT on chain CHAIN_ID, as docs/oml.md specifies. Prints, as 0x-hex for vm.ffi,
abi.encode(bytes32 root, (bytes32 salt, string key, string response)[] reveals, bytes32[] proof,
bool[] proofFlags), reveals in multiproof order.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The checkout's sources, so the test exercises this tree's code even without an install.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))

from eth_abi import encode  # noqa: E402

from modelmint.fingerprints.oml.commitment import SaltedFingerprint, new_secrets, reveal_plan  # noqa: E402
from modelmint.fingerprints.oml.file import Fingerprint  # noqa: E402
from modelmint.hashing.merkle import keccak256  # noqa: E402


def main(argv: list[str]) -> None:
    seed = bytes.fromhex(argv[1].removeprefix("0x"))
    size, mask = int(argv[2]), int(argv[3])
    chain_id, contract, token_id = int(argv[4]), argv[5], int(argv[6])
    if len(seed) != 32 or not 1 <= size <= 64:
        raise SystemExit("usage: oml_reveal.py 0xSEED32 SIZE(1..64) MASK CHAIN_ID CONTRACT TOKEN_ID")
    seed_text = "0x" + seed.hex()
    pairs = [Fingerprint(f"key {i} of {seed_text}", f" answer{i % 5}") for i in range(size)]
    salted = [
        SaltedFingerprint(p.key, p.response, keccak256(seed + i.to_bytes(32, "big"))) for i, p in enumerate(pairs)
    ]
    kept = new_secrets(pairs, chain_id, contract, token_id, salted)
    chosen = [i for i in range(size) if mask >> i & 1] or [mask % size]
    order, proof = reveal_plan(kept, chosen)
    reveals = [(salted[i].salt, salted[i].key, salted[i].response) for i in order]
    payload = encode(
        ["bytes32", "(bytes32,string,string)[]", "bytes32[]", "bool[]"],
        [kept.root, reveals, list(proof.proof), list(proof.proof_flags)],
    )
    sys.stdout.write("0x" + payload.hex())


if __name__ == "__main__":
    main(sys.argv)
