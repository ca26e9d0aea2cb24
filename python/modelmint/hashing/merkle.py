"""The dataset Merkle tree, identical to OpenZeppelin's ``StandardMerkleTree``.

``MerkleTree.build(hashes)`` gives the same root, proofs and multiproofs as
``StandardMerkleTree.of(hashes.map(h => [h]), ['bytes32'])`` from
``@openzeppelin/merkle-tree`` with its default options (leaves sorted), so proofs verify
with OpenZeppelin's ``MerkleProof`` library on chain. docs/hashing.md specifies the tree
and the leaf list, the file from which anyone rebuilds it.

Nodes live in one ``(2n - 1, 32)`` uint8 array in OpenZeppelin's layout (root at 0,
children of ``i`` at ``2i + 1`` and ``2i + 2``, sorted leaf ``k`` at ``2n - 2 - k``), and
the order of datapoints is two integer arrays: memory is 64 bytes a leaf plus 16 bytes a
datapoint, with no Python object per node.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from Crypto.Hash import keccak as _keccak_mod

from modelmint.errors import InputError, IntegrityError

HASH_SIZE = 32

HashesLike = bytes | bytearray | memoryview | np.ndarray | Sequence[bytes]


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """Returns the Ethereum Keccak-256 digest of ``data`` (not NIST SHA3-256)."""
    return _keccak_mod.new(digest_bits=256, data=data).digest()


def leaf_hash(h: bytes) -> bytes:
    """Returns the tree leaf of a datapoint hash: ``keccak256(keccak256(abi.encode(h)))``.

    ``abi.encode`` of a ``bytes32`` is the 32 bytes themselves, so this is
    ``keccak256(keccak256(h))``, OpenZeppelin's standard leaf for ``['bytes32']``.
    """
    if len(h) != HASH_SIZE:
        raise ValueError(f"a datapoint hash is 32 bytes, got {len(h)}")
    return keccak256(keccak256(h))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Returns the parent of two nodes: the keccak256 of the smaller then the larger."""
    return keccak256(a + b) if a <= b else keccak256(b + a)


def as_hash_array(hashes: HashesLike) -> np.ndarray:
    """Returns datapoint hashes as a read-only ``(n, 32)`` uint8 array.

    Accepts a sequence of 32-byte ``bytes``, a buffer of ``n * 32`` bytes, or an
    ``(n, 32)`` uint8 array.
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
    array = np.ascontiguousarray(array)
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

    __slots__ = ("_hashes", "_nodes", "_order", "_slot")

    def __init__(self, hashes: np.ndarray, nodes: np.ndarray, order: np.ndarray) -> None:
        """Use :meth:`build`; this stores already-checked arrays."""
        self._hashes = hashes
        self._nodes = nodes
        # order[k]: the dataset position of the k-th smallest leaf; slot: its inverse.
        self._order = order
        self._slot = np.empty_like(order)
        self._slot[order] = np.arange(len(order), dtype=order.dtype)

    @classmethod
    def build(cls, hashes: HashesLike) -> MerkleTree:
        """Builds the tree of datapoint hashes given in dataset order.

        Args:
            hashes: the 32-byte SHA-256 of each datapoint, as a sequence of ``bytes``,
                a buffer of ``n * 32`` bytes, or an ``(n, 32)`` uint8 array; n >= 1.

        Raises:
            ValueError: there are no hashes, or one is not 32 bytes (a caller's bug:
                the dataset readers and :func:`decode_leaf_list` check both).
        """
        array = as_hash_array(hashes)
        n = len(array)
        if n == 0:
            raise ValueError("a Merkle tree needs at least one datapoint")
        raw = array.tobytes()
        leaves = b"".join(keccak256(keccak256(raw[i : i + HASH_SIZE])) for i in range(0, len(raw), HASH_SIZE))
        leaf_array = np.frombuffer(leaves, dtype=np.uint8).reshape(n, HASH_SIZE)
        # A stable sort keeps equal leaves (repeated datapoints) in dataset order, as
        # JavaScript's Array.prototype.sort does in OpenZeppelin's library.
        order = np.argsort(leaf_array.view(f"S{HASH_SIZE}").ravel(), kind="stable")
        nodes = np.empty((2 * n - 1, HASH_SIZE), dtype=np.uint8)
        nodes[n - 1 :] = leaf_array[order[::-1]]
        _fill_internal_nodes(nodes, n)
        nodes.flags.writeable = False
        return cls(array, nodes, order)

    @property
    def root(self) -> bytes:
        """The 32-byte root, as committed on chain."""
        return self._nodes[0].tobytes()

    def __len__(self) -> int:
        return len(self._hashes)

    @property
    def hashes(self) -> np.ndarray:
        """The datapoint hashes in dataset order, a read-only ``(n, 32)`` uint8 array."""
        return self._hashes

    def hash_at(self, position: int) -> bytes:
        """Returns the datapoint hash at a dataset position."""
        return self._hashes[self._check_position(position)].tobytes()

    def values_for(self, h: bytes) -> list[int]:
        """Returns the dataset positions, ascending, whose datapoint hash is ``h``."""
        if len(h) != HASH_SIZE:
            return []
        # The leaves sit in the node array in descending order; reversing the view gives
        # the ascending sequence bisect needs, without copying.
        ascending = self._nodes[len(self) - 1 :].view(f"S{HASH_SIZE}").ravel()[::-1]
        target = np.frombuffer(leaf_hash(bytes(h)), dtype=f"S{HASH_SIZE}")[0]
        lo = bisect.bisect_left(ascending, target)
        hi = bisect.bisect_right(ascending, target, lo=lo)
        return sorted(int(p) for p in self._order[lo:hi])

    def proof(self, position: int) -> list[bytes]:
        """Returns the proof for the datapoint at a dataset position, leaf to root.

        Raises:
            InputError: the position is outside the dataset.
        """
        index = self._tree_index(self._check_position(position))
        proof = []
        while index > 0:
            proof.append(self._nodes[_sibling(index)].tobytes())
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
        indices = sorted((self._tree_index(p) for p in wanted), reverse=True)
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
                proof.append(self._nodes[s].tobytes())
            stack.append((j - 1) // 2)
        if not indices:
            proof.append(self.root)
        n = len(self)
        leaves = tuple(self._hashes[self._order[2 * n - 2 - i]].tobytes() for i in indices)
        return MultiProof(leaves=leaves, proof=tuple(proof), proof_flags=tuple(flags))

    @staticmethod
    def verify(root: bytes, h: bytes, proof: Sequence[bytes]) -> bool:
        """Returns whether ``proof`` shows that datapoint hash ``h`` is in the tree of ``root``."""
        if len(h) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
            return False
        node = leaf_hash(bytes(h))
        for sibling in proof:
            node = node_hash(node, bytes(sibling))
        return node == bytes(root)

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
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)) or not 0 <= position < len(self):
            raise InputError(
                f"datapoint {position!r} is outside the dataset",
                f"give a position from 0 to {len(self) - 1}",
            )
        return int(position)

    def _tree_index(self, position: int) -> int:
        return 2 * len(self) - 2 - int(self._slot[position])


def _sibling(index: int) -> int:
    return index + 1 if index % 2 else index - 1


def _fill_internal_nodes(nodes: np.ndarray, n: int) -> None:
    """Hashes the internal nodes ``0 .. n-2`` in place, one heap level at a time.

    Children of a level all sit in deeper levels, so each level is one batch: the pair
    ordering is vectorised and only the keccak calls loop in Python.
    """
    if n == 1:
        return
    depth = (n - 1).bit_length() - 1  # the heap level of the last internal node, n - 2
    for level in range(depth, -1, -1):
        start = (1 << level) - 1
        stop = min((1 << (level + 1)) - 1, n - 1)
        left = np.ascontiguousarray(nodes[2 * start + 1 : 2 * stop + 1 : 2])
        right = np.ascontiguousarray(nodes[2 * start + 2 : 2 * stop + 2 : 2])
        swap = (left.view(f"S{HASH_SIZE}") > right.view(f"S{HASH_SIZE}")).ravel()
        pairs = np.empty((stop - start, 2 * HASH_SIZE), dtype=np.uint8)
        pairs[:, :HASH_SIZE] = np.where(swap[:, None], right, left)
        pairs[:, HASH_SIZE:] = np.where(swap[:, None], left, right)
        raw = pairs.tobytes()
        step = 2 * HASH_SIZE
        parents = b"".join(keccak256(raw[i : i + step]) for i in range(0, len(raw), step))
        nodes[start:stop] = np.frombuffer(parents, dtype=np.uint8).reshape(-1, HASH_SIZE)


def encode_leaf_list(hashes: HashesLike) -> bytes:
    """Returns the leaf list file: the datapoint hashes in dataset order, 32 bytes each.

    No header and nothing after: ``n * 32`` bytes for ``n`` datapoints. Sorting into
    leaves is part of the tree rule, so the file keeps dataset order and position ``i``
    is bytes ``32 i .. 32 i + 31``.
    """
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
