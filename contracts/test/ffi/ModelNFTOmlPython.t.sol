// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {DatasetNFT} from "../../DatasetNFT.sol";
import {ModelNFT} from "../../ModelNFT.sol";
import {IModelNFT} from "../../interfaces/IModelNFT.sol";
import {StandardMerkleTree} from "../utils/StandardMerkleTree.sol";

/**
 * @dev OML commitments and reveals built by modelmint's Python code
 * (modelmint.fingerprints.oml.commitment, through oml_reveal.py beside this file) are accepted
 * by ModelNFT, and the Python root equals the Solidity port of OpenZeppelin's tree over the
 * digests Solidity computes. Run with `FOUNDRY_PROFILE=ffi forge test`.
 */
contract ModelNFTOmlPythonTest is Test {
    using StandardMerkleTree for StandardMerkleTree.Tree;

    string internal constant URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

    ModelNFT internal models;
    address internal alice = makeAddr("alice");

    function setUp() public {
        models = new ModelNFT(new DatasetNFT());
    }

    /// forge-config: default.fuzz.runs = 16
    function testFuzz_PythonRevealsVerify(bytes32 seed, uint8 size, uint64 mask) public {
        uint256 n = bound(size, 1, 64);
        // The token the fingerprints are bound to: the next id, on this chain and contract.
        uint256 tokenId = models.totalMinted() + 1;
        string[] memory cmd = new string[](8);
        (cmd[0], cmd[1], cmd[2]) = (".venv/bin/python", "contracts/test/ffi/oml_reveal.py", vm.toString(seed));
        (cmd[3], cmd[4]) = (vm.toString(n), vm.toString(uint256(mask)));
        (cmd[5], cmd[6], cmd[7]) = (vm.toString(block.chainid), vm.toString(address(models)), vm.toString(tokenId));
        (bytes32 root, IModelNFT.FingerprintReveal[] memory reveals, bytes32[] memory proof, bool[] memory flags) =
            abi.decode(vm.ffi(cmd), (bytes32, IModelNFT.FingerprintReveal[], bytes32[], bool[]));

        assertEq(root, StandardMerkleTree.build(_digests(seed, n, tokenId)).root(), "Python and Solidity roots differ");

        vm.startPrank(alice);
        uint256 id = models.mintWithFingerprint(
            alice, keccak256(abi.encode(seed)), URI, 0, new uint256[](0), IModelNFT.MintFingerprint(tokenId, root, "")
        );
        models.revealFingerprints(id, reveals, proof, flags);
        vm.stopPrank();
        assertEq(models.revealedFingerprintCount(id), reveals.length);
        for (uint256 i = 0; i < reveals.length; ++i) {
            bytes32 digest = models.fingerprintDigest(id, reveals[i].salt, reveals[i].key, reveals[i].response);
            assertTrue(models.fingerprintRevealed(id, digest));
        }
    }

    /// @dev The digests of the test's set, recomputed from docs/oml.md: chain, contract and token,
    /// then salt, key and response.
    function _digests(bytes32 seed, uint256 n, uint256 tokenId) internal view returns (bytes32[] memory digests) {
        digests = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 key = keccak256(bytes(string.concat("key ", vm.toString(i), " of ", vm.toString(seed))));
            bytes32 response = keccak256(bytes(string.concat(" answer", vm.toString(i % 5))));
            digests[i] = keccak256(
                abi.encode(block.chainid, address(models), tokenId, keccak256(abi.encode(seed, i)), key, response)
            );
        }
    }
}
