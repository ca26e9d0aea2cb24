"""DatasetNFT and ModelNFT through ape: deployment, minting, Merkle proofs of datapoints,
lineage, and custom-error reverts decoded by name."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import ape
import pytest
from conftest import datapoint_hash, hash_pair, ipfs_uri, leaf

ROOT = Path(__file__).resolve().parents[2]
ZERO = b"\x00" * 32
HUREF, OML = 0, 1  # IModelNFT.FingerprintKind


def test_helpers_match_reference_values(two_leaf_tree):
    # The CID of the empty file, as `ipfs add --cid-version=1 --raw-leaves` prints it.
    assert ipfs_uri(b"") == "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    # The same tree built by @openzeppelin/merkle-tree (the library the Python side mirrors).
    hashes, leaves, root = two_leaf_tree
    script = (
        "const {StandardMerkleTree} = require('@openzeppelin/merkle-tree');"
        "const values = JSON.parse(process.argv[1]).map((h) => [h]);"
        "const tree = StandardMerkleTree.of(values, ['bytes32']);"
        "console.log(JSON.stringify({root: tree.root, proof: tree.getProof(0)}));"
    )
    out = subprocess.run(
        ["node", "-e", script, json.dumps(["0x" + h.hex() for h in hashes])],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    reference = json.loads(out)
    assert reference["root"] == "0x" + root.hex()
    assert reference["proof"] == ["0x" + leaves[1].hex()]


def test_mint_dataset_and_verify_datapoints(dataset_nft, owner, alice, two_leaf_tree):
    hashes, leaves, root = two_leaf_tree
    uri = ipfs_uri(b'{"name": "two datapoints"}')

    receipt = dataset_nft.mint(alice, root, 2, uri, sender=owner)

    assert dataset_nft.totalMinted() == 1
    assert dataset_nft.ownerOf(1) == alice
    assert dataset_nft.tokenOfRoot(root) == 1
    assert dataset_nft.tokenURI(1) == uri
    record = dataset_nft.dataset(1)
    assert record.merkleRoot == root
    assert record.datapointCount == 2
    assert record.predecessorId == 0
    assert record.metadataCodec == 0x55
    [event] = dataset_nft.DatasetMinted.from_receipt(receipt)
    assert event.tokenId == 1
    assert event.to == alice
    assert event.merkleRoot == root
    assert event.metadataURI == uri

    # Each datapoint is proven by the other leaf; anything else is not.
    assert dataset_nft.verifyDatapoint(1, hashes[0], [leaves[1]])
    assert dataset_nft.verifyDatapoint(1, hashes[1], [leaves[0]])
    assert not dataset_nft.verifyDatapoint(1, datapoint_hash(b"not in the dataset"), [leaves[1]])
    assert not dataset_nft.verifyDatapoint(1, hashes[0], [leaves[0]])
    # A leaf (or an inner node) passed as a datapoint hash is hashed again and fails.
    assert not dataset_nft.verifyDatapoint(1, leaves[0], [leaves[1]])
    # Multiproof of both datapoints: no proof nodes, one flag (hash the two leaves together).
    assert dataset_nft.multiVerifyDatapoints(1, [hashes[0], hashes[1]], [], [True])


def test_a_second_claim_of_a_root_is_recorded(dataset_nft, owner, alice, two_leaf_tree):
    """Issue 10, finding 4: a squatter's earlier mint does not stop the owner's; both are listed."""
    _, _, root = two_leaf_tree
    dataset_nft.mint(alice, root, 2, ipfs_uri(b"first"), sender=alice)
    dataset_nft.mint(owner, root, 2, ipfs_uri(b"second"), sender=owner)
    assert dataset_nft.totalMinted() == 2
    assert list(dataset_nft.claimsOfRoot(root)) == [1, 2]
    assert dataset_nft.tokenOfRoot(root) == 1


def test_a_mint_reveal_needs_its_own_matured_commitment(dataset_nft, owner, alice, two_leaf_tree):
    _, _, root = two_leaf_tree
    salt = b"\x05" * 32
    commitment = dataset_nft.mintCommitmentOf(root, owner, salt)
    dataset_nft.commitMint(commitment, sender=owner)
    # Copied by alice: her address makes it another commitment, which does not exist.
    with ape.reverts(
        dataset_nft.MintCommitmentUnknown, commitment=dataset_nft.mintCommitmentOf(root, alice, salt)
    ):
        dataset_nft.revealMint(alice, root, 2, ipfs_uri(b"copy"), 0, salt, sender=alice)
    dataset_nft.revealMint(owner, root, 2, ipfs_uri(b"mine"), 0, salt, sender=owner)
    with ape.reverts(dataset_nft.MintCommitmentUnknown, commitment=commitment):
        dataset_nft.revealMint(owner, root, 2, ipfs_uri(b"mine"), 0, salt, sender=owner)
    assert dataset_nft.totalMinted() == 1


def test_dataset_input_errors(dataset_nft, owner, two_leaf_tree):
    _, _, root = two_leaf_tree
    with ape.reverts(dataset_nft.DatasetZeroRoot):
        dataset_nft.mint(owner, ZERO, 2, ipfs_uri(b"x"), sender=owner)
    with ape.reverts(dataset_nft.DatasetEmpty):
        dataset_nft.mint(owner, root, 0, ipfs_uri(b"x"), sender=owner)
    # A CIDv0 (base58 "Qm...") is not accepted; the error comes from the IpfsURI library.
    bad = "ipfs://QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    with ape.reverts(dataset_nft.IpfsURIInvalid, uri=bad):
        dataset_nft.mint(owner, root, 2, bad, sender=owner)
    with ape.reverts(dataset_nft.ERC721NonexistentToken, tokenId=1):
        dataset_nft.verifyDatapoint(1, root, [])


def test_model_mint_records_lineage(dataset_nft, model_nft, owner, alice, two_leaf_tree):
    _, _, root = two_leaf_tree
    dataset_nft.mint(owner, root, 2, ipfs_uri(b"dataset one"), sender=owner)
    dataset_nft.mint(owner, hash_pair(root, leaf(root)), 5, ipfs_uri(b"dataset two"), sender=owner)
    assert model_nft.datasetRegistry() == dataset_nft.address

    base_weights = datapoint_hash(b"base model weights")
    model_nft.mint(owner, base_weights, ipfs_uri(b"base model"), 0, [1, 2], sender=owner)
    tuned_weights = datapoint_hash(b"fine-tuned weights")
    receipt = model_nft.mint(alice, tuned_weights, ipfs_uri(b"fine-tune"), 1, [2], sender=alice)

    assert model_nft.totalMinted() == 2
    assert model_nft.ownerOf(2) == alice
    assert model_nft.tokenOfWeights(tuned_weights) == 2
    base, tuned = model_nft.model(1), model_nft.model(2)
    assert base.weightsRoot == base_weights
    assert base.parentId == 0
    assert list(base.datasetIds) == [1, 2]
    assert tuned.parentId == 1
    assert list(tuned.datasetIds) == [2]
    assert model_nft.tokenURI(2) == ipfs_uri(b"fine-tune")
    [event] = model_nft.ModelMinted.from_receipt(receipt)
    assert event.tokenId == 2
    assert event.parentId == 1
    assert list(event.datasetIds) == [2]


def test_model_lineage_errors(dataset_nft, model_nft, owner, two_leaf_tree):
    _, _, root = two_leaf_tree
    dataset_nft.mint(owner, root, 2, ipfs_uri(b"dataset"), sender=owner)
    weights = datapoint_hash(b"weights")
    uri = ipfs_uri(b"model")

    with ape.reverts(model_nft.ModelUnknownParent, parentId=7):
        model_nft.mint(owner, weights, uri, 7, [1], sender=owner)
    with ape.reverts(model_nft.ModelUnknownDataset, datasetId=2):
        model_nft.mint(owner, weights, uri, 0, [1, 2], sender=owner)
    with ape.reverts(model_nft.ModelDuplicateDataset, datasetId=1):
        model_nft.mint(owner, weights, uri, 0, [1, 1], sender=owner)

    model_nft.mint(owner, weights, uri, 0, [1], sender=owner)
    model_nft.mint(owner, weights, uri, 0, [], sender=owner)  # a second claim (issue 10, finding 4)
    assert list(model_nft.claimsOfWeights(weights)) == [1, 2]
    # A model's own id is not a parent until it exists.
    with ape.reverts(model_nft.ModelUnknownParent, parentId=3):
        model_nft.mint(owner, datapoint_hash(b"other"), uri, 3, [], sender=owner)


def test_fingerprint_commitment_only_by_owner_or_approved_and_once(model_nft, owner, alice):
    model_nft.mint(alice, datapoint_hash(b"weights"), ipfs_uri(b"model"), 0, [], sender=alice)
    commitment = datapoint_hash(b"salted fingerprint")

    with ape.reverts(model_nft.ModelUnauthorized, tokenId=1, sender=owner.address):
        model_nft.commitFingerprint(1, HUREF, commitment, "", sender=owner)

    fp_uri = ipfs_uri(b"huref invariants")
    model_nft.commitFingerprint(1, HUREF, commitment, fp_uri, sender=alice)
    stored = model_nft.fingerprint(1, HUREF)
    assert stored.commitment == commitment
    assert stored.uri == fp_uri
    assert stored.committedAt > 0
    assert model_nft.fingerprint(1, OML).committedAt == 0

    with ape.reverts(model_nft.ModelFingerprintAlreadyCommitted, tokenId=1, kind=HUREF):
        model_nft.commitFingerprint(1, HUREF, commitment, "", sender=alice)

    # An OML root is evidence for one token (issue 10, finding 1): a copy elsewhere is refused.
    model_nft.commitFingerprint(1, OML, commitment, "", sender=alice)
    model_nft.mint(owner, datapoint_hash(b"other weights"), ipfs_uri(b"model"), 0, [], sender=owner)
    with ape.reverts(model_nft.ModelFingerprintCommittedElsewhere, commitment=commitment, tokenId=1):
        model_nft.commitFingerprint(2, OML, commitment, "", sender=owner)


@pytest.mark.parametrize("interface_id", ["0x80ac58cd", "0x5b5e139f", "0x01ffc9a7"])
def test_both_registries_are_erc721(dataset_nft, model_nft, interface_id):
    # ERC-721, ERC-721 metadata, ERC-165.
    assert dataset_nft.supportsInterface(interface_id)
    assert model_nft.supportsInterface(interface_id)
