// Hashes whole files off the page's thread (docs/web.md, "Check a model").
//
// Two ways, chosen per file by the page (`whole`):
// - whole: the file is read in 16 MiB slices into one buffer and given to WebCrypto's
//   SHA-256, which uses the CPU's SHA instructions (2.5-4x hash-wasm in Chromium here) but has
//   no streaming interface; the page allows this only for files up to WHOLE_LIMIT (main.ts), and only
//   while the whole-read files in flight stay under that limit together;
// - streaming (every larger file, and where WebCrypto is missing, outside a secure context):
//   16 MiB slices read with Blob.slice().arrayBuffer(), the next slice read while the current
//   one is hashed by hash-wasm's incremental SHA-256, so a multi-GB safetensors file never sits
//   whole in memory (two slices at a time).
import { createSHA256 } from "hash-wasm";

const SLICE = 16 << 20;
const post = (m: unknown) => (self as any).postMessage(m);

async function whole(id: number, file: File): Promise<Uint8Array> {
  const buffer = new Uint8Array(file.size);
  for (let o = 0; o < file.size; o += SLICE) {
    const part = new Uint8Array(await file.slice(o, o + SLICE).arrayBuffer());
    buffer.set(part, o);
    post({ id, progress: part.length });
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
}

async function streaming(id: number, file: File): Promise<Uint8Array> {
  const sha = await createSHA256();
  sha.init();
  let next = file.slice(0, SLICE).arrayBuffer();
  for (let o = 0; o < file.size; o += SLICE) {
    const current = new Uint8Array(await next);
    if (o + SLICE < file.size) next = file.slice(o + SLICE, o + 2 * SLICE).arrayBuffer();
    sha.update(current);
    post({ id, progress: current.length });
  }
  return sha.digest("binary");
}

self.onmessage = async (event: MessageEvent<{ id: number; file: File; whole: boolean }>) => {
  const { id, file } = event.data;
  try {
    const useWhole = event.data.whole && typeof crypto !== "undefined" && !!crypto.subtle;
    post({ id, digest: await (useWhole ? whole(id, file) : streaming(id, file)) });
  } catch (e) {
    post({ id, error: `cannot read ${file.name}: ${e}` });
  }
};
