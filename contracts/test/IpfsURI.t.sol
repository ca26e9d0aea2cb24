// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {IpfsURI} from "../lib/IpfsURI.sol";

/// @dev Exposes the library's internal functions, with `parse` on calldata as contracts use it.
contract IpfsURIHarness {
    function parse(string calldata uri) external pure returns (uint8 codec, bytes32 digest) {
        return IpfsURI.parse(uri);
    }

    function format(uint8 codec, bytes32 digest) external pure returns (string memory) {
        return IpfsURI.format(codec, digest);
    }
}

contract IpfsURITest is Test {
    // sha256("hello world"): the well-known raw-leaf CIDv1 that Kubo prints for that file.
    string internal constant HELLO_URI = "ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    bytes32 internal constant HELLO_DIGEST = 0xb94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9;
    // sha256("modelmint metadata") as a dag-pb CID.
    string internal constant DAG_URI = "ipfs://bafybeicwpzt3gyp63sls4jkozgegc7zlzjx57cionbvmdbpligzgzpnk24";
    bytes32 internal constant DAG_DIGEST = 0x567e67b361fedc972e254ec988617f2bca6fdf890e686ac185eb41b26cbdaad7;

    bytes internal constant ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

    IpfsURIHarness internal harness;

    function setUp() public {
        harness = new IpfsURIHarness();
    }

    function test_Parse_RawCid() public view {
        (uint8 codec, bytes32 digest) = harness.parse(HELLO_URI);
        assertEq(codec, IpfsURI.CODEC_RAW);
        assertEq(digest, HELLO_DIGEST);
    }

    function test_Parse_DagPbCid() public view {
        (uint8 codec, bytes32 digest) = harness.parse(DAG_URI);
        assertEq(codec, IpfsURI.CODEC_DAG_PB);
        assertEq(digest, DAG_DIGEST);
    }

    function test_Format_KnownVectors() public view {
        assertEq(harness.format(IpfsURI.CODEC_RAW, HELLO_DIGEST), HELLO_URI);
        assertEq(harness.format(IpfsURI.CODEC_DAG_PB, DAG_DIGEST), DAG_URI);
    }

    function test_Format_ExtremeDigests() public view {
        assertEq(
            harness.format(IpfsURI.CODEC_RAW, bytes32(0)),
            "ipfs://bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        );
        assertEq(
            harness.format(IpfsURI.CODEC_DAG_PB, bytes32(type(uint256).max)),
            "ipfs://bafybeih777777777777777777777777777777777777777777777777774"
        );
    }

    function test_Format_RevertWhen_UnsupportedCodec() public {
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.IpfsURIUnsupportedCodec.selector, uint8(0x71)));
        harness.format(0x71, HELLO_DIGEST);
    }

    function test_Parse_RevertWhen_Empty() public {
        _expectInvalid("");
    }

    function test_Parse_RevertWhen_WrongLength() public {
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5");
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5ea");
        _expectInvalid("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    }

    function test_Parse_RevertWhen_WrongScheme() public {
        _expectInvalid("ipns://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
        _expectInvalid("IPFS://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
        _expectInvalid("https:/bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    }

    function test_Parse_RevertWhen_NotBase32Lower() public {
        // Upper-case multibase "B" and upper-case digits of the same CID.
        _expectInvalid("ipfs://BAFKREIFZJUT3TE2NHYEKKLSS27NH3K72YSCO7Y32KOAO5EEI66WOF36N5E");
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66woF36n5e");
    }

    function test_Parse_RevertWhen_CidV0() public {
        // CIDv0 (base58btc "Qm..."), padded to the accepted length so only the content is wrong.
        _expectInvalid("ipfs://QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8uQmWATWQ7fVPP2");
    }

    function test_Parse_RevertWhen_OtherCodec() public {
        // dag-cbor (0x71) with a sha2-256 digest.
        _expectInvalid("ipfs://bafyreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe");
    }

    function test_Parse_RevertWhen_OtherHash() public {
        // A raw CID whose multihash is not sha2-256 changes the sixth character.
        _expectInvalid("ipfs://bafkreafzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    }

    function test_Parse_RevertWhen_BadCharacters() public {
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof16n5e"); // '1'
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof86n5e"); // '8'
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof=6n5e"); // '='
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof{6n5e"); // after 'z'
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof`6n5e"); // before 'a'
    }

    function test_Parse_RevertWhen_LengthBitsNotZero() public {
        // The first free character carries the last two bits of the 0x20 length byte: must be a-h.
        _expectInvalid("ipfs://bafkreiizjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
    }

    function test_Parse_RevertWhen_PaddingBitsNotZero() public {
        // "...n5e" is canonical; "...n5f" sets a padding bit and decodes to the same digest.
        _expectInvalid("ipfs://bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5f");
    }

    /// @dev Any (codec, digest) formats to a URI that parses back to it.
    function testFuzz_FormatThenParse(bool dagPb, bytes32 digest) public view {
        uint8 codec = dagPb ? IpfsURI.CODEC_DAG_PB : IpfsURI.CODEC_RAW;
        string memory uri = harness.format(codec, digest);
        assertEq(bytes(uri).length, IpfsURI.URI_LENGTH);
        (uint8 parsedCodec, bytes32 parsedDigest) = harness.parse(uri);
        assertEq(parsedCodec, codec);
        assertEq(parsedDigest, digest);
    }

    /**
     * @dev A URI built from random base32 characters parses exactly when its free bits are zero,
     * and then formats back to the identical string.
     */
    function testFuzz_ParseThenFormat(bool dagPb, bytes32 seedA, bytes32 seedB) public view {
        bytes memory uri = bytes.concat(dagPb ? bytes("ipfs://bafybei") : bytes("ipfs://bafkrei"));
        uint256 first;
        uint256 last;
        for (uint256 i = 0; i < 52; ++i) {
            uint256 v = uint8((i < 32 ? seedA : seedB)[i % 32]) % 32;
            if (i == 0) first = v;
            if (i == 51) last = v;
            uri = bytes.concat(uri, ALPHABET[v]);
        }
        bool canonical = first < 8 && last % 4 == 0;
        try harness.parse(string(uri)) returns (uint8 codec, bytes32 digest) {
            assertTrue(canonical, "accepted a non-canonical URI");
            assertEq(harness.format(codec, digest), string(uri));
        } catch (bytes memory reason) {
            assertFalse(canonical, "rejected a canonical URI");
            assertEq(reason, abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, string(uri)));
        }
    }

    /// @dev Arbitrary bytes after a valid prefix: whatever parses must format back identically.
    function testFuzz_ArbitraryTail(bool dagPb, bytes32 a, bytes20 b) public view {
        bytes memory uri = bytes.concat(dagPb ? bytes("ipfs://bafybei") : bytes("ipfs://bafkrei"), a, b);
        try harness.parse(string(uri)) returns (uint8 codec, bytes32 digest) {
            assertEq(harness.format(codec, digest), string(uri));
        } catch (bytes memory reason) {
            assertEq(reason, abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, string(uri)));
        }
    }

    function _expectInvalid(string memory uri) internal {
        vm.expectRevert(abi.encodeWithSelector(IpfsURI.IpfsURIInvalid.selector, uri));
        harness.parse(uri);
    }
}
