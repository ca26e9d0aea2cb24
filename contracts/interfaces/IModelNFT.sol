// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IModelNFT
 * @dev A registry of trained models as ERC-721 tokens. Each token commits to a model's weights
 * (`weightsRoot`), records its lineage (the parent model it was derived from and the
 * {IDatasetNFT} tokens it was trained on) and, later, commitments to ownership fingerprints.
 * The record is immutable; a fingerprint of each kind can be committed once.
 */
interface IModelNFT {
    /**
     * @dev Kinds of model fingerprint: `HuRef`, invariants of the weights that survive
     * fine-tuning and re-parametrisation; `OML`, secret prompt/response pairs trained into the
     * model, revealed later to prove ownership.
     */
    enum FingerprintKind {
        HuRef,
        OML
    }

    /**
     * @dev One OML fingerprint made public: the secret prompt `key`, the `response` the
     * fingerprinted model gives, and the `salt` that hid them in the commitment. Its committed
     * value is `keccak256(abi.encode(salt, key, response))` (see {revealFingerprints}).
     */
    struct FingerprintReveal {
        bytes32 salt;
        string key;
        string response;
    }

    /**
     * @dev The on-chain record of one model token. `metadataCodec` and `metadataDigest` are the
     * CID of the metadata document on IPFS (see {IpfsURI}); `parentId` is the model this one was
     * derived from (0 = none); `datasetIds` are {IDatasetNFT} token ids; `mintedAt` is the block
     * timestamp of the mint.
     */
    struct Model {
        bytes32 weightsRoot;
        bytes32 metadataDigest;
        uint64 parentId;
        uint64 mintedAt;
        uint8 metadataCodec;
        uint64[] datasetIds;
    }

    /**
     * @dev A fingerprint commitment: `commitment` binds the fingerprint without revealing it,
     * `uri` optionally points at a document on IPFS (empty if none), `committedAt` is the block
     * timestamp of the commitment (0 = nothing committed).
     */
    struct Fingerprint {
        bytes32 commitment;
        uint64 committedAt;
        string uri;
    }

    /// @dev `parentId` is not a model token.
    error ModelUnknownParent(uint256 parentId);

    /// @dev `datasetId` is not a token of the dataset registry.
    error ModelUnknownDataset(uint256 datasetId);

    /// @dev `datasetId` appears more than once in the list of datasets.
    error ModelDuplicateDataset(uint256 datasetId);

    /// @dev The list of datasets has `count` entries, more than `max`.
    error ModelTooManyDatasets(uint256 count, uint256 max);

    /// @dev The weights root is zero.
    error ModelZeroWeightsRoot();

    /// @dev `weightsRoot` is already the weights of token `tokenId`; a model is registered once.
    error ModelWeightsAlreadyRegistered(bytes32 weightsRoot, uint256 tokenId);

    /// @dev `sender` does not own model `tokenId`.
    error ModelNotTokenOwner(uint256 tokenId, address sender);

    /// @dev Model `tokenId` already has a fingerprint of this `kind`.
    error ModelFingerprintAlreadyCommitted(uint256 tokenId, FingerprintKind kind);

    /// @dev The fingerprint commitment is zero.
    error ModelZeroCommitment();

    /// @dev Model `tokenId` has no fingerprint of `kind` committed, so nothing can be revealed.
    error ModelFingerprintNotCommitted(uint256 tokenId, FingerprintKind kind);

    /// @dev A reveal for model `tokenId` lists no fingerprints.
    error ModelEmptyReveal(uint256 tokenId);

    /// @dev The fingerprint with `digest` was already revealed for model `tokenId`; a revealed
    /// fingerprint is public and cannot count as new evidence.
    error ModelFingerprintAlreadyRevealed(uint256 tokenId, bytes32 digest);

    /// @dev The revealed fingerprints and the multiproof do not lead to `root`, the OML
    /// commitment of model `tokenId`.
    error ModelInvalidFingerprintProof(uint256 tokenId, bytes32 root);

    /// @dev Emitted when token `tokenId` is minted to `to` for the model with `weightsRoot`.
    event ModelMinted(
        uint256 indexed tokenId,
        address indexed to,
        bytes32 indexed weightsRoot,
        uint256 parentId,
        uint256[] datasetIds,
        string metadataURI
    );

    /// @dev Emitted when the owner of `tokenId` commits a fingerprint of `kind`.
    event FingerprintCommitted(uint256 indexed tokenId, FingerprintKind indexed kind, bytes32 commitment, string uri);

    /**
     * @dev Emitted for each OML fingerprint of `tokenId` revealed, with the committed value
     * `digest` and everything needed to recompute it and to query a suspect model.
     */
    event FingerprintRevealed(uint256 indexed tokenId, bytes32 indexed digest, bytes32 salt, string key, string response);

    /**
     * @dev Mints a token for a new model to `to` and returns its id. Anyone may mint.
     *
     * Requirements:
     *
     * - `weightsRoot` is not zero and not registered yet.
     * - `metadataURI` is a canonical `ipfs://` CIDv1 URI (see {IpfsURI-parse}).
     * - `parentModelId` is 0 or an existing model token.
     * - `datasetIds` has at most 64 entries, all existing dataset tokens, none twice.
     * - `to` is not the zero address.
     *
     * Emits a {ModelMinted} and an {IERC721-Transfer} event.
     */
    function mint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentModelId,
        uint256[] calldata datasetIds
    ) external returns (uint256 tokenId);

    /**
     * @dev Commits a fingerprint of `kind` for model `tokenId`.
     *
     * Requirements:
     *
     * - `tokenId` exists and the caller owns it.
     * - no fingerprint of `kind` has been committed for `tokenId`.
     * - `commitment` is not zero.
     * - `uri` is empty or a canonical `ipfs://` CIDv1 URI.
     *
     * Emits a {FingerprintCommitted} event.
     */
    function commitFingerprint(uint256 tokenId, FingerprintKind kind, bytes32 commitment, string calldata uri) external;

    /**
     * @dev Reveals OML fingerprints of model `tokenId`: proves with one multiproof that each
     * `(salt, key, response)` in `reveals` is a leaf of the committed OML root, and makes it
     * public. Each fingerprint can be revealed once.
     *
     * A fingerprint's committed value is `digest = keccak256(abi.encode(salt, key, response))`
     * and its leaf `keccak256(bytes.concat(keccak256(abi.encode(digest))))`: the OML root is
     * OpenZeppelin's `StandardMerkleTree` over the `bytes32` digests. `reveals` must be in the
     * order the multiproof consumes its leaves; `proof` and `proofFlags` are as for
     * {MerkleProof-multiProofVerify}.
     *
     * Requirements:
     *
     * - `tokenId` exists and the caller owns it.
     * - an OML fingerprint has been committed for `tokenId`.
     * - `reveals` is not empty, and none of its fingerprints has been revealed before (nor
     *   appears twice).
     * - the multiproof shows every reveal is a leaf of the committed root.
     *
     * Emits a {FingerprintRevealed} event per fingerprint.
     */
    function revealFingerprints(
        uint256 tokenId,
        FingerprintReveal[] calldata reveals,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /**
     * @dev Returns whether the OML fingerprint whose committed value is `digest` has been
     * revealed for `tokenId`.
     */
    function fingerprintRevealed(uint256 tokenId, bytes32 digest) external view returns (bool);

    /// @dev Returns how many OML fingerprints of `tokenId` have been revealed.
    function revealedFingerprintCount(uint256 tokenId) external view returns (uint256);

    /**
     * @dev Returns the record of token `tokenId`.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     */
    function model(uint256 tokenId) external view returns (Model memory);

    /**
     * @dev Returns the fingerprint of `kind` committed for `tokenId`; all fields are zero or
     * empty if none has been.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     */
    function fingerprint(uint256 tokenId, FingerprintKind kind) external view returns (Fingerprint memory);

    /// @dev Returns the token whose model has `weightsRoot`, or 0 if there is none.
    function tokenOfWeights(bytes32 weightsRoot) external view returns (uint256);

    /// @dev Returns whether token `tokenId` has been minted.
    function exists(uint256 tokenId) external view returns (bool);

    /// @dev Returns the number of tokens minted so far, which is also the highest token id.
    function totalMinted() external view returns (uint256);

    /// @dev Returns the dataset registry this model registry refers to.
    function datasetRegistry() external view returns (address);
}
