// Loads a tree dump with the real @openzeppelin/merkle-tree, for test_export_tree.py.
// stdin: {"dump": path, "proofs": [value index, ...], "multiproof": [value index, ...]}
// stdout: {"root", "length", "proofs": [[hex, ...], ...], "multiproof": {leaves, proof, proofFlags}, "verified"}
const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

let input = '';
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const tree = StandardMerkleTree.load(JSON.parse(fs.readFileSync(request.dump, 'utf8'))); // validates every node
  const proofs = request.proofs.map(i => tree.getProof(i));
  const mp = tree.getMultiProof(request.multiproof);
  const verified =
    request.proofs.every((i, k) => StandardMerkleTree.verify(tree.root, ['bytes32'], tree.at(i), proofs[k])) &&
    StandardMerkleTree.verifyMultiProof(tree.root, ['bytes32'], mp);
  process.stdout.write(
    JSON.stringify({
      root: tree.root,
      length: tree.length,
      proofs,
      multiproof: { leaves: mp.leaves.map(([h]) => h), proof: mp.proof, proofFlags: mp.proofFlags },
      verified,
    }),
  );
});
