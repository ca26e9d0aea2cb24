// Dataset trees off the page's thread: a 1,000,000-datapoint tree needs 2,000,000 Keccaks for
// its leaves (docs/hashing.md §3) and 1,000,000 for its internal nodes (§4), and the cores
// share both: "leaves" hashes a slice of the leaf list; "subtrees" hashes the internal nodes
// below the given roots of a laid-out tree and sends back only those nodes, level by level.
import { ready, keccak_256 } from "./lib/hashers";
import { hashSubtree } from "./lib/merkle";

type Job = { kind: "leaves"; hashes: ArrayBuffer } | { kind: "subtrees"; flat: ArrayBuffer; n: number; roots: number[] };

self.onmessage = async (event: MessageEvent<Job>) => {
  await ready;
  const job = event.data;
  if (job.kind === "leaves") {
    const hashes = new Uint8Array(job.hashes);
    const out = new Uint8Array(hashes.length);
    for (let i = 0; i < hashes.length; i += 32) out.set(keccak_256(keccak_256(hashes.subarray(i, i + 32))), i);
    (self as any).postMessage({ leaves: out.buffer }, [out.buffer]);
    return;
  }
  const flat = new Uint8Array(job.flat);
  const ranges: number[] = [];
  const parts: Uint8Array[] = [];
  for (const root of job.roots)
    hashSubtree(flat, job.n, root, (start, end) => {
      ranges.push(start, end);
      parts.push(flat.slice(32 * start, 32 * (end + 1)));
    });
  const nodes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    nodes.set(p, at);
    at += p.length;
  }
  (self as any).postMessage({ ranges, nodes: nodes.buffer }, [nodes.buffer]);
};
