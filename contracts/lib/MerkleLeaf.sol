// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title MerkleLeaf
 * @dev The leaf of a `bytes32` value in an OpenZeppelin `StandardMerkleTree`, shared by the
 * registries: a dataset's datapoint hashes (DatasetNFT) and a model's OML fingerprint digests
 * (ModelNFT) are both trees of `bytes32` values.
 */
library MerkleLeaf {
    /**
     * @dev The leaf of `value`: `keccak256(bytes.concat(keccak256(abi.encode(value))))`, hashed
     * twice so that no inner node (the hash of 64 bytes) can be passed off as a leaf.
     */
    function hash(bytes32 value) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(value))));
    }
}
