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
        string[] memory cmd = new string[](5);
        (cmd[0], cmd[1], cmd[2]) = (".venv/bin/python", "contracts/test/ffi/oml_reveal.py", vm.toString(seed));
        (cmd[3], cmd[4]) = (vm.toString(n), vm.toString(uint256(mask)));
        (bytes32 root, IModelNFT.FingerprintReveal[] memory reveals, bytes32[] memory proof, bool[] memory flags) =
            abi.decode(vm.ffi(cmd), (bytes32, IModelNFT.FingerprintReveal[], bytes32[], bool[]));

        bytes32[] memory digests = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            digests[i] = keccak256(
                abi.encode(
                    keccak256(abi.encode(seed, i)),
                    string.concat("key ", vm.toString(i), " of ", vm.toString(seed)),
                    string.concat(" answer", vm.toString(i % 5))
                )
            );
        }
        assertEq(root, StandardMerkleTree.build(digests).root(), "Python and Solidity roots differ");

        vm.startPrank(alice);
        uint256 id = models.mint(alice, keccak256(abi.encode(seed)), URI, 0, new uint256[](0));
        models.commitFingerprint(id, IModelNFT.FingerprintKind.OML, root, "");
        models.revealFingerprints(id, reveals, proof, flags);
        vm.stopPrank();
        assertEq(models.revealedFingerprintCount(id), reveals.length);
        for (uint256 i = 0; i < reveals.length; ++i) {
            bytes32 digest = keccak256(abi.encode(reveals[i].salt, reveals[i].key, reveals[i].response));
            assertTrue(models.fingerprintRevealed(id, digest));
        }
    }
}
