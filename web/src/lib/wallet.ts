// Wallet discovery: EIP-6963 (every installed wallet announces itself), with the legacy
// window.ethereum as a fallback for wallets that predate it.
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
  on?(event: string, listener: (...args: any[]) => void): void;
}

export interface WalletInfo {
  uuid: string;
  name: string;
  icon: string;
  rdns: string;
}

export interface Wallet {
  info: WalletInfo;
  provider: Eip1193;
}

export function discoverWallets(onChange: (wallets: Wallet[]) => void): void {
  const found = new Map<string, Wallet>();
  const publish = () => {
    const list = [...found.values()];
    const legacy = (window as any).ethereum as Eip1193 | undefined;
    if (legacy && !list.some((w) => w.provider === legacy))
      list.push({ info: { uuid: "window.ethereum", name: "Browser wallet (window.ethereum)", icon: "", rdns: "" }, provider: legacy });
    onChange(list);
  };
  window.addEventListener("eip6963:announceProvider", (event: Event) => {
    const detail = (event as CustomEvent).detail as Wallet;
    if (detail?.info?.uuid && detail.provider) {
      found.set(detail.info.uuid, { info: detail.info, provider: detail.provider });
      publish();
    }
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  publish();
  // Some wallets inject window.ethereum after the page's first script runs.
  setTimeout(publish, 300);
}

export function rpcProvider(url: string): Eip1193 {
  let id = 0;
  return {
    async request({ method, params }) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params ?? [] }),
        });
      } catch {
        throw new Error(`cannot reach the RPC URL ${url}; check it and that the node allows this page (CORS)`);
      }
      const body = await response.json();
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
      return body.result;
    },
  };
}
