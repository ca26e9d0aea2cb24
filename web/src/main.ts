// The verification page. Every "verified" it shows it checked itself: chain answers come from
// view calls through the user's provider at a named block, content is checked against its
// CID, and hashes are recomputed here by docs/hashing.md.
import "./style.css";
import { Reader, describeError, type Deployment, type Deployments } from "./chain";
import { fetchJson, fetchVerified, setGateway, currentGateway } from "./ipfs";
import { datapointsOf, formatOf, jsonlDatapoints, csvDatapoints, csvRecords } from "./lib/datapoints";
import { canonicalText, parseStrict, DatapointError } from "./lib/json";
import { cidOf } from "./lib/cid";
import {
  Tree, layOut, hashNodes, datapointHash, datasetLeaf, hex, unhex, splitLeafList, manifestLeaf, weightsRoot, verifyProof,
  compareUtf8, isIgnoredModelPath, type ManifestEntry,
} from "./lib/merkle";
import { discoverWallets, rpcProvider, type Eip1193, type Wallet } from "./lib/wallet";
import { fromDrop, fromInput, type PickedFile } from "./lib/files";
import HashWorker from "./hash.worker?worker&inline";
import LeavesWorker from "./leaves.worker?worker&inline";
import { ready as hashersReady } from "./lib/hashers";
import { handoffToken, startHandoff } from "./handoff";
import { $, esc, connectButton } from "./lib/dom";
import { draftDataset, draftModel, mintDataset, mintModel, MintError, type Signer } from "./mint";
import { commitOml, prepareCommit, readFingerprints, readSecrets, revealOml } from "./oml";

const short = (s: string) => (s.length > 18 ? `${s.slice(0, 10)}…${s.slice(-6)}` : s);
const when = (t: bigint | number) => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");

// Hashing functions for the browser unit tests (tests/python/web), the same the page uses.
(window as any).modelmintLib = {
  canonicalText, parseStrict, jsonlDatapoints, csvDatapoints, csvRecords, datapointsOf, cidOf, Tree, datapointHash,
  datasetLeaf, hex, unhex, splitLeafList, manifestLeaf, weightsRoot, verifyProof,
};

let deployments: Deployments = { chains: [] };
let reader: Reader | null = null;
let signer: Signer | null = null; // the connected wallet's account, when it may send (mint)
let source = "";

function status(html: string, error = false) {
  $("status").innerHTML = error ? `<span class="error">${html}</span>` : html;
}
function show(id: string, html: string, error = false) {
  $(id).innerHTML = error ? `<div class="error">${esc(html)}</div>` : html;
}

async function loadDeployments() {
  try {
    const response = await fetch(new URL("deployments.json", document.baseURI), { cache: "no-store" });
    if (response.ok) deployments = await response.json();
  } catch {
    /* a static copy without deployments.json: addresses come from the URL (#chain=…&dataset=…&model=…) */
  }
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("chain") && params.get("dataset") && params.get("model"))
    deployments.chains.push({
      chainId: Number(params.get("chain")),
      block: Number(params.get("block") ?? 0),
      contracts: { DatasetNFT: params.get("dataset") as any, ModelNFT: params.get("model") as any },
    });
}

// --- connect ---------------------------------------------------------------------------------

async function useProvider(provider: Eip1193, label: string, requestAccounts: boolean) {
  reader = null;
  signer = null;
  $("chain-actions").innerHTML = "";
  let account = "";
  try {
    if (requestAccounts) {
      const accounts = (await provider.request({ method: "eth_requestAccounts" })) as string[];
      account = accounts[0] ?? "";
    }
    const chainId = Number(await provider.request({ method: "eth_chainId" }));
    const deployment = deployments.chains.find((d) => d.chainId === chainId);
    source = label;
    if (!deployment) {
      status(`${esc(label)}${account ? ` · account <code>${esc(account)}</code>` : ""} · chain ${chainId}: <span class="bad">modelmint has no deployment on chain ${chainId}</span>. Switch to a chain that has one.`);
      offerSwitch(provider);
      return;
    }
    reader = new Reader(provider, deployment);
    signer = account ? { provider, account: account as `0x${string}`, reader } : null;
    status(
      `${esc(label)}${account ? ` · account <code id="account">${esc(account)}</code>` : " · read-only"} · chain <b id="chain-id">${chainId}</b> · DatasetNFT <code>${deployment.contracts.DatasetNFT}</code> · ModelNFT <code>${deployment.contracts.ModelNFT}</code>`,
    );
    await refreshRegistry();
  } catch (e) {
    status(esc(describeError(e)), true);
  }
}

function offerSwitch(provider: Eip1193) {
  const box = $("chain-actions");
  for (const d of deployments.chains) {
    const button = document.createElement("button");
    button.textContent = `Switch to chain ${d.chainId}`;
    button.className = "switch-chain";
    button.onclick = async () => {
      const chainHex = "0x" + d.chainId.toString(16);
      try {
        await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: chainHex }] });
      } catch (e: any) {
        if ((e?.code ?? e?.data?.originalError?.code) !== 4902) return status(esc(describeError(e)), true);
        const rpcUrl = deployments.devnet?.chainId === d.chainId ? deployments.devnet.rpcUrl : $<HTMLInputElement>("rpc-url").value;
        if (!rpcUrl) return status("the wallet does not know that chain; type its RPC URL above, then switch again", true);
        try {
          await provider.request({
            method: "wallet_addEthereumChain",
            params: [{ chainId: chainHex, chainName: `modelmint chain ${d.chainId}`, rpcUrls: [rpcUrl], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }],
          });
          // Some wallets switch on add, others only add: switching again is harmless either way.
          await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: chainHex }] });
        } catch (e2) {
          return status(esc(describeError(e2)), true);
        }
      }
      await useProvider(provider, source, true);
    };
    box.appendChild(button);
  }
  if (!deployments.chains.length) box.textContent = "No chain with a modelmint deployment is known: run `modelmint deploy`, or open the page with #chain=ID&dataset=0x…&model=0x….";
}

const watched = new WeakSet<Eip1193>();

function listWallets(wallets: Wallet[]) {
  const box = $("wallets");
  box.innerHTML = wallets.length ? "Wallets: " : "No wallet found in this browser: verify read-only through an RPC URL below.";
  for (const w of wallets) {
    const button = connectButton(w, () => useProvider(w.provider, w.info.name, true));
    if (!watched.has(w.provider)) {
      // The wallet's chain or account changed under the page: read everything again from it.
      watched.add(w.provider);
      const again = () => source === w.info.name && useProvider(w.provider, w.info.name, true);
      w.provider.on?.("chainChanged", again);
      w.provider.on?.("accountsChanged", again);
    }
    box.appendChild(button);
  }
}

// --- registry --------------------------------------------------------------------------------

interface Row {
  kind: "dataset" | "model";
  id: number;
  name: string;
  owner: string;
  mintedAt: bigint;
  root: string;
  count: string;
  uri: string;
  record: any;
}
let rows: Row[] = [];

async function metadataName(uri: string): Promise<string> {
  try {
    return String((await fetchJson(uri)).name ?? "");
  } catch {
    return "(metadata unavailable)";
  }
}

async function refreshRegistry() {
  if (!reader) return;
  const r = reader;
  const block = await r.block();
  const [datasets, models] = await Promise.all([r.dataset("totalMinted", [], block), r.model("totalMinted", [], block)]);
  const out: Row[] = [];
  for (let i = 1n; i <= datasets; i++) {
    const [record, owner, uri] = await Promise.all([r.dataset("dataset", [i], block), r.dataset("ownerOf", [i], block), r.dataset("tokenURI", [i], block)]);
    out.push({ kind: "dataset", id: Number(i), name: await metadataName(uri), owner, mintedAt: record.mintedAt, root: record.merkleRoot, count: `${record.datapointCount} datapoints`, uri, record });
  }
  for (let i = 1n; i <= models; i++) {
    const [record, owner, uri] = await Promise.all([r.model("model", [i], block), r.model("ownerOf", [i], block), r.model("tokenURI", [i], block)]);
    out.push({ kind: "model", id: Number(i), name: await metadataName(uri), owner, mintedAt: record.mintedAt, root: record.weightsRoot, count: `${record.datasetIds.length} datasets`, uri, record });
  }
  rows = out;
  drawRegistry();
}

function drawRegistry() {
  const needle = $<HTMLInputElement>("filter").value.toLowerCase();
  const body = $("registry").querySelector("tbody")!;
  body.innerHTML = "";
  for (const row of rows) {
    const text = `${row.kind}/${row.id} ${row.name} ${row.owner} ${row.root}`.toLowerCase();
    if (needle && !text.includes(needle)) continue;
    const tr = document.createElement("tr");
    tr.dataset.ref = `${row.kind}/${row.id}`;
    tr.innerHTML = `<td>${row.kind}/${row.id}</td><td>${esc(row.name)}</td><td class="hash">${short(row.owner)}</td><td>${when(row.mintedAt)}</td><td class="hash">${short(row.root)}</td><td>${row.count}</td>`;
    tr.onclick = () => showRecord(row).catch((e) => show("record", describeError(e), true));
    body.appendChild(tr);
  }
}

async function showRecord(row: Row) {
  show("record", "Loading…");
  const metadata = await fetchJson(row.uri); // refused unless its bytes hash to the CID on chain
  let html = `<h3>${row.kind}/${row.id}: ${esc(metadata.name ?? "")}</h3>
    <p>metadata <code>${esc(row.uri)}</code> <span class="ok">checked against its CID</span></p>
    <p>owner <code>${row.owner}</code> · minted ${when(row.mintedAt)} · root <code>${row.root}</code> · ${row.count}</p>`;
  // Several tokens may claim one root (issue 10's contracts): name the others, earliest first.
  const claims = row.kind === "dataset" ? "claimsOfRoot" : "claimsOfWeights";
  if (reader!.hasFunction(row.kind, claims)) {
    const ids: bigint[] = await (row.kind === "dataset" ? reader!.dataset(claims, [row.root]) : reader!.model(claims, [row.root]));
    const others = ids.filter((i) => Number(i) !== row.id);
    if (others.length) html += `<p id="claims">the same root is also claimed by ${others.map((i) => `${row.kind}/${i}`).join(", ")}</p>`;
  }
  if (row.kind === "model") {
    html += await lineageSvg(row);
    if (metadata.image) {
      try {
        const bytes = await fetchVerified(metadata.image);
        const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "image/png" }));
        html += `<p>HuRef fingerprint picture (checked against ${esc(metadata.image)}):<br><img id="huref" src="${url}" width="256"></p>`;
      } catch (e) {
        html += `<p class="error">${esc(describeError(e))}</p>`;
      }
    }
    html += await fingerprints(row.id);
  }
  html += `<details><summary>metadata JSON</summary><pre>${esc(JSON.stringify(metadata, null, 2))}</pre></details>`;
  show("record", html);
}

async function fingerprints(id: number): Promise<string> {
  const r = reader!;
  let html = "<h4>Fingerprints</h4>";
  for (const [kind, label] of [[0, "HuRef"], [1, "OML"]] as const) {
    try {
      const f = await r.model("fingerprint", [BigInt(id), kind]);
      html += f.committedAt > 0n
        ? `<p>${label}: commitment <code class="fp-commitment">${f.commitment}</code> at ${when(f.committedAt)} ${f.uri ? `<code>${esc(f.uri)}</code>` : ""}</p>`
        : `<p>${label}: none committed</p>`;
    } catch {
      html += `<p>${label}: not readable on this contract</p>`;
    }
  }
  try {
    const reveals = await r.modelEvents("FingerprintRevealed", { tokenId: BigInt(id) });
    const mine = reveals.filter((l) => Number(l.args.tokenId) === id);
    if (mine.length)
      html += `<table class="reveals"><tr><th>key</th><th>response</th><th>block</th></tr>${mine.map((l) => `<tr><td>${esc(l.args.key)}</td><td>${esc(l.args.response)}</td><td>${l.blockNumber}</td></tr>`).join("")}</table>`;
    else html += "<p>No OML fingerprint revealed.</p>";
  } catch {
    /* a contract version without reveal events */
  }
  return html;
}

async function lineageSvg(row: Row): Promise<string> {
  const r = reader!;
  const chain: { id: number; name: string; datasets: number[] }[] = [];
  let current: any = row.record;
  let id = row.id;
  for (;;) {
    chain.push({ id, name: rows.find((x) => x.kind === "model" && x.id === id)?.name ?? `model ${id}`, datasets: current.datasetIds.map(Number) });
    const parent = Number(current.parentId);
    if (!(parent > 0 && parent < id)) break;
    id = parent;
    current = await r.model("model", [BigInt(id)]);
  }
  chain.reverse(); // the oldest ancestor on top
  const boxW = 220, boxH = 34, gap = 30, dsX = 280;
  let y = 10;
  let body = "";
  let height = 0;
  chain.forEach((m, k) => {
    body += `<rect x="10" y="${y}" width="${boxW}" height="${boxH}" rx="6" fill="#e7f0fb" stroke="#4a78b5"/><text x="20" y="${y + 21}">model/${m.id} ${esc(m.name.slice(0, 24))}</text>`;
    m.datasets.forEach((d, j) => {
      const dy = y + j * (boxH + 6);
      const name = rows.find((x) => x.kind === "dataset" && x.id === d)?.name ?? "";
      body += `<rect x="${dsX}" y="${dy}" width="${boxW}" height="${boxH}" rx="6" fill="#eef8ee" stroke="#3c8a3c"/><text x="${dsX + 10}" y="${dy + 21}">dataset/${d} ${esc(name.slice(0, 22))}</text>`;
      body += `<line x1="${dsX}" y1="${dy + boxH / 2}" x2="${10 + boxW}" y2="${y + boxH / 2}" stroke="#3c8a3c" marker-end="url(#arrow)"/>`;
    });
    const rowH = Math.max(1, m.datasets.length) * (boxH + 6);
    if (k < chain.length - 1)
      body += `<line x1="${10 + boxW / 2}" y1="${y + boxH}" x2="${10 + boxW / 2}" y2="${y + rowH + gap - 4}" stroke="#4a78b5" marker-end="url(#arrow)"/>`;
    y += rowH + gap;
    height = y;
  });
  return `<h4>Lineage</h4><svg id="lineage" width="${dsX + boxW + 20}" height="${height}" xmlns="http://www.w3.org/2000/svg"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>${body}</svg>`;
}

// --- datapoints ------------------------------------------------------------------------------

interface DatasetTree {
  id: number;
  record: any;
  metadata: any;
  hashes: Uint8Array[];
  tree: Tree;
}
const trees = new Map<string, DatasetTree>();
/** Milliseconds from the start of the last dataset tree's building to each step (bench/web.py prints them). */
const timings: Record<string, number> = ((window as any).modelmintTimings = {});

async function datasetTree(id: number): Promise<DatasetTree> {
  const r = reader!;
  const key = `${r.chainId}/${r.datasetAddress}/${id}`;
  const cached = trees.get(key);
  if (cached) return cached;
  const mark = (step: string) => (timings[step] = Math.round(performance.now() - t0));
  const t0 = performance.now();
  const total = await r.dataset("totalMinted", []);
  if (!(id >= 1 && id <= Number(total))) throw new Error(`there is no dataset ${id} on chain ${r.chainId}; pick one from the registry (1 to ${total})`);
  const [record, uri] = await Promise.all([r.dataset("dataset", [BigInt(id)]), r.dataset("tokenURI", [BigInt(id)])]);
  const metadata = await fetchJson(uri);
  const leavesUri = metadata?.modelmint?.leaves;
  if (typeof leavesUri !== "string") throw new Error(`dataset ${id}'s metadata names no leaf list (modelmint.leaves); it was not minted by modelmint`);
  mark("metadata");
  const list = await fetchVerified(leavesUri);
  mark("leaf list fetched and CID-checked");
  const hashes = splitLeafList(list, Number(record.datapointCount));
  const tree = await treeOf(list, mark);
  mark("tree");
  if (hex(tree.root) !== record.merkleRoot.toLowerCase())
    throw new Error(`dataset ${id}'s leaf list gives root ${hex(tree.root)}, not the on-chain ${record.merkleRoot}: the token cannot be verified`);
  const result = { id, record, metadata, hashes, tree };
  trees.set(key, result);
  return result;
}

/** One job for a tree worker (leaves.worker.ts), answered once. */
function ask(worker: Worker, job: object, transfer: Transferable[] = []): Promise<any> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`hashing the leaf list failed (${e.message})`));
    worker.postMessage(job, transfer);
  });
}

/**
 * The leaves of a leaf list and their tree. For 50,000 datapoints or more both are hashed by
 * one worker per core (up to 4), the same workers for both steps: first a slice of the leaf
 * list each, then (after this thread sorts and lays out the leaves) whole subtrees each, four
 * per worker, two levels below the root or deeper; this thread hashes the few nodes above them.
 */
async function treeOf(list: Uint8Array, mark: (step: string) => void): Promise<Tree> {
  const n = list.length / 32;
  const workers = n < 50_000 ? 1 : Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
  if (workers === 1) {
    const leaves = new Uint8Array(list.length);
    for (let i = 0; i < list.length; i += 32) leaves.set(datasetLeaf(list.subarray(i, i + 32)), i);
    mark("leaves");
    return new Tree(leaves);
  }
  const pool = Array.from({ length: workers }, () => new LeavesWorker());
  try {
    const per = Math.ceil(n / workers);
    const parts = await Promise.all(
      pool.map((worker, w) => {
        const slice = list.slice(w * per * 32, Math.min(n, (w + 1) * per) * 32);
        return ask(worker, { kind: "leaves", hashes: slice.buffer }, [slice.buffer]);
      }),
    );
    const leaves = new Uint8Array(list.length);
    let at = 0;
    for (const part of parts) {
      leaves.set(new Uint8Array(part.leaves), at);
      at += part.leaves.byteLength;
    }
    mark("leaves");
    const laid = layOut(leaves);
    mark("tree: leaves sorted and placed");
    let depth = 0;
    while (2 ** depth < 4 * workers) depth++;
    const first = 2 ** depth - 1; // the subtree roots: first .. 2 * first
    const roots = Array.from({ length: first + 1 }, (_, k) => first + k);
    const answers = await Promise.all(
      pool.map((worker, w) => ask(worker, { kind: "subtrees", flat: laid.flat.buffer, n, roots: roots.filter((_, k) => k % workers === w) })),
    );
    for (const answer of answers) {
      const nodes = new Uint8Array(answer.nodes);
      const ranges: number[] = answer.ranges;
      let from = 0;
      for (let k = 0; k < ranges.length; k += 2) {
        const bytes = 32 * (ranges[k + 1] - ranges[k] + 1);
        laid.flat.set(nodes.subarray(from, from + bytes), 32 * ranges[k]);
        from += bytes;
      }
    }
    hashNodes(laid.flat, first - 1, 0);
    return new Tree(leaves, laid);
  } finally {
    pool.forEach((worker) => worker.terminate());
  }
}

let droppedFiles: File[] = [];

async function checkDatapoints() {
  show("dp-result", "Checking…");
  if (!reader) return show("dp-result", "connect a wallet or give an RPC URL first", true);
  const id = Number($<HTMLInputElement>("dp-token").value);
  const started = performance.now();
  const ds = await datasetTree(id);
  const format = String(ds.metadata.modelmint.format ?? "jsonl");
  const points: { label: string; hash: Uint8Array; position?: number }[] = [];
  const pasted = $<HTMLTextAreaElement>("dp-text").value;
  if (pasted.trim()) for (const p of jsonlDatapoints("pasted rows", pasted)) points.push({ label: `pasted ${p.label}`, hash: datapointHash(p.bytes) });
  for (const file of droppedFiles) {
    const kind = formatOf(file.name, format);
    const data = new Uint8Array(await file.arrayBuffer());
    for (const p of datapointsOf(file.name, data, kind))
      points.push({ label: kind === "file" ? p.label : `${file.name} ${p.label}`, hash: datapointHash(p.bytes) });
  }
  if (!points.length) return show("dp-result", "nothing to check: paste JSON rows or drop files", true);
  for (const p of points) {
    const found = ds.tree.find(datasetLeaf(p.hash));
    if (found >= 0) p.position = found;
  }
  const r = reader;
  const block = await r.block();
  const members = [...new Set(points.map((p) => p.position).filter((x): x is number => x !== undefined))];
  const answers = new Map<number, boolean>();
  if (members.length === 1) {
    const pos = members[0];
    answers.set(pos, await r.dataset("verifyDatapoint", [BigInt(id), hex(ds.hashes[pos]), ds.tree.proof(pos).map(hex)], block));
  } else if (members.length > 1) {
    const m = ds.tree.multiProof(members);
    const ok = await r.dataset("multiVerifyDatapoints", [BigInt(id), m.order.map((p) => hex(ds.hashes[p])), m.proof.map(hex), m.proofFlags], block);
    for (const p of members) answers.set(p, ok);
  }
  const outsiders = new Map<string, boolean>();
  for (const p of points) {
    const k = hex(p.hash);
    if (p.position !== undefined || outsiders.has(k)) continue;
    // No proof exists for a hash the leaf list lacks; the contract is still asked, so the
    // "not in" is its answer, not only the page's.
    outsiders.set(k, await r.dataset("verifyDatapoint", [BigInt(id), k, []], block));
  }
  const seconds = (performance.now() - started) / 1000;
  const inCount = points.filter((p) => p.position !== undefined && answers.get(p.position) === true).length;
  let html = `<p>${inCount} of ${points.length} datapoints in dataset ${id} · answered by chain ${r.chainId}, contract <code>${r.datasetAddress}</code>, block ${block} · ${seconds.toFixed(2)} s</p><table id="dp-table"><tr><th>datapoint</th><th>SHA-256</th><th>answer</th></tr>`;
  for (const p of points) {
    const pos = p.position;
    const yes = pos !== undefined ? answers.get(pos) === true : outsiders.get(hex(p.hash)) === true;
    html += `<tr data-label="${esc(p.label)}" data-in="${yes}"><td>${esc(p.label)}</td><td class="hash">${hex(p.hash)}</td><td class="${yes ? "ok" : "bad"}">${yes ? `in (position ${pos})` : "not in"}</td></tr>`;
  }
  show("dp-result", html + "</table>");
}

async function checkProofFile(file: File) {
  show("dp-result", "Checking proof…");
  let proof: any;
  try {
    proof = JSON.parse(await file.text());
  } catch {
    return show("dp-result", `${file.name} is not JSON; drop a file written by \`modelmint dataset prove\``, true);
  }
  if (!reader) return show("dp-result", "connect a wallet or give an RPC URL first", true);
  const r = reader;
  const schemas = ["modelmint.dataset-proof.v1", "modelmint.dataset-multiproof.v1"];
  if (!schemas.includes(proof.schema)) return show("dp-result", `${file.name} is not a modelmint proof file (schema ${JSON.stringify(proof.schema)}); drop a file written by \`modelmint dataset prove\``, true);
  if (Number(proof.chainId) !== r.chainId) return show("dp-result", `${file.name} is a proof for chain ${proof.chainId}, but the wallet is on chain ${r.chainId}; switch the wallet to chain ${proof.chainId}`, true);
  if (String(proof.contract).toLowerCase() !== r.datasetAddress.toLowerCase())
    return show("dp-result", `${file.name} names the contract ${proof.contract}, not modelmint's DatasetNFT ${r.datasetAddress} on chain ${r.chainId}; a contract chosen by the proof's author could answer anything, so it is not asked`, true);
  const block = await r.block();
  const id = BigInt(proof.tokenId);
  const ok: boolean = proof.schema === schemas[0]
    ? await r.dataset("verifyDatapoint", [id, proof.datapointHash, proof.proof], block)
    : await r.dataset("multiVerifyDatapoints", [id, proof.datapointHashes, proof.proof, proof.proofFlags], block);
  const n = proof.schema === schemas[0] ? 1 : proof.datapointHashes.length;
  show("dp-result", `<p id="proof-answer" class="${ok ? "ok" : "bad"}">${ok ? "valid" : "invalid"}: ${n} datapoint${n > 1 ? "s" : ""} ${ok ? "in" : "not shown to be in"} dataset ${proof.tokenId} · answered by chain ${r.chainId}, contract <code>${r.datasetAddress}</code>, block ${block}</p>`);
}

// --- mint ------------------------------------------------------------------------------------

let mintFiles: { files: PickedFile[]; folder: boolean } = { files: [], folder: false };

async function mintFromPage() {
  if (!signer) return show("mint-result", "connect a wallet first: the wallet sends the mint", true);
  const s = signer;
  show("mint-result", "Hashing…");
  const draft = await draftDataset(mintFiles.files, mintFiles.folder, $<HTMLInputElement>("mint-name").value, $<HTMLInputElement>("mint-description").value);
  show("mint-result", `${draft.count.toLocaleString("en")} datapoints · root <code>${hex(draft.root)}</code>`);
  const say = (line: string) => show("mint-result", `<p>${esc(line)}</p><p>${draft.count.toLocaleString("en")} datapoints · root <code>${hex(draft.root)}</code></p>`);
  const minted = await withRejection(() => mintDataset(s, draft, say));
  const verb = minted.alreadyRegistered ? "is already registered to you as" : "minted as";
  show(
    "mint-result",
    `<p id="minted" class="ok" data-token="${minted.tokenId}">${esc(draft.name)} ${verb} dataset token ${minted.tokenId}</p>` +
      `<p>${draft.count.toLocaleString("en")} datapoints · root <code>${hex(draft.root)}</code> · metadata <code>ipfs://${draft.metadataCid}</code>` +
      (minted.alreadyRegistered ? "" : ` · transaction <code>${minted.txHash}</code>`) + "</p>",
  );
  await refreshRegistry();
}

let mintModelFiles: PickedFile[] = [];

async function mintModelFromPage() {
  if (!signer) return show("mint-model-result", "connect a wallet first: the wallet sends the mint", true);
  const s = signer;
  const files = mintModelFiles.filter((f) => !isIgnoredModelPath(f.path));
  if (!files.length) return show("mint-model-result", "pick or drop the model's folder first", true);
  const datasets = $<HTMLInputElement>("mint-model-datasets").value.split(/[\s,]+/).filter(Boolean);
  if (datasets.some((d) => !/^[1-9][0-9]*$/.test(d))) return show("mint-model-result", "training datasets are token ids separated by commas, like 1, 2", true);
  show("mint-model-result", "Hashing…");
  const digests = await hashFiles(files, () => {});
  const config = files.find((f) => f.path === "config.json");
  const draft = draftModel(
    files.map((f) => ({ path: f.path, sha256: digests.get(f.path)!, size: f.file.size })),
    config ? await config.file.text() : null,
    {
      name: $<HTMLInputElement>("mint-model-name").value,
      description: "",
      parentId: BigInt($<HTMLInputElement>("mint-model-parent").value || "0"),
      datasetIds: datasets.map(BigInt),
    },
  );
  const say = (line: string) => show("mint-model-result", `<p>${esc(line)}</p><p>weights root <code>${hex(draft.root)}</code></p>`);
  const minted = await withRejection(() => mintModel(s, draft, say));
  const verb = minted.alreadyRegistered ? "is already registered to you as" : "minted as";
  show(
    "mint-model-result",
    `<p id="minted-model" class="ok" data-token="${minted.tokenId}">${esc(draft.name)} ${verb} model token ${minted.tokenId}</p>` +
      `<p>weights root <code>${hex(draft.root)}</code> · manifest <code>ipfs://${draft.manifestCid}</code></p>`,
  );
  await refreshRegistry();
}

/** ``task``, with a rejection in the wallet (EIP-1193 4001, however deep viem wraps it) said plainly. */
async function withRejection<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (e: any) {
    let cause = e;
    while (cause && cause.code !== 4001) cause = cause.cause;
    if (cause) throw new MintError("the transaction was rejected in the wallet, so nothing was sent; press the button again to retry (what was stored is reused)");
    throw e;
  }
}

async function omlCommitFromPage() {
  if (!signer) return show("oml-result", "connect a wallet first: the owner's wallet commits", true);
  const s = signer;
  const file = $<HTMLInputElement>("oml-file").files?.[0];
  if (!file) return show("oml-result", "pick the fingerprint file first", true);
  const tokenId = BigInt($<HTMLInputElement>("oml-token").value || "0");
  const pairs = readFingerprints(file.name, await file.text());
  const committed = (await s.reader.model("fingerprint", [tokenId, 1])) as { commitment: string; committedAt: bigint };
  if (committed.committedAt) return show("oml-result", `model ${tokenId} already has an OML commitment (root ${committed.commitment}); reveal from it`, true);
  const prepared = prepareCommit(s, tokenId, pairs);
  // The salts exist on disk before the root exists on chain: the download comes first.
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(prepared.secrets, null, 1) + "\n"], { type: "application/json" }));
  link.download = prepared.secretsName;
  link.id = "oml-secrets-download";
  link.textContent = `download the secrets file again (${prepared.secretsName})`;
  link.click();
  const say = (line: string) => show("oml-result", `<p>${esc(line)}</p><p>Keep ${esc(prepared.secretsName)} private: it is the only way to reveal.</p>`);
  const txHash = await withRejection(() => commitOml(s, tokenId, prepared, say));
  show("oml-result", `<p id="oml-committed" class="ok">committed ${pairs.length} fingerprints on model ${tokenId}: root <code>${prepared.root}</code> · transaction <code>${txHash}</code></p><p>The secrets file was saved as ${esc(prepared.secretsName)}; keep it private, it is the only way to reveal.</p>`);
  $("oml-result").appendChild(link);
}

async function omlRevealFromPage() {
  if (!signer) return show("oml-result", "connect a wallet first: the owner's wallet reveals", true);
  const s = signer;
  const file = $<HTMLInputElement>("oml-secrets").files?.[0];
  if (!file) return show("oml-result", "pick the secrets file the commitment wrote first", true);
  const tokenId = BigInt($<HTMLInputElement>("oml-token").value || "0");
  const secrets = await readSecrets(s, tokenId, file.name, await file.text());
  const count = Number($<HTMLInputElement>("oml-count").value);
  const say = (line: string) => show("oml-result", `<p>${esc(line)}</p>`);
  const done = await withRejection(() => revealOml(s, tokenId, secrets, count, say));
  show("oml-result", `<p id="oml-revealed" class="ok" data-count="${done.revealed.length}">revealed ${done.revealed.length} fingerprint${done.revealed.length > 1 ? "s" : ""} of model ${tokenId} · transaction <code>${done.txHash}</code></p>`);
}

// --- models ----------------------------------------------------------------------------------

/**
 * Files up to this size may be read whole and hashed by WebCrypto (hash.worker.ts), as long as
 * the whole-read files in flight stay under it together: so at most 1 GiB of a model sits in
 * memory at once, and anything larger is streamed.
 */
const WHOLE_LIMIT = 1 << 30;

function hashFiles(files: PickedFile[], onBytes: (n: number) => void): Promise<Map<string, Uint8Array>> {
  const workers = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4, files.length));
  const queue = [...files].sort((a, b) => b.file.size - a.file.size); // largest first
  const out = new Map<string, Uint8Array>();
  return new Promise((resolve, reject) => {
    let running = 0;
    let failed = false;
    let wholeBytes = 0;
    const pool = Array.from({ length: workers }, () => new HashWorker());
    const next = (w: Worker) => {
      const item = queue.shift();
      if (!item) {
        w.terminate();
        if (--running === 0 && !failed) resolve(out);
        return;
      }
      w.onmessage = (e) => {
        if (e.data.progress) onBytes(e.data.progress);
        else if (e.data.error) {
          failed = true;
          pool.forEach((p) => p.terminate());
          reject(new Error(e.data.error));
        } else {
          out.set(item.path, e.data.digest);
          if (whole) wholeBytes -= item.file.size;
          next(w);
        }
      };
      const whole = wholeBytes + item.file.size <= WHOLE_LIMIT;
      if (whole) wholeBytes += item.file.size;
      w.postMessage({ id: 0, file: item.file, whole });
    };
    running = pool.length;
    pool.forEach(next);
  });
}

async function checkModel(picked: PickedFile[]) {
  show("model-result", "Reading the token…");
  if (!reader) return show("model-result", "connect a wallet or give an RPC URL first", true);
  const r = reader;
  const id = Number($<HTMLInputElement>("model-token").value);
  const total = await r.model("totalMinted", []);
  if (!(id >= 1 && id <= Number(total))) return show("model-result", `there is no model ${id} on chain ${r.chainId}; pick one from the registry (1 to ${total})`, true);
  const block = await r.block();
  const [record, uri] = await Promise.all([r.model("model", [BigInt(id)], block), r.model("tokenURI", [BigInt(id)], block)]);
  const metadata = await fetchJson(uri);
  const manifest = await fetchJson(metadata.modelmint.manifest);
  const expected: ManifestEntry[] = manifest.files.map((f: any) => ({ path: f.path, sha256: unhex(f.sha256), size: f.size }));
  const manifestRoot = hex(weightsRoot(expected));
  if (manifestRoot !== String(manifest.root).toLowerCase() || manifestRoot !== record.weightsRoot.toLowerCase())
    return show("model-result", `model ${id}'s manifest gives root ${manifestRoot}, not the on-chain ${record.weightsRoot}: the token cannot be verified`, true);
  const files = picked.filter((f) => !isIgnoredModelPath(f.path)).sort((a, b) => compareUtf8(a.path, b.path));
  if (!files.length) return show("model-result", "the folder has no files to check; pick the model's folder", true);
  const totalBytes = files.reduce((s, f) => s + f.file.size, 0);
  const bar = $<HTMLProgressElement>("model-progress");
  bar.hidden = false;
  bar.max = totalBytes || 1;
  bar.value = 0;
  const started = performance.now();
  let done = 0;
  const digests = await hashFiles(files, (n) => {
    done += n;
    bar.value = done;
    $("model-speed").textContent = `${(done / 1e6).toFixed(0)} / ${(totalBytes / 1e6).toFixed(0)} MB · ${(done / 1e6 / ((performance.now() - started) / 1000)).toFixed(0)} MB/s`;
  });
  const seconds = (performance.now() - started) / 1000;
  const local: ManifestEntry[] = files.map((f) => ({ path: f.path, sha256: digests.get(f.path)!, size: f.file.size }));
  const localRoot = hex(weightsRoot(local));
  const want = new Map(expected.map((e) => [e.path, e]));
  const have = new Map(local.map((e) => [e.path, e]));
  const differing = local.filter((e) => want.has(e.path) && (hex(want.get(e.path)!.sha256) !== hex(e.sha256) || want.get(e.path)!.size !== e.size)).map((e) => e.path);
  const missing = expected.filter((e) => !have.has(e.path)).map((e) => e.path);
  const extra = local.filter((e) => !want.has(e.path)).map((e) => e.path);
  const ok = localRoot === record.weightsRoot.toLowerCase();
  const list = (cls: string, title: string, paths: string[]) => (paths.length ? `<p class="bad">${title}: <span class="${cls}">${paths.map(esc).join(", ")}</span></p>` : "");
  show(
    "model-result",
    `<p id="model-answer" class="${ok ? "ok" : "bad"}">${ok ? "matches" : "does not match"} model ${id}: local weights root <code>${localRoot}</code>, on chain <code>${record.weightsRoot}</code> (chain ${r.chainId}, contract <code>${r.modelAddress}</code>, block ${block})</p>
     <p>${files.length} files, ${(totalBytes / 1e6).toFixed(1)} MB hashed in ${seconds.toFixed(1)} s (${(totalBytes / 1e6 / seconds).toFixed(0)} MB/s)</p>
     ${list("differing", "differ", differing)}${list("missing", "missing", missing)}${list("extra", "extra", extra)}`,
  );
}

// --- wiring ----------------------------------------------------------------------------------

function guard(id: string, task: () => Promise<void>) {
  task().catch((e) => show(id, e instanceof DatapointError ? e.message : describeError(e), true));
}

function dropZone(id: string, onDrop: (e: DragEvent) => void) {
  const zone = $(id);
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    onDrop(e);
  });
}

async function start() {
  const token = handoffToken();
  if (token) {
    // Opened by a command's --wallet browser: only the hand-off, none of the verification.
    await startHandoff(token);
    document.body.dataset.ready = "true";
    return;
  }
  await Promise.all([loadDeployments(), hashersReady]);
  $<HTMLInputElement>("gateway").value = currentGateway();
  $<HTMLInputElement>("gateway").onchange = (e) => setGateway((e.target as HTMLInputElement).value);
  if (deployments.devnet) $<HTMLInputElement>("rpc-url").placeholder = deployments.devnet.rpcUrl;
  discoverWallets(listWallets);
  $("rpc-connect").onclick = () => {
    const url = $<HTMLInputElement>("rpc-url").value.trim();
    if (!/^https?:\/\//.test(url)) return status("type the node's RPC URL (http://… or https://…) first", true);
    useProvider(rpcProvider(url), `RPC ${url}`, false);
  };
  $("refresh").onclick = () => guard("record", refreshRegistry);
  $("filter").oninput = drawRegistry;
  $("dp-check").onclick = () => guard("dp-result", checkDatapoints);
  $<HTMLInputElement>("dp-files").onchange = (e) => {
    droppedFiles = [...((e.target as HTMLInputElement).files ?? [])];
  };
  dropZone("dp-drop", async (e) => {
    droppedFiles = (await fromDrop(e.dataTransfer!.items)).map((f) => f.file);
    $("dp-drop").dataset.count = String(droppedFiles.length);
  });
  $<HTMLInputElement>("proof-file").onchange = (e) => {
    const input = e.target as HTMLInputElement;
    const f = input.files?.[0];
    input.value = ""; // so that choosing the same file again checks it again
    if (f) guard("dp-result", () => checkProofFile(f));
  };
  dropZone("proof-drop", (e) => {
    const f = e.dataTransfer!.files[0];
    if (f) guard("dp-result", () => checkProofFile(f));
  });
  $<HTMLInputElement>("mint-file").onchange = (e) => {
    mintFiles = { files: fromInput((e.target as HTMLInputElement).files!), folder: false };
  };
  $<HTMLInputElement>("mint-dir").onchange = (e) => {
    mintFiles = { files: fromInput((e.target as HTMLInputElement).files!), folder: true };
  };
  dropZone("mint-drop", async (e) => {
    const items = e.dataTransfer!.items;
    const folder = [...items].some((i) => i.webkitGetAsEntry?.()?.isDirectory);
    mintFiles = { files: await fromDrop(items), folder };
  });
  $("mint-dataset").onclick = () => guard("mint-result", mintFromPage);
  $<HTMLInputElement>("mint-model-dir").onchange = (e) => {
    mintModelFiles = fromInput((e.target as HTMLInputElement).files!);
  };
  dropZone("mint-model-drop", async (e) => {
    mintModelFiles = await fromDrop(e.dataTransfer!.items);
  });
  $("mint-model").onclick = () => guard("mint-model-result", mintModelFromPage);
  $("oml-commit").onclick = () => guard("oml-result", omlCommitFromPage);
  $("oml-reveal").onclick = () => guard("oml-result", omlRevealFromPage);
  $<HTMLInputElement>("model-dir").onchange = (e) => guard("model-result", () => checkModel(fromInput((e.target as HTMLInputElement).files!)));
  dropZone("model-drop", (e) => guard("model-result", async () => checkModel(await fromDrop(e.dataTransfer!.items))));
  document.body.dataset.ready = "true";
}

start();
