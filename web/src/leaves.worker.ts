// Dataset leaves (docs/hashing.md §3) for a slice of the leaf list, off the page's thread:
// a 1,000,000-datapoint tree needs 2,000,000 of these Keccaks, and the cores share them.
import { ready, keccak_256 } from "./lib/hashers";

self.onmessage = async (event: MessageEvent<{ hashes: ArrayBuffer }>) => {
  await ready;
  const hashes = new Uint8Array(event.data.hashes);
  const out = new Uint8Array(hashes.length);
  for (let i = 0; i < hashes.length; i += 32) out.set(keccak_256(keccak_256(hashes.subarray(i, i + 32))), i);
  (self as any).postMessage({ leaves: out.buffer }, [out.buffer]);
};
