// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMintCommitments} from "../interfaces/IMintCommitments.sol";

/**
 * @title MintCommitments
 * @dev Commit-reveal for mints, see {IMintCommitments}. A commitment is stored with its block
 * number and timestamp and deleted when its mint uses it, so a reveal cannot be replayed.
 */
abstract contract MintCommitments is IMintCommitments {
    // One slot per waiting commitment: the block it was made in and its timestamp.
    struct Commitment {
        uint64 blockNumber;
        uint48 timestamp;
    }

    mapping(bytes32 commitment => Commitment) private _mintCommitments;

    /// @inheritdoc IMintCommitments
    function commitMint(bytes32 commitment) external {
        if (commitment == 0) revert MintCommitmentZero();
        Commitment storage stored = _mintCommitments[commitment];
        if (stored.blockNumber != 0) revert MintCommitmentExists(commitment, stored.blockNumber);
        // Block numbers reach 2^64 and timestamps 2^48 (8.9 million years) long after any chain.
        stored.blockNumber = uint64(block.number);
        stored.timestamp = uint48(block.timestamp);
        emit MintCommitted(commitment, msg.sender);
    }

    /// @inheritdoc IMintCommitments
    function mintCommitment(bytes32 commitment) external view returns (uint256 blockNumber, uint256 timestamp) {
        Commitment storage stored = _mintCommitments[commitment];
        return (stored.blockNumber, stored.timestamp);
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
        Commitment memory stored = _mintCommitments[commitment];
        if (stored.blockNumber == 0) revert MintCommitmentUnknown(commitment);
        if (stored.blockNumber >= block.number) {
            revert MintCommitmentNotMatured(commitment, stored.blockNumber, block.number);
        }
        delete _mintCommitments[commitment];
        return stored.timestamp;
    }
}
