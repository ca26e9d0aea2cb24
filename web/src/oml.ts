// OML commit and reveal from the page (issue 13, item 2), by docs/oml.md. The fingerprint file
// and the secrets file are read here and never leave the browser: the commit sends the root,
// and stores the digest list and the public commitment document; the reveal sends only the
// chosen fingerprints, with their multiproof, in the wallet's transaction.
import { encodeAbiParameters, keccak256, toBytes, type Hex } from "viem";
import { ModelNFTAbi } from "./abi.generated";
import { cidOf } from "./lib/cid";
import { canonicalBytes, type Json } from "./lib/json";
import { Tree, datasetLeaf, hex, unhex } from "./lib/merkle";
import { MintError, sendCall, upload, type Signer } from "./mint";

const OML = 1; // IModelNFT.FingerprintKind.OML
const SECRETS_SCHEMA = "modelmint.oml-secrets.v2";
const COMMITMENT_SCHEMA = "modelmint.oml-commitment.v2";
const TREE_SCHEME = "openzeppelin.standard-merkle-tree.bytes32";
const DIGEST_RULE =
  "keccak256(abi.encode(uint256 chainId, address contract, uint256 tokenId, bytes32 salt, bytes32 keccak256(key), bytes32 keccak256(response)))";

interface Pair {
  key: string;
  response: string;
  strategy: string;
  nullMatchProb: number | null;
}

interface Salted {
  key: string;
  response: string;
  salt: Hex;
  revealed: boolean;
}

export interface SecretsFile {
  schema: string;
  warning: string;
  chainId: number;
  contract: string;
  tokenId: number;
  root: Hex;
  strategy: string;
  nullMatchProbability: number | null;
  fingerprints: Salted[];
}

/** The pairs of a fingerprint file (docs/oml.md, "The fingerprint file"), checked as the CLI checks them. */
export function readFingerprints(name: string, text: string): Pair[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new MintError(`${name} is not JSON; give the fingerprint file \`fingerprint oml generate\` wrote`);
  }
  if (!Array.isArray(doc) || !doc.length) throw new MintError(`${name} is not a non-empty list of fingerprints`);
  const seen = new Set<string>();
  return doc.map((entry: any, i: number) => {
    const where = `${name} entry ${i}`;
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) throw new MintError(`${where} is not an object`);
    if (entry.signature !== undefined && entry.response !== undefined && entry.signature !== entry.response)
      throw new MintError(`${where} has a "signature" and a "response" that differ`);
    const response = entry.response ?? entry.signature; // OML 1.0's older files say "signature"
    if (typeof entry.key !== "string" || !entry.key) throw new MintError(`${where} has no non-empty string "key"`);
    if (typeof response !== "string" || !response) throw new MintError(`${where} has no non-empty string "response"`);
    if (seen.has(entry.key)) throw new MintError(`${where} repeats the key of an earlier entry`);
    seen.add(entry.key);
    const p = entry.null_match_prob;
    if (p !== undefined && p !== null && !(typeof p === "number" && p >= 0 && p <= 1)) throw new MintError(`${where} has a null_match_prob outside [0, 1]`);
    return { key: entry.key, response, strategy: typeof entry.strategy === "string" ? entry.strategy : "", nullMatchProb: typeof p === "number" ? p : null };
  });
}

/** digest_i of docs/oml.md, bound to the chain, the ModelNFT and the token. */
function digest(chainId: number, contract: string, tokenId: bigint, f: { salt: Hex; key: string; response: string }): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "uint256" }, { type: "address" }, { type: "uint256" }, { type: "bytes32" }, { type: "bytes32" }, { type: "bytes32" }],
      [BigInt(chainId), contract as Hex, tokenId, f.salt, keccak256(toBytes(f.key)), keccak256(toBytes(f.response))],
    ),
  );
}

function treeOf(digests: Hex[]): Tree {
  return new Tree(digests.map((d) => datasetLeaf(unhex(d))));
}

export interface Prepared {
  secrets: SecretsFile;
  secretsName: string;
  root: Hex;
}

/** Salt the pairs for model ``tokenId`` and write the secrets file's content (before anything is sent). */
export function prepareCommit(signer: Signer, tokenId: bigint, pairs: Pair[]): Prepared {
  const { chainId, modelAddress: contract } = signer.reader;
  const salted: Salted[] = pairs.map((p) => ({ key: p.key, response: p.response, salt: hex(crypto.getRandomValues(new Uint8Array(32))), revealed: false }));
  const root = hex(treeOf(salted.map((f) => digest(chainId, contract, tokenId, f))).root);
  const strategies = new Set(pairs.map((p) => p.strategy));
  const probs = pairs.map((p) => p.nullMatchProb);
  const secrets: SecretsFile = {
    schema: SECRETS_SCHEMA,
    warning: "secret: these salts and pairs prove ownership; never publish this file",
    chainId,
    contract,
    tokenId: Number(tokenId),
    root,
    strategy: strategies.size === 1 ? [...strategies][0] : "mixed",
    nullMatchProbability: probs.some((p) => p === null) ? null : Math.max(...(probs as number[])),
    fingerprints: salted,
  };
  // The CLI's name for it (docs/oml.md): chain, contract, token and the root it opens.
  const secretsName = `${chainId}-${contract.toLowerCase()}-${tokenId}-${root.slice(2, 18)}.secrets.json`;
  return { secrets, secretsName, root };
}

/** Store the digest list and the commitment document, then have the wallet commit the root. */
export async function commitOml(signer: Signer, tokenId: bigint, prepared: Prepared, say: (line: string) => void): Promise<Hex> {
  const { reader } = signer;
  const s = prepared.secrets;
  const digests = s.fingerprints.map((f) => digest(s.chainId, s.contract, tokenId, f));
  const leafList = new Uint8Array(32 * digests.length);
  digests.forEach((d, i) => leafList.set(unhex(d), 32 * i));
  const leavesCid = cidOf(leafList);
  const params: Record<string, Json> = ["perinucleus", "inverse_nucleus"].includes(s.strategy) && s.nullMatchProbability ? { nucleus_k: Math.round(1 / s.nullMatchProbability) } : {};
  const document: Json = {
    schema: COMMITMENT_SCHEMA,
    kind: "OML",
    chainId: s.chainId,
    contract: s.contract,
    tokenId: s.tokenId,
    root: prepared.root,
    count: digests.length,
    digest: DIGEST_RULE,
    tree: TREE_SCHEME,
    leaves: `ipfs://${leavesCid}`,
    strategy: s.strategy,
    nullMatchProbability: s.nullMatchProbability,
    params,
  };
  const documentBytes = canonicalBytes(document);
  const documentCid = cidOf(documentBytes);
  say("Storing the digest list and the commitment document (nothing secret)…");
  await upload(leavesCid, leafList);
  await upload(documentCid, documentBytes);
  say("Confirm the commitment in your wallet…");
  const receipt = await sendCall(signer, reader.modelAddress, ModelNFTAbi, ["commitFingerprint", [tokenId, OML, prepared.root, `ipfs://${documentCid}`]]);
  return receipt.transactionHash;
}

/** The secrets file, checked against model ``tokenId``'s commitment on chain before anything is sent. */
export async function readSecrets(signer: Signer, tokenId: bigint, name: string, text: string): Promise<SecretsFile> {
  const { reader } = signer;
  let s: SecretsFile;
  try {
    s = JSON.parse(text);
  } catch {
    throw new MintError(`${name} is not JSON; give the secrets file the commitment wrote`);
  }
  if (s?.schema !== SECRETS_SCHEMA || !Array.isArray(s.fingerprints)) throw new MintError(`${name} is not a modelmint OML secrets file (${SECRETS_SCHEMA})`);
  if (Number(s.chainId) !== reader.chainId || String(s.contract).toLowerCase() !== reader.modelAddress.toLowerCase() || BigInt(s.tokenId) !== tokenId)
    throw new MintError(`${name} holds the secrets of model ${s.tokenId} of ${s.contract} on chain ${s.chainId}, not of model ${tokenId} of ${reader.modelAddress} on chain ${reader.chainId}; nothing was sent`);
  const committed = (await reader.model("fingerprint", [tokenId, OML])) as { commitment: Hex; committedAt: bigint };
  if (!committed.committedAt) throw new MintError(`model ${tokenId} has no OML commitment; commit the fingerprints first`);
  const root = hex(treeOf(s.fingerprints.map((f) => digest(s.chainId, s.contract, tokenId, f))).root);
  if (root !== committed.commitment.toLowerCase())
    throw new MintError(`${name} opens root ${root}, but model ${tokenId}'s OML commitment is ${committed.commitment}: the secrets do not match it, so nothing was sent`);
  return s;
}

/** Reveal ``count`` fingerprints the contract has not seen revealed, chosen at random, in one transaction. */
export async function revealOml(signer: Signer, tokenId: bigint, s: SecretsFile, count: number, say: (line: string) => void): Promise<{ txHash: Hex; revealed: string[] }> {
  const { reader } = signer;
  const digests = s.fingerprints.map((f) => digest(s.chainId, s.contract, tokenId, f));
  const revealed = await Promise.all(digests.map((d) => reader.model("fingerprintRevealed", [tokenId, d]) as Promise<boolean>));
  const open = digests.map((_, i) => i).filter((i) => !revealed[i]);
  if (!(count >= 1)) throw new MintError("reveal at least one fingerprint");
  if (open.length < count) throw new MintError(`only ${open.length} of model ${tokenId}'s ${digests.length} fingerprints are unrevealed; reveal at most ${open.length}`);
  for (let i = open.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0] % (i + 1);
    [open[i], open[j]] = [open[j], open[i]];
  }
  const chosen = open.slice(0, count);
  const proof = treeOf(digests).multiProof(chosen);
  const reveals = proof.order.map((i) => ({ salt: s.fingerprints[i].salt, key: s.fingerprints[i].key, response: s.fingerprints[i].response }));
  say(`Confirm the reveal of ${count} fingerprint${count > 1 ? "s" : ""} in your wallet…`);
  const receipt = await sendCall(signer, reader.modelAddress, ModelNFTAbi, ["revealFingerprints", [tokenId, reveals, proof.proof.map(hex), proof.proofFlags]]);
  return { txHash: receipt.transactionHash, revealed: reveals.map((r) => r.key) };
}
