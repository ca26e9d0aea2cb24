// Reference answers from the real @openzeppelin/merkle-tree, for test_merkle_oz.py.
// stdin: [{"values": ["0x..", ...], "multiproofs": [[0, 2], ...]}, ...]
// stdout: per case {"root", "proofs" (one per value), "multiproofs": [{leaves, proof, proofFlags}]}
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

let input = '';
process.stdin.on('data', chunk => (input += chunk));
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(({ values, multiproofs }) => {
    const tree = StandardMerkleTree.of(values.map(v => [v]), ['bytes32']);
    return {
      root: tree.root,
      proofs: values.map((_, i) => tree.getProof(i)),
      multiproofs: multiproofs.map(indices => {
        const mp = tree.getMultiProof(indices);
        return { leaves: mp.leaves.map(([h]) => h), proof: mp.proof, proofFlags: mp.proofFlags };
      }),
    };
  });
  process.stdout.write(JSON.stringify(out));
});
