// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {DatasetNFT} from "../../DatasetNFT.sol";
import {StandardMerkleTree} from "../utils/StandardMerkleTree.sol";

/**
 * @dev Trees, proofs and multiproofs built by modelmint's Python code (modelmint.hashing.merkle,
 * through merkle_proof.py beside this file) verify on chain, and the Python root equals the
 * Solidity port of OpenZeppelin's tree. Needs FFI and the project venv (.venv): run it with
 * `FOUNDRY_PROFILE=ffi forge test` (foundry.toml allows FFI in that profile only; forge does not
 * accept `ffi` as inline config). Few runs, as each run starts a Python process.
 */
contract DatasetNFTPythonTest is Test {
    using StandardMerkleTree for StandardMerkleTree.Tree;

    string internal constant URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    string internal constant PYTHON = ".venv/bin/python";
    string internal constant SCRIPT = "contracts/test/ffi/merkle_proof.py";

    DatasetNFT internal datasets;
    address internal alice = makeAddr("alice");

    struct PythonTree {
        bytes32 root;
        bytes32[][] proofs;
        bytes32[] multiLeaves;
        bytes32[] multiProof;
        bool[] multiFlags;
    }

    function setUp() public {
        datasets = new DatasetNFT();
    }

    /// forge-config: default.fuzz.runs = 16
    function testFuzz_PythonProofsVerify(bytes32 seed, uint8 size, uint64 mask) public {
        uint256 n = bound(size, 1, 64);
        PythonTree memory py = _python(seed, n, mask);

        bytes32[] memory values = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            values[i] = sha256(abi.encode(seed, i));
        }
        assertEq(py.root, StandardMerkleTree.build(values).root(), "Python and Solidity roots differ");

        uint256 id = datasets.mint(alice, py.root, SafeCast.toUint64(n), URI);
        assertEq(py.proofs.length, n);
        for (uint256 i = 0; i < n; ++i) {
            assertTrue(datasets.verifyDatapoint(id, values[i], py.proofs[i]), "Python proof rejected");
            // A proof shows its own datapoint only (values are distinct here).
            if (n > 1) assertFalse(datasets.verifyDatapoint(id, values[(i + 1) % n], py.proofs[i]));
        }
        assertTrue(datasets.multiVerifyDatapoints(id, py.multiLeaves, py.multiProof, py.multiFlags));

        py.multiLeaves[0] = keccak256(abi.encode(seed, "absent"));
        assertFalse(datasets.multiVerifyDatapoints(id, py.multiLeaves, py.multiProof, py.multiFlags));
    }

    function _python(bytes32 seed, uint256 n, uint64 mask) internal returns (PythonTree memory py) {
        string[] memory cmd = new string[](5);
        cmd[0] = PYTHON;
        cmd[1] = SCRIPT;
        cmd[2] = vm.toString(seed);
        cmd[3] = vm.toString(n);
        cmd[4] = vm.toString(uint256(mask));
        (py.root, py.proofs, py.multiLeaves, py.multiProof, py.multiFlags) =
            abi.decode(vm.ffi(cmd), (bytes32, bytes32[][], bytes32[], bytes32[], bool[]));
    }
}
