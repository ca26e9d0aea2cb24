// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {DatasetNFT} from "../DatasetNFT.sol";
import {ModelNFT} from "../ModelNFT.sol";
import {IDatasetNFT} from "../interfaces/IDatasetNFT.sol";
import {IModelNFT} from "../interfaces/IModelNFT.sol";
import {IMintCommitments} from "../interfaces/IMintCommitments.sol";
import {IpfsURI} from "../lib/IpfsURI.sol";
import {StandardMerkleTree} from "./utils/StandardMerkleTree.sol";

contract ModelNFTTest is Test {
    using StandardMerkleTree for StandardMerkleTree.Tree;

    string internal constant URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    string internal constant DAG_URI = "ipfs://bafybeicwpzt3gyp63sls4jkozgegc7zlzjx57cionbvmdbpligzgzpnk24";
    bytes32 internal constant WEIGHTS = keccak256("weights 1");
    bytes32 internal constant WEIGHTS_2 = keccak256("weights 2");
    bytes32 internal constant COMMITMENT = keccak256("fingerprint commitment");
    uint256 internal constant DATASETS = 8;

    DatasetNFT internal datasets;
    ModelNFT internal models;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    // The token the OML fingerprints of a test are bound to (set by _committedWith).
    uint256 internal omlToken;

    function setUp() public {
        datasets = new DatasetNFT();
        for (uint256 i = 1; i <= DATASETS; ++i) {
            datasets.mint(alice, keccak256(abi.encode("dataset", i)), SafeCast.toUint64(i), URI);
        }
        models = new ModelNFT(datasets);
    }

    // ---------------------------------------------------------------- ERC-721 surface

    function test_NameSymbolAndRegistry() public view {
        assertEq(models.name(), "modelmint Model");
        assertEq(models.symbol(), "MMODEL");
        assertEq(models.datasetRegistry(), address(datasets));
        assertEq(models.MAX_DATASETS(), 64);
    }

    function test_SupportsInterface() public view {
        assertTrue(models.supportsInterface(type(IERC165).interfaceId));
        assertTrue(models.supportsInterface(type(IERC721).interfaceId));
        assertTrue(models.supportsInterface(type(IERC721Metadata).interfaceId));
        assertTrue(models.supportsInterface(type(IModelNFT).interfaceId));
        assertFalse(models.supportsInterface(type(IDatasetNFT).interfaceId));
    }

    // ---------------------------------------------------------------- mint

    function test_Mint_StoresRecord() public {
        vm.warp(1_700_000_000);
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, _ids(3, 1, 2));

        assertEq(id, 1);
        IModelNFT.Model memory m = models.model(id);
        assertEq(m.weightsRoot, WEIGHTS);
        assertEq(m.metadataDigest, 0xb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9);
        assertEq(m.metadataCodec, IpfsURI.CODEC_RAW);
        assertEq(m.parentId, 0);
        assertEq(m.mintedAt, 1_700_000_000);
        assertEq(m.datasetIds.length, 3);
        (uint64 a, uint64 b, uint64 c) = (m.datasetIds[0], m.datasetIds[1], m.datasetIds[2]);
        assertEq(a, 3, "caller's order is kept");
        assertEq(b, 1);
        assertEq(c, 2);
        assertEq(models.ownerOf(id), alice);
        assertEq(models.tokenOfWeights(WEIGHTS), id);
        assertTrue(models.exists(id));
        assertEq(models.totalMinted(), 1);
        assertEq(models.tokenURI(id), URI);
    }

    function test_Mint_WithParentAndNoDatasets() public {
        uint256 parent = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.prank(bob);
        uint256 child = models.mint(bob, WEIGHTS_2, DAG_URI, parent, new uint256[](0));

        assertEq(child, 2);
        assertEq(models.model(child).parentId, parent);
        assertEq(models.model(child).datasetIds.length, 0);
        assertEq(models.tokenURI(child), DAG_URI);
        assertFalse(models.exists(0));
        assertFalse(models.exists(3));
        assertEq(models.tokenOfWeights(keccak256("unknown")), 0);
    }

    function test_Mint_EmitsEvents() public {
        uint256[] memory ids = _ids(2, 5, 8);
        vm.expectEmit(address(models));
        emit IERC721.Transfer(address(0), alice, 1);
        vm.expectEmit(address(models));
        emit IModelNFT.ModelMinted(1, alice, WEIGHTS, 0, ids, URI);
        models.mint(alice, WEIGHTS, URI, 0, ids);
    }

    function test_Mint_MaxDatasets() public {
        for (uint256 i = DATASETS + 1; i <= 64; ++i) {
            datasets.mint(alice, keccak256(abi.encode("dataset", i)), 1, URI);
        }
        uint256[] memory ids = new uint256[](64);
        for (uint256 i = 0; i < 64; ++i) {
            ids[i] = 64 - i;
        }
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, ids);
        console.log("ModelNFT.mint with 64 datasets, gas:", vm.lastCallGas().gasTotalUsed);
        assertEq(models.model(id).datasetIds.length, 64);
        assertEq(models.model(id).datasetIds[63], 1);
    }

    function test_Mint_RevertWhen_TooManyDatasets() public {
        uint256[] memory ids = new uint256[](65);
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelTooManyDatasets.selector, 65, 64));
        models.mint(alice, WEIGHTS, URI, 0, ids);
    }

    function test_Mint_RevertWhen_ZeroWeightsRoot() public {
        vm.expectRevert(IModelNFT.ModelZeroWeightsRoot.selector);
        models.mint(alice, bytes32(0), URI, 0, new uint256[](0));
    }

    /// @dev Finding 4 (squatting): weights claimed first by a squatter can still be claimed by their owner.
    function test_Mint_SameWeightsAddsAClaim() public {
        vm.prank(bob);
        uint256 squat = models.mint(bob, WEIGHTS, URI, 0, new uint256[](0));
        vm.warp(block.timestamp + 60);
        vm.prank(alice);
        uint256 own = models.mint(alice, WEIGHTS, DAG_URI, 0, _ids(1, 2, 3));
        assertEq(models.tokenOfWeights(WEIGHTS), squat);
        uint256[] memory claims = models.claimsOfWeights(WEIGHTS);
        assertEq(claims.length, 2);
        assertEq(claims[0], squat);
        assertEq(claims[1], own);
        assertEq(models.model(own).claimedAt, block.timestamp);
        assertEq(models.model(own).datasetIds.length, 3);
    }

    function test_RevealMint_WithFingerprint() public {
        bytes32 salt = keccak256("salt");
        vm.prank(alice);
        models.commitMint(models.mintCommitmentOf(WEIGHTS, alice, salt));
        uint256 committedAt = block.timestamp;
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
        vm.prank(alice);
        uint256 id = models.revealMint(
            alice, WEIGHTS, URI, 0, _ids(1, 2, 3), salt, IModelNFT.MintFingerprint(1, COMMITMENT, URI)
        );
        assertEq(models.model(id).claimedAt, committedAt);
        assertEq(models.model(id).mintedAt, block.timestamp);
        IModelNFT.Fingerprint memory fp = models.fingerprint(id, IModelNFT.FingerprintKind.OML);
        assertEq(fp.commitment, COMMITMENT);
        assertEq(fp.committedAt, block.timestamp);
        assertEq(fp.uri, URI);
        assertEq(models.tokenOfFingerprint(COMMITMENT), id);
    }

    function test_RevealMint_WithoutFingerprint() public {
        bytes32 salt = keccak256("salt");
        vm.prank(alice);
        models.commitMint(models.mintCommitmentOf(WEIGHTS, alice, salt));
        vm.roll(block.number + 1);
        vm.prank(alice);
        uint256 id =
            models.revealMint(alice, WEIGHTS, URI, 0, new uint256[](0), salt, IModelNFT.MintFingerprint(0, 0, ""));
        assertFalse(models.fingerprint(id, IModelNFT.FingerprintKind.OML).committedAt != 0);
    }

    function test_RevealMint_RevertWhen_NotMaturedOrCopied() public {
        bytes32 salt = keccak256("salt");
        bytes32 commitment = models.mintCommitmentOf(WEIGHTS, alice, salt);
        IModelNFT.MintFingerprint memory none = IModelNFT.MintFingerprint(0, 0, "");
        vm.prank(alice);
        models.commitMint(commitment);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMintCommitments.MintCommitmentNotMatured.selector, commitment, block.number, block.number
            )
        );
        vm.prank(alice);
        models.revealMint(alice, WEIGHTS, URI, 0, new uint256[](0), salt, none);
        vm.roll(block.number + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMintCommitments.MintCommitmentUnknown.selector, models.mintCommitmentOf(WEIGHTS, bob, salt)
            )
        );
        vm.prank(bob);
        models.revealMint(bob, WEIGHTS, URI, 0, new uint256[](0), salt, none);
        assertEq(models.totalMinted(), 0);
    }

    function test_MintWithFingerprint_CommitsInTheSameTransaction() public {
        vm.expectEmit(address(models));
        emit IModelNFT.FingerprintCommitted(1, IModelNFT.FingerprintKind.OML, COMMITMENT, "");
        vm.prank(alice);
        uint256 id = models.mintWithFingerprint(
            alice, WEIGHTS, URI, 0, new uint256[](0), IModelNFT.MintFingerprint(1, COMMITMENT, "")
        );
        IModelNFT.Fingerprint memory fp = models.fingerprint(id, IModelNFT.FingerprintKind.OML);
        assertEq(fp.committedAt, models.model(id).mintedAt, "committed at mint");
        assertEq(fp.commitment, COMMITMENT);
    }

    function test_MintWithFingerprint_RevertWhen_UnexpectedTokenId() public {
        models.mint(bob, WEIGHTS_2, URI, 0, new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnexpectedTokenId.selector, 1, 2));
        vm.prank(alice);
        models.mintWithFingerprint(
            alice, WEIGHTS, URI, 0, new uint256[](0), IModelNFT.MintFingerprint(1, COMMITMENT, "")
        );
        assertEq(models.totalMinted(), 1);
    }

    function test_MintWithFingerprint_RevertWhen_ZeroOrCommittedElsewhere() public {
        vm.expectRevert(IModelNFT.ModelZeroCommitment.selector);
        models.mintWithFingerprint(alice, WEIGHTS, URI, 0, new uint256[](0), IModelNFT.MintFingerprint(1, 0, ""));
        models.mintWithFingerprint(
            alice, WEIGHTS, URI, 0, new uint256[](0), IModelNFT.MintFingerprint(1, COMMITMENT, "")
        );
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelFingerprintCommittedElsewhere.selector, COMMITMENT, 1));
        models.mintWithFingerprint(
            bob, WEIGHTS_2, URI, 0, new uint256[](0), IModelNFT.MintFingerprint(2, COMMITMENT, "")
        );
        assertEq(models.totalMinted(), 1);
    }

    function test_Mint_RevertWhen_UnknownParent() public {
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnknownParent.selector, 1));
        models.mint(alice, WEIGHTS, URI, 1, new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnknownParent.selector, type(uint256).max));
        models.mint(alice, WEIGHTS, URI, type(uint256).max, new uint256[](0));
    }

    function test_Mint_RevertWhen_UnknownDataset() public {
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnknownDataset.selector, DATASETS + 1));
        models.mint(alice, WEIGHTS, URI, 0, _ids(1, DATASETS + 1, 2));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnknownDataset.selector, 0));
        models.mint(alice, WEIGHTS, URI, 0, _ids(0, 1, 2));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnknownDataset.selector, type(uint256).max));
        models.mint(alice, WEIGHTS, URI, 0, _ids(1, 2, type(uint256).max));
    }

    function test_Mint_RevertWhen_DuplicateDataset() public {
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelDuplicateDataset.selector, 2));
        models.mint(alice, WEIGHTS, URI, 0, _ids(2, 1, 2));
    }

    function test_Mint_RevertWhen_InvalidURI() public {
        string memory bad = "ipfs://QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u";
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, bad));
        models.mint(alice, WEIGHTS, bad, 0, new uint256[](0));
    }

    function test_Mint_RevertWhen_ZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        models.mint(address(0), WEIGHTS, URI, 0, new uint256[](0));
    }

    /// @dev Random lists of dataset ids: accepted exactly when all exist and none repeats.
    function testFuzz_Mint_DatasetLists(uint8[12] memory raw, uint8 length) public {
        uint256 n = bound(length, 0, 12);
        uint256[] memory ids = new uint256[](n);
        bytes4 expected;
        for (uint256 i = 0; i < n && expected == bytes4(0); ++i) {
            ids[i] = raw[i] % (DATASETS + 3); // 0 and DATASETS+1.. do not exist
            for (uint256 j = 0; j < i; ++j) {
                if (ids[j] == ids[i]) expected = IModelNFT.ModelDuplicateDataset.selector;
            }
            if (expected == bytes4(0) && (ids[i] == 0 || ids[i] > DATASETS)) {
                expected = IModelNFT.ModelUnknownDataset.selector;
            }
            if (expected != bytes4(0)) {
                vm.expectRevert(abi.encodeWithSelector(expected, ids[i]));
            }
        }
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, ids);
        if (expected == bytes4(0)) {
            assertEq(models.model(id).datasetIds.length, n);
        }
    }

    function test_Model_RevertWhen_TokenDoesNotExist() public {
        bytes memory err = abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1);
        vm.expectRevert(err);
        models.model(1);
        vm.expectRevert(err);
        models.tokenURI(1);
        vm.expectRevert(err);
        models.fingerprint(1, IModelNFT.FingerprintKind.HuRef);
        vm.expectRevert(err);
        models.commitFingerprint(1, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
    }

    // ---------------------------------------------------------------- fingerprints

    function test_CommitFingerprint_StoresBothKinds() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.warp(1_800_000_000);

        vm.expectEmit(address(models));
        emit IModelNFT.FingerprintCommitted(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, DAG_URI);
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, DAG_URI);

        vm.expectEmit(address(models));
        emit IModelNFT.FingerprintCommitted(id, IModelNFT.FingerprintKind.OML, WEIGHTS_2, "");
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.OML, WEIGHTS_2, "");

        IModelNFT.Fingerprint memory huref = models.fingerprint(id, IModelNFT.FingerprintKind.HuRef);
        assertEq(huref.commitment, COMMITMENT);
        assertEq(huref.committedAt, 1_800_000_000);
        assertEq(huref.uri, DAG_URI);
        IModelNFT.Fingerprint memory oml = models.fingerprint(id, IModelNFT.FingerprintKind.OML);
        assertEq(oml.commitment, WEIGHTS_2);
        assertEq(oml.uri, "");
    }

    function test_Fingerprint_EmptyBeforeCommit() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        IModelNFT.Fingerprint memory f = models.fingerprint(id, IModelNFT.FingerprintKind.OML);
        assertEq(f.commitment, bytes32(0));
        assertEq(f.committedAt, 0);
        assertEq(f.uri, "");
    }

    function test_CommitFingerprint_RevertWhen_NotOwner() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnauthorized.selector, id, bob));
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
    }

    function test_CommitFingerprint_ByOperator() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.prank(alice);
        models.setApprovalForAll(bob, true);
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
        assertEq(models.fingerprint(id, IModelNFT.FingerprintKind.HuRef).commitment, COMMITMENT);
    }

    function test_CommitFingerprint_ByTokenApproval_UntilRevoked() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.prank(alice);
        models.approve(bob, id);
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
        vm.prank(alice);
        models.approve(address(0), id);
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnauthorized.selector, id, bob));
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.OML, COMMITMENT, "");
    }

    function test_CommitFingerprint_FollowsOwnership() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.prank(alice);
        models.transferFrom(alice, bob, id);
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnauthorized.selector, id, alice));
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
        assertEq(models.fingerprint(id, IModelNFT.FingerprintKind.HuRef).commitment, COMMITMENT);
    }

    function test_CommitFingerprint_RevertWhen_AlreadyCommitted() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.startPrank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.OML, COMMITMENT, "");
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelNFT.ModelFingerprintAlreadyCommitted.selector, id, IModelNFT.FingerprintKind.OML
            )
        );
        models.commitFingerprint(id, IModelNFT.FingerprintKind.OML, WEIGHTS_2, URI);
        vm.stopPrank();
        assertEq(models.fingerprint(id, IModelNFT.FingerprintKind.OML).commitment, COMMITMENT);
    }

    function test_CommitFingerprint_RevertWhen_ZeroCommitment() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.expectRevert(IModelNFT.ModelZeroCommitment.selector);
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, bytes32(0), "");
    }

    function test_CommitFingerprint_RevertWhen_InvalidURI() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        string memory bad = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5f";
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, bad));
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, bad);
    }

    function test_Gas_Mint() public {
        models.mint(alice, WEIGHTS, URI, 0, _ids(1, 2, 3));
        console.log("ModelNFT.mint, 3 datasets, gas:", vm.lastCallGas().gasTotalUsed);
        vm.prank(alice);
        models.commitFingerprint(1, IModelNFT.FingerprintKind.HuRef, COMMITMENT, URI);
        console.log("ModelNFT.commitFingerprint with URI, gas:", vm.lastCallGas().gasTotalUsed);
    }

    // ---------------------------------------------------------------- OML reveals

    function test_Reveal_EmitsAndRecords() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(8);
        uint256[] memory chosen = _ids(5, 0, 3);
        (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, chosen);

        for (uint256 i = 0; i < reveals.length; ++i) {
            vm.expectEmit(address(models));
            emit IModelNFT.FingerprintRevealed(
                id, _digest(reveals[i]), reveals[i].salt, reveals[i].key, reveals[i].response
            );
        }
        vm.prank(alice);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);

        assertEq(models.revealedFingerprintCount(id), 3);
        for (uint256 i = 0; i < all.length; ++i) {
            bool wanted = i == 5 || i == 0 || i == 3;
            assertEq(models.fingerprintRevealed(id, _digest(all[i])), wanted);
        }
    }

    function test_Reveal_InBatchesUntilAllAreOut() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(5);
        _reveal(id, all, tree, _ids(4, 2, 1));
        uint256[] memory rest = new uint256[](2);
        (rest[0], rest[1]) = (0, 3);
        _reveal(id, all, tree, rest);
        assertEq(models.revealedFingerprintCount(id), 5);
    }

    function test_Reveal_SingleFingerprintTree() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(1);
        uint256[] memory only = new uint256[](1);
        _reveal(id, all, tree, only);
        assertTrue(models.fingerprintRevealed(id, _digest(all[0])));
    }

    function test_Reveal_RevertWhen_NotCommitted() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.startPrank(alice);
        // A HuRef commitment is no OML root.
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
        vm.expectRevert(
            abi.encodeWithSelector(IModelNFT.ModelFingerprintNotCommitted.selector, id, IModelNFT.FingerprintKind.OML)
        );
        models.revealFingerprints(id, _oneReveal("k", "r"), new bytes32[](0), new bool[](0));
        vm.stopPrank();
    }

    function test_Reveal_RevertWhen_NotOwner() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(4);
        (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, _ids(0, 1, 2));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelUnauthorized.selector, id, bob));
        vm.prank(bob);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);
    }

    function test_Reveal_ByOperator() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(4);
        (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, _ids(0, 1, 2));
        vm.prank(alice);
        models.setApprovalForAll(bob, true);
        vm.prank(bob);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);
        assertEq(models.revealedFingerprintCount(id), 3);
    }

    function test_Reveal_RevertWhen_TokenDoesNotExist() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 7));
        models.revealFingerprints(7, _oneReveal("k", "r"), new bytes32[](0), new bool[](0));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 7));
        models.fingerprintRevealed(7, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 7));
        models.revealedFingerprintCount(7);
    }

    function test_Reveal_RevertWhen_Empty() public {
        (uint256 id,, StandardMerkleTree.Tree memory tree) = _committed(4);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = tree.root(); // OpenZeppelin's "valid" empty multiproof
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelEmptyReveal.selector, id));
        vm.prank(alice);
        models.revealFingerprints(id, new IModelNFT.FingerprintReveal[](0), proof, new bool[](0));
    }

    function test_Reveal_RevertWhen_AlreadyRevealed() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(6);
        _reveal(id, all, tree, _ids(1, 4, 5));
        (IModelNFT.FingerprintReveal[] memory again, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, _ids(0, 4, 2));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelFingerprintAlreadyRevealed.selector, id, _digest(all[4])));
        vm.prank(alice);
        models.revealFingerprints(id, again, mp.proof, mp.proofFlags);
        assertEq(models.revealedFingerprintCount(id), 3);
    }

    function test_Reveal_RevertWhen_ListedTwice() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all,) = _committed(4);
        IModelNFT.FingerprintReveal[] memory twice = new IModelNFT.FingerprintReveal[](2);
        (twice[0], twice[1]) = (all[2], all[2]);
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelFingerprintAlreadyRevealed.selector, id, _digest(all[2])));
        vm.prank(alice);
        models.revealFingerprints(id, twice, new bytes32[](0), new bool[](1));
    }

    function test_Reveal_RevertWhen_ProofDoesNotMatch() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(8);
        (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, _ids(6, 1, 2));
        bytes memory err = abi.encodeWithSelector(IModelNFT.ModelInvalidFingerprintProof.selector, id, tree.root());
        vm.startPrank(alice);
        // A changed response, a wrong salt, a changed key: each leads to another root.
        reveals[1].response = "another response";
        vm.expectRevert(err);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);
        (reveals, mp) = _plan(all, tree, _ids(6, 1, 2));
        reveals[0].salt = keccak256("wrong salt");
        vm.expectRevert(err);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);
        (reveals, mp) = _plan(all, tree, _ids(6, 1, 2));
        reveals[2].key = string.concat(reveals[2].key, " ");
        vm.expectRevert(err);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);
        vm.stopPrank();
        assertEq(models.revealedFingerprintCount(id), 0, "a failed reveal records nothing");
    }

    /// @dev Any subset reveals, once; the rest stay unrevealed and reveal later; a stranger's
    /// fingerprint never passes.
    function testFuzz_Reveal_Subsets(bytes32 seed, uint8 size, uint64 mask) public {
        uint256 n = bound(size, 1, 24);
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) =
            _committedWith(n, seed);
        uint256 m = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (mask >> i & 1 == 1) ++m;
        }
        uint256[] memory first = new uint256[](m == 0 ? 1 : m);
        uint256[] memory rest = new uint256[](m == 0 ? n - 1 : n - m);
        (uint256 a, uint256 b) = (0, 0);
        for (uint256 i = 0; i < n; ++i) {
            bool pick = m == 0 ? i == 0 : mask >> i & 1 == 1;
            if (pick) first[a++] = i;
            else rest[b++] = i;
        }

        // A foreign fingerprint in place of a committed one is refused.
        (IModelNFT.FingerprintReveal[] memory forged, StandardMerkleTree.MultiProof memory mp) = _plan(all, tree, first);
        forged[0].salt = keccak256(abi.encode(seed, "forged"));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelInvalidFingerprintProof.selector, id, tree.root()));
        vm.prank(alice);
        models.revealFingerprints(id, forged, mp.proof, mp.proofFlags);

        _reveal(id, all, tree, first);
        assertEq(models.revealedFingerprintCount(id), first.length);
        (IModelNFT.FingerprintReveal[] memory again, StandardMerkleTree.MultiProof memory mp2) = _plan(all, tree, first);
        vm.expectRevert(
            abi.encodeWithSelector(IModelNFT.ModelFingerprintAlreadyRevealed.selector, id, _digest(again[0]))
        );
        vm.prank(alice);
        models.revealFingerprints(id, again, mp2.proof, mp2.proofFlags);
        if (rest.length > 0) _reveal(id, all, tree, rest);
        assertEq(models.revealedFingerprintCount(id), n);
    }

    /// @dev Finding 1: the owner's commitment copied onto another token is refused.
    function test_CommitFingerprint_RevertWhen_CommittedElsewhere() public {
        (uint256 id,, StandardMerkleTree.Tree memory tree) = _committed(4);
        vm.prank(bob);
        uint256 copy = models.mint(bob, WEIGHTS_2, URI, 0, new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelFingerprintCommittedElsewhere.selector, tree.root(), id));
        vm.prank(bob);
        models.commitFingerprint(copy, IModelNFT.FingerprintKind.OML, tree.root(), "");
        assertEq(models.fingerprint(copy, IModelNFT.FingerprintKind.OML).committedAt, 0);
        // A HuRef commitment names a bundle of the weights, which two claims of them share.
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
        vm.prank(bob);
        models.commitFingerprint(copy, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
    }

    /// @dev Finding 1: the owner's public reveal replayed on another token does not verify there,
    /// even when that token committed a tree holding the owner's published digests.
    function test_Reveal_RevertWhen_ReplayedOnAnotherToken() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(4);
        uint256[] memory chosen = _ids(0, 1, 2);
        (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, chosen);
        vm.prank(alice);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);

        // bob commits the owner's digests plus one of his own (so the root is new) and replays.
        bytes32[] memory copied = new bytes32[](5);
        for (uint256 i = 0; i < 4; ++i) {
            copied[i] = _digest(all[i]);
        }
        copied[4] = keccak256("bob's own");
        StandardMerkleTree.Tree memory bobTree = StandardMerkleTree.build(copied);
        vm.startPrank(bob);
        uint256 other = models.mint(bob, WEIGHTS_2, URI, 0, new uint256[](0));
        models.commitFingerprint(other, IModelNFT.FingerprintKind.OML, bobTree.root(), "");
        StandardMerkleTree.MultiProof memory bobProof = StandardMerkleTree.multiProof(bobTree, chosen);
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelInvalidFingerprintProof.selector, other, bobTree.root()));
        models.revealFingerprints(other, reveals, bobProof.proof, bobProof.proofFlags);
        vm.stopPrank();
        assertEq(models.revealedFingerprintCount(other), 0);
    }

    /// @dev A digest names its chain, contract and token: changing any one changes it.
    function testFuzz_FingerprintDigest_Bound(
        uint256 tokenId,
        uint256 otherId,
        bytes32 salt,
        string calldata key,
        string calldata response,
        uint64 otherChain
    ) public {
        vm.assume(tokenId != otherId);
        IModelNFT.FingerprintReveal memory r = IModelNFT.FingerprintReveal(salt, key, response);
        bytes32 digest = models.fingerprintDigest(tokenId, salt, key, response);
        assertEq(digest, _digestOn(tokenId, r), "contract and spec disagree");
        assertNotEq(digest, models.fingerprintDigest(otherId, salt, key, response), "not bound to the token");
        ModelNFT elsewhere = new ModelNFT(datasets);
        assertNotEq(digest, elsewhere.fingerprintDigest(tokenId, salt, key, response), "not bound to the contract");
        vm.assume(otherChain != block.chainid && otherChain != 0);
        vm.chainId(otherChain);
        assertNotEq(digest, models.fingerprintDigest(tokenId, salt, key, response), "not bound to the chain");
        // The key and the response are hashed apart, so bytes cannot move between them.
        if (bytes(key).length > 0) {
            string memory moved = string(bytes.concat(bytes(key), bytes(response)));
            assertNotEq(digest, models.fingerprintDigest(tokenId, salt, "", moved));
        }
    }

    function test_Gas_MintPaths() public {
        bytes32 salt = keccak256("salt");
        vm.prank(alice);
        models.commitMint(models.mintCommitmentOf(WEIGHTS, alice, salt));
        console.log("ModelNFT.commitMint, gas:", vm.lastCallGas().gasTotalUsed);
        vm.roll(block.number + 1);
        vm.prank(alice);
        models.revealMint(alice, WEIGHTS, URI, 0, _ids(1, 2, 3), salt, IModelNFT.MintFingerprint(0, 0, ""));
        console.log("ModelNFT.revealMint, 3 datasets, gas:", vm.lastCallGas().gasTotalUsed);
        vm.prank(alice);
        models.mintWithFingerprint(
            alice, WEIGHTS_2, URI, 0, _ids(1, 2, 3), IModelNFT.MintFingerprint(2, COMMITMENT, URI)
        );
        console.log("ModelNFT.mintWithFingerprint, 3 datasets, with URI, gas:", vm.lastCallGas().gasTotalUsed);
    }

    function test_Gas_Reveal() public {
        (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree) = _committed(64);
        uint256[] memory one = new uint256[](1);
        one[0] = 17;
        _reveal(id, all, tree, one);
        console.log("ModelNFT.revealFingerprints, 1 of 64, gas:", vm.lastCallGas().gasTotalUsed);
        uint256[] memory eight = new uint256[](8);
        for (uint256 i = 0; i < 8; ++i) {
            eight[i] = 7 * i + 1;
        }
        _reveal(id, all, tree, eight);
        console.log("ModelNFT.revealFingerprints, 8 of 64, gas:", vm.lastCallGas().gasTotalUsed);
    }

    // ---------------------------------------------------------------- helpers

    /// @dev The committed value of `r` on token {omlToken}, recomputed from docs/oml.md.
    function _digest(IModelNFT.FingerprintReveal memory r) internal view returns (bytes32) {
        return _digestOn(omlToken, r);
    }

    function _digestOn(uint256 tokenId, IModelNFT.FingerprintReveal memory r) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                block.chainid, address(models), tokenId, r.salt, keccak256(bytes(r.key)), keccak256(bytes(r.response))
            )
        );
    }

    function _oneReveal(string memory key, string memory response)
        internal
        pure
        returns (IModelNFT.FingerprintReveal[] memory reveals)
    {
        reveals = new IModelNFT.FingerprintReveal[](1);
        reveals[0] = IModelNFT.FingerprintReveal(keccak256("salt"), key, response);
    }

    function _committed(uint256 n)
        internal
        returns (uint256, IModelNFT.FingerprintReveal[] memory, StandardMerkleTree.Tree memory)
    {
        return _committedWith(n, keccak256("fingerprint set"));
    }

    /// @dev Mints a model to alice and commits `n` salted fingerprints as its OML root.
    function _committedWith(uint256 n, bytes32 seed)
        internal
        returns (uint256 id, IModelNFT.FingerprintReveal[] memory all, StandardMerkleTree.Tree memory tree)
    {
        // Leaves name their token, so the id is fixed before they are built, as the CLI does.
        omlToken = models.totalMinted() + 1;
        all = new IModelNFT.FingerprintReveal[](n);
        bytes32[] memory digests = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            all[i] = IModelNFT.FingerprintReveal(
                keccak256(abi.encode(seed, i)),
                string.concat("secret key number ", vm.toString(i)),
                string.concat(" response", vm.toString(i % 3))
            );
            digests[i] = _digest(all[i]);
        }
        tree = StandardMerkleTree.build(digests);
        id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.prank(alice);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.OML, tree.root(), "");
    }

    /// @dev The reveals of `indices`, in the order the multiproof consumes them, and the multiproof.
    function _plan(
        IModelNFT.FingerprintReveal[] memory all,
        StandardMerkleTree.Tree memory tree,
        uint256[] memory indices
    ) internal view returns (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) {
        mp = StandardMerkleTree.multiProof(tree, indices);
        reveals = new IModelNFT.FingerprintReveal[](mp.leaves.length);
        for (uint256 i = 0; i < mp.leaves.length; ++i) {
            for (uint256 j = 0; j < all.length; ++j) {
                // A copy: tests alter their reveals, never the committed set.
                if (_digest(all[j]) == mp.leaves[i]) {
                    reveals[i] = IModelNFT.FingerprintReveal(all[j].salt, all[j].key, all[j].response);
                }
            }
        }
    }

    function _reveal(
        uint256 id,
        IModelNFT.FingerprintReveal[] memory all,
        StandardMerkleTree.Tree memory tree,
        uint256[] memory indices
    ) internal {
        (IModelNFT.FingerprintReveal[] memory reveals, StandardMerkleTree.MultiProof memory mp) =
            _plan(all, tree, indices);
        vm.prank(alice);
        models.revealFingerprints(id, reveals, mp.proof, mp.proofFlags);
    }

    function _ids(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (a, b, c);
    }
}
