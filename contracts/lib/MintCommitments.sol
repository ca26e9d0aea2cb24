// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMintCommitments} from "../interfaces/IMintCommitments.sol";

/**
 * @title MintCommitments
 * @dev Commit-reveal for mints, see {IMintCommitments}. A commitment is stored with its block
 * number and timestamp and deleted when its mint uses it, so a reveal cannot be replayed.
 */
abstract contract MintCommitments is IMintCommitments {
    // One word per waiting commitment: the block it was made in (low 64 bits) and its timestamp
    // (the 48 bits above). A single word is written and cleared without reading it first.
    mapping(bytes32 commitment => uint256 packed) private _mintCommitments;

    /// @inheritdoc IMintCommitments
    function commitMint(bytes32 commitment) external {
        if (commitment == 0) revert MintCommitmentZero();
        uint256 stored = _mintCommitments[commitment];
        // casting to 'uint64' is safe because the block number is the low 64 bits of the word
        // forge-lint: disable-next-line(unsafe-typecast)
        if (stored != 0) revert MintCommitmentExists(commitment, uint64(stored));
        // Block numbers reach 2^64 and timestamps 2^48 (8.9 million years) long after any chain.
        _mintCommitments[commitment] = uint256(uint64(block.number)) | (uint256(uint48(block.timestamp)) << 64);
        emit MintCommitted(commitment, msg.sender);
    }

    /// @inheritdoc IMintCommitments
    function mintCommitment(bytes32 commitment) external view returns (uint256 blockNumber, uint256 timestamp) {
        uint256 stored = _mintCommitments[commitment];
        // casting to 'uint64' is safe because the block number is the low 64 bits of the word
        // forge-lint: disable-next-line(unsafe-typecast)
        return (uint64(stored), stored >> 64);
    }

    /// @inheritdoc IMintCommitments
    function mintCommitmentOf(bytes32 root, address minter, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(root, minter, salt));
    }

    /**
     * @dev Uses the caller's commitment to `root` with `salt` and returns when it was made, the
     * time its claim is dated by.
     *
     * Requirements:
     *
     * - the commitment is waiting, and was made in an earlier block.
     */
    function _useMintCommitment(bytes32 root, bytes32 salt) internal returns (uint48 committedAt) {
        bytes32 commitment = mintCommitmentOf(root, msg.sender, salt);
        uint256 stored = _mintCommitments[commitment];
        // casting to 'uint64' is safe because the block number is the low 64 bits of the word
        // forge-lint: disable-next-line(unsafe-typecast)
        uint256 committedBlock = uint64(stored);
        // Every stored commitment has a non-zero block number: block 0 is the genesis block.
        if (committedBlock == 0) revert MintCommitmentUnknown(commitment);
        if (committedBlock >= block.number) {
            revert MintCommitmentNotMatured(commitment, committedBlock, block.number);
        }
        delete _mintCommitments[commitment];
        // casting to 'uint48' is safe because commitMint stored a uint48 there
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint48(stored >> 64);
    }
}
