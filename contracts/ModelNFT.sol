// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IDatasetNFT} from "./interfaces/IDatasetNFT.sol";
import {IModelNFT} from "./interfaces/IModelNFT.sol";
import {IpfsURI} from "./lib/IpfsURI.sol";
import {MerkleLeaf} from "./lib/MerkleLeaf.sol";
import {MintCommitments} from "./lib/MintCommitments.sol";
import {RootClaims} from "./lib/RootClaims.sol";

/**
 * @title ModelNFT
 * @dev ERC-721 registry of models, see {IModelNFT}. Token ids start at 1, so 0 can mean "none"
 * in {tokenOfWeights} and in `parentId`. Minting is permissionless; a record is written once
 * and has no setter, and each kind of fingerprint can be committed once, by the token's owner
 * (or by its minter, in the mint's transaction). Tokens cannot be burned, so a record exists
 * exactly when its token does. A weights root can be claimed by several tokens (see
 * {RootClaims}).
 *
 * Dataset ids are checked against the {IDatasetNFT} registry given at deployment. Metadata and
 * fingerprint URIs are stored as CID codec and digest (see {IpfsURI}).
 *
 * An OML commitment is the Merkle root of salted fingerprint digests; {revealFingerprints}
 * publishes fingerprints against it and records each digest, so a revealed fingerprint counts
 * as evidence once. Digests name the chain, this contract and the token, and a root is
 * committed on one token only, so neither a commitment nor a reveal can be copied to another.
 */
contract ModelNFT is ERC721, MintCommitments, IModelNFT {
    using RootClaims for RootClaims.Claims;

    /// @dev The most datasets one model can list; bounds the duplicate check and the record size.
    uint256 public constant MAX_DATASETS = 64;

    // A fingerprint as stored: the URI as CID codec and digest, codec 0 for "no URI";
    // `revealed` counts the OML fingerprints revealed so far (in the same slot as the time).
    struct StoredFingerprint {
        bytes32 commitment;
        bytes32 uriDigest;
        uint64 committedAt;
        uint8 uriCodec;
        uint64 revealed;
    }

    IDatasetNFT private immutable _datasetRegistry;

    mapping(uint256 tokenId => Model) private _models;
    RootClaims.Claims private _claims;
    mapping(bytes32 commitment => uint256 tokenId) private _tokenOfOml;
    mapping(uint256 tokenId => mapping(FingerprintKind => StoredFingerprint)) private _fingerprints;
    mapping(uint256 tokenId => mapping(bytes32 digest => bool)) private _revealed;
    // The claim of the same weights root before each token (0 for a root's first claim).
    mapping(uint256 tokenId => uint40 previousClaim) private _previousClaims;

    // Starts at 1 so that the first mint updates a non-zero slot and ids start at 1. A uint40,
    // as RootClaims stores ids: checked arithmetic reverts the 2^40th mint, 10^17 gas away.
    uint40 private _nextTokenId = 1;

    /// @param datasetRegistry_ The dataset registry that `datasetIds` refer to.
    constructor(IDatasetNFT datasetRegistry_) ERC721("modelmint Model", "MMODEL") {
        _datasetRegistry = datasetRegistry_;
    }

    /// @inheritdoc IModelNFT
    function mint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds
    ) external returns (uint256 tokenId) {
        // block.timestamp reaches 2^48 in about 8.9 million years.
        return _mintModel(to, weightsRoot, metadataURI, parentId, datasetIds, uint48(block.timestamp));
    }

    /// @inheritdoc IModelNFT
    function mintWithFingerprint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds,
        MintFingerprint calldata oml
    ) external returns (uint256 tokenId) {
        if (oml.tokenId != _nextTokenId) {
            revert ModelUnexpectedTokenId(oml.tokenId, _nextTokenId);
        }
        tokenId = _mintModel(to, weightsRoot, metadataURI, parentId, datasetIds, uint48(block.timestamp));
        _commit(tokenId, FingerprintKind.OML, oml.commitment, oml.uri);
    }

    /// @inheritdoc IModelNFT
    function revealMint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds,
        bytes32 salt,
        MintFingerprint calldata oml
    ) external returns (uint256 tokenId) {
        bool withOml = oml.commitment != 0;
        if (withOml && oml.tokenId != _nextTokenId) revert ModelUnexpectedTokenId(oml.tokenId, _nextTokenId);
        uint48 claimedAt = _useMintCommitment(weightsRoot, salt);
        tokenId = _mintModel(to, weightsRoot, metadataURI, parentId, datasetIds, claimedAt);
        if (withOml) _commit(tokenId, FingerprintKind.OML, oml.commitment, oml.uri);
    }

    /// @inheritdoc IModelNFT
    function commitFingerprint(uint256 tokenId, FingerprintKind kind, bytes32 commitment, string calldata uri)
        external
    {
        _checkAuthorized(tokenId);
        _commit(tokenId, kind, commitment, uri);
    }

    /// @inheritdoc IModelNFT
    function revealFingerprints(
        uint256 tokenId,
        FingerprintReveal[] calldata reveals,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external {
        _checkAuthorized(tokenId);
        StoredFingerprint storage stored = _fingerprints[tokenId][FingerprintKind.OML];
        bytes32 root = stored.commitment;
        if (root == 0) revert ModelFingerprintNotCommitted(tokenId, FingerprintKind.OML);
        uint256 count = reveals.length;
        if (count == 0) revert ModelEmptyReveal(tokenId);

        bytes32[] memory leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            leaves[i] = _markRevealed(tokenId, reveals[i]);
        }
        // An empty leaf list was refused above: OpenZeppelin accepts it with `proof == [root]`.
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, root, leaves)) {
            revert ModelInvalidFingerprintProof(tokenId, root);
        }
        // casting to 'uint64' is safe because each reveal writes a fresh storage slot (over
        // 20,000 gas), so no transaction can carry 2^64 of them
        // forge-lint: disable-next-line(unsafe-typecast)
        stored.revealed += uint64(count);
    }

    /// @inheritdoc IModelNFT
    function fingerprintDigest(uint256 tokenId, bytes32 salt, string calldata key, string calldata response)
        public
        view
        returns (bytes32)
    {
        return keccak256(
            abi.encode(block.chainid, address(this), tokenId, salt, keccak256(bytes(key)), keccak256(bytes(response)))
        );
    }

    /// @inheritdoc IModelNFT
    function tokenOfFingerprint(bytes32 commitment) external view returns (uint256) {
        return _tokenOfOml[commitment];
    }

    /// @inheritdoc IModelNFT
    function fingerprintRevealed(uint256 tokenId, bytes32 digest) external view returns (bool) {
        _record(tokenId);
        return _revealed[tokenId][digest];
    }

    /// @inheritdoc IModelNFT
    function revealedFingerprintCount(uint256 tokenId) external view returns (uint256) {
        _record(tokenId);
        return _fingerprints[tokenId][FingerprintKind.OML].revealed;
    }

    /// @inheritdoc IModelNFT
    function model(uint256 tokenId) external view returns (Model memory) {
        return _record(tokenId);
    }

    /// @inheritdoc IModelNFT
    function fingerprint(uint256 tokenId, FingerprintKind kind) external view returns (Fingerprint memory) {
        _record(tokenId);
        StoredFingerprint storage stored = _fingerprints[tokenId][kind];
        string memory uri = stored.uriCodec == 0 ? "" : IpfsURI.format(stored.uriCodec, stored.uriDigest);
        return Fingerprint({commitment: stored.commitment, committedAt: stored.committedAt, uri: uri});
    }

    /// @inheritdoc IModelNFT
    function tokenOfWeights(bytes32 weightsRoot) external view returns (uint256) {
        return _claims.first(weightsRoot, _previousClaim, _claimedAt);
    }

    /// @inheritdoc IModelNFT
    function claimsOfWeights(bytes32 weightsRoot) external view returns (uint256[] memory tokenIds) {
        return _claims.list(weightsRoot, _previousClaim, _claimedAt);
    }

    /// @inheritdoc IModelNFT
    function exists(uint256 tokenId) external view returns (bool) {
        return _exists(tokenId);
    }

    /// @inheritdoc IModelNFT
    function totalMinted() external view returns (uint256) {
        // _nextTokenId starts at 1 and only grows, so this cannot underflow.
        unchecked {
            return _nextTokenId - 1;
        }
    }

    /// @inheritdoc IModelNFT
    function datasetRegistry() external view returns (address) {
        return address(_datasetRegistry);
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
        Model storage record = _record(tokenId);
        return IpfsURI.format(record.metadataCodec, record.metadataDigest);
    }

    /**
     * @dev See {IERC165-supportsInterface}; adds {IModelNFT}.
     *
     * @param interfaceId The ERC-165 interface id.
     * @return Whether this contract implements it.
     */
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IModelNFT).interfaceId || super.supportsInterface(interfaceId);
    }

    /**
     * @dev Checks and stores a new model record claimed at `claimedAt`, then mints its token to
     * `to`.
     *
     * Emits a {ModelMinted} and an {IERC721-Transfer} event.
     */
    function _mintModel(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds,
        uint48 claimedAt
    ) private returns (uint256 tokenId) {
        if (weightsRoot == 0) revert ModelZeroWeightsRoot();
        if (parentId != 0 && !_exists(parentId)) {
            revert ModelUnknownParent(parentId);
        }

        uint40 id = _nextTokenId;
        ++_nextTokenId;
        tokenId = id;
        Model storage record = _models[tokenId];
        _writeRecord(record, weightsRoot, metadataURI, parentId, datasetIds);
        record.claimedAt = claimedAt;
        _addClaim(weightsRoot, id);
        _mint(to, tokenId);

        emit ModelMinted(tokenId, to, weightsRoot, parentId, datasetIds, metadataURI);
    }

    /**
     * @dev Commits a fingerprint of `kind` on the existing token `tokenId`; who may is checked
     * by the caller.
     *
     * Emits a {FingerprintCommitted} event.
     */
    function _commit(uint256 tokenId, FingerprintKind kind, bytes32 commitment, string calldata uri) private {
        StoredFingerprint storage stored = _fingerprints[tokenId][kind];
        // Commitments are never zero, so a non-zero one marks the kind as committed.
        if (stored.commitment != 0) revert ModelFingerprintAlreadyCommitted(tokenId, kind);
        if (commitment == 0) revert ModelZeroCommitment();
        if (kind == FingerprintKind.OML) {
            // Leaves name their token, so the root of another token's leaves is no evidence here;
            // refusing it keeps a copied commitment off the record altogether.
            uint256 other = _tokenOfOml[commitment];
            if (other != 0) revert ModelFingerprintCommittedElsewhere(commitment, other);
            _tokenOfOml[commitment] = tokenId;
        }

        stored.commitment = commitment;
        // block.timestamp reaches 2^64 in about 5.8e11 years.
        stored.committedAt = uint64(block.timestamp);
        if (bytes(uri).length != 0) {
            (stored.uriCodec, stored.uriDigest) = IpfsURI.parse(uri);
        }

        emit FingerprintCommitted(tokenId, kind, commitment, uri);
    }

    /// @dev When the claim of an existing token `tokenId` was fixed.
    function _claimedAt(uint256 tokenId) private view returns (uint48) {
        return _models[tokenId].claimedAt;
    }

    /**
     * @dev Reverts unless the caller owns model `tokenId` or is approved for it, by token or as
     * an operator: the ERC-721 rule, which DatasetNFT's `mintVersion` follows too. An approved
     * address could take the token with `transferFrom` and then act as its owner, so refusing
     * it would protect nothing; accepting it lets an owner (a multisig, a vault) delegate.
     */
    function _checkAuthorized(uint256 tokenId) private view {
        address owner = _requireOwned(tokenId);
        if (!_isAuthorized(owner, _msgSender(), tokenId)) revert ModelUnauthorized(tokenId, _msgSender());
    }

    /// @dev Adds the new token `id` to the claims of `weightsRoot`, linked to the claim before.
    function _addClaim(bytes32 weightsRoot, uint40 id) private {
        uint40 previousClaim = _claims.add(weightsRoot, id, 0);
        if (previousClaim != 0) _previousClaims[id] = previousClaim;
    }

    /// @dev The claim of the same weights root before the existing token `tokenId`, 0 if none.
    function _previousClaim(uint256 tokenId) private view returns (uint256) {
        return _previousClaims[tokenId];
    }

    /// @dev Whether model `tokenId` was minted (every record has a non-zero weights root).
    function _exists(uint256 tokenId) private view returns (bool) {
        return _models[tokenId].weightsRoot != 0;
    }

    /**
     * @dev Fills the new `record`: parses `metadataURI` and checks that `datasetIds` are at most
     * {MAX_DATASETS} distinct existing dataset tokens, kept in the caller's order.
     *
     * The duplicate check is quadratic, at most 64 * 63 / 2 comparisons.
     */
    function _writeRecord(
        Model storage record,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds
    ) private {
        (record.metadataCodec, record.metadataDigest) = IpfsURI.parse(metadataURI);
        uint256 count = datasetIds.length;
        if (count > MAX_DATASETS) revert ModelTooManyDatasets(count, MAX_DATASETS);
        uint64[] memory lineage = new uint64[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 id = datasetIds[i];
            for (uint256 j = 0; j < i; ++j) {
                if (lineage[j] == id) revert ModelDuplicateDataset(id);
            }
            if (!_datasetRegistry.exists(id)) revert ModelUnknownDataset(id);
            lineage[i] = SafeCast.toUint64(id);
        }
        record.weightsRoot = weightsRoot;
        // casting to 'uint64' is safe because the parent is 0 or exists, so its id is below
        // _nextTokenId, itself a uint40
        // forge-lint: disable-next-line(unsafe-typecast)
        record.parentId = uint64(parentId);
        // block.timestamp reaches 2^64 in about 5.8e11 years.
        record.mintedAt = uint64(block.timestamp);
        record.datasetIds = lineage;
    }

    /// @dev The record of `tokenId`; reverts with {IERC721Errors-ERC721NonexistentToken} if unminted.
    function _record(uint256 tokenId) private view returns (Model storage record) {
        record = _models[tokenId];
        if (record.weightsRoot == 0) revert ERC721NonexistentToken(tokenId);
    }

    /**
     * @dev Records one revealed fingerprint of `tokenId` and returns its leaf. Marking each
     * digest as it comes also rejects a fingerprint listed twice in one reveal.
     *
     * Emits a {FingerprintRevealed} event.
     */
    function _markRevealed(uint256 tokenId, FingerprintReveal calldata item) private returns (bytes32) {
        bytes32 digest = fingerprintDigest(tokenId, item.salt, item.key, item.response);
        if (_revealed[tokenId][digest]) revert ModelFingerprintAlreadyRevealed(tokenId, digest);
        _revealed[tokenId][digest] = true;
        emit FingerprintRevealed(tokenId, digest, item.salt, item.key, item.response);
        return MerkleLeaf.hash(digest);
    }
}
