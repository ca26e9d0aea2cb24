// `modelmint … --wallet browser`: the command serves this page with #handoff=<token> and hands it
// one prepared transaction at a time; the page shows it, decoded here from the calldata against
// the contracts' ABIs (not taken on the command's word), and asks the wallet to send it. The
// key never leaves the wallet; the command checks the hash it gets back names the same call.
import { decodeFunctionData, type Abi } from "viem";
import { DatasetNFTAbi, ModelNFTAbi } from "./abi.generated";
import { discoverWallets, type Eip1193, type Wallet } from "./lib/wallet";
import { describeError } from "./chain";
import { $, esc, connectButton } from "./lib/dom";

interface Session {
  chainId: number;
  chainName: string;
  command: string;
  walletRpcUrl: string | null;
}

interface Description {
  chainId: number;
  chainName: string;
  contract: string;
  address: string | null;
  function: string;
  args: Record<string, unknown>;
  gas: number;
  maxFeePerGas: number | string;
  maxFee: number | string;
  value: number | string;
}

interface HandoffRequest {
  id: string;
  step: number;
  tx: Record<string, string>;
  description: Description;
}

interface Step {
  step: number;
  what: string;
  status: string;
  hash?: string;
}

const ABIS: Record<string, Abi> = { DatasetNFT: DatasetNFTAbi as Abi, ModelNFT: ModelNFTAbi as Abi };
const POLL_MS = 1000;
const gwei = (wei: number | string) => `${Number(BigInt(wei)) / 1e9} gwei`;
const eth = (wei: number | string) => `${Number(BigInt(wei)) / 1e18} ETH`;
const shown = (v: unknown): string => (typeof v === "bigint" ? v.toString() : Array.isArray(v) ? `[${v.map(shown).join(", ")}]` : String(v));

export function handoffToken(): string | null {
  return new URLSearchParams(location.hash.slice(1)).get("handoff");
}

export async function startHandoff(token: string): Promise<void> {
  document.body.classList.add("handoff");
  $("handoff").hidden = false;
  const api = async (method: "GET" | "POST", path: string, body?: object) => {
    const response = await fetch(path, {
      method,
      cache: "no-store",
      headers: { "X-Modelmint-Handoff": token, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error ?? `the command answered ${response.status}`);
    return answer;
  };
  const say = (html: string, error = false) => ($("handoff-status").innerHTML = error ? `<span class="error">${html}</span>` : html);

  let session: Session;
  try {
    session = await api("GET", "/handoff/session");
  } catch (e) {
    say(`${esc(describeError(e))}. This page only works while the command that printed its URL runs.`, true);
    return;
  }
  $("handoff-command").textContent = session.command;
  $("handoff-chain").textContent = `${session.chainId} (${session.chainName})`;
  say("Connect the wallet that should sign.");

  let wallet: Eip1193 | null = null;
  let account = "";
  let handled = "";
  let polling = false;

  async function onChain(provider: Eip1193): Promise<number> {
    const wanted = "0x" + session.chainId.toString(16);
    let chainId = Number(await provider.request({ method: "eth_chainId" }));
    if (chainId === session.chainId) return chainId;
    try {
      await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: wanted }] });
    } catch (e: any) {
      if ((e?.code ?? e?.data?.originalError?.code) !== 4902 || !session.walletRpcUrl) return chainId;
      try {
        await provider.request({
          method: "wallet_addEthereumChain",
          params: [{ chainId: wanted, chainName: session.chainName, rpcUrls: [session.walletRpcUrl], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }],
        });
        await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: wanted }] });
      } catch {
        return chainId;
      }
    }
    chainId = Number(await provider.request({ method: "eth_chainId" }));
    return chainId;
  }

  async function connect(w: Wallet) {
    try {
      const accounts = (await w.provider.request({ method: "eth_requestAccounts" })) as string[];
      if (!accounts.length) throw new Error("the wallet gave no account");
      const chainId = await onChain(w.provider);
      await api("POST", "/handoff/account", { address: accounts[0], chainId });
      wallet = w.provider;
      account = accounts[0];
      $("handoff-wallets").innerHTML = `Connected <b>${esc(w.info.name)}</b> · account <code id="handoff-account">${esc(account)}</code> · chain ${chainId}`;
      say("Confirm each transaction in the wallet.");
      w.provider.on?.("accountsChanged", (list: string[]) => list[0] && api("POST", "/handoff/account", { address: list[0], chainId }).catch((e) => say(esc(describeError(e)), true)));
      if (!polling) poll();
    } catch (e) {
      say(esc(describeError(e)), true);
    }
  }

  discoverWallets((wallets) => {
    if (wallet) return;
    const box = $("handoff-wallets");
    box.innerHTML = wallets.length ? "" : "No wallet found in this browser: open this URL in the browser that has your wallet.";
    for (const w of wallets) box.appendChild(connectButton(w, () => connect(w)));
  });

  async function poll() {
    polling = true;
    while (true) {
      let state: { request: HandoffRequest | null; steps: Step[]; done: boolean; problem: string | null };
      try {
        state = await api("GET", "/handoff/next");
      } catch {
        say("The command has ended (its server no longer answers). You may close this tab.");
        document.body.dataset.handoff = "ended";
        return;
      }
      drawSteps(state.steps);
      if (state.problem) say(esc(state.problem), true);
      if (state.done) {
        say("The command finished. You may close this tab.");
        document.body.dataset.handoff = "done";
        return;
      }
      if (state.request && state.request.id !== handled) {
        handled = state.request.id;
        send(state.request); // not awaited: the page keeps polling while the wallet asks its user
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  async function send(request: HandoffRequest) {
    let decoded: ReturnType<typeof decode>;
    try {
      decoded = decode(request);
      drawRequest(request, decoded);
    } catch (e) {
      decoded = { name: "", args: [], error: `the page cannot show this transaction (${describeError(e)})` };
    }
    if (decoded.error) {
      await api("POST", "/handoff/result", { id: request.id, error: { code: -32602, message: decoded.error } }).catch(() => {});
      return;
    }
    try {
      const chainId = Number(await wallet!.request({ method: "eth_chainId" }));
      if (chainId !== session.chainId)
        throw Object.assign(new Error(`the wallet is on chain ${chainId}, not ${session.chainId}`), { code: 4901 });
      const { chainId: _omit, ...tx } = request.tx; // the wallet signs for the chain it is on, checked above
      const hash = (await wallet!.request({ method: "eth_sendTransaction", params: [{ ...tx, from: account }] })) as string;
      await api("POST", "/handoff/result", { id: request.id, hash });
    } catch (e: any) {
      const code = e?.code ?? e?.data?.originalError?.code ?? -32603;
      await api("POST", "/handoff/result", { id: request.id, error: { code, message: describeError(e) } }).catch(() => {});
    }
  }
}

/** The call the calldata makes, decoded against the ABI of the contract it is said to go to. */
function decode(request: HandoffRequest): { name: string; args: string[]; error?: string } {
  const d = request.description;
  const abi = ABIS[d.contract];
  if (!abi) return { name: "", args: [], error: `the page does not know the contract ${d.contract}` };
  if (!request.tx.to) return { name: "constructor", args: Object.entries(d.args).map(([k, v]) => `${k} = ${shown(v)}`) };
  if (request.tx.to.toLowerCase() !== String(d.address).toLowerCase())
    return { name: "", args: [], error: `the transaction goes to ${request.tx.to}, not to ${d.contract} at ${d.address}` };
  try {
    const call = decodeFunctionData({ abi, data: request.tx.data as `0x${string}` });
    const inputs = (abi.find((e: any) => e.type === "function" && e.name === call.functionName) as any)?.inputs ?? [];
    const args = (call.args ?? []).map((v, i) => `${inputs[i]?.name || `arg${i}`} = ${shown(v)}`);
    if (call.functionName !== d.function)
      return { name: call.functionName, args, error: `the calldata calls ${call.functionName}, not ${d.function} as described` };
    return { name: call.functionName, args };
  } catch (e) {
    return { name: "", args: [], error: `the calldata does not decode as a ${d.contract} call (${describeError(e)})` };
  }
}

function drawRequest(request: HandoffRequest, decoded: { name: string; args: string[]; error?: string }) {
  const d = request.description;
  const rows: [string, string][] = [
    ["chain", `${d.chainId} (${d.chainName})`],
    ["contract", `${d.contract} ${d.address ? `<code>${esc(d.address)}</code>` : "(a new deployment)"}`],
    ["function", `<b id="handoff-function">${esc(decoded.name || d.function)}</b>`],
    ["arguments", decoded.args.length ? `<ul>${decoded.args.map((a) => `<li><code>${esc(a)}</code></li>`).join("")}</ul>` : "none"],
    ["value", eth(d.value)],
    ["gas", `${Number(d.gas).toLocaleString("en")} (estimated) at ${gwei(d.maxFeePerGas)} at most: ${eth(d.maxFee)} at most`],
  ];
  $("handoff-request").innerHTML =
    `<h3>Step ${request.step}: ${esc(d.contract)}.${esc(decoded.name || d.function)}</h3><table id="handoff-tx">${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("")}</table>` +
    (decoded.error ? `<div class="error">Not sent: ${esc(decoded.error)}</div>` : "");
}

function drawSteps(steps: Step[]) {
  $("handoff-steps").innerHTML = steps
    .map((s) => `<tr data-step="${s.step}" data-status="${esc(s.status)}"><td>${s.step}</td><td>${esc(s.what)}</td><td>${esc(s.status)}</td><td><code>${esc(s.hash ?? "")}</code></td></tr>`)
    .join("");
}
