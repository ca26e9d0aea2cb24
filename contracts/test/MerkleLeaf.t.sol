// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {MerkleLeaf} from "../lib/MerkleLeaf.sol";
import {StandardMerkleTree} from "./utils/StandardMerkleTree.sol";

contract MerkleLeafTest is Test {
    /// @dev The shared leaf is the one the test tree builder (and @openzeppelin/merkle-tree) uses.
    function testFuzz_Hash_IsTheStandardMerkleTreeLeaf(bytes32 value) public pure {
        assertEq(MerkleLeaf.hash(value), StandardMerkleTree.leafHash(value));
        assertEq(MerkleLeaf.hash(value), keccak256(bytes.concat(keccak256(abi.encode(value)))));
    }
}
