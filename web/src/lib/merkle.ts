// The dataset and manifest trees: OpenZeppelin's StandardMerkleTree layout, step by step as
// docs/hashing.md §3-§5 and §8.2-§8.3 specify, and the leaf list of §6.
import { keccak_256, sha256 } from "./hashers";

export type Bytes = Uint8Array;

export const hex = (b: Bytes): `0x${string}` => {
  let s = "0x";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s as `0x${string}`;
};

export const unhex = (s: string): Bytes => {
  const h = s.startsWith("0x") ? s.slice(2) : s;
  if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error(`not hex: ${s}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
};

export const datapointHash = (bytes: Bytes): Bytes => sha256(bytes);

/** §3: leaf(h) = keccak256(keccak256(h)). */
export const datasetLeaf = (h: Bytes): Bytes => keccak_256(keccak_256(h));

function compare(a: Bytes, b: Bytes): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

const pair = new Uint8Array(64);
/** H(a, b) = keccak256(min(a, b) || max(a, b)). */
export function hashPair(a: Bytes, b: Bytes): Bytes {
  const [lo, hi] = compare(a, b) <= 0 ? [a, b] : [b, a];
  pair.set(lo, 0);
  pair.set(hi, 32);
  return keccak_256(pair);
}

export class Tree {
  /** tree[i], root first (§4). */
  readonly nodes: Bytes[];
  /** tree index of each dataset position. */
  readonly treeIndex: Int32Array;
  private readonly order: Int32Array; // order[k]: the dataset position of the k-th smallest leaf

  constructor(leaves: Bytes[]) {
    const n = leaves.length;
    if (n === 0) throw new Error("a tree needs at least one leaf");
    this.order = sortedPositions(leaves);
    this.nodes = new Array(2 * n - 1);
    this.treeIndex = new Int32Array(n);
    this.order.forEach((position, k) => {
      this.nodes[2 * n - 2 - k] = leaves[position];
      this.treeIndex[position] = 2 * n - 2 - k;
    });
    for (let i = n - 2; i >= 0; i--) this.nodes[i] = hashPair(this.nodes[2 * i + 1], this.nodes[2 * i + 2]);
  }

  get size(): number {
    return this.order.length;
  }

  /** The first dataset position whose leaf is `leaf`, or -1: a binary search of the sorted leaves. */
  find(leaf: Bytes): number {
    const n = this.order.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.nodes[2 * n - 2 - mid], leaf) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < n && compare(this.nodes[2 * n - 2 - lo], leaf) === 0 ? this.order[lo] : -1;
  }

  get root(): Bytes {
    return this.nodes[0];
  }

  /** §5.1: the siblings from the leaf up. */
  proof(position: number): Bytes[] {
    const proof: Bytes[] = [];
    for (let t = this.treeIndex[position]; t > 0; t = Math.floor((t - 1) / 2)) proof.push(this.nodes[t % 2 ? t + 1 : t - 1]);
    return proof;
  }

  /** §5.2: OpenZeppelin's getMultiProof over distinct positions; `order` is the positions in the order of `leaves`. */
  multiProof(positions: number[]): { order: number[]; proof: Bytes[]; proofFlags: boolean[] } {
    const byIndex = new Map<number, number>();
    for (const p of positions) byIndex.set(this.treeIndex[p], p);
    const indices = [...byIndex.keys()].sort((a, b) => b - a);
    const stack = indices.slice();
    let head = 0;
    const proof: Bytes[] = [];
    const proofFlags: boolean[] = [];
    while (head < stack.length && stack[head] > 0) {
      const j = stack[head++];
      const s = j % 2 ? j + 1 : j - 1;
      const p = Math.floor((j - 1) / 2);
      if (head < stack.length && s === stack[head]) {
        proofFlags.push(true);
        head++;
      } else {
        proofFlags.push(false);
        proof.push(this.nodes[s]);
      }
      stack.push(p);
    }
    if (indices.length === 0) proof.push(this.nodes[0]);
    return { order: indices.map((t) => byIndex.get(t)!), proof, proofFlags };
  }
}

/**
 * Dataset positions sorted by leaf, equal leaves in dataset order (a stable sort).
 *
 * A comparator sort of 1,000,000 byte arrays costs seconds in JavaScript, so positions are
 * packed with the leaves' leading bits into doubles, which sort natively; the few runs whose
 * leading bits tie are then put in order by the full comparison.
 */
function sortedPositions(leaves: Bytes[]): Int32Array {
  const n = leaves.length;
  const indexBits = Math.max(1, Math.ceil(Math.log2(n)));
  const keyBits = Math.min(32, 53 - indexBits);
  const lead = (b: Bytes) => ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  const packed = new Float64Array(n);
  const scale = 2 ** indexBits;
  for (let i = 0; i < n; i++) packed[i] = Math.floor(lead(leaves[i]) / 2 ** (32 - keyBits)) * scale + i;
  packed.sort();
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) order[k] = packed[k] % scale;
  for (let start = 0; start < n; ) {
    const key = Math.floor(packed[start] / scale);
    let end = start + 1;
    while (end < n && Math.floor(packed[end] / scale) === key) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end)).sort((x, y) => compare(leaves[x], leaves[y]) || x - y);
      order.set(run, start);
    }
    start = end;
  }
  return order;
}

export function verifyProof(root: Bytes, leaf: Bytes, proof: Bytes[]): boolean {
  let node = leaf;
  for (const p of proof) node = hashPair(node, p);
  return compare(node, root) === 0;
}

/** §6: the leaf list, split into datapoint hashes; refused unless it holds exactly `count`. */
export function splitLeafList(data: Bytes, count?: number): Bytes[] {
  if (data.length === 0 || data.length % 32) throw new Error(`the leaf list is ${data.length} bytes, not a positive multiple of 32`);
  if (count !== undefined && data.length / 32 !== count)
    throw new Error(`the leaf list holds ${data.length / 32} datapoints but the token commits to ${count}`);
  const out: Bytes[] = [];
  for (let i = 0; i < data.length; i += 32) out.push(data.subarray(i, i + 32));
  return out;
}

// --- model manifests (§8) ------------------------------------------------------------------

export interface ManifestEntry {
  path: string;
  sha256: Bytes;
  size: number;
}

const utf8 = new TextEncoder();

function uint256(x: number | bigint): Bytes {
  const out = new Uint8Array(32);
  let v = BigInt(x);
  for (let i = 31; i >= 0 && v > 0n; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** §8.2: keccak256(keccak256(abi.encode(string path, bytes32 sha256, uint256 size))). */
export function manifestLeaf(e: ManifestEntry): Bytes {
  const path = utf8.encode(e.path);
  const padded = Math.ceil(path.length / 32) * 32;
  const enc = new Uint8Array(128 + padded);
  enc.set(uint256(0x60), 0);
  enc.set(e.sha256, 32);
  enc.set(uint256(e.size), 64);
  enc.set(uint256(path.length), 96);
  enc.set(path, 128);
  return keccak_256(keccak_256(enc));
}

/** §8.1: manifest order is by path as UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

export const IGNORED_MODEL_NAMES = new Set([".git", ".gitattributes", ".gitignore", ".cache"]);

export function isIgnoredModelPath(path: string): boolean {
  return path.split("/").some((part) => IGNORED_MODEL_NAMES.has(part));
}

export function weightsRoot(entries: ManifestEntry[]): Bytes {
  return new Tree(entries.map(manifestLeaf)).root;
}
