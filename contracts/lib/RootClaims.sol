// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title RootClaims
 * @dev The claims of one content root (a dataset's Merkle root, a model's weights root): every
 * token minted for it, in mint order, and the earliest claim by claim time.
 *
 * Anyone can compute a public dataset's or model's root and mint it, so a root is never
 * reserved: each mint adds a claim, and readers see them all with their times. An
 * uncontested root costs one storage slot (its head); each further claim adds a link from it
 * to the claim before.
 */
library RootClaims {
    // The head of a root's claim list, in one slot: the earliest claim and its time, the latest
    // claim (the start of the links), and the number of claims.
    struct Head {
        uint64 first;
        uint48 firstClaimedAt;
        uint64 latest;
        uint64 count;
    }

    struct Claims {
        mapping(bytes32 root => Head) heads;
        mapping(uint256 tokenId => uint64 earlierClaim) previous;
    }

    /**
     * @dev Adds token `tokenId`, claimed at `claimedAt`, to the claims of `root`. It becomes the
     * earliest claim if it was claimed strictly before the current one: equal times keep the
     * lower id.
     */
    function add(Claims storage self, bytes32 root, uint64 tokenId, uint48 claimedAt) internal {
        Head storage head = self.heads[root];
        if (head.count == 0) {
            self.heads[root] = Head(tokenId, claimedAt, tokenId, 1);
            return;
        }
        self.previous[tokenId] = head.latest;
        head.latest = tokenId;
        // A count is below the number of tokens, itself a uint64.
        unchecked {
            ++head.count;
        }
        if (claimedAt < head.firstClaimedAt) (head.first, head.firstClaimedAt) = (tokenId, claimedAt);
    }

    /// @dev The earliest claim of `root` (lowest id among equal times), 0 if none.
    function first(Claims storage self, bytes32 root) internal view returns (uint256) {
        return self.heads[root].first;
    }

    /**
     * @dev Every claim of `root`, ordered by `claimedAt(tokenId)` and then by id: the order in
     * which the claims were fixed. Insertion sort, for the few claims a root has.
     */
    function list(Claims storage self, bytes32 root, function(uint256) view returns (uint48) claimedAt)
        internal
        view
        returns (uint256[] memory ids)
    {
        Head storage head = self.heads[root];
        uint256 count = head.count;
        ids = new uint256[](count);
        uint48[] memory times = new uint48[](count);
        uint256 id = head.latest;
        // The links run from the latest mint back; filling from the end gives mint order.
        for (uint256 i = count; i > 0; --i) {
            ids[i - 1] = id;
            times[i - 1] = claimedAt(id);
            id = self.previous[id];
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
