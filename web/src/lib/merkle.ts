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
  /** Every node, 32 bytes each, tree[i] at offset 32 * i, root first (§4): one buffer, not 2n arrays. */
  readonly flat: Uint8Array;
  /** tree index of each dataset position. */
  readonly treeIndex: Int32Array;
  private readonly order: Int32Array; // order[k]: the dataset position of the k-th smallest leaf

  /**
   * `leaves`: the leaves in dataset order, as arrays or as one buffer of 32-byte leaves.
   * `laidOut`: the tree of layOut(leaves) with its internal nodes already hashed (the page's
   * workers do that for large trees, hashSubtree); without it this thread hashes them all.
   */
  constructor(leaves: Bytes[] | Uint8Array, laidOut?: { flat: Uint8Array; order: Int32Array }) {
    const n = leaves instanceof Uint8Array ? leaves.length >>> 5 : leaves.length;
    if (n === 0) throw new Error("a tree needs at least one leaf");
    const layout = laidOut ?? layOut(leaves);
    this.order = layout.order;
    this.flat = layout.flat;
    this.treeIndex = new Int32Array(n);
    this.order.forEach((position, k) => (this.treeIndex[position] = 2 * n - 2 - k));
    if (!laidOut) hashNodes(this.flat, n - 2, 0);
  }

  /** tree[i]. */
  node(i: number): Bytes {
    return this.flat.subarray(32 * i, 32 * i + 32);
  }

  /** Every node as its own array, root first (for tests; the tree itself keeps one buffer). */
  get nodes(): Bytes[] {
    return Array.from({ length: this.flat.length / 32 }, (_, i) => this.node(i));
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
      if (compare(this.node(2 * n - 2 - mid), leaf) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo < n && compare(this.node(2 * n - 2 - lo), leaf) === 0 ? this.order[lo] : -1;
  }

  get root(): Bytes {
    return this.node(0);
  }

  /** §5.1: the siblings from the leaf up. */
  proof(position: number): Bytes[] {
    const proof: Bytes[] = [];
    for (let t = this.treeIndex[position]; t > 0; t = Math.floor((t - 1) / 2)) proof.push(this.node(t % 2 ? t + 1 : t - 1));
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
        proof.push(this.node(s));
      }
      stack.push(p);
    }
    if (indices.length === 0) proof.push(this.node(0));
    return { order: indices.map((t) => byIndex.get(t)!), proof, proofFlags };
  }
}

/** §4's layout without the internal nodes: the sorted leaves placed at the end of one buffer. */
export function layOut(leaves: Bytes[] | Uint8Array): { flat: Uint8Array; order: Int32Array } {
  let buf: Uint8Array;
  if (leaves instanceof Uint8Array) buf = leaves.byteOffset % 4 ? leaves.slice() : leaves;
  else {
    buf = new Uint8Array(leaves.length * 32);
    leaves.forEach((leaf, i) => buf.set(leaf, 32 * i));
  }
  const n = buf.length >>> 5;
  const order = sortedPositions(buf);
  const flat = new Uint8Array((2 * n - 1) * 32);
  // 32-byte leaves copied as eight words each, without a subarray per leaf
  const from = new Uint32Array(buf.buffer, buf.byteOffset, 8 * n);
  const to = new Uint32Array(flat.buffer);
  for (let k = 0; k < n; k++) {
    const a = 8 * order[k];
    const b = 8 * (2 * n - 2 - k);
    for (let j = 0; j < 8; j++) to[b + j] = from[a + j];
  }
  return { flat, order };
}

/**
 * Internal nodes `from` down to `to` (from >= to), each H(left, right) of its children, in
 * place: the two children of node i are adjacent (2i+1, 2i+2), so a child pair already sorted
 * is hashed straight from the buffer, without a copy.
 */
export function hashNodes(flat: Uint8Array, from: number, to: number): void {
  for (let i = from; i >= to; i--) {
    const a = 64 * i + 32;
    let ordered = true;
    for (let j = 0; j < 32; j++) {
      const x = flat[a + j];
      const y = flat[a + 32 + j];
      if (x !== y) {
        ordered = x < y;
        break;
      }
    }
    if (ordered) flat.set(keccak_256(flat.subarray(a, a + 64)), 32 * i);
    else {
      pair.set(flat.subarray(a + 32, a + 64), 0);
      pair.set(flat.subarray(a, a + 32), 32);
      flat.set(keccak_256(pair), 32 * i);
    }
  }
}

/**
 * The internal nodes of the subtree below `root` in a tree of `n` leaves, level by level from
 * the bottom: at j levels below the root they are the contiguous indices
 * (root + 1) * 2^j - 1 ... (root + 2) * 2^j - 2 (those under n - 1; the rest are leaves).
 * `visit(start, end)` sees each level's range once it is hashed.
 */
export function hashSubtree(flat: Uint8Array, n: number, root: number, visit?: (start: number, end: number) => void): void {
  const levels: [number, number][] = [];
  for (let j = 0; ; j++) {
    const start = (root + 1) * 2 ** j - 1;
    if (start > n - 2) break;
    levels.push([start, Math.min((root + 2) * 2 ** j - 2, n - 2)]);
  }
  for (let k = levels.length - 1; k >= 0; k--) {
    const [start, end] = levels[k];
    hashNodes(flat, end, start);
    visit?.(start, end);
  }
}

/**
 * Dataset positions sorted by leaf, equal leaves in dataset order (a stable sort).
 *
 * A comparator sort of 1,000,000 byte arrays costs seconds in JavaScript, so positions are
 * packed with the leaves' leading bits into doubles, which sort natively; the few runs whose
 * leading bits tie are then put in order by the full comparison.
 */
function sortedPositions(buf: Uint8Array): Int32Array {
  const n = buf.length >>> 5;
  const indexBits = Math.max(1, Math.ceil(Math.log2(n)));
  const keyBits = Math.min(32, 53 - indexBits);
  const shift = 2 ** (32 - keyBits);
  const packed = new Float64Array(n);
  const scale = 2 ** indexBits;
  for (let i = 0, o = 0; i < n; i++, o += 32) {
    const lead = ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
    packed[i] = Math.floor(lead / shift) * scale + i;
  }
  packed.sort();
  const order = new Int32Array(n);
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const key = Math.floor(packed[k] / scale);
    keys[k] = key;
    order[k] = packed[k] - key * scale;
  }
  const leaf = (i: number) => buf.subarray(32 * i, 32 * i + 32);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && keys[end] === keys[start]) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end)).sort((x, y) => compare(leaf(x), leaf(y)) || x - y);
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
