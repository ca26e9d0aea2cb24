// Minting from the page (issue 13): the dataset is hashed here by docs/hashing.md, only its leaf
// list and ERC-721 metadata go to the content store (through `modelmint web`, which stores
// them only under the CIDs computed here), and the wallet sends the mint. Off the devnet the
// mint is the front-running-proof commitMint, then revealMint a block later, as the CLI does.
import { createWalletClient, custom, encodeAbiParameters, keccak256, parseEventLogs, type Abi, type Hex, type TransactionReceipt } from "viem";
import { DatasetNFTAbi, ModelNFTAbi } from "./abi.generated";
import type { Reader } from "./chain";
import { cidOf } from "./lib/cid";
import { datapointsOf } from "./lib/datapoints";
import { canonicalBytes, type Json } from "./lib/json";
import { Tree, compareUtf8, datapointHash, datasetLeaf, hex, isIgnoredModelPath, weightsRoot, type ManifestEntry } from "./lib/merkle";
import type { PickedFile } from "./lib/files";
import type { Eip1193 } from "./lib/wallet";

/** Chains where a one-transaction mint is the default (python/modelmint/chain/contracts.py). */
const DEVNET_CHAIN_IDS = new Set([31337]);
const METADATA_SCHEMA = "modelmint.dataset-metadata.v1";
const TREE_SCHEME = "openzeppelin.standard-merkle-tree.bytes32";

export interface Signer {
  provider: Eip1193;
  account: `0x${string}`;
  reader: Reader;
}

export interface DatasetDraft {
  name: string;
  format: "jsonl" | "csv" | "folder";
  scheme: string;
  count: number;
  root: Uint8Array;
  leafList: Uint8Array;
  metadata: Json;
  metadataBytes: Uint8Array;
  metadataCid: string;
  leavesCid: string;
}

export class MintError extends Error {}

const SUFFIXES: Record<string, "jsonl" | "csv"> = { jsonl: "jsonl", ndjson: "jsonl", jsonlines: "jsonl", csv: "csv" };

/** The format of what was picked, as `modelmint dataset mint` tells it (docs/hashing.md §1). */
function formatOfPick(files: PickedFile[], folder: boolean): "jsonl" | "csv" | "folder" {
  if (folder) return "folder";
  if (files.length !== 1) throw new MintError("pick one JSONL or CSV file, or a whole folder (the folder picker or a drop)");
  const name = files[0].file.name;
  const ext = name.toLowerCase().split(".").pop() ?? "";
  if (ext === "parquet" || ext === "pq") throw new MintError(`the page cannot read Parquet; mint ${name} with \`modelmint dataset mint ${name} --wallet browser\``);
  const format = SUFFIXES[ext];
  if (!format) throw new MintError(`cannot tell the dataset format of ${name} from its extension: name it .jsonl or .csv, or pick its folder`);
  return format;
}

/** The dataset of the files picked: one .jsonl or .csv file, or the files of a folder. */
export async function draftDataset(files: PickedFile[], folder: boolean, name: string, description: string): Promise<DatasetDraft> {
  if (!files.length) throw new MintError("drop a JSONL or CSV file, or a folder, to mint");
  const format = formatOfPick(files, folder);
  const hashes: Uint8Array[] = [];
  if (format === "folder") {
    const sorted = [...files].sort((a, b) => compareUtf8(a.path, b.path));
    for (const f of sorted) hashes.push(datapointHash(new Uint8Array(await f.file.arrayBuffer())));
  } else {
    const f = files[0];
    for (const p of datapointsOf(f.file.name, new Uint8Array(await f.file.arrayBuffer()), format)) hashes.push(datapointHash(p.bytes));
  }
  if (!hashes.length) throw new MintError(`${files[0].file.name} holds no datapoints; a dataset needs at least one`);
  const chosen = name.trim() || (format === "folder" ? "" : files[0].file.name);
  if (!chosen) throw new MintError("type a name for the dataset (a folder's name is not known to the page)");
  const scheme = `modelmint.${format}.v1`;
  const count = hashes.length;
  const leafList = new Uint8Array(32 * count);
  hashes.forEach((h, i) => leafList.set(h, 32 * i));
  const root = new Tree(hashes.map(datasetLeaf)).root;
  const rootHex = hex(root);
  const leavesCid = cidOf(leafList);
  // The document python/modelmint/registry/datasets.py `dataset_metadata` writes, field for field.
  const metadata: Json = {
    name: chosen,
    description: description.trim() || `Dataset of ${count} datapoints committed with modelmint (${scheme}).`,
    attributes: [
      { trait_type: "kind", value: "dataset" },
      { trait_type: "datapoint count", value: count, display_type: "number" },
      { trait_type: "format", value: format },
      { trait_type: "hash scheme", value: scheme },
      { trait_type: "merkle root", value: rootHex },
    ],
    modelmint: {
      schema: METADATA_SCHEMA,
      kind: "dataset",
      format,
      hashScheme: scheme,
      datapointCount: count,
      merkleRoot: rootHex,
      tree: TREE_SCHEME,
      leaves: `ipfs://${leavesCid}`,
    },
  };
  const metadataBytes = canonicalBytes(metadata);
  return { name: chosen, format, scheme, count, root, leafList, metadata, metadataBytes, metadataCid: cidOf(metadataBytes), leavesCid };
}

/** Store ``data`` under ``cid`` through the page's server, which recomputes the CID first. */
export async function upload(cid: string, data: Uint8Array): Promise<void> {
  const response = await fetch(new URL(`ipfs/${cid}`, document.baseURI), {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream" },
    body: data as BodyInit,
  });
  if (!response.ok) throw new MintError(`the content store refused ${cid}: ${(await response.text()).trim()}`);
}

export interface Minted {
  tokenId: bigint;
  txHash: Hex;
  commitTxHash?: Hex;
  alreadyRegistered: boolean;
}

/** Upload the draft's leaf list and metadata, then have the wallet mint it (idempotent). */
export async function mintDataset(signer: Signer, draft: DatasetDraft, say: (line: string) => void): Promise<Minted> {
  const { reader, account } = signer;
  const address = reader.datasetAddress;
  const claims = (await reader.dataset("claimsOfRoot", [hex(draft.root)])) as bigint[];
  for (const id of claims) {
    const owner = (await reader.dataset("ownerOf", [id])) as string;
    if (owner.toLowerCase() === account.toLowerCase()) return { tokenId: id, txHash: "0x", alreadyRegistered: true };
  }
  say(`Storing the leaf list (${draft.leafList.length.toLocaleString("en")} bytes) and the metadata…`);
  await upload(draft.leavesCid, draft.leafList);
  await upload(draft.metadataCid, draft.metadataBytes);
  const uri = `ipfs://${draft.metadataCid}`;
  const { receipt, commitTxHash } = await sendMint(signer, address, DatasetNFTAbi, say, draft.root,
    () => ["mint", [account, hex(draft.root), BigInt(draft.count), uri]],
    (salt) => ["revealMint", [account, hex(draft.root), BigInt(draft.count), uri, 0n, salt]]);
  const [event] = parseEventLogs({ abi: DatasetNFTAbi, logs: receipt.logs, eventName: "DatasetMinted" }) as any[];
  if (!event) throw new MintError(`the mint ${receipt.transactionHash} emitted no DatasetMinted event`);
  return { tokenId: event.args.tokenId as bigint, txHash: receipt.transactionHash, commitTxHash, alreadyRegistered: false };
}

export type Call = [functionName: string, args: readonly unknown[]];

/** One contract call sent by the wallet, its receipt waited for and checked. */
export async function sendCall(signer: Signer, address: `0x${string}`, abi: Abi, [functionName, args]: Call): Promise<TransactionReceipt> {
  const wallet = createWalletClient({ account: signer.account, transport: custom(signer.provider as any) });
  const hash = await wallet.writeContract({ address, abi, functionName, args, chain: null } as any);
  const receipt = await signer.reader.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new MintError(`${functionName} failed on-chain (transaction ${hash})`);
  return receipt;
}

/**
 * Send a mint through the wallet: one transaction on the devnet; elsewhere commitMint, then,
 * once a later block has come, revealMint with the salt (the registries' shared commitment,
 * `keccak256(abi.encode(root, minter, salt))`, contracts/lib/MintCommitments.sol).
 */
async function sendMint(signer: Signer, address: `0x${string}`, abi: Abi, say: (line: string) => void, root: Uint8Array,
  oneStep: () => Call, reveal: (salt: Hex) => Call): Promise<{ receipt: TransactionReceipt; commitTxHash?: Hex }> {
  const { reader, account } = signer;
  const send = (call: Call) => sendCall(signer, address, abi, call);
  if (DEVNET_CHAIN_IDS.has(reader.chainId)) {
    say("Confirm the mint in your wallet…");
    return { receipt: await send(oneStep()) };
  }
  // The commitment hides the root until the reveal, which names this account: nobody
  // watching the mempool can take the root first (docs/security.md, finding 4).
  const salt = hex(crypto.getRandomValues(new Uint8Array(32)));
  const commitment = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "address" }, { type: "bytes32" }], [hex(root), account, salt]));
  say("Confirm the commitment (step 1 of 2) in your wallet…");
  const committed = await send(["commitMint", [commitment]]);
  say("Waiting for the next block, so that the commitment has matured…");
  while ((await reader.block()) <= committed.blockNumber) await new Promise((r) => setTimeout(r, 1000));
  say("Confirm the reveal (step 2 of 2) in your wallet…");
  return { receipt: await send(reveal(salt)), commitTxHash: committed.transactionHash };
}

// --- models ------------------------------------------------------------------------------------

const MODEL_METADATA_SCHEMA = "modelmint.model-metadata.v1";
const MANIFEST_SCHEME = "modelmint.model-manifest.v1";
const MANIFEST_TREE = "openzeppelin.standard-merkle-tree.string-bytes32-uint256";
const CONTEXT_KEYS = ["max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "n_ctx", "max_sequence_length"];
const HIDDEN_KEYS = ["hidden_size", "n_embd", "d_model", "dim"];
const LAYER_KEYS = ["num_hidden_layers", "n_layer", "num_layers", "n_layers"];

export interface ModelDraft {
  name: string;
  root: Uint8Array;
  manifestBytes: Uint8Array;
  manifestCid: string;
  metadataBytes: Uint8Array;
  metadataCid: string;
  parentId: bigint;
  datasetIds: bigint[];
}

const positive = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);

function firstInt(config: any, keys: string[]): number | undefined {
  const text = config.text_config && typeof config.text_config === "object" ? config.text_config : {};
  for (const source of [config, text]) for (const k of keys) if (positive(source[k]) !== undefined) return source[k];
  return undefined;
}

/**
 * The manifest (docs/hashing.md §8.5) and metadata (docs/models.md) of a model folder whose
 * files were hashed into ``entries``. The facts the page reads are config.json's; parameter
 * counts, dtypes, special tokens, the card's license and file times, which the CLI reads from
 * weight headers, tokenizer files and README.md, are left out (a field the files do not say
 * is left out by the CLI too), so the manifest and root are the CLI's and the metadata a subset.
 */
export function draftModel(
  entries: ManifestEntry[],
  configText: string | null,
  opts: { name: string; description: string; parentId: bigint; datasetIds: bigint[] },
): ModelDraft {
  const files = entries.filter((e) => !isIgnoredModelPath(e.path)).sort((a, b) => compareUtf8(a.path, b.path));
  if (configText === null) throw new MintError("the folder has no config.json: pick the folder that save_pretrained wrote (the CLI mints GGUF files)");
  if (!files.some((e) => /\.(safetensors|bin|pt|pth|ckpt|h5|msgpack|gguf)$/.test(e.path)))
    throw new MintError("the folder has a config.json but no weights file (*.safetensors, *.bin, ...)");
  let config: any;
  try {
    config = JSON.parse(configText);
  } catch {
    throw new MintError("config.json is not JSON");
  }
  if (!config || typeof config !== "object" || Array.isArray(config)) throw new MintError("config.json is not a JSON object");
  const name = opts.name.trim();
  if (!name) throw new MintError("type a name for the model (a folder's name is not known to the page)");
  const root = weightsRoot(files);
  const rootHex = hex(root);
  const manifest: Json = {
    schema: MANIFEST_SCHEME,
    tree: MANIFEST_TREE,
    root: rootHex,
    files: files.map((e) => ({ path: e.path, sha256: hex(e.sha256), size: e.size })),
  };
  const manifestBytes = canonicalBytes(manifest);
  const manifestCid = cidOf(manifestBytes);
  const architecture = Array.isArray(config.architectures) && typeof config.architectures[0] === "string" ? config.architectures[0] : undefined;
  const modelType = typeof config.model_type === "string" ? config.model_type : undefined;
  const weightsFormat = files.some((e) => e.path.endsWith(".safetensors")) ? "safetensors" : files.some((e) => /\.(bin|pt|pth)$/.test(e.path)) ? "pytorch" : undefined;
  const facts: Record<string, Json | undefined> = {
    name,
    source: "huggingface-folder",
    weightsFormat,
    architecture,
    modelType,
    vocabSize: firstInt(config, ["vocab_size"]),
    contextLength: firstInt(config, CONTEXT_KEYS),
    hiddenSize: firstInt(config, HIDDEN_KEYS),
    numLayers: firstInt(config, LAYER_KEYS),
  };
  const model = Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as Record<string, Json>;
  const traits: [string, Json | undefined, boolean][] = [
    ["kind", "model", false],
    ["architecture", architecture, false],
    ["model type", modelType, false],
    ["context length", model.contextLength, true],
    ["vocabulary size", model.vocabSize, true],
    ["files", files.length, true],
    ["weights root", rootHex, false],
    ["parent model", opts.parentId ? Number(opts.parentId) : undefined, true],
    ["training datasets", opts.datasetIds.length || undefined, true],
  ];
  const totalSize = files.reduce((s, e) => s + e.size, 0);
  // The document python/modelmint/registry/models.py `model_metadata` writes, in its order.
  const metadata: Json = {
    name,
    description: opts.description.trim() || `${architecture ?? "model"} registered with modelmint; weights root ${rootHex}.`,
    attributes: traits.filter(([, v]) => v !== undefined).map(([t, v, number]) => ({ trait_type: t, value: v as Json, ...(number ? { display_type: "number" } : {}) })),
    modelmint: {
      schema: MODEL_METADATA_SCHEMA,
      kind: "model",
      weightsRoot: rootHex,
      manifest: `ipfs://${manifestCid}`,
      manifestScheme: MANIFEST_SCHEME,
      tree: MANIFEST_TREE,
      parentModelId: Number(opts.parentId),
      datasetIds: opts.datasetIds.map(Number),
      totalSize,
      files: files.map((e) => ({ path: e.path, size: e.size })),
      model,
    },
  };
  const metadataBytes = canonicalBytes(metadata);
  return { name, root, manifestBytes, manifestCid, metadataBytes, metadataCid: cidOf(metadataBytes), parentId: opts.parentId, datasetIds: opts.datasetIds };
}

/** Upload the manifest and metadata (never the weights), then have the wallet mint the model. */
export async function mintModel(signer: Signer, draft: ModelDraft, say: (line: string) => void): Promise<Minted> {
  const { reader, account } = signer;
  const address = reader.modelAddress;
  for (const id of (await reader.model("claimsOfWeights", [hex(draft.root)])) as bigint[]) {
    const owner = (await reader.model("ownerOf", [id])) as string;
    if (owner.toLowerCase() === account.toLowerCase()) return { tokenId: id, txHash: "0x", alreadyRegistered: true };
  }
  say("Storing the manifest and the metadata (the weights stay here)…");
  await upload(draft.manifestCid, draft.manifestBytes);
  await upload(draft.metadataCid, draft.metadataBytes);
  const uri = `ipfs://${draft.metadataCid}`;
  const lineage = [draft.parentId, draft.datasetIds] as const;
  const receipt = await sendMint(signer, address, ModelNFTAbi, say, draft.root,
    () => ["mint", [account, hex(draft.root), uri, ...lineage]],
    (salt) => ["revealMint", [account, hex(draft.root), uri, ...lineage, salt, { tokenId: 0n, commitment: `0x${"00".repeat(32)}`, uri: "" }]]);
  const [event] = parseEventLogs({ abi: ModelNFTAbi, logs: receipt.receipt.logs, eventName: "ModelMinted" }) as any[];
  if (!event) throw new MintError(`the mint ${receipt.receipt.transactionHash} emitted no ModelMinted event`);
  return { tokenId: event.args.tokenId as bigint, txHash: receipt.receipt.transactionHash, commitTxHash: receipt.commitTxHash, alreadyRegistered: false };
}
