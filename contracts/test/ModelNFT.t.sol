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
import {IpfsURI} from "../lib/IpfsURI.sol";

contract ModelNFTTest is Test {
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

    function test_Mint_RevertWhen_WeightsAlreadyRegistered() public {
        models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelWeightsAlreadyRegistered.selector, WEIGHTS, 1));
        vm.prank(bob);
        models.mint(bob, WEIGHTS, DAG_URI, 0, _ids(1, 2, 3));
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
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.InvalidIpfsURI.selector, bad));
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
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelNotTokenOwner.selector, id, bob));
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
    }

    function test_CommitFingerprint_RevertWhen_OnlyApproved() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.startPrank(alice);
        models.setApprovalForAll(bob, true);
        models.approve(bob, id);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelNotTokenOwner.selector, id, bob));
        vm.prank(bob);
        models.commitFingerprint(id, IModelNFT.FingerprintKind.HuRef, COMMITMENT, "");
    }

    function test_CommitFingerprint_FollowsOwnership() public {
        uint256 id = models.mint(alice, WEIGHTS, URI, 0, new uint256[](0));
        vm.prank(alice);
        models.transferFrom(alice, bob, id);
        vm.expectRevert(abi.encodeWithSelector(IModelNFT.ModelNotTokenOwner.selector, id, alice));
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
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.InvalidIpfsURI.selector, bad));
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

    // ---------------------------------------------------------------- helpers

    function _ids(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (a, b, c);
    }
}
