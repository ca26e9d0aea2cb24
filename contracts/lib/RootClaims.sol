// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title RootClaims
 * @dev The claims of one content root (a dataset's Merkle root, a model's weights root): every
 * token minted for it, in mint order, and the earliest claim by claim time.
 *
 * Anyone can compute a public dataset's or model's root and mint it, so a root is never
 * reserved: each mint adds a claim, and readers see them all with their times. A root costs one
 * storage slot, its head: the latest claim (40 bits, the start of the links) and 216 bits the
 * contract stores with the root's first claim (DatasetNFT keeps that claim's record facts
 * there, so an uncontested root costs no slot beyond its head). Each further claim links to the
 * claim before it; the contract stores that link in the new claim's own record and reads it back
 * through the `previous` function the views take. The earliest claim and the number of claims
 * are found by walking the links, in views only: a root rarely has more than one claim.
 */
library RootClaims {
    /// @dev Token ids as the heads and links store them: 2^40 ids outlast any chain's gas.
    uint256 internal constant ID_BITS = 40;

    uint256 private constant _ID_MASK = type(uint40).max;

    struct Claims {
        mapping(bytes32 root => uint256 head) heads;
    }

    /**
     * @dev Adds token `tokenId` to the claims of `root` and returns the root's claim before it
     * (0 if `tokenId` is the first, the caller then links nothing). `data` (at most 216 bits)
     * is stored in the head if `tokenId` is the root's first claim (see {firstClaimData}), and
     * ignored otherwise.
     */
    function add(Claims storage self, bytes32 root, uint40 tokenId, uint256 data)
        internal
        returns (uint40 previousClaim)
    {
        uint256 head = self.heads[root];
        // casting to 'uint40' is safe because the low 40 bits of a head are a token id
        // forge-lint: disable-next-line(unsafe-typecast)
        previousClaim = uint40(head);
        self.heads[root] = head == 0 ? (data << ID_BITS) | tokenId : (head & ~_ID_MASK) | tokenId;
    }

    /// @dev The latest claim of `root`, 0 if none.
    function latest(Claims storage self, bytes32 root) internal view returns (uint256) {
        return self.heads[root] & _ID_MASK;
    }

    /// @dev The data stored with the first claim of `root` (see {add}), 0 if none.
    function firstClaimData(Claims storage self, bytes32 root) internal view returns (uint256) {
        return self.heads[root] >> ID_BITS;
    }

    /**
     * @dev The earliest claim of `root`: the lowest `claimedAt(tokenId)`, the lowest id among
     * equal times; 0 if none. `previous(tokenId)` is the claim linked before `tokenId`.
     */
    function first(
        Claims storage self,
        bytes32 root,
        function(uint256) view returns (uint256) previous,
        function(uint256) view returns (uint48) claimedAt
    ) internal view returns (uint256 earliest) {
        uint256 earliestAt = type(uint256).max;
        // The links run from the latest mint back, so `<=` moves to the lower id on a tie.
        for (uint256 id = latest(self, root); id != 0; id = previous(id)) {
            uint256 at = claimedAt(id);
            if (at <= earliestAt) (earliest, earliestAt) = (id, at);
        }
    }

    /**
     * @dev Every claim of `root`, ordered by `claimedAt(tokenId)` and then by id: the order in
     * which the claims were fixed. Insertion sort, for the few claims a root has.
     */
    function list(
        Claims storage self,
        bytes32 root,
        function(uint256) view returns (uint256) previous,
        function(uint256) view returns (uint48) claimedAt
    ) internal view returns (uint256[] memory ids) {
        uint256 head = latest(self, root);
        uint256 count = 0;
        for (uint256 id = head; id != 0; id = previous(id)) {
            ++count;
        }
        ids = new uint256[](count);
        uint48[] memory times = new uint48[](count);
        uint256 next = head;
        // The links run from the latest mint back; filling from the end gives mint order.
        for (uint256 i = count; i > 0; --i) {
            ids[i - 1] = next;
            times[i - 1] = claimedAt(next);
            next = previous(next);
        }
        for (uint256 i = 1; i < count; ++i) {
            (uint256 keyId, uint48 keyTime) = (ids[i], times[i]);
            uint256 j = i;
            // Mint order is id order, so a stable sort by time breaks ties by id.
            while (j > 0 && times[j - 1] > keyTime) {
                (ids[j], times[j]) = (ids[j - 1], times[j - 1]);
                --j;
            }
            (ids[j], times[j]) = (keyId, keyTime);
        }
    }
}
