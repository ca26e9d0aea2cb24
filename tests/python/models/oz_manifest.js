// Reference answers from the real @openzeppelin/merkle-tree for the weights manifest tree.
// stdin: [[[path, "0x<sha256>", "<size>"], ...], ...]  stdout: per case {root, proofs (one per entry)}
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

let input = '';
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(entries => {
    const tree = StandardMerkleTree.of(entries, ['string', 'bytes32', 'uint256']);
    return { root: tree.root, proofs: entries.map((_, i) => tree.getProof(i)) };
  });
  process.stdout.write(JSON.stringify(out));
});
