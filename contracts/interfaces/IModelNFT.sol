// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMintCommitments} from "./IMintCommitments.sol";

/**
 * @title IModelNFT
 * @dev A registry of trained models as ERC-721 tokens. Each token commits to a model's weights
 * (`weightsRoot`), records its lineage (the parent model it was derived from and the
 * {IDatasetNFT} tokens it was trained on) and, later, commitments to ownership fingerprints.
 * The record is immutable; a fingerprint of each kind can be committed once.
 *
 * A weights root is never reserved: every mint of it is a claim, recorded with its time, and
 * {claimsOfWeights} lists them all. {commitMint} then {revealMint} makes a claim that cannot be
 * copied from the mempool (see {IMintCommitments}); {mint} is the one-transaction form.
 *
 * OML fingerprints are bound to one token: each committed leaf names the chain, this contract
 * and the token id, so a commitment copied onto another token reveals nothing there.
 */
interface IModelNFT is IMintCommitments {
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
     * value is {fingerprintDigest} (see {revealFingerprints}).
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
     * timestamp of the mint; `claimedAt` the time the claim was fixed: the timestamp of the mint
     * commitment for {revealMint}, of the mint itself otherwise.
     */
    struct Model {
        bytes32 weightsRoot;
        bytes32 metadataDigest;
        uint64 parentId;
        uint64 mintedAt;
        uint8 metadataCodec;
        uint48 claimedAt;
        uint64[] datasetIds;
    }

    /**
     * @dev An OML commitment made in the mint's own transaction: `commitment` is the root of
     * leaves bound to `tokenId`, the id the mint must give (leaves name their token, so the id
     * is fixed before the transaction is sent); `uri` as for {commitFingerprint}. A zero
     * `commitment` means none.
     */
    struct MintFingerprint {
        uint256 tokenId;
        bytes32 commitment;
        string uri;
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

    /// @dev A mint with an OML commitment for token `expected` would mint token `next`: another
    /// mint came first, and the commitment's leaves name the wrong token. Rebuild and resend.
    error ModelUnexpectedTokenId(uint256 expected, uint256 next);

    /// @dev The OML commitment `commitment` is already committed on model `tokenId`: its leaves
    /// are bound to that token, so it is evidence for that token only.
    error ModelFingerprintCommittedElsewhere(bytes32 commitment, uint256 tokenId);

    /// @dev `sender` is neither the owner of model `tokenId` nor approved for it.
    error ModelUnauthorized(uint256 tokenId, address sender);

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

    /**
     * @dev Emitted when token `tokenId` is minted to `to` for the model with `weightsRoot`.
     *
     * @param tokenId The new token.
     * @param to Its first owner.
     * @param weightsRoot The model's weights root.
     * @param parentId The model it was derived from, 0 if none.
     * @param datasetIds The dataset tokens it was trained on.
     * @param metadataURI The `ipfs://` URI of the metadata, as given.
     */
    event ModelMinted(
        uint256 indexed tokenId,
        address indexed to,
        bytes32 indexed weightsRoot,
        uint256 parentId,
        uint256[] datasetIds,
        string metadataURI
    );

    /**
     * @dev Emitted when the owner of `tokenId` commits a fingerprint of `kind`.
     *
     * @param tokenId The model token.
     * @param kind The kind of fingerprint.
     * @param commitment The commitment.
     * @param uri The `ipfs://` URI of the fingerprint document, empty if none.
     */
    event FingerprintCommitted(uint256 indexed tokenId, FingerprintKind indexed kind, bytes32 commitment, string uri);

    /**
     * @dev Emitted for each OML fingerprint of `tokenId` revealed, with the committed value
     * `digest` and everything needed to recompute it and to query a suspect model.
     *
     * @param tokenId The model token.
     * @param digest The committed value, {fingerprintDigest}.
     * @param salt The salt that hid the fingerprint.
     * @param key The secret prompt.
     * @param response The response the fingerprinted model gives.
     */
    event FingerprintRevealed(
        uint256 indexed tokenId, bytes32 indexed digest, bytes32 salt, string key, string response
    );

    /**
     * @dev Mints a token for a new model to `to` and returns its id. Anyone may mint.
     *
     * Requirements:
     *
     * - `weightsRoot` is not zero (it may be claimed already: this adds a claim).
     * - `metadataURI` is a canonical `ipfs://` CIDv1 URI (see {IpfsURI-parse}).
     * - `parentId` is 0 or an existing model token.
     * - `datasetIds` has at most 64 entries, all existing dataset tokens, none twice.
     * - `to` is not the zero address.
     *
     * Emits a {ModelMinted} and an {IERC721-Transfer} event.
     *
     * @param to The first owner of the token.
     * @param weightsRoot The root of the model's weights.
     * @param metadataURI The canonical `ipfs://` CIDv1 URI of the metadata document.
     * @param parentId The model this one was derived from, 0 if none.
     * @param datasetIds The dataset tokens it was trained on.
     * @return tokenId The new token.
     */
    function mint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds
    ) external returns (uint256 tokenId);

    /**
     * @dev Mints as {mint} and, in the same transaction, commits `oml` as the new token's OML
     * fingerprint, so the commitment provably existed when the model was registered.
     *
     * Requirements:
     *
     * - the requirements of {mint}.
     * - `oml.tokenId` is the id this mint gives.
     * - `oml.commitment` is not zero nor committed on another token; `oml.uri` is empty or a
     *   canonical `ipfs://` CIDv1 URI.
     *
     * Emits a {ModelMinted}, an {IERC721-Transfer} and a {FingerprintCommitted} event.
     *
     * @param to The first owner of the token.
     * @param weightsRoot The root of the model's weights.
     * @param metadataURI The canonical `ipfs://` CIDv1 URI of the metadata document.
     * @param parentId The model this one was derived from, 0 if none.
     * @param datasetIds The dataset tokens it was trained on.
     * @param oml The OML commitment, bound to the id this mint gives.
     * @return tokenId The new token.
     */
    function mintWithFingerprint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds,
        MintFingerprint calldata oml
    ) external returns (uint256 tokenId);

    /**
     * @dev Mints the claim committed with {commitMint}: as {mint}, with the claim dated by the
     * commitment, and with the OML commitment `oml` when `oml.commitment` is not zero (as
     * {mintWithFingerprint}).
     *
     * Requirements:
     *
     * - the caller committed `mintCommitmentOf(weightsRoot, caller, salt)` in an earlier block,
     *   and that commitment has not been used.
     * - the requirements of {mint}, and of {mintWithFingerprint} for a non-zero `oml.commitment`.
     *
     * Emits a {ModelMinted} and an {IERC721-Transfer} event, and a {FingerprintCommitted} event
     * with an OML commitment.
     *
     * @param to The first owner of the token.
     * @param weightsRoot The weights root that was committed.
     * @param metadataURI The canonical `ipfs://` CIDv1 URI of the metadata document.
     * @param parentId The model this one was derived from, 0 if none.
     * @param datasetIds The dataset tokens it was trained on.
     * @param salt The salt of the commitment.
     * @param oml The OML commitment, or a zero `oml.commitment` for none.
     * @return tokenId The new token.
     */
    function revealMint(
        address to,
        bytes32 weightsRoot,
        string calldata metadataURI,
        uint256 parentId,
        uint256[] calldata datasetIds,
        bytes32 salt,
        MintFingerprint calldata oml
    ) external returns (uint256 tokenId);

    /**
     * @dev Commits a fingerprint of `kind` for model `tokenId`.
     *
     * Requirements:
     *
     * - `tokenId` exists, and the caller owns it or is approved for it.
     * - no fingerprint of `kind` has been committed for `tokenId`.
     * - `commitment` is not zero; an OML `commitment` is not committed on another token.
     * - `uri` is empty or a canonical `ipfs://` CIDv1 URI.
     *
     * Emits a {FingerprintCommitted} event.
     *
     * @param tokenId The model token.
     * @param kind The kind of fingerprint.
     * @param commitment The commitment (for OML, the root of the salted digests).
     * @param uri The `ipfs://` URI of the fingerprint document, or empty.
     */
    function commitFingerprint(uint256 tokenId, FingerprintKind kind, bytes32 commitment, string calldata uri) external;

    /**
     * @dev Reveals OML fingerprints of model `tokenId`: proves with one multiproof that each
     * `(salt, key, response)` in `reveals` is a leaf of the committed OML root, and makes it
     * public. Each fingerprint can be revealed once.
     *
     * A fingerprint's committed value is `digest = fingerprintDigest(tokenId, salt, key,
     * response)`, bound to this chain, contract and token, and its leaf
     * `keccak256(bytes.concat(keccak256(abi.encode(digest))))`: the OML root is OpenZeppelin's
     * `StandardMerkleTree` over the `bytes32` digests. `reveals` must be in the
     * order the multiproof consumes its leaves; `proof` and `proofFlags` are as for
     * {MerkleProof-multiProofVerify}.
     *
     * Requirements:
     *
     * - `tokenId` exists, and the caller owns it or is approved for it.
     * - an OML fingerprint has been committed for `tokenId`.
     * - `reveals` is not empty, and none of its fingerprints has been revealed before (nor
     *   appears twice).
     * - the multiproof shows every reveal is a leaf of the committed root.
     *
     * Emits a {FingerprintRevealed} event per fingerprint.
     *
     * @param tokenId The model token.
     * @param reveals The fingerprints made public, in the multiproof's leaf order.
     * @param proof The multiproof's hashes.
     * @param proofFlags The multiproof's flags.
     */
    function revealFingerprints(
        uint256 tokenId,
        FingerprintReveal[] calldata reveals,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /**
     * @dev Returns the committed value of an OML fingerprint of model `tokenId` on this chain and
     * contract: `keccak256(abi.encode(block.chainid, address(this), tokenId, salt,
     * keccak256(bytes(key)), keccak256(bytes(response))))`.
     *
     * @param tokenId The model token.
     * @param salt The fingerprint's salt.
     * @param key The secret prompt.
     * @param response The response.
     * @return The committed value.
     */
    function fingerprintDigest(uint256 tokenId, bytes32 salt, string calldata key, string calldata response)
        external
        view
        returns (bytes32);

    /**
     * @dev Returns the model whose OML commitment is `commitment`, 0 if none.
     *
     * @param commitment An OML commitment.
     * @return The model it is committed on, 0 if none.
     */
    function tokenOfFingerprint(bytes32 commitment) external view returns (uint256);

    /**
     * @dev Returns whether the OML fingerprint whose committed value is `digest` has been
     * revealed for `tokenId`.
     *
     * @param tokenId The model token.
     * @param digest A fingerprint's committed value.
     * @return Whether it has been revealed.
     */
    function fingerprintRevealed(uint256 tokenId, bytes32 digest) external view returns (bool);

    /**
     * @dev Returns how many OML fingerprints of `tokenId` have been revealed.
     *
     * @param tokenId The model token.
     * @return The number of OML fingerprints revealed.
     */
    function revealedFingerprintCount(uint256 tokenId) external view returns (uint256);

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
    function model(uint256 tokenId) external view returns (Model memory);

    /**
     * @dev Returns the fingerprint of `kind` committed for `tokenId`; all fields are zero or
     * empty if none has been.
     *
     * Requirements:
     *
     * - `tokenId` exists.
     *
     * @param tokenId The model token.
     * @param kind The kind of fingerprint.
     * @return The commitment, its time and its URI.
     */
    function fingerprint(uint256 tokenId, FingerprintKind kind) external view returns (Fingerprint memory);

    /**
     * @dev Returns the earliest claim of `weightsRoot`: the token with the lowest `claimedAt`,
     * the lowest id among equal times; 0 if the root has no claim. Earliest is not proof of
     * authorship: see {claimsOfWeights} for every claimant.
     * Found by walking the root's claims, one storage read a claim: a view, not for hot paths
     * of other contracts when a root may be contested.
     *
     * @param weightsRoot The weights root.
     * @return The earliest claim, 0 if none.
     */
    function tokenOfWeights(bytes32 weightsRoot) external view returns (uint256);

    /**
     * @dev Returns every token that claims `weightsRoot`, ordered by `claimedAt`, then by id.
     *
     * @param weightsRoot The weights root.
     * @return tokenIds Every claim of the root, earliest claim first.
     */
    function claimsOfWeights(bytes32 weightsRoot) external view returns (uint256[] memory tokenIds);

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

    /**
     * @dev Returns the dataset registry this model registry refers to.
     *
     * @return The address of the {IDatasetNFT} registry.
     */
    function datasetRegistry() external view returns (address);
}
