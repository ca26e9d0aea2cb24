"""The tree as OpenZeppelin's ``StandardMerkleTree.dump()`` writes it, for other tools.

``StandardMerkleTree.load(JSON.parse(text))`` in ``@openzeppelin/merkle-tree`` accepts the
text and gives the same root, proofs and multiproofs as :class:`~modelmint.hashing.MerkleTree`.
The text is byte for byte ``JSON.stringify(StandardMerkleTree.of(values, ['bytes32']).dump())``:
the keys ``format`` (``"standard-v1"``), ``leafEncoding`` (``["bytes32"]``), ``tree`` (every
node, root first) and ``values`` (per datapoint in dataset order, ``{"value": [hash],
"treeIndex": i}``), hex in lowercase with ``0x``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from modelmint.hashing.merkle import MerkleTree

_CHUNK = 1 << 16  # nodes per piece of text: bounds memory whatever the tree's size


def standard_tree_dump(tree: MerkleTree) -> Iterator[str]:
    """Yields the dump's JSON text in pieces, so a large tree never sits in memory as text."""
    yield '{"format":"standard-v1","leafEncoding":["bytes32"],"tree":['
    nodes = tree.nodes
    for start in range(0, len(nodes), _CHUNK):
        digits = nodes[start : start + _CHUNK].tobytes().hex()
        piece = ",".join(f'"0x{digits[i : i + 64]}"' for i in range(0, len(digits), 64))
        yield piece if start == 0 else "," + piece
    yield '],"values":['
    hashes = tree.hashes
    indices = tree.tree_indices()
    for start in range(0, len(hashes), _CHUNK):
        digits = hashes[start : start + _CHUNK].tobytes().hex()
        piece = ",".join(
            f'{{"value":["0x{digits[64 * k : 64 * k + 64]}"],"treeIndex":{int(index)}}}'
            for k, index in enumerate(indices[start : start + _CHUNK])
        )
        yield piece if start == 0 else "," + piece
    yield "]}"


def write_standard_tree_dump(tree: MerkleTree, out: TextIO) -> None:
    """Writes :func:`standard_tree_dump` to a text stream."""
    out.writelines(standard_tree_dump(tree))
