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
     * @dev The on-chain record of one dataset token, stored packed: the two hashes in two slots,
     * the other fields in a third, or, for a root's first claim, in the root's head slot.
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
     *
     * @param tokenId The new token.
     * @param to Its first owner.
     * @param merkleRoot The dataset's Merkle root.
     * @param datapointCount The number of datapoints, as the minter states it.
     * @param predecessorId The token this one is a new version of, 0 if none.
     * @param metadataURI The `ipfs://` URI of the metadata, as given.
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
     *
     * @param to The first owner of the token.
     * @param merkleRoot The root of the `StandardMerkleTree` of the datapoint hashes.
     * @param datapointCount The number of datapoints (the leaves of the tree).
     * @param metadataURI The canonical `ipfs://` CIDv1 URI of the metadata document.
     * @return tokenId The new token.
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
     *
     * @param to The first owner of the token.
     * @param merkleRoot The root of the new version's tree.
     * @param datapointCount The number of datapoints of the new version.
     * @param metadataURI The canonical `ipfs://` CIDv1 URI of its metadata document.
     * @param predecessorId The token this one is a new version of.
     * @return tokenId The new token.
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
     *
     * @param to The first owner of the token.
     * @param merkleRoot The root that was committed.
     * @param datapointCount The number of datapoints.
     * @param metadataURI The canonical `ipfs://` CIDv1 URI of the metadata document.
     * @param predecessorId The token this one is a new version of, 0 if none.
     * @param salt The salt of the commitment.
     * @return tokenId The new token.
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
     *
     * @param tokenId The dataset token.
     * @param datapointHash The SHA-256 of the datapoint.
     * @param proof The sibling hashes from the leaf up.
     * @return Whether the proof leads to the dataset's root.
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
     *
     * @param tokenId The dataset token.
     * @param datapointHashes The SHA-256 of each datapoint, in the multiproof's leaf order.
     * @param proof The multiproof's hashes.
     * @param proofFlags The multiproof's flags.
     * @return Whether the multiproof leads to the dataset's root with every given hash.
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
     *
     * @param tokenId The token.
     * @return The record stored at mint.
     */
    function dataset(uint256 tokenId) external view returns (Dataset memory);

    /**
     * @dev Returns the earliest claim of `merkleRoot`: the token with the lowest `claimedAt`,
     * the lowest id among equal times; 0 if the root has no claim. Earliest is not proof of
     * authorship: see {claimsOfRoot} for every claimant.
     * Found by walking the root's claims, one storage read a claim: a view, not for hot paths
     * of other contracts when a root may be contested.
     *
     * @param merkleRoot The dataset root.
     * @return The earliest claim, 0 if none.
     */
    function tokenOfRoot(bytes32 merkleRoot) external view returns (uint256);

    /**
     * @dev Returns every token that claims `merkleRoot`, ordered by `claimedAt`, then by id.
     *
     * @param merkleRoot The dataset root.
     * @return tokenIds Every claim of the root, earliest claim first.
     */
    function claimsOfRoot(bytes32 merkleRoot) external view returns (uint256[] memory tokenIds);

    /**
     * @dev Returns whether token `tokenId` has been minted.
     *
     * @param tokenId The token.
     * @return Whether it exists.
     */
    function exists(uint256 tokenId) external view returns (bool);

    /**
     * @dev Returns the number of tokens minted so far, which is also the highest token id.
     *
     * @return The number of tokens minted.
     */
    function totalMinted() external view returns (uint256);
}
