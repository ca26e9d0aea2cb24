// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {IDatasetNFT} from "./interfaces/IDatasetNFT.sol";
import {IpfsURI} from "./lib/IpfsURI.sol";
import {MerkleLeaf} from "./lib/MerkleLeaf.sol";
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

    // A record as stored: the two hashes, and one word of facts (see _packFacts) with the link
    // to the root's claim before this one in its top 40 bits. A root's first claim stores no
    // facts word: its facts ride in the root's head slot (RootClaims), which that mint writes
    // anyway, so an uncontested mint fills two record slots and the head, not three and the
    // head. Every other record's facts word is non-zero (its count is), so 0 marks the first.
    struct StoredDataset {
        bytes32 merkleRoot;
        bytes32 metadataDigest;
        uint256 facts;
    }

    // The facts word: datapointCount (64 bits), predecessorId (40), metadataCodec (8),
    // claimedAt (48), mintedAt (48), then the previous claim's id (40) in records: 248 bits.
    uint256 private constant _PREDECESSOR_SHIFT = 64;
    uint256 private constant _CODEC_SHIFT = 104;
    uint256 private constant _CLAIMED_AT_SHIFT = 112;
    uint256 private constant _MINTED_AT_SHIFT = 160;
    uint256 private constant _PREVIOUS_SHIFT = 208;

    mapping(uint256 tokenId => StoredDataset) private _datasets;
    RootClaims.Claims private _claims;

    // Starts at 1, not 0: the first mint then updates a non-zero slot (5,000 gas, not 22,100),
    // and ids start at 1. A uint40, as heads and links store ids: checked arithmetic reverts
    // the 2^40th mint, some 10^17 gas away.
    uint40 private _nextTokenId = 1;

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
        return MerkleProof.verifyCalldata(proof, _record(tokenId).merkleRoot, MerkleLeaf.hash(datapointHash));
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
            leaves[i] = MerkleLeaf.hash(datapointHashes[i]);
        }
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves);
    }

    /// @inheritdoc IDatasetNFT
    function dataset(uint256 tokenId) external view returns (Dataset memory) {
        StoredDataset storage record = _record(tokenId);
        uint256 facts = _facts(record);
        // The casts below read the fields back out of the facts word, where _packFacts put them
        // at these widths.
        // forge-lint: disable-start(unsafe-typecast)
        return Dataset({
            merkleRoot: record.merkleRoot,
            metadataDigest: record.metadataDigest,
            datapointCount: uint64(facts),
            predecessorId: uint40(facts >> _PREDECESSOR_SHIFT),
            mintedAt: uint48(facts >> _MINTED_AT_SHIFT),
            metadataCodec: uint8(facts >> _CODEC_SHIFT),
            claimedAt: uint48(facts >> _CLAIMED_AT_SHIFT)
        });
        // forge-lint: disable-end(unsafe-typecast)
    }

    /// @inheritdoc IDatasetNFT
    function tokenOfRoot(bytes32 merkleRoot) external view returns (uint256) {
        return _claims.first(merkleRoot, _previousClaim, _claimedAt);
    }

    /// @inheritdoc IDatasetNFT
    function claimsOfRoot(bytes32 merkleRoot) external view returns (uint256[] memory tokenIds) {
        return _claims.list(merkleRoot, _previousClaim, _claimedAt);
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
     *
     * @param tokenId The token.
     * @return The `ipfs://` URI of its metadata document.
     */
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        StoredDataset storage record = _record(tokenId);
        // casting to 'uint8' is safe because the codec is 8 bits of the facts word
        // forge-lint: disable-next-line(unsafe-typecast)
        return IpfsURI.format(uint8(_facts(record) >> _CODEC_SHIFT), record.metadataDigest);
    }

    /**
     * @dev See {IERC165-supportsInterface}; adds {IDatasetNFT}.
     *
     * @param interfaceId The ERC-165 interface id.
     * @return Whether this contract implements it.
     */
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

        uint40 id = _nextTokenId;
        ++_nextTokenId;
        tokenId = id;
        // casting to 'uint40' is safe because a predecessor exists, so its id is below
        // _nextTokenId, itself a uint40
        // forge-lint: disable-next-line(unsafe-typecast)
        _store(id, merkleRoot, digest, _packFacts(datapointCount, uint40(predecessorId), codec, claimedAt));
        _mint(to, tokenId);

        emit DatasetMinted(tokenId, to, merkleRoot, datapointCount, predecessorId, metadataURI);
    }

    /**
     * @dev Writes the record of the new token `id` and adds it to the claims of `merkleRoot`:
     * the facts go into the root's head for its first claim, into the record, with the link to
     * the claim before, for any other.
     */
    function _store(uint40 id, bytes32 merkleRoot, bytes32 digest, uint256 facts) private {
        StoredDataset storage record = _datasets[id];
        record.merkleRoot = merkleRoot;
        record.metadataDigest = digest;
        uint40 previousClaim = _claims.add(merkleRoot, id, facts);
        if (previousClaim != 0) record.facts = facts | (uint256(previousClaim) << _PREVIOUS_SHIFT);
    }

    /// @dev Reverts unless the caller may make a new version of `predecessorId` (owner or approved).
    function _checkVersion(uint256 predecessorId) private view {
        address predecessorOwner = _requireOwned(predecessorId);
        if (!_isAuthorized(predecessorOwner, _msgSender(), predecessorId)) {
            revert DatasetUnauthorizedVersion(predecessorId, _msgSender());
        }
    }

    /**
     * @dev The facts word of a new record: `datapointCount`, `predecessorId`, `codec`,
     * `claimedAt` and the block's timestamp as `mintedAt` (it reaches 2^48 in 8.9 million years).
     */
    function _packFacts(uint64 datapointCount, uint40 predecessorId, uint8 codec, uint48 claimedAt)
        private
        view
        returns (uint256)
    {
        return uint256(datapointCount) | (uint256(predecessorId) << _PREDECESSOR_SHIFT)
            | (uint256(codec) << _CODEC_SHIFT) | (uint256(claimedAt) << _CLAIMED_AT_SHIFT)
            | (uint256(uint48(block.timestamp)) << _MINTED_AT_SHIFT);
    }

    /// @dev The facts word of an existing `record`, from the root's head for a root's first claim.
    function _facts(StoredDataset storage record) private view returns (uint256 facts) {
        facts = record.facts;
        if (facts == 0) facts = _claims.firstClaimData(record.merkleRoot);
    }

    /// @dev When the claim of an existing token `tokenId` was fixed.
    function _claimedAt(uint256 tokenId) private view returns (uint48) {
        // casting to 'uint48' is safe because claimedAt is 48 bits of the facts word
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint48(_facts(_datasets[tokenId]) >> _CLAIMED_AT_SHIFT);
    }

    /// @dev The claim of the same root before the existing token `tokenId`, 0 if it is the first.
    function _previousClaim(uint256 tokenId) private view returns (uint256) {
        return _datasets[tokenId].facts >> _PREVIOUS_SHIFT;
    }

    /// @dev The record of `tokenId`; reverts with {IERC721Errors-ERC721NonexistentToken} if unminted.
    function _record(uint256 tokenId) private view returns (StoredDataset storage record) {
        record = _datasets[tokenId];
        if (record.merkleRoot == 0) revert ERC721NonexistentToken(tokenId);
    }
}
