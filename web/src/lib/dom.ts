// The page's few DOM helpers, shared by the verification views (main.ts) and the hand-off.
import type { Wallet } from "./wallet";

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
export const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A "Connect <wallet>" button with the wallet's EIP-6963 icon. */
export function connectButton(w: Wallet, onClick: () => void): HTMLButtonElement {
  const button = document.createElement("button");
  button.className = "wallet";
  button.innerHTML = `${w.info.icon ? `<img src="${esc(w.info.icon)}" alt="">` : ""}Connect ${esc(w.info.name)}`;
  button.onclick = onClick;
  return button;
}
