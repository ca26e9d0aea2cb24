// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IMintCommitments
 * @dev The first step of a mint that cannot be copied from the mempool. A minter first commits
 * `keccak256(abi.encode(root, minter, salt))`, which says nothing of the root, then, in a later
 * block, reveals the root and the salt in the mint itself. The commitment names the minter, so
 * a copied reveal sent from another address finds no commitment; and a claim is dated by its
 * commitment, so a reveal held up in the mempool keeps its place before any copy of it.
 */
interface IMintCommitments {
    /// @dev A mint commitment is zero.
    error MintCommitmentZero();

    /// @dev `commitment` was already made, at block `blockNumber`; a commitment is made once.
    error MintCommitmentExists(bytes32 commitment, uint256 blockNumber);

    /// @dev No commitment `commitment` is waiting: it was never made, was made by another minter
    /// or for another root or salt, or was used by an earlier mint.
    error MintCommitmentUnknown(bytes32 commitment);

    /// @dev `commitment` was made in block `committedBlock`; it can be revealed from the next
    /// block on, and this is block `currentBlock`.
    error MintCommitmentNotMatured(bytes32 commitment, uint256 committedBlock, uint256 currentBlock);

    /**
     * @dev Emitted when `minter` commits to a mint with `commitment`.
     *
     * @param commitment The commitment made.
     * @param minter The address that made it, the only one that can reveal it.
     */
    event MintCommitted(bytes32 indexed commitment, address indexed minter);

    /**
     * @dev Commits to a mint: `commitment` is {mintCommitmentOf} of the root to mint, the
     * caller and a secret random salt.
     *
     * Requirements:
     *
     * - `commitment` is not zero and has not been made before.
     *
     * Emits a {MintCommitted} event.
     *
     * @param commitment {mintCommitmentOf} the root, the caller and a secret salt.
     */
    function commitMint(bytes32 commitment) external;

    /**
     * @dev Returns the block number and timestamp of a waiting `commitment`; both are 0 if there
     * is none (never made, or already used).
     *
     * @param commitment The commitment to look up.
     * @return blockNumber The block it was made in, 0 if none is waiting.
     * @return timestamp That block's timestamp, 0 if none is waiting.
     */
    function mintCommitment(bytes32 commitment) external view returns (uint256 blockNumber, uint256 timestamp);

    /**
     * @dev Returns the commitment of a mint of `root` by `minter` with `salt`:
     * `keccak256(abi.encode(root, minter, salt))`.
     *
     * @param root The content root to mint.
     * @param minter The address that will send the reveal.
     * @param salt A secret random value that hides the root until the reveal.
     * @return The commitment to pass to {commitMint}.
     */
    function mintCommitmentOf(bytes32 root, address minter, bytes32 salt) external pure returns (bytes32);
}
