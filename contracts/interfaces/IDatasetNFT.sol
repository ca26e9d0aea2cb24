// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMintCommitments} from "./IMintCommitments.sol";

/**
 * @title IDatasetNFT
 * @dev A registry of datasets as ERC-721 tokens. Each token commits to a dataset by the Merkle
 * root of its datapoint hashes (SHA-256 of each datapoint), built as an OpenZeppelin
 * `StandardMerkleTree` over `bytes32` values, so anyone holding a datapoint and its proof can
 * show on chain that it belongs to the dataset. Records never change after minting.
 *
 * A root is never reserved: anyone can compute a public dataset's root, so every mint of it is
 * a claim, recorded with its time, and {claimsOfRoot} lists them all. {commitMint} then
 * {revealMint} makes a claim that cannot be copied from the mempool (see {IMintCommitments});
 * {mint} is the one-transaction form for devnets and private chains.
 */
interface IDatasetNFT is IMintCommitments {
    /**
     * @dev The on-chain record of one dataset token, packed into three storage slots.
     *
     * `metadataCodec` and `metadataDigest` are the CID of the metadata document on IPFS
     * (see {IpfsURI}); `predecessorId` is the token this one is a new version of (0 = none);
     * `mintedAt` is the block timestamp of the mint; `claimedAt` the time the claim was fixed:
     * the timestamp of the mint commitment for {revealMint}, of the mint itself for {mint}.
     * `datapointCount` is the minter's statement, which the contract cannot check: a reader
     * compares it with the leaf list (docs/security.md).
     */
    struct Dataset {
        bytes32 merkleRoot;
        bytes32 metadataDigest;
        uint64 datapointCount;
        uint64 predecessorId;
        uint64 mintedAt;
        uint8 metadataCodec;
        uint48 claimedAt;
    }

    /// @dev The Merkle root is zero, which no tree of hashes produces.
    error DatasetZeroRoot();

    /// @dev The dataset has no datapoints.
    error DatasetEmpty();

    /// @dev `sender` is neither the owner of `predecessorId` nor approved for it.
    error DatasetUnauthorizedVersion(uint256 predecessorId, address sender);

    /**
     * @dev Emitted when token `tokenId` is minted to `to` for the dataset with `merkleRoot`;
     * `predecessorId` is 0 for a first version.
     */
    event DatasetMinted(
        uint256 indexed tokenId,
        address indexed to,
        bytes32 indexed merkleRoot,
        uint64 datapointCount,
        uint256 predecessorId,
        string metadataURI
    );

    /**
     * @dev Mints a token for a new dataset to `to` and returns its id. Anyone may mint.
     *
     * Requirements:
     *
     * - `merkleRoot` is not zero (it may be claimed already: this adds a claim).
     * - `datapointCount` is not zero.
     * - `metadataURI` is a canonical `ipfs://` CIDv1 URI (see {IpfsURI-parse}).
     * - `to` is not the zero address.
     *
     * Emits a {DatasetMinted} and an {IERC721-Transfer} event.
     */
    function mint(address to, bytes32 merkleRoot, uint64 datapointCount, string calldata metadataURI)
        external
        returns (uint256 tokenId);

    /**
     * @dev Mints a token for a new version of the dataset `predecessorId` to `to` and returns
     * its id.
     *
     * Requirements:
     *
     * - `predecessorId` exists, and the caller owns it or is approved for it.
     * - the requirements of {mint}.
     *
     * Emits a {DatasetMinted} and an {IERC721-Transfer} event.
     */
    function mintVersion(
        address to,
        bytes32 merkleRoot,
        uint64 datapointCount,
        string calldata metadataURI,
        uint256 predecessorId
    ) external returns (uint256 tokenId);

    /**
     * @dev Mints the claim committed with {commitMint}: as {mint} (or {mintVersion} when
     * `predecessorId` is not 0), with the claim dated by the commitment.
     *
     * Requirements:
     *
     * - the caller committed `mintCommitmentOf(merkleRoot, caller, salt)` in an earlier block,
     *   and that commitment has not been used.
     * - the requirements of {mint}, and of {mintVersion} when `predecessorId` is not 0.
     *
     * Emits a {DatasetMinted} and an {IERC721-Transfer} event.
     */
    function revealMint(
        address to,
        bytes32 merkleRoot,
        uint64 datapointCount,
        string calldata metadataURI,
        uint256 predecessorId,
        bytes32 salt
    ) external returns (uint256 tokenId);

    /**
     * @dev Returns whether the datapoint with SHA-256 `datapointHash` is in dataset `tokenId`,
     * given its `StandardMerkleTree` proof.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     */
    function verifyDatapoint(uint256 tokenId, bytes32 datapointHash, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /**
     * @dev Returns whether all `datapointHashes` are in dataset `tokenId`, given a
     * `StandardMerkleTree` multiproof; the hashes must be in the order of the multiproof's
     * leaves. An empty list is never proven.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     * - the lengths of the lists fit together (otherwise `MerkleProofInvalidMultiproof`).
     */
    function multiVerifyDatapoints(
        uint256 tokenId,
        bytes32[] calldata datapointHashes,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool);

    /**
     * @dev Returns the record of token `tokenId`.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     */
    function dataset(uint256 tokenId) external view returns (Dataset memory);

    /**
     * @dev Returns the earliest claim of `merkleRoot`: the token with the lowest `claimedAt`,
     * the lowest id among equal times; 0 if the root has no claim. Earliest is not proof of
     * authorship: see {claimsOfRoot} for every claimant.
     */
    function tokenOfRoot(bytes32 merkleRoot) external view returns (uint256);

    /// @dev Returns every token that claims `merkleRoot`, ordered by `claimedAt`, then by id.
    function claimsOfRoot(bytes32 merkleRoot) external view returns (uint256[] memory tokenIds);

    /// @dev Returns whether token `tokenId` has been minted.
    function exists(uint256 tokenId) external view returns (bool);

    /// @dev Returns the number of tokens minted so far, which is also the highest token id.
    function totalMinted() external view returns (uint256);
}
