// A test wallet: an EIP-1193 provider injected before the page loads, announced by EIP-6963,
// that forwards JSON-RPC to the test session's anvil (whose accounts are unlocked). Its
// settings come from window.__testWallet, set by the init script that precedes this one:
// account (the index of the one anvil account it shows), address (one it shows instead), reject (connecting), rejectSend,
// holdSend (never answers a send), refuseSwitch (of chain), chainId, unknownChain, legacyOnly.
(() => {
  const config = window.__testWallet;
  let chainId = config.chainId;
  const known = new Set([config.anvilChainId]);
  const listeners = {};
  let id = 0;
  const rpcError = (code, message) => Object.assign(new Error(message), { code });
  const forward = async (method, params) => {
    const response = await fetch(config.rpcUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }),
    });
    const body = await response.json();
    if (body.error) throw rpcError(body.error.code, body.error.message);
    return body.result;
  };
  const provider = {
    isModelmintTestWallet: true,
    async request({ method, params }) {
      window.__walletCalls = (window.__walletCalls || []).concat([method]);
      switch (method) {
        case "eth_requestAccounts":
          if (config.reject) throw rpcError(4001, "User rejected the request.");
        // falls through: the accounts the user let the page see
        case "eth_accounts": {
          if (config.address) return [config.address]; // an account anvil impersonates: no known key
          const accounts = await forward("eth_accounts");
          return config.account === undefined ? accounts : [accounts[config.account]];
        }
        case "eth_sendTransaction":
          window.__sentTransactions = (window.__sentTransactions || []).concat([params[0]]);
          if (config.rejectSend) throw rpcError(4001, "User rejected the request.");
          if (config.holdSend) return new Promise(() => {}); // the user never answers the wallet
          if (chainId !== config.anvilChainId) throw rpcError(4901, `the wallet is on chain ${chainId}, which it cannot reach`);
          return forward(method, params);
        case "eth_chainId":
          return "0x" + chainId.toString(16);
        case "wallet_switchEthereumChain": {
          const wanted = parseInt(params[0].chainId, 16);
          if (config.refuseSwitch) throw rpcError(4001, "User rejected the request.");
          if (!known.has(wanted) || config.unknownChain) throw rpcError(4902, "Unrecognized chain ID.");
          chainId = wanted;
          (listeners.chainChanged || []).forEach((f) => f("0x" + wanted.toString(16)));
          return null;
        }
        case "wallet_addEthereumChain": {
          const wanted = parseInt(params[0].chainId, 16);
          if (wanted !== config.anvilChainId) throw rpcError(-32602, "this test wallet only reaches anvil");
          config.unknownChain = false;
          known.add(wanted);
          window.__addedChain = params[0];
          return null;
        }
        default:
          if (chainId !== config.anvilChainId) throw rpcError(4901, `the wallet is on chain ${chainId}, which it cannot reach`);
          return forward(method, params);
      }
    },
    on(event, fn) {
      (listeners[event] = listeners[event] || []).push(fn);
    },
    removeListener(event, fn) {
      listeners[event] = (listeners[event] || []).filter((f) => f !== fn);
    },
  };
  const info = { uuid: "5b4b8e1e-4c3f-4f7e-9d55-6d0a6e1f0001", name: "Test Wallet", icon: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>", rdns: "org.modelmint.testwallet" };
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  if (config.legacyOnly) {
    window.ethereum = provider; // an old wallet: no EIP-6963, only the global
    return;
  }
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
