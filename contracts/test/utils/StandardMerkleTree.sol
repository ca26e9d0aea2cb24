// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/**
 * @dev Test-only Solidity port of `StandardMerkleTree.of(values, ["bytes32"])` from the npm
 * package openzeppelin/merkle-tree 1.0.8 (dist/core.js, dist/merkletree.js): leaves are the double
 * keccak of each value, sorted ascending (stable), laid out right to left at the end of a
 * 2n-1 node array; proofs and multiproofs follow `getProof` and `getMultiProof`.
 * Quadratic sorting: meant for the tens of leaves fuzz tests use.
 */
library StandardMerkleTree {
    struct Tree {
        bytes32[] nodes;
        bytes32[] values;
        uint256[] nodeOfValue;
    }

    struct MultiProof {
        bytes32[] leaves; // values, in the order the multiproof consumes them
        bytes32[] proof;
        bool[] proofFlags;
    }

    function leafHash(bytes32 value) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(value))));
    }

    function build(bytes32[] memory values) internal pure returns (Tree memory tree) {
        uint256 n = values.length;
        require(n > 0, "StandardMerkleTree: no values");
        bytes32[] memory hashes = new bytes32[](n);
        uint256[] memory order = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 h = leafHash(values[i]);
            uint256 j = i;
            while (j > 0 && hashes[j - 1] > h) {
                hashes[j] = hashes[j - 1];
                order[j] = order[j - 1];
                --j;
            }
            hashes[j] = h;
            order[j] = i;
        }
        tree.values = values;
        tree.nodes = new bytes32[](2 * n - 1);
        tree.nodeOfValue = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 node = 2 * n - 2 - i;
            tree.nodes[node] = hashes[i];
            tree.nodeOfValue[order[i]] = node;
        }
        for (uint256 i = n - 1; i > 0; --i) {
            tree.nodes[i - 1] = Hashes.commutativeKeccak256(tree.nodes[2 * i - 1], tree.nodes[2 * i]);
        }
    }

    function root(Tree memory tree) internal pure returns (bytes32) {
        return tree.nodes[0];
    }

    function proof(Tree memory tree, uint256 valueIndex) internal pure returns (bytes32[] memory path) {
        uint256 node = tree.nodeOfValue[valueIndex];
        uint256 depth = 0;
        for (uint256 i = node; i > 0; i = (i - 1) / 2) {
            ++depth;
        }
        path = new bytes32[](depth);
        for (uint256 k = 0; k < depth; ++k) {
            path[k] = tree.nodes[_sibling(node)];
            node = (node - 1) / 2;
        }
    }

    /// @dev `valueIndices` must be distinct; the result lists leaves as OpenZeppelin orders them.
    function multiProof(Tree memory tree, uint256[] memory valueIndices) internal pure returns (MultiProof memory mp) {
        uint256 m = valueIndices.length;
        // Tree indices, sorted descending.
        uint256[] memory indices = new uint256[](m);
        for (uint256 i = 0; i < m; ++i) {
            uint256 node = tree.nodeOfValue[valueIndices[i]];
            uint256 j = i;
            while (j > 0 && indices[j - 1] < node) {
                indices[j] = indices[j - 1];
                --j;
            }
            indices[j] = node;
        }
        mp.leaves = new bytes32[](m);
        for (uint256 i = 0; i < m; ++i) {
            mp.leaves[i] = _valueAt(tree, indices[i]);
        }

        // A queue over a buffer long enough for every node the walk can push.
        uint256[] memory queue = new uint256[](m + tree.nodes.length);
        uint256 head = 0;
        uint256 tail = m;
        for (uint256 i = 0; i < m; ++i) {
            queue[i] = indices[i];
        }
        bytes32[] memory proofBuf = new bytes32[](tree.nodes.length);
        bool[] memory flagBuf = new bool[](tree.nodes.length);
        uint256 proofLen = 0;
        uint256 flagLen = 0;
        while (head < tail && queue[head] > 0) {
            uint256 j = queue[head++];
            uint256 s = _sibling(j);
            if (head < tail && queue[head] == s) {
                flagBuf[flagLen++] = true;
                ++head;
            } else {
                flagBuf[flagLen++] = false;
                proofBuf[proofLen++] = tree.nodes[s];
            }
            queue[tail++] = (j - 1) / 2;
        }
        if (m == 0) proofBuf[proofLen++] = tree.nodes[0];
        mp.proof = new bytes32[](proofLen);
        for (uint256 i = 0; i < proofLen; ++i) {
            mp.proof[i] = proofBuf[i];
        }
        mp.proofFlags = new bool[](flagLen);
        for (uint256 i = 0; i < flagLen; ++i) {
            mp.proofFlags[i] = flagBuf[i];
        }
    }

    function _sibling(uint256 node) private pure returns (uint256) {
        return node % 2 == 1 ? node + 1 : node - 1;
    }

    function _valueAt(Tree memory tree, uint256 node) private pure returns (bytes32) {
        for (uint256 v = 0; v < tree.values.length; ++v) {
            if (tree.nodeOfValue[v] == node) return tree.values[v];
        }
        revert("StandardMerkleTree: not a leaf");
    }
}
