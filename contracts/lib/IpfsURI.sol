// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IpfsURI
 * @dev Converts between `ipfs://<CID>` strings and a compact (codec, digest) pair, so that
 * contracts store one byte and one word instead of a 66-byte string.
 *
 * Accepted form, the one Kubo prints for CIDv1 with `--cid-base=base32`:
 *
 *     "ipfs://" + "b" + base32lower(0x01 ‖ codec ‖ 0x12 ‖ 0x20 ‖ digest)
 *
 * - multibase `b`: RFC 4648 base32, lowercase alphabet `a-z2-7`, no padding;
 * - CID version 1;
 * - codec raw (0x55, `bafkrei...`) or dag-pb (0x70, `bafybei...`);
 * - multihash sha2-256 (0x12) with a 32-byte (0x20) digest.
 *
 * The 36 CID bytes (288 bits) take 58 base32 characters (290 bits); the 2 bits left over at the
 * end must be zero. Every accepted string is therefore the one canonical spelling of its
 * (codec, digest) pair, and {format} returns it byte for byte: `format(parse(s)) == s`.
 */
library IpfsURI {
    /// @dev Multicodec of a single raw block (files up to one chunk, 256 KiB with Kubo defaults).
    uint8 internal constant CODEC_RAW = 0x55;
    /// @dev Multicodec of a UnixFS DAG root (larger files, folders).
    uint8 internal constant CODEC_DAG_PB = 0x70;

    /// @dev Length of every accepted URI: 7 ("ipfs://") + 1 (multibase "b") + 58 (base32 CID).
    uint256 internal constant URI_LENGTH = 66;

    /**
     * @dev The string is not `ipfs://` followed by a base32 CIDv1 (raw or dag-pb, sha2-256) in
     * its canonical spelling.
     */
    error IpfsURIInvalid(string uri);

    /// @dev {format} was given a codec other than {CODEC_RAW} or {CODEC_DAG_PB}.
    error IpfsURIUnsupportedCodec(uint8 codec);

    // "ipfs://b" and the first six base32 characters, which encode the fixed bytes 0x01 codec
    // 0x12 0x20 except the last two bits of 0x20 (always zero, checked with the digest).
    bytes14 private constant _RAW_PREFIX = "ipfs://bafkrei";
    bytes14 private constant _DAG_PB_PREFIX = "ipfs://bafybei";
    uint256 private constant _PREFIX_LENGTH = 14;

    bytes32 private constant _ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

    // Twelve "a" (base32 value 0) in the low bytes of a word, to pad the last 20 characters.
    uint256 private constant _FILLER = 0x616161616161616161616161;

    /**
     * @dev Parses `uri` into its CID codec and sha2-256 digest.
     *
     * Requirements:
     *
     * - `uri` is exactly `ipfs://` + the 59-character base32 spelling of a CIDv1 with codec raw or
     *   dag-pb and a sha2-256 multihash, lowercase, with zero padding bits.
     */
    function parse(string calldata uri) internal pure returns (uint8 codec, bytes32 digest) {
        bytes calldata raw = bytes(uri);
        if (raw.length != URI_LENGTH) revert IpfsURIInvalid(uri);

        bytes14 prefix = bytes14(raw[:_PREFIX_LENGTH]);
        if (prefix == _RAW_PREFIX) {
            codec = CODEC_RAW;
        } else if (prefix == _DAG_PB_PREFIX) {
            codec = CODEC_DAG_PB;
        } else {
            revert IpfsURIInvalid(uri);
        }

        // The remaining 52 characters carry 260 bits: 2 zero bits (end of the 0x20 length
        // byte), the 256-bit digest, then 2 zero padding bits. They are read as two words:
        // characters 0-31, and 32-51 followed by 12 bytes that are not part of the URI, which
        // are replaced by "a" (value 0) before decoding.
        uint256 head;
        uint256 tail;
        // Assembly reads two words of calldata at an offset, which Solidity cannot without copying.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let cursor := add(raw.offset, _PREFIX_LENGTH)
            head := calldataload(cursor)
            tail := or(and(calldataload(add(cursor, 32)), not(0xffffffffffffffffffffffff)), _FILLER)
        }
        (uint256 high, bool headValid) = _decodeWord(head); // characters 0-31: 160 bits
        (uint256 low, bool tailValid) = _decodeWord(tail);
        low >>= 60; // characters 32-51: 100 bits, without the 12 filler characters
        if (!headValid || !tailValid || high >> 158 != 0 || low & 3 != 0) revert IpfsURIInvalid(uri);
        // The stream is high (160 bits) ‖ low (100 bits); the digest is bits 2 to 257 of it.
        // Shifting `high` left by 98 drops its 2 zero length bits off the top of the word.
        digest = bytes32((high << 98) | (low >> 2));
    }

    /**
     * @dev Returns the canonical `ipfs://b...` URI of the CIDv1 with `codec` and sha2-256 `digest`;
     * the inverse of {parse}.
     *
     * Requirements:
     *
     * - `codec` is {CODEC_RAW} or {CODEC_DAG_PB}.
     */
    function format(uint8 codec, bytes32 digest) internal pure returns (string memory) {
        bytes14 prefix;
        if (codec == CODEC_RAW) {
            prefix = _RAW_PREFIX;
        } else if (codec == CODEC_DAG_PB) {
            prefix = _DAG_PB_PREFIX;
        } else {
            revert IpfsURIUnsupportedCodec(codec);
        }

        bytes memory uri = new bytes(URI_LENGTH);
        uint256 value = uint256(digest);
        // Assembly writes the 52 characters into the preallocated string byte by byte, unchecked.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let out := add(uri, 0x20)
            // The prefix occupies the high 14 bytes of `prefix`; the rest of the word is
            // overwritten by the characters written below.
            mstore(out, prefix)
            out := add(out, _PREFIX_LENGTH)
            // First character: 2 zero bits + the top 3 digest bits.
            mstore8(out, byte(shr(253, value), _ALPHABET))
            // Characters 1..50: digest bits from the top, 5 at a time.
            for { let i := 1 } lt(i, 51) { i := add(i, 1) } {
                mstore8(add(out, i), byte(and(shr(sub(253, mul(5, i)), value), 31), _ALPHABET))
            }
            // Last character: the low 3 digest bits + 2 zero padding bits.
            mstore8(add(out, 51), byte(shl(2, and(value, 7)), _ALPHABET))
        }
        return string(uri);
    }

    /**
     * @dev Decodes 32 base32 characters (one per byte, first character in the highest byte) into
     * their 160-bit value, all lanes at once (SWAR). `valid` is false if any byte is not in
     * `a-z2-7`; `value` is then meaningless.
     */
    function _decodeWord(uint256 word) private pure returns (uint256 value, bool valid) {
        // Assembly: the SWAR arithmetic works on all 32 bytes of a word at once, unchecked.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ones := 0x0101010101010101010101010101010101010101010101010101010101010101
            let highBits := mul(ones, 0x80)
            // With every byte below 0x80, adding a constant below 0x80 to each byte never carries
            // into the next one, and sets a byte's high bit exactly when the byte reaches a bound:
            // c + (0x80 - lo) >= 0x80 <=> c >= lo, and c + (0x7f - hi) >= 0x80 <=> c > hi.
            let isAscii := iszero(and(word, highBits))
            let atLeastA := and(add(word, mul(ones, 0x1f)), highBits) // c >= 'a' (0x61)
            let aboveZ := and(add(word, mul(ones, 0x05)), highBits) // c > 'z' (0x7a)
            let atLeast2 := and(add(word, mul(ones, 0x4e)), highBits) // c >= '2' (0x32)
            let above7 := and(add(word, mul(ones, 0x48)), highBits) // c > '7' (0x37)
            let isLetter := and(atLeastA, not(aboveZ))
            let isDigit := and(atLeast2, not(above7))
            valid := and(isAscii, eq(or(isLetter, isDigit), highBits))

            // Per byte: c - 0x18 maps '2'-'7' to 26-31; letters lose another 0x49 to map 'a'-'z'
            // to 0-25. Valid bytes are at least 0x32 (letters at least 0x61), so no byte borrows.
            value := sub(sub(word, mul(ones, 0x18)), mul(shr(7, isLetter), 0x49))

            // Pack the 5-bit values: join neighbouring fields in ever wider lanes, the earlier
            // (higher) field shifted down onto the later one: 16-bit lanes hold 10 bits, 32-bit
            // lanes 20, 64-bit lanes 40, 128-bit lanes 80, and the word 160.
            value := or(
                and(value, 0x001f001f001f001f001f001f001f001f001f001f001f001f001f001f001f001f),
                shr(3, and(value, 0x1f001f001f001f001f001f001f001f001f001f001f001f001f001f001f001f00))
            )
            value := or(
                and(value, 0x000003ff000003ff000003ff000003ff000003ff000003ff000003ff000003ff),
                shr(6, and(value, 0x03ff000003ff000003ff000003ff000003ff000003ff000003ff000003ff0000))
            )
            value := or(
                and(value, 0x00000000000fffff00000000000fffff00000000000fffff00000000000fffff),
                shr(12, and(value, 0x000fffff00000000000fffff00000000000fffff00000000000fffff00000000))
            )
            value := or(
                and(value, 0x0000000000000000000000ffffffffff0000000000000000000000ffffffffff),
                shr(24, and(value, 0x000000ffffffffff0000000000000000000000ffffffffff0000000000000000))
            )
            value := or(
                and(value, 0x00000000000000000000000000000000000000000000ffffffffffffffffffff),
                shr(48, and(value, 0x000000000000ffffffffffffffffffff00000000000000000000000000000000))
            )
        }
    }
}
