// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IDatasetNFT} from "./interfaces/IDatasetNFT.sol";
import {IpfsURI} from "./lib/IpfsURI.sol";
import {MintCommitments} from "./lib/MintCommitments.sol";
import {RootClaims} from "./lib/RootClaims.sol";

/**
 * @title DatasetNFT
 * @dev ERC-721 registry of datasets, see {IDatasetNFT}. Token ids start at 1, so 0 can mean
 * "none" in {tokenOfRoot} and in `predecessorId`. Minting is permissionless; a record is
 * written once and has no setter. Tokens cannot be burned, so a record exists exactly when its
 * token does. A root can be claimed by several tokens (see {RootClaims}).
 *
 * The metadata URI is stored as its CID codec and digest (see {IpfsURI}) rather than as a
 * string, which keeps a mint at a fixed cost whatever the dataset's size.
 */
contract DatasetNFT is ERC721, MintCommitments, IDatasetNFT {
    using RootClaims for RootClaims.Claims;

    mapping(uint256 tokenId => Dataset) private _datasets;
    RootClaims.Claims private _claims;

    // Starts at 1, not 0: the first mint then updates a non-zero slot (5,000 gas, not 22,100),
    // and ids start at 1. A uint64 because records store token ids as uint64.
    uint64 private _nextTokenId = 1;

    constructor() ERC721("modelmint Dataset", "MMDATA") {}

    /// @inheritdoc IDatasetNFT
    function mint(address to, bytes32 merkleRoot, uint64 datapointCount, string calldata metadataURI)
        external
        returns (uint256 tokenId)
    {
        // block.timestamp reaches 2^48 in about 8.9 million years.
        return _mintDataset(to, merkleRoot, datapointCount, metadataURI, 0, uint48(block.timestamp));
    }

    /// @inheritdoc IDatasetNFT
    function mintVersion(
        address to,
        bytes32 merkleRoot,
        uint64 datapointCount,
        string calldata metadataURI,
        uint256 predecessorId
    ) external returns (uint256 tokenId) {
        _checkVersion(predecessorId);
        return _mintDataset(to, merkleRoot, datapointCount, metadataURI, predecessorId, uint48(block.timestamp));
    }

    /// @inheritdoc IDatasetNFT
    function revealMint(
        address to,
        bytes32 merkleRoot,
        uint64 datapointCount,
        string calldata metadataURI,
        uint256 predecessorId,
        bytes32 salt
    ) external returns (uint256 tokenId) {
        if (predecessorId != 0) _checkVersion(predecessorId);
        uint48 claimedAt = _useMintCommitment(merkleRoot, salt);
        return _mintDataset(to, merkleRoot, datapointCount, metadataURI, predecessorId, claimedAt);
    }

    /// @inheritdoc IDatasetNFT
    function verifyDatapoint(uint256 tokenId, bytes32 datapointHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, _record(tokenId).merkleRoot, _leaf(datapointHash));
    }

    /// @inheritdoc IDatasetNFT
    function multiVerifyDatapoints(
        uint256 tokenId,
        bytes32[] calldata datapointHashes,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool) {
        bytes32 root = _record(tokenId).merkleRoot;
        // OpenZeppelin treats an empty leaf list with `proof == [root]` as a valid multiproof;
        // proving nothing must not read as success.
        if (datapointHashes.length == 0) return false;
        bytes32[] memory leaves = new bytes32[](datapointHashes.length);
        for (uint256 i = 0; i < datapointHashes.length; ++i) {
            leaves[i] = _leaf(datapointHashes[i]);
        }
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    /// @inheritdoc IDatasetNFT
    function dataset(uint256 tokenId) external view returns (Dataset memory) {
        return _record(tokenId);
    }

    /// @inheritdoc IDatasetNFT
    function tokenOfRoot(bytes32 merkleRoot) external view returns (uint256) {
        return _claims.first(merkleRoot);
    }

    /// @inheritdoc IDatasetNFT
    function claimsOfRoot(bytes32 merkleRoot) external view returns (uint256[] memory tokenIds) {
        return _claims.list(merkleRoot, _claimedAt);
    }

    /// @inheritdoc IDatasetNFT
    function exists(uint256 tokenId) external view returns (bool) {
        return _datasets[tokenId].merkleRoot != 0;
    }

    /// @inheritdoc IDatasetNFT
    function totalMinted() external view returns (uint256) {
        // _nextTokenId starts at 1 and only grows, so this cannot underflow.
        unchecked {
            return _nextTokenId - 1;
        }
    }

    /**
     * @dev Returns the `ipfs://` URI of the token's metadata, exactly as given at mint.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     */
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        Dataset storage record = _record(tokenId);
        return IpfsURI.format(record.metadataCodec, record.metadataDigest);
    }

    /// @dev See {IERC165-supportsInterface}; adds {IDatasetNFT}.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IDatasetNFT).interfaceId || super.supportsInterface(interfaceId);
    }

    /**
     * @dev Checks and stores a new dataset record, then mints its token to `to`.
     *
     * Uses {ERC721-_mint}, not `_safeMint`: minting is permissionless and to any address, and
     * the receiver check would add an external call (and ~2,600 gas) to every mint.
     *
     * Emits a {DatasetMinted} and an {IERC721-Transfer} event.
     */
    function _mintDataset(
        address to,
        bytes32 merkleRoot,
        uint64 datapointCount,
        string calldata metadataURI,
        uint256 predecessorId,
        uint48 claimedAt
    ) private returns (uint256 tokenId) {
        if (merkleRoot == 0) revert DatasetZeroRoot();
        if (datapointCount == 0) revert DatasetEmpty();
        (uint8 codec, bytes32 digest) = IpfsURI.parse(metadataURI);

        uint64 id = _nextTokenId++;
        tokenId = id;
        _datasets[tokenId] = Dataset({
            merkleRoot: merkleRoot,
            metadataDigest: digest,
            datapointCount: datapointCount,
            // casting to 'uint64' is safe because a predecessor exists, so its id is below
            // _nextTokenId, itself a uint64
            // forge-lint: disable-next-line(unsafe-typecast)
            predecessorId: uint64(predecessorId),
            // block.timestamp reaches 2^64 in about 5.8e11 years.
            mintedAt: uint64(block.timestamp),
            metadataCodec: codec,
            claimedAt: claimedAt
        });
        _claims.add(merkleRoot, id, claimedAt);
        _mint(to, tokenId);

        emit DatasetMinted(tokenId, to, merkleRoot, datapointCount, predecessorId, metadataURI);
    }

    /// @dev Reverts unless the caller may make a new version of `predecessorId` (owner or approved).
    function _checkVersion(uint256 predecessorId) private view {
        address predecessorOwner = _requireOwned(predecessorId);
        if (!_isAuthorized(predecessorOwner, _msgSender(), predecessorId)) {
            revert DatasetUnauthorizedVersion(predecessorId, _msgSender());
        }
    }

    /// @dev When the claim of an existing token `tokenId` was fixed.
    function _claimedAt(uint256 tokenId) private view returns (uint48) {
        return _datasets[tokenId].claimedAt;
    }

    /// @dev The record of `tokenId`; reverts with {IERC721Errors-ERC721NonexistentToken} if unminted.
    function _record(uint256 tokenId) private view returns (Dataset storage record) {
        record = _datasets[tokenId];
        if (record.merkleRoot == 0) revert ERC721NonexistentToken(tokenId);
    }

    /**
     * @dev The `StandardMerkleTree` leaf of a `bytes32` value: hashed twice, so that no inner
     * node (the hash of 64 bytes) can be passed off as a leaf.
     */
    function _leaf(bytes32 datapointHash) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(datapointHash))));
    }
}
