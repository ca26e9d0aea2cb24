// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test, console} from "forge-std/Test.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {DatasetNFT} from "../DatasetNFT.sol";
import {IDatasetNFT} from "../interfaces/IDatasetNFT.sol";
import {IMintCommitments} from "../interfaces/IMintCommitments.sol";
import {IpfsURI} from "../lib/IpfsURI.sol";
import {StandardMerkleTree} from "./utils/StandardMerkleTree.sol";

contract DatasetNFTTest is Test {
    using StandardMerkleTree for StandardMerkleTree.Tree;

    string internal constant URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    string internal constant DAG_URI = "ipfs://bafybeicwpzt3gyp63sls4jkozgegc7zlzjx57cionbvmdbpligzgzpnk24";
    bytes32 internal constant ROOT = keccak256("root 1");
    bytes32 internal constant ROOT_2 = keccak256("root 2");

    DatasetNFT internal datasets;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public {
        datasets = new DatasetNFT();
    }

    // ---------------------------------------------------------------- ERC-721 surface

    function test_NameAndSymbol() public view {
        assertEq(datasets.name(), "modelmint Dataset");
        assertEq(datasets.symbol(), "MMDATA");
    }

    function test_SupportsInterface() public view {
        assertTrue(datasets.supportsInterface(type(IERC165).interfaceId));
        assertTrue(datasets.supportsInterface(type(IERC721).interfaceId));
        assertTrue(datasets.supportsInterface(type(IERC721Metadata).interfaceId));
        assertTrue(datasets.supportsInterface(type(IDatasetNFT).interfaceId));
        assertFalse(datasets.supportsInterface(0xffffffff));
    }

    // ---------------------------------------------------------------- mint

    function test_Mint_StoresRecord() public {
        vm.warp(1_700_000_000);
        uint256 id = datasets.mint(alice, ROOT, 1000, URI);

        assertEq(id, 1);
        IDatasetNFT.Dataset memory d = datasets.dataset(id);
        assertEq(d.merkleRoot, ROOT);
        assertEq(d.metadataDigest, 0xb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9);
        assertEq(d.datapointCount, 1000);
        assertEq(d.predecessorId, 0);
        assertEq(d.mintedAt, 1_700_000_000);
        assertEq(d.metadataCodec, IpfsURI.CODEC_RAW);
        assertEq(datasets.ownerOf(id), alice);
        assertEq(datasets.balanceOf(alice), 1);
        assertEq(datasets.tokenOfRoot(ROOT), id);
        assertTrue(datasets.exists(id));
    }

    function test_Mint_IdsStartAtOneAndIncrease() public {
        assertEq(datasets.totalMinted(), 0);
        assertFalse(datasets.exists(0));
        assertEq(datasets.mint(alice, ROOT, 1, URI), 1);
        assertEq(datasets.mint(bob, ROOT_2, 1, URI), 2);
        assertEq(datasets.totalMinted(), 2);
        assertFalse(datasets.exists(3));
        assertEq(datasets.tokenOfRoot(keccak256("unknown")), 0);
    }

    function test_Mint_IsPermissionless() public {
        vm.prank(carol);
        uint256 id = datasets.mint(alice, ROOT, 7, URI);
        assertEq(datasets.ownerOf(id), alice);
    }

    function test_Mint_EmitsEvents() public {
        vm.expectEmit(address(datasets));
        emit IERC721.Transfer(address(0), alice, 1);
        vm.expectEmit(address(datasets));
        emit IDatasetNFT.DatasetMinted(1, alice, ROOT, 42, 0, URI);
        datasets.mint(alice, ROOT, 42, URI);
    }

    function test_TokenURI_ReturnsMintedURI() public {
        uint256 raw = datasets.mint(alice, ROOT, 1, URI);
        uint256 dag = datasets.mint(alice, ROOT_2, 1, DAG_URI);
        assertEq(datasets.tokenURI(raw), URI);
        assertEq(datasets.tokenURI(dag), DAG_URI);
        assertEq(datasets.dataset(dag).metadataCodec, IpfsURI.CODEC_DAG_PB);
    }

    function testFuzz_TokenURI_RoundTrip(bool dagPb, bytes32 digest) public {
        string memory uri = IpfsURI.format(dagPb ? IpfsURI.CODEC_DAG_PB : IpfsURI.CODEC_RAW, digest);
        uint256 id = datasets.mint(alice, ROOT, 1, uri);
        assertEq(datasets.tokenURI(id), uri);
    }

    function test_Mint_RevertWhen_ZeroRoot() public {
        vm.expectRevert(IDatasetNFT.DatasetZeroRoot.selector);
        datasets.mint(alice, bytes32(0), 1, URI);
    }

    function test_Mint_RevertWhen_NoDatapoints() public {
        vm.expectRevert(IDatasetNFT.DatasetEmpty.selector);
        datasets.mint(alice, ROOT, 0, URI);
    }

    /// @dev Finding 4 (squatting): a root claimed first by a squatter can still be claimed by its owner.
    function test_Mint_SameRootAddsAClaim() public {
        vm.prank(bob);
        uint256 squat = datasets.mint(bob, ROOT, 1, URI);
        vm.warp(block.timestamp + 60);
        vm.prank(alice);
        uint256 own = datasets.mint(alice, ROOT, 1, DAG_URI);
        assertEq(own, squat + 1);
        assertEq(datasets.tokenOfRoot(ROOT), squat, "the earliest claim");
        uint256[] memory claims = datasets.claimsOfRoot(ROOT);
        assertEq(claims.length, 2);
        assertEq(claims[0], squat);
        assertEq(claims[1], own);
        assertEq(datasets.ownerOf(own), alice);
        assertEq(datasets.dataset(own).claimedAt, block.timestamp);
        assertEq(datasets.claimsOfRoot(ROOT_2).length, 0);
    }

    /// @dev A claim is dated by its commitment: a reveal held up behind a copy keeps its place.
    function test_RevealMint_ClaimDatedByCommitment() public {
        bytes32 salt = keccak256("alice salt");
        vm.prank(alice);
        datasets.commitMint(datasets.mintCommitmentOf(ROOT, alice, salt));
        uint256 committedAt = block.timestamp;
        // bob learns the root from alice's pending reveal and claims it, commit and reveal, first.
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
        bytes32 bobSalt = keccak256("bob salt");
        vm.prank(bob);
        datasets.commitMint(datasets.mintCommitmentOf(ROOT, bob, bobSalt));
        vm.roll(block.number + 1);
        vm.warp(block.timestamp + 12);
        vm.prank(bob);
        uint256 copy = datasets.revealMint(bob, ROOT, 3, URI, 0, bobSalt);
        vm.prank(alice);
        uint256 own = datasets.revealMint(alice, ROOT, 3, URI, 0, salt);

        assertEq(datasets.dataset(own).claimedAt, committedAt);
        assertEq(datasets.dataset(own).mintedAt, block.timestamp);
        assertEq(datasets.tokenOfRoot(ROOT), own, "the earlier commitment is the earlier claim");
        uint256[] memory claims = datasets.claimsOfRoot(ROOT);
        assertEq(claims[0], own);
        assertEq(claims[1], copy);
    }

    function test_RevealMint_StoresRecordAndUsesCommitment() public {
        bytes32 salt = keccak256("salt");
        bytes32 commitment = keccak256(abi.encode(ROOT, alice, salt));
        assertEq(datasets.mintCommitmentOf(ROOT, alice, salt), commitment);
        vm.expectEmit(address(datasets));
        emit IMintCommitments.MintCommitted(commitment, alice);
        vm.prank(alice);
        datasets.commitMint(commitment);
        (uint256 blockNumber, uint256 time) = datasets.mintCommitment(commitment);
        assertEq(blockNumber, block.number);
        assertEq(time, block.timestamp);
        vm.roll(block.number + 1);
        vm.prank(alice);
        uint256 id = datasets.revealMint(bob, ROOT, 7, URI, 0, salt);
        assertEq(datasets.ownerOf(id), bob);
        assertEq(datasets.dataset(id).datapointCount, 7);
        (blockNumber, time) = datasets.mintCommitment(commitment);
        assertEq(blockNumber, 0, "a used commitment is gone");
    }

    function test_CommitMint_RevertWhen_ZeroOrRepeated() public {
        vm.expectRevert(IMintCommitments.MintCommitmentZero.selector);
        datasets.commitMint(0);
        datasets.commitMint(ROOT_2);
        vm.expectRevert(abi.encodeWithSelector(IMintCommitments.MintCommitmentExists.selector, ROOT_2, block.number));
        datasets.commitMint(ROOT_2);
    }

    function test_RevealMint_RevertWhen_NotMatured() public {
        bytes32 salt = keccak256("salt");
        bytes32 commitment = datasets.mintCommitmentOf(ROOT, alice, salt);
        vm.startPrank(alice);
        datasets.commitMint(commitment);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMintCommitments.MintCommitmentNotMatured.selector, commitment, block.number, block.number
            )
        );
        datasets.revealMint(alice, ROOT, 1, URI, 0, salt);
        vm.stopPrank();
        assertEq(datasets.totalMinted(), 0);
    }

    /// @dev A reveal copied from the mempool and sent by someone else finds no commitment.
    function test_RevealMint_RevertWhen_CopiedByAnotherSender() public {
        bytes32 salt = keccak256("salt");
        vm.prank(alice);
        datasets.commitMint(datasets.mintCommitmentOf(ROOT, alice, salt));
        vm.roll(block.number + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMintCommitments.MintCommitmentUnknown.selector, datasets.mintCommitmentOf(ROOT, bob, salt)
            )
        );
        vm.prank(bob);
        datasets.revealMint(bob, ROOT, 1, URI, 0, salt);
    }

    function test_RevealMint_RevertWhen_Replayed() public {
        bytes32 salt = keccak256("salt");
        bytes32 commitment = datasets.mintCommitmentOf(ROOT, alice, salt);
        vm.startPrank(alice);
        datasets.commitMint(commitment);
        vm.roll(block.number + 1);
        datasets.revealMint(alice, ROOT, 1, URI, 0, salt);
        vm.expectRevert(abi.encodeWithSelector(IMintCommitments.MintCommitmentUnknown.selector, commitment));
        datasets.revealMint(alice, ROOT, 1, URI, 0, salt);
        vm.stopPrank();
        assertEq(datasets.totalMinted(), 1);
    }

    function test_RevealMint_Version_RevertWhen_NotAuthorized() public {
        uint256 first = datasets.mint(alice, ROOT, 1, URI);
        bytes32 salt = keccak256("salt");
        vm.prank(bob);
        datasets.commitMint(datasets.mintCommitmentOf(ROOT_2, bob, salt));
        vm.roll(block.number + 1);
        vm.expectRevert(abi.encodeWithSelector(IDatasetNFT.DatasetUnauthorizedVersion.selector, first, bob));
        vm.prank(bob);
        datasets.revealMint(bob, ROOT_2, 1, URI, first, salt);
    }

    /// @dev Claims come out ordered by claim time then id, whatever the mint order.
    function testFuzz_ClaimsOfRoot_Ordered(uint8 n, uint256 seed) public {
        uint256 count = bound(n, 1, 12);
        uint256 start = block.timestamp + 1000;
        for (uint256 i = 0; i < count; ++i) {
            // Reveal-mint with commitments of random ages: claim times out of mint order.
            address minter = address(uint160(0x1000 + i));
            bytes32 salt = bytes32(i);
            vm.warp(start - (uint256(keccak256(abi.encode(seed, i))) % 900));
            vm.prank(minter);
            datasets.commitMint(datasets.mintCommitmentOf(ROOT, minter, salt));
            vm.roll(block.number + 1);
            vm.warp(start + i);
            vm.prank(minter);
            datasets.revealMint(minter, ROOT, 1, URI, 0, salt);
        }
        uint256[] memory claims = datasets.claimsOfRoot(ROOT);
        assertEq(claims.length, count);
        for (uint256 i = 1; i < count; ++i) {
            (uint48 a, uint48 b) = (datasets.dataset(claims[i - 1]).claimedAt, datasets.dataset(claims[i]).claimedAt);
            assertTrue(a < b || (a == b && claims[i - 1] < claims[i]), "claims out of order");
        }
        assertEq(datasets.tokenOfRoot(ROOT), claims[0]);
    }

    function test_Mint_RevertWhen_InvalidURI() public {
        string memory bad = "https://example.com/meta.json";
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, bad));
        datasets.mint(alice, ROOT, 1, bad);
    }

    function test_Mint_RevertWhen_ZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0)));
        datasets.mint(address(0), ROOT, 1, URI);
    }

    function test_Transfer_KeepsRecord() public {
        vm.warp(1234);
        uint256 id = datasets.mint(alice, ROOT, 5, URI);
        vm.prank(alice);
        datasets.transferFrom(alice, bob, id);
        IDatasetNFT.Dataset memory d = datasets.dataset(id);
        assertEq(datasets.ownerOf(id), bob);
        assertEq(d.merkleRoot, ROOT);
        assertEq(d.datapointCount, 5);
        assertEq(d.mintedAt, 1234);
        assertEq(datasets.tokenURI(id), URI);
    }

    // ---------------------------------------------------------------- mintVersion

    function test_MintVersion_ByOwner() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.expectEmit(address(datasets));
        emit IDatasetNFT.DatasetMinted(2, alice, ROOT_2, 11, first, DAG_URI);
        vm.prank(alice);
        uint256 second = datasets.mintVersion(alice, ROOT_2, 11, DAG_URI, first);

        assertEq(second, 2);
        assertEq(datasets.dataset(second).predecessorId, first);
        assertEq(datasets.dataset(second).datapointCount, 11);
        assertEq(datasets.dataset(first).predecessorId, 0);
    }

    function test_MintVersion_ByOperator() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.prank(alice);
        datasets.setApprovalForAll(bob, true);
        vm.prank(bob);
        uint256 second = datasets.mintVersion(bob, ROOT_2, 11, URI, first);
        assertEq(datasets.ownerOf(second), bob);
        assertEq(datasets.dataset(second).predecessorId, first);
    }

    function test_MintVersion_ByTokenApproval() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.prank(alice);
        datasets.approve(bob, first);
        vm.prank(bob);
        uint256 second = datasets.mintVersion(carol, ROOT_2, 11, URI, first);
        assertEq(datasets.ownerOf(second), carol);
    }

    function test_MintVersion_Chain() public {
        vm.startPrank(alice);
        uint256 v1 = datasets.mint(alice, ROOT, 1, URI);
        uint256 v2 = datasets.mintVersion(alice, ROOT_2, 2, URI, v1);
        uint256 v3 = datasets.mintVersion(alice, keccak256("root 3"), 3, URI, v2);
        vm.stopPrank();
        assertEq(datasets.dataset(v3).predecessorId, v2);
        assertEq(datasets.dataset(v2).predecessorId, v1);
    }

    function test_MintVersion_RevertWhen_NotAuthorized() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.expectRevert(abi.encodeWithSelector(IDatasetNFT.DatasetUnauthorizedVersion.selector, first, bob));
        vm.prank(bob);
        datasets.mintVersion(bob, ROOT_2, 11, URI, first);
    }

    function test_MintVersion_RevertWhen_ApprovalRevoked() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.startPrank(alice);
        datasets.setApprovalForAll(bob, true);
        datasets.setApprovalForAll(bob, false);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IDatasetNFT.DatasetUnauthorizedVersion.selector, first, bob));
        vm.prank(bob);
        datasets.mintVersion(bob, ROOT_2, 11, URI, first);
    }

    function test_MintVersion_FollowsOwnership() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.prank(alice);
        datasets.transferFrom(alice, bob, first);

        vm.expectRevert(abi.encodeWithSelector(IDatasetNFT.DatasetUnauthorizedVersion.selector, first, alice));
        vm.prank(alice);
        datasets.mintVersion(alice, ROOT_2, 11, URI, first);

        vm.prank(bob);
        assertEq(datasets.mintVersion(bob, ROOT_2, 11, URI, first), 2);
    }

    function test_MintVersion_RevertWhen_UnknownPredecessor() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        datasets.mintVersion(alice, ROOT, 1, URI, 1);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0));
        datasets.mintVersion(alice, ROOT, 1, URI, 0);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, type(uint256).max));
        datasets.mintVersion(alice, ROOT, 1, URI, type(uint256).max);
    }

    function test_MintVersion_SameRootAddsAClaim() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.prank(alice);
        uint256 second = datasets.mintVersion(alice, ROOT, 10, URI, first);
        assertEq(datasets.claimsOfRoot(ROOT).length, 2);
        assertEq(datasets.tokenOfRoot(ROOT), first);
        assertEq(datasets.dataset(second).predecessorId, first);
    }

    function test_MintVersion_RevertWhen_InvalidInputs() public {
        uint256 first = datasets.mint(alice, ROOT, 10, URI);
        vm.startPrank(alice);
        vm.expectRevert(IDatasetNFT.DatasetZeroRoot.selector);
        datasets.mintVersion(alice, bytes32(0), 1, URI, first);
        vm.expectRevert(IDatasetNFT.DatasetEmpty.selector);
        datasets.mintVersion(alice, ROOT_2, 0, URI, first);
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, ""));
        datasets.mintVersion(alice, ROOT_2, 1, "", first);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- unknown tokens

    function test_Views_RevertWhen_TokenDoesNotExist() public {
        datasets.mint(alice, ROOT, 1, URI);
        bytes memory err = abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 2);
        vm.expectRevert(err);
        datasets.dataset(2);
        vm.expectRevert(err);
        datasets.tokenURI(2);
        vm.expectRevert(err);
        datasets.verifyDatapoint(2, bytes32(0), new bytes32[](0));
        vm.expectRevert(err);
        datasets.multiVerifyDatapoints(2, new bytes32[](1), new bytes32[](0), new bool[](0));
        vm.expectRevert(err);
        datasets.ownerOf(2);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 0));
        datasets.dataset(0);
    }

    // ---------------------------------------------------------------- Merkle proofs

    /// @dev Values and proofs from @openzeppelin/merkle-tree 1.0.8 (`StandardMerkleTree.of`).
    function test_VerifyDatapoint_OpenZeppelinVector() public {
        bytes32[] memory values = _abcde();
        bytes32 root = 0xd59080321df0a9ef630ef6d65fa166f4483e6c8d2dc03baaa5fdba3011902e66;
        assertEq(StandardMerkleTree.build(values).root(), root, "test helper disagrees with the JS library");

        uint256 id = datasets.mint(alice, root, 5, URI);
        bytes32[] memory proof = new bytes32[](3);
        proof[0] = 0x6b47bcfb6f1548f3676129cfb1f97fafc1c27b02027da26b98a958b09248eee1;
        proof[1] = 0xe93b91cccccba8820697f988018ab97f9d372f50f8b4932ab4200c10ab768c34;
        proof[2] = 0x12a4f69539f9ae698a40f2ba3a8a66547267b94ede2a449f4c9929cb21ac0df2;
        assertTrue(datasets.verifyDatapoint(id, values[0], proof));
        assertFalse(datasets.verifyDatapoint(id, values[1], proof));

        // getMultiProof([0, 2, 4]): leaves come back as values 0, 4, 2.
        bytes32[] memory leaves = new bytes32[](3);
        (leaves[0], leaves[1], leaves[2]) = (values[0], values[4], values[2]);
        bytes32[] memory mproof = new bytes32[](2);
        mproof[0] = 0x6b47bcfb6f1548f3676129cfb1f97fafc1c27b02027da26b98a958b09248eee1;
        mproof[1] = 0xde148d6e316202fc9756728244d7260e3f3d9ef6d58d607acb1d38c7ff1f7045;
        bool[] memory flags = new bool[](4);
        (flags[2], flags[3]) = (true, true);
        assertTrue(datasets.multiVerifyDatapoints(id, leaves, mproof, flags));

        StandardMerkleTree.MultiProof memory mp = StandardMerkleTree.build(values).multiProof(_indices(0, 2, 4));
        assertEq(mp.leaves, leaves);
        assertEq(mp.proof, mproof);
        assertEq(abi.encode(mp.proofFlags), abi.encode(flags));
    }

    function test_VerifyDatapoint_SingleDatapoint() public {
        bytes32 value = sha256("only");
        uint256 id = datasets.mint(alice, StandardMerkleTree.leafHash(value), 1, URI);
        assertTrue(datasets.verifyDatapoint(id, value, new bytes32[](0)));
        assertFalse(datasets.verifyDatapoint(id, sha256("other"), new bytes32[](0)));
        assertTrue(datasets.multiVerifyDatapoints(id, _one(value), new bytes32[](0), new bool[](0)));
    }

    /// @dev Every datapoint of a random tree verifies; other hashes and altered proofs do not.
    function testFuzz_VerifyDatapoint(bytes32 seed, uint8 size, uint256 index, uint256 tamper) public {
        uint256 n = bound(size, 1, 64);
        bytes32[] memory values = _randomValues(seed, n);
        StandardMerkleTree.Tree memory tree = StandardMerkleTree.build(values);
        uint256 id = datasets.mint(alice, tree.root(), SafeCast.toUint64(n), URI);

        index = bound(index, 0, n - 1);
        bytes32[] memory proof = tree.proof(index);
        assertTrue(datasets.verifyDatapoint(id, values[index], proof));
        assertFalse(datasets.verifyDatapoint(id, keccak256(abi.encode(seed, "absent")), proof));
        // The root's own preimage halves and inner nodes are not datapoints.
        assertFalse(datasets.verifyDatapoint(id, tree.root(), new bytes32[](0)));

        if (proof.length > 0) {
            bytes32[] memory altered = _copy(proof);
            altered[tamper % proof.length] ^= bytes32(uint256(1) << (tamper % 256));
            assertFalse(datasets.verifyDatapoint(id, values[index], altered));

            bytes32[] memory truncated = new bytes32[](proof.length - 1);
            for (uint256 i = 0; i < truncated.length; ++i) {
                truncated[i] = proof[i];
            }
            assertFalse(datasets.verifyDatapoint(id, values[index], truncated));
        }
    }

    /// @dev Multiproofs of random subsets verify; the empty set and altered proofs do not.
    function testFuzz_MultiVerifyDatapoints(bytes32 seed, uint8 size, uint64 mask, uint256 tamper) public {
        uint256 n = bound(size, 1, 64);
        bytes32[] memory values = _randomValues(seed, n);
        StandardMerkleTree.Tree memory tree = StandardMerkleTree.build(values);
        uint256 id = datasets.mint(alice, tree.root(), SafeCast.toUint64(n), URI);

        uint256 m = 0;
        uint256[] memory picked = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            if ((mask >> i) & 1 == 1) picked[m++] = i;
        }
        if (m == 0) picked[m++] = mask % n;
        uint256[] memory indices = new uint256[](m);
        for (uint256 i = 0; i < m; ++i) {
            indices[i] = picked[i];
        }

        StandardMerkleTree.MultiProof memory mp = tree.multiProof(indices);
        assertTrue(datasets.multiVerifyDatapoints(id, mp.leaves, mp.proof, mp.proofFlags));

        bytes32[] memory wrongLeaves = _copy(mp.leaves);
        wrongLeaves[tamper % m] = keccak256(abi.encode(seed, "absent"));
        assertFalse(datasets.multiVerifyDatapoints(id, wrongLeaves, mp.proof, mp.proofFlags));

        if (mp.proof.length > 0) {
            bytes32[] memory altered = _copy(mp.proof);
            altered[tamper % altered.length] ^= bytes32(uint256(1));
            assertFalse(datasets.multiVerifyDatapoints(id, mp.leaves, altered, mp.proofFlags));
        }
    }

    function test_MultiVerifyDatapoints_EmptySetIsFalse() public {
        bytes32 root = StandardMerkleTree.build(_abcde()).root();
        uint256 id = datasets.mint(alice, root, 5, URI);
        // OpenZeppelin's multiproof accepts ([], [root], []); the registry must not.
        assertTrue(MerkleProof.multiProofVerify(_one(root), new bool[](0), root, new bytes32[](0)));
        assertFalse(datasets.multiVerifyDatapoints(id, new bytes32[](0), _one(root), new bool[](0)));
    }

    function test_MultiVerifyDatapoints_RevertWhen_LengthsMismatch() public {
        bytes32[] memory values = _abcde();
        uint256 id = datasets.mint(alice, StandardMerkleTree.build(values).root(), 5, URI);
        vm.expectRevert(MerkleProof.MerkleProofInvalidMultiproof.selector);
        datasets.multiVerifyDatapoints(id, values, new bytes32[](0), new bool[](1));
    }

    // ---------------------------------------------------------------- helpers

    function _abcde() internal pure returns (bytes32[] memory values) {
        values = new bytes32[](5);
        values[0] = sha256("a");
        values[1] = sha256("b");
        values[2] = sha256("c");
        values[3] = sha256("d");
        values[4] = sha256("e");
    }

    function _randomValues(bytes32 seed, uint256 n) internal pure returns (bytes32[] memory values) {
        values = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            values[i] = sha256(abi.encode(seed, i));
        }
    }

    function _indices(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory r) {
        r = new uint256[](3);
        (r[0], r[1], r[2]) = (a, b, c);
    }

    function _one(bytes32 value) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](1);
        r[0] = value;
    }

    /**
     * @dev A root's first claim keeps its facts in the root's head, every later claim in its own
     * record: both read back whole, whichever is minted how, and the head's latest-claim field
     * never disturbs the first claim's facts.
     */
    function testFuzz_Records_RoundTripFirstAndLaterClaims(
        uint64 count,
        uint64 laterCount,
        bool dagPb,
        uint40 age,
        uint8 later
    ) public {
        count = uint64(bound(count, 1, type(uint64).max));
        laterCount = uint64(bound(laterCount, 1, type(uint64).max));
        uint256 claims = bound(later, 1, 5);
        uint256 start = 2_000_000_000;
        vm.warp(start);
        uint256 previous = datasets.mint(alice, ROOT_2, 7, URI);
        bytes32 salt = keccak256("first");
        vm.prank(alice);
        datasets.commitMint(datasets.mintCommitmentOf(ROOT, alice, salt));
        vm.roll(block.number + 1);
        vm.warp(start + uint256(age) + 1);
        vm.prank(alice);
        uint256 first = datasets.revealMint(carol, ROOT, count, dagPb ? DAG_URI : URI, previous, salt);
        for (uint256 i = 0; i < claims; ++i) {
            vm.warp(block.timestamp + 1);
            datasets.mint(bob, ROOT, laterCount, dagPb ? URI : DAG_URI);
        }

        IDatasetNFT.Dataset memory d = datasets.dataset(first);
        assertEq(d.merkleRoot, ROOT);
        assertEq(d.datapointCount, count);
        assertEq(d.predecessorId, previous);
        assertEq(d.claimedAt, start);
        assertEq(d.mintedAt, start + uint256(age) + 1);
        assertEq(d.metadataCodec, dagPb ? IpfsURI.CODEC_DAG_PB : IpfsURI.CODEC_RAW);
        assertEq(datasets.tokenURI(first), dagPb ? DAG_URI : URI);
        IDatasetNFT.Dataset memory last = datasets.dataset(first + claims);
        assertEq(last.merkleRoot, ROOT);
        assertEq(last.datapointCount, laterCount);
        assertEq(last.predecessorId, 0);
        assertEq(last.claimedAt, block.timestamp);
        assertEq(last.mintedAt, block.timestamp);
        assertEq(datasets.tokenURI(first + claims), dagPb ? URI : DAG_URI);
        assertEq(datasets.tokenOfRoot(ROOT), first);
        uint256[] memory all = datasets.claimsOfRoot(ROOT);
        assertEq(all.length, claims + 1);
        for (uint256 i = 0; i <= claims; ++i) {
            assertEq(all[i], first + i);
        }
        assertEq(datasets.dataset(previous).datapointCount, 7, "another root's record is untouched");
    }

    /// @dev Equal claim times: the earliest claim is the lowest id, also when found by the walk.
    function test_TokenOfRoot_TieKeepsLowerId() public {
        datasets.mint(alice, ROOT, 1, URI);
        datasets.mint(bob, ROOT, 1, URI);
        datasets.mint(carol, ROOT, 1, URI);
        assertEq(datasets.tokenOfRoot(ROOT), 1);
        assertEq(datasets.tokenOfRoot(ROOT_2), 0);
    }

    function _copy(bytes32[] memory a) internal pure returns (bytes32[] memory r) {
        r = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            r[i] = a[i];
        }
    }
}

/**
 * @dev Execution gas of the registry's hot paths, one measurement per test so that every storage
 * slot starts cold as in a real transaction (state written in setUp is not warm in the test).
 * Run with -vv to see the numbers; `mint` must stay within 150,000 gas whatever the dataset size.
 */
contract DatasetNFTGasTest is Test {
    string internal constant URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    uint256 internal constant MINT_BUDGET = 150_000;
    uint256 internal constant DEPTH = 20;

    DatasetNFT internal fresh;
    DatasetNFT internal used;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    bytes32 internal deepValue = sha256("deep datapoint");
    bytes32[] internal deepProof;
    bytes32 internal deepRoot;

    function setUp() public {
        fresh = new DatasetNFT();
        used = new DatasetNFT();
        // A leaf and 20 siblings define a depth-20 tree (2^20 datapoints) whose root the proof reaches.
        bytes32 node = StandardMerkleTree.leafHash(deepValue);
        for (uint256 i = 0; i < DEPTH; ++i) {
            deepProof.push(keccak256(abi.encode("sibling", i)));
            node = Hashes.commutativeKeccak256(node, deepProof[i]);
        }
        used.mint(alice, node, uint64(1) << DEPTH, URI);
        deepRoot = node;
        // Commitments made in setUp, so their slots are cold in the reveal as in a real one.
        vm.startPrank(alice);
        fresh.commitMint(fresh.mintCommitmentOf(keccak256("a"), alice, SALT));
        used.commitMint(used.mintCommitmentOf(node, alice, SALT));
        used.commitMint(used.mintCommitmentOf(keccak256("b"), alice, SALT_B));
        vm.stopPrank();
        vm.roll(block.number + 1);
    }

    function test_Gas_FirstMint() public {
        fresh.mint(alice, keccak256("a"), type(uint64).max, URI);
        _report("DatasetNFT.mint, first token of the contract", true);
    }

    function test_Gas_LaterMintSameOwner() public {
        used.mint(alice, keccak256("a"), type(uint64).max, URI);
        _report("DatasetNFT.mint, later token, owner already holds one", true);
    }

    function test_Gas_LaterMintNewOwner() public {
        used.mint(bob, keccak256("a"), type(uint64).max, URI);
        _report("DatasetNFT.mint, later token, first for its owner", true);
    }

    function test_Gas_MintVersion() public {
        vm.prank(alice);
        used.mintVersion(bob, keccak256("a"), type(uint64).max, URI, 1);
        // Not held to the mint budget: it also reads the predecessor's owner (a cold slot).
        _report("DatasetNFT.mintVersion, first for its owner", false);
    }

    function test_Gas_CommitMint() public {
        fresh.commitMint(keccak256("commitment"));
        _report("DatasetNFT.commitMint", false);
    }

    function test_Gas_RevealMintFirstToken() public {
        vm.prank(alice);
        fresh.revealMint(alice, keccak256("a"), type(uint64).max, URI, 0, SALT);
        // A first token for its owner also pays the balance's new slot (22,100).
        _report("DatasetNFT.revealMint, first token of the contract", true);
    }

    function test_Gas_RevealMintOwnerHoldsOne() public {
        vm.prank(alice);
        used.revealMint(alice, keccak256("b"), type(uint64).max, URI, 0, SALT_B);
        _report("DatasetNFT.revealMint, later token, owner already holds one", true);
    }

    function test_Gas_RevealMintContestedRoot() public {
        // The deep root is already claimed by token 1: a second claim adds a link.
        vm.prank(alice);
        used.revealMint(alice, deepRoot, 1, URI, 0, SALT);
        _report("DatasetNFT.revealMint, second claim of a root, owner already holds one", true);
    }

    function test_Gas_RevealMintContestedRootNewOwner() public {
        // A second claim of the deep root, to an owner who holds nothing yet.
        vm.prank(alice);
        used.revealMint(bob, deepRoot, 1, URI, 0, SALT);
        _report("DatasetNFT.revealMint, second claim of a root, first for its owner", true);
    }

    function test_Gas_VerifyDatapointDepth20() public {
        assertTrue(used.verifyDatapoint(1, deepValue, deepProof));
        _report("DatasetNFT.verifyDatapoint, 20-level proof", false);
    }

    bytes32 internal constant SALT = keccak256("salt");
    bytes32 internal constant SALT_B = keccak256("salt b");

    function _report(string memory what, bool isMint) internal {
        uint256 gasUsed = vm.lastCallGas().gasTotalUsed;
        console.log(what, gasUsed);
        if (isMint) assertLe(gasUsed, MINT_BUDGET, "mint over its gas budget");
    }
}
