// CIDs exactly as docs/content-store.md (and python/modelmint/storage/cid.py) compute them:
// Kubo's `ipfs add --cid-version=1` defaults. The page recomputes the CID of every byte it
// fetches and refuses content whose CID differs.
import { sha256 } from "./hashers";

export const CHUNK_SIZE = 262_144;
export const MAX_LINKS = 174;
const RAW = 0x55;
const DAG_PB = 0x70;

interface Link {
  codec: number;
  digest: Uint8Array;
  tsize: number;
  filesize: number;
}

function varint(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v % 128;
    v = Math.floor(v / 128);
    if (v) out.push(byte | 0x80);
    else {
      out.push(byte);
      return out;
    }
  }
}

const fieldVarint = (n: number, v: number) => [...varint(n << 3), ...varint(v)];
const fieldBytes = (n: number, b: ArrayLike<number>) => [...varint((n << 3) | 2), ...varint(b.length), ...Array.from(b)];
const binaryCid = (codec: number, digest: Uint8Array) => [1, ...varint(codec), 0x12, 32, ...digest];

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
function base32(bytes: ArrayLike<number>): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = (value << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

const encodeCid = (codec: number, digest: Uint8Array) => "b" + base32(binaryCid(codec, digest));

function fileNode(links: Link[]): Link {
  const filesize = links.reduce((s, l) => s + l.filesize, 0);
  const unixfs = [...fieldVarint(1, 2), ...fieldVarint(3, filesize), ...links.flatMap((l) => fieldVarint(4, l.filesize))];
  const node: number[] = [];
  for (const l of links) node.push(...fieldBytes(2, [...fieldBytes(1, binaryCid(l.codec, l.digest)), ...fieldBytes(2, []), ...fieldVarint(3, l.tsize)]));
  node.push(...fieldBytes(1, unixfs));
  const block = Uint8Array.from(node);
  return { codec: DAG_PB, digest: sha256(block), tsize: block.length + links.reduce((s, l) => s + l.tsize, 0), filesize };
}

/** The CID of `data` (bafkrei... up to one chunk, else a balanced dag-pb tree, bafybei...). */
export function cidOf(data: Uint8Array): string {
  return cidFromChunks(data, (chunk) => sha256(chunk));
}

/**
 * The same CID, the 256 KiB chunks hashed by WebCrypto (the CPU's SHA instructions, off the
 * page's thread) where the page has it: a 32 MB leaf list is 128 chunks. The result is
 * identical to cidOf's; outside a secure context this falls back to it.
 */
export async function cidOfAsync(data: Uint8Array): Promise<string> {
  const subtle = typeof crypto !== "undefined" ? crypto.subtle : undefined;
  if (!subtle || data.length <= CHUNK_SIZE) return cidOf(data);
  const digests: Promise<ArrayBuffer>[] = [];
  for (let start = 0; start < data.length; start += CHUNK_SIZE) digests.push(subtle.digest("SHA-256", data.subarray(start, start + CHUNK_SIZE) as Uint8Array<ArrayBuffer>));
  const done = (await Promise.all(digests)).map((d) => new Uint8Array(d));
  let k = 0;
  return cidFromChunks(data, () => done[k++]);
}

function cidFromChunks(data: Uint8Array, chunkDigest: (chunk: Uint8Array) => Uint8Array): string {
  const levels: Link[][] = [[]];
  const close = (h: number) => {
    if (h + 1 === levels.length) levels.push([]);
    levels[h + 1].push(fileNode(levels[h]));
    levels[h] = [];
  };
  for (let start = 0; start < data.length; start += CHUNK_SIZE) {
    const chunk = data.subarray(start, start + CHUNK_SIZE);
    levels[0].push({ codec: RAW, digest: chunkDigest(chunk), tsize: chunk.length, filesize: chunk.length });
    for (let h = 0; levels[h].length === MAX_LINKS; h++) close(h);
  }
  if (data.length === 0) levels[0].push({ codec: RAW, digest: sha256(data), tsize: 0, filesize: 0 });
  for (let h = 0; h < levels.length - 1 || levels[h].length > 1; h++) if (levels[h].length) close(h);
  const root = levels[levels.length - 1][0];
  return encodeCid(root.codec, root.digest);
}

export function parseIpfsUri(uri: string): string {
  const m = /^ipfs:\/\/(b[a-z2-7]+)$/.exec(uri);
  if (!m) throw new Error(`not an ipfs:// CIDv1 URI: ${uri}`);
  return m[1];
}
