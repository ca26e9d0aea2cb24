"""The dataset Merkle tree, identical to OpenZeppelin's ``StandardMerkleTree``.

``MerkleTree.build(hashes)`` gives the same root, proofs and multiproofs as
``StandardMerkleTree.of(hashes.map(h => [h]), ['bytes32'])`` from
``@openzeppelin/merkle-tree`` with its default options (leaves sorted), so proofs verify
with OpenZeppelin's ``MerkleProof`` library on chain. docs/hashing.md specifies the tree
and the leaf list, the file from which anyone rebuilds it.

The hashing, the sort and the internal nodes run in C (``_keccak.c``) on every core.
Nodes are numbered in OpenZeppelin's layout (root at 0, children of ``i`` at ``2i + 1``
and ``2i + 2``, sorted leaf ``k`` at ``2n - 2 - k``), but not all are kept: the tree holds
the sorted leaves (32 bytes a datapoint), the dataset position of each (4 bytes), and the
internal nodes of the levels nearest the root (at most 2 bytes a datapoint). A node below
those is recomputed from its at most 64 leaves when a proof needs it, a few microseconds.
With the datapoint hashes it was built from, a tree takes about 70 bytes a datapoint,
building included: 10 million datapoints in 700 MB.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from modelmint.errors import InputError, IntegrityError
from modelmint.hashing.files import cores

try:
    from modelmint.hashing import _keccak
except ImportError as e:  # a source checkout that was never installed
    raise ImportError(
        "modelmint's C extension modelmint.hashing._keccak is not built: run `pip install -e .` "
        "(it needs a C compiler and the Python headers)"
    ) from e

HASH_SIZE = 32

#: Internal levels just above the leaves that are recomputed rather than stored: a stored
#: node then covers at most 2^6 leaves, and the top levels take at most 2 bytes a leaf.
_RECOMPUTED_LEVELS = 5

#: The dataset position of a sorted leaf is a uint32.
MAX_DATAPOINTS = 2**32 - 1

HashesLike = bytes | bytearray | memoryview | np.ndarray | Sequence[bytes]


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """Returns the Ethereum Keccak-256 digest of ``data`` (not NIST SHA3-256)."""
    return _keccak.keccak256(data)


def leaf_hash(h: bytes) -> bytes:
    """Returns the tree leaf of a datapoint hash: ``keccak256(keccak256(abi.encode(h)))``.

    ``abi.encode`` of a ``bytes32`` is the 32 bytes themselves, so this is
    ``keccak256(keccak256(h))``, OpenZeppelin's standard leaf for ``['bytes32']``.
    """
    if len(h) != HASH_SIZE:
        raise ValueError(f"a datapoint hash is 32 bytes, got {len(h)}")
    return _keccak.keccak256(_keccak.keccak256(h))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Returns the parent of two nodes: the keccak256 of the smaller then the larger."""
    return _keccak.keccak256(a + b) if a <= b else _keccak.keccak256(b + a)


def _row(array: np.ndarray, index: int) -> bytes:
    """Returns row ``index`` of an (n, 32) uint8 array as bytes."""
    row: bytes = array[index].tobytes()
    return row


def as_hash_array(hashes: HashesLike) -> np.ndarray:
    """Returns datapoint hashes as a read-only ``(n, 32)`` uint8 array.

    Accepts a sequence of 32-byte ``bytes``, a buffer of ``n * 32`` bytes, or an
    ``(n, 32)`` uint8 array. ``bytes`` and read-only arrays are used without a copy.
    """
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != HASH_SIZE:
            raise ValueError(f"expected an (n, 32) uint8 array, got {hashes.shape} {hashes.dtype}")
        array = hashes
    elif isinstance(hashes, (bytes, bytearray, memoryview)):
        if len(hashes) % HASH_SIZE:
            raise ValueError(f"a hash buffer is a multiple of 32 bytes, got {len(hashes)}")
        array = np.frombuffer(bytes(hashes), dtype=np.uint8).reshape(-1, HASH_SIZE)
    else:
        items = list(hashes)
        for h in items:
            if not isinstance(h, (bytes, bytearray, memoryview)) or len(h) != HASH_SIZE:
                raise ValueError("every datapoint hash must be 32 bytes")
        array = np.frombuffer(b"".join(items), dtype=np.uint8).reshape(-1, HASH_SIZE)
    if array.flags.writeable or not array.flags.c_contiguous:
        array = np.array(array, order="C")  # a private copy, so no caller can change it
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class MultiProof:
    """A proof that several datapoints are in a tree, in OpenZeppelin's format.

    Attributes:
        leaves: the datapoint hashes proved, in the order the proof consumes them
            (ascending leaf, as ``getMultiProof`` returns them).
        proof: the sibling nodes the verifier cannot compute.
        proof_flags: for each hashing step, True to take the next computed node,
            False to take the next ``proof`` node.
    """

    leaves: tuple[bytes, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]


class MerkleTree:
    """A Merkle tree over datapoint hashes, in dataset order (duplicates allowed)."""

    __slots__ = ("_hashes", "_leaves", "_order", "_top")

    def __init__(self, hashes: np.ndarray, leaves: np.ndarray, order: np.ndarray, top: np.ndarray) -> None:
        """Use :meth:`build`; this stores already-computed arrays."""
        self._hashes = hashes
        self._leaves = leaves  # ascending, (n, 32)
        self._order = order  # order[k]: the dataset position of the k-th smallest leaf
        self._top = top  # nodes 0 .. len(top) - 1

    @classmethod
    def build(cls, hashes: HashesLike) -> MerkleTree:
        """Builds the tree of datapoint hashes given in dataset order.

        Args:
            hashes: the 32-byte SHA-256 of each datapoint, as a sequence of ``bytes``,
                a buffer of ``n * 32`` bytes, or an ``(n, 32)`` uint8 array; n >= 1.

        Raises:
            ValueError: there are no hashes, more than 2^32 - 1, or one is not 32 bytes
                (a caller's bug: the dataset readers and :func:`decode_leaf_list` check).
        """
        array = as_hash_array(hashes)
        n = len(array)
        if n == 0:
            raise ValueError("a Merkle tree needs at least one datapoint")
        if n > MAX_DATAPOINTS:
            raise ValueError(f"a Merkle tree holds at most {MAX_DATAPOINTS} datapoints, got {n}")
        workers = cores()
        leaves = np.empty((n, HASH_SIZE), dtype=np.uint8)
        _keccak.leaves(array, leaves, workers)
        # A stable sort: equal leaves (repeated datapoints) stay in dataset order, as
        # JavaScript's Array.prototype.sort keeps them in OpenZeppelin's library.
        order = np.empty(n, dtype=np.uint32)
        _keccak.sort_leaves(leaves, order, workers)
        top = _top_nodes(leaves, workers)
        for a in (leaves, order, top):
            a.flags.writeable = False
        return cls(array, leaves, order, top)

    @property
    def root(self) -> bytes:
        """The 32-byte root, as committed on chain."""
        return _row(self._top, 0)

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def hashes(self) -> np.ndarray:
        """The datapoint hashes in dataset order, a read-only ``(n, 32)`` uint8 array."""
        return self._hashes

    @property
    def nodes(self) -> np.ndarray:
        """Every node, a new read-only ``(2n - 1, 32)`` uint8 array in OpenZeppelin's layout
        (root at 0, children of ``i`` at ``2i + 1`` and ``2i + 2``): the dump's ``tree``.

        The tree keeps only some nodes, so this computes the rest: 64 bytes a datapoint.
        """
        return _all_nodes(self._leaves)

    def tree_indices(self) -> np.ndarray:
        """Returns the node index of each datapoint's leaf, in dataset order: the dump's
        ``treeIndex`` of each value."""
        n = len(self)
        indices = np.empty(n, dtype=np.int64)
        indices[self._order] = np.arange(2 * n - 2, n - 2, -1, dtype=np.int64)
        return indices

    def hash_at(self, position: int) -> bytes:
        """Returns the datapoint hash at a dataset position."""
        return _row(self._hashes, self._check_position(position))

    def values_for(self, h: bytes) -> list[int]:
        """Returns the dataset positions, ascending, whose datapoint hash is ``h``."""
        if len(h) != HASH_SIZE:
            return []
        lo, hi = self._leaf_range(leaf_hash(bytes(h)))
        return sorted(int(p) for p in self._order[lo:hi])

    def proof(self, position: int) -> list[bytes]:
        """Returns the proof for the datapoint at a dataset position, leaf to root.

        Raises:
            InputError: the position is outside the dataset.
        """
        index = self._tree_index(self._check_position(position))
        proof = []
        while index > 0:
            proof.append(self._node(_sibling(index)))
            index = (index - 1) // 2
        return proof

    def multiproof(self, positions: Iterable[int]) -> MultiProof:
        """Returns one proof for the datapoints at several dataset positions.

        Follows OpenZeppelin's ``getMultiProof`` step by step, so the result is
        identical to it and verifies with ``MerkleProof.multiProofVerify``.

        Raises:
            InputError: a position is outside the dataset or given twice.
        """
        wanted = [self._check_position(p) for p in positions]
        if len(set(wanted)) != len(wanted):
            raise InputError("a multiproof cannot prove the same datapoint twice", "list each position once")
        by_index = {self._tree_index(p): p for p in wanted}
        indices = sorted(by_index, reverse=True)
        stack = deque(indices)
        proof: list[bytes] = []
        flags: list[bool] = []
        while stack and stack[0] > 0:
            j = stack.popleft()
            s = _sibling(j)
            if stack and stack[0] == s:
                flags.append(True)
                stack.popleft()
            else:
                flags.append(False)
                proof.append(self._node(s))
            stack.append((j - 1) // 2)
        if not indices:
            proof.append(self.root)
        leaves = tuple(self._hashes[by_index[i]].tobytes() for i in indices)
        return MultiProof(leaves=leaves, proof=tuple(proof), proof_flags=tuple(flags))

    @staticmethod
    def verify(root: bytes, h: bytes, proof: Sequence[bytes]) -> bool:
        """Returns whether ``proof`` shows that datapoint hash ``h`` is in the tree of ``root``."""
        if len(h) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
            return False
        return process_proof(leaf_hash(bytes(h)), proof) == bytes(root)

    @staticmethod
    def verify_multiproof(root: bytes, multiproof: MultiProof) -> bool:
        """Returns whether a multiproof shows that all its leaves are in the tree of ``root``.

        Malformed multiproofs (wrong lengths, flags that do not fit) return False where
        OpenZeppelin's library throws.
        """
        leaves, proof, flags = multiproof.leaves, multiproof.proof, multiproof.proof_flags
        if any(len(x) != HASH_SIZE for x in (*leaves, *proof)):
            return False
        if len(leaves) + len(proof) != len(flags) + 1 or len(proof) < flags.count(False):
            return False
        stack = deque(leaf_hash(bytes(h)) for h in leaves)
        siblings = deque(bytes(p) for p in proof)
        for flag in flags:
            if not stack or (flag and len(stack) < 2) or (not flag and not siblings):
                return False
            a = stack.popleft()
            b = stack.popleft() if flag else siblings.popleft()
            stack.append(node_hash(a, b))
        if len(stack) + len(siblings) != 1:
            return False
        computed = stack.pop() if stack else siblings.popleft()
        return computed == bytes(root)

    def _check_position(self, position: int) -> int:
        if (
            isinstance(position, bool)
            or not isinstance(position, (int, np.integer))
            or not 0 <= position < len(self)
        ):
            raise InputError(
                f"datapoint {position!r} is outside the dataset",
                f"give a position from 0 to {len(self) - 1}",
            )
        return int(position)

    def _leaf_range(self, leaf: bytes) -> tuple[int, int]:
        """The ranks ``lo .. hi - 1`` of the sorted leaves equal to ``leaf``."""
        ascending = self._leaves.view(f"S{HASH_SIZE}").ravel()
        target = np.frombuffer(leaf, dtype=f"S{HASH_SIZE}")
        return int(ascending.searchsorted(target, "left")[0]), int(ascending.searchsorted(target, "right")[0])

    def _tree_index(self, position: int) -> int:
        lo, hi = self._leaf_range(leaf_hash(self._hashes[position].tobytes()))
        # Equal leaves are sorted by position, so the position's rank is a search away.
        rank = lo + int(self._order[lo:hi].searchsorted(position))
        return 2 * len(self) - 2 - rank

    def _node(self, index: int) -> bytes:
        """Returns node ``index``: stored, a leaf, or recomputed from the leaves below it."""
        n = len(self)
        if index < len(self._top):
            return _row(self._top, index)
        if index >= n - 1:
            return _row(self._leaves, 2 * n - 2 - index)
        out = bytearray(HASH_SIZE)
        _keccak.subtree_roots(self._leaves, index, out, 1)
        return bytes(out)


class LeafTree:
    """OpenZeppelin's ``StandardMerkleTree`` over leaves the caller has already hashed.

    For a leaf encoding other than ``['bytes32']`` (the weights manifest's
    ``['string', 'bytes32', 'uint256']``): the caller computes each leaf,
    ``keccak256(keccak256(abi.encode(values)))``; the sort, the layout, the nodes and the
    proofs are :class:`MerkleTree`'s. Every node is kept, so it suits small trees.
    """

    __slots__ = ("_ascending", "_nodes")

    def __init__(self, leaves: Sequence[bytes]) -> None:
        """Builds the tree of ``leaves`` (32 bytes each, at least one, in any order).

        Raises:
            ValueError: there are no leaves, or one is not 32 bytes.
        """
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        if any(len(leaf) != HASH_SIZE for leaf in leaves):
            raise ValueError("every leaf must be 32 bytes")
        self._ascending = sorted(bytes(leaf) for leaf in leaves)
        array = np.frombuffer(b"".join(self._ascending), dtype=np.uint8).reshape(-1, HASH_SIZE)
        self._nodes = _all_nodes(array)

    @property
    def root(self) -> bytes:
        """The 32-byte root."""
        return bytes(self._nodes[0].tobytes())

    def proof(self, leaf: bytes) -> list[bytes]:
        """Returns the proof of ``leaf``, leaf to root (OpenZeppelin's ``getProof``).

        Raises:
            ValueError: ``leaf`` is not in the tree.
        """
        rank = bisect.bisect_left(self._ascending, leaf)
        if rank == len(self._ascending) or self._ascending[rank] != leaf:
            raise ValueError("the leaf is not in the tree")
        index = 2 * len(self._ascending) - 2 - rank
        proof = []
        while index > 0:
            proof.append(self._nodes[_sibling(index)].tobytes())
            index = (index - 1) // 2
        return proof


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Returns the root that ``proof`` leads to from ``leaf`` (OpenZeppelin's ``processProof``)."""
    node = bytes(leaf)
    for sibling in proof:
        node = node_hash(node, bytes(sibling))
    return node


def _all_nodes(ascending: np.ndarray) -> np.ndarray:
    """Every node over sorted leaves, a new read-only ``(2n - 1, 32)`` array in
    OpenZeppelin's layout: leaves at the end in descending order, root at 0."""
    n = len(ascending)
    nodes = np.empty((2 * n - 1, HASH_SIZE), dtype=np.uint8)
    nodes[n - 1 :] = ascending[::-1]
    depth = (2 * n - 1).bit_length() - 1  # the level of the last node, 2n - 2
    for level in range(depth - 1, -1, -1):
        start, stop = (1 << level) - 1, min((1 << (level + 1)) - 1, n - 1)
        if start < stop:  # internal nodes of this level; their children are contiguous
            _keccak.parents(nodes[2 * start + 1 : 2 * stop + 1], nodes[start:stop], cores())
    nodes.flags.writeable = False
    return nodes


def _sibling(index: int) -> int:
    return index + 1 if index % 2 else index - 1


def _top_nodes(leaves: np.ndarray, workers: int) -> np.ndarray:
    """Returns nodes ``0 .. 2^(c + 1) - 2``: every level down to level ``c``, the one
    ``_RECOMPUTED_LEVELS`` above the deepest internal level.

    Level ``c`` comes from the leaves (each node's subtree hashed in C, in parallel), the
    levels above it one batch each. Level ``c`` is always full: ``2^c <= n``.
    """
    n = len(leaves)
    depth = (2 * n - 1).bit_length() - 1  # the level of the last node, 2n - 2
    cut = max(0, depth - 1 - _RECOMPUTED_LEVELS)
    top = np.empty(((1 << (cut + 1)) - 1, HASH_SIZE), dtype=np.uint8)
    first = (1 << cut) - 1
    _keccak.subtree_roots(leaves, first, top[first:], workers)
    for level in range(cut - 1, -1, -1):
        start, stop = (1 << level) - 1, (1 << (level + 1)) - 1
        _keccak.parents(top[2 * start + 1 : 2 * stop + 1], top[start:stop], workers)
    return top


def encode_leaf_list(hashes: HashesLike) -> bytes:
    """Returns the leaf list file: the datapoint hashes in dataset order, 32 bytes each.

    No header and nothing after: ``n * 32`` bytes for ``n`` datapoints. Sorting into
    leaves is part of the tree rule, so the file keeps dataset order and position ``i``
    is bytes ``32 i .. 32 i + 31``. A ``bytes`` argument is returned as it is (no copy).
    """
    if isinstance(hashes, bytes) and len(hashes) % HASH_SIZE == 0:
        return hashes
    return as_hash_array(hashes).tobytes()


def decode_leaf_list(data: bytes | bytearray | memoryview, count: int | None = None) -> np.ndarray:
    """Returns the datapoint hashes of a leaf list as a read-only ``(n, 32)`` uint8 array.

    Args:
        data: the leaf list file's bytes.
        count: the number of datapoints the commitment claims, if known.

    Raises:
        IntegrityError: the data is empty, not a whole number of 32-byte hashes, or
            holds a different number of hashes than ``count``.
    """
    size = len(data)
    if size == 0 or size % HASH_SIZE:
        raise IntegrityError(
            f"leaf list of {size} bytes is not a non-empty run of 32-byte hashes",
            "fetch the leaf list again; this file is truncated or is not a leaf list",
        )
    if count is not None and size // HASH_SIZE != count:
        raise IntegrityError(
            f"leaf list holds {size // HASH_SIZE} hashes but the commitment counts {count} datapoints",
            "fetch the leaf list named by the commitment",
        )
    return as_hash_array(bytes(data))
