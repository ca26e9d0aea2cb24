// Content from a gateway, checked against its CID in the browser: a gateway (the local
// `modelmint web` included) is never trusted to return the right bytes.
import { cidOfAsync, parseIpfsUri } from "./lib/cid";

export class IntegrityError extends Error {}

let gateway = new URL("ipfs/", document.baseURI).href;

export function setGateway(url: string) {
  gateway = url.endsWith("/") ? url : url + "/";
}
export const currentGateway = () => gateway;

export async function fetchVerified(uriOrCid: string): Promise<Uint8Array> {
  const cid = uriOrCid.startsWith("ipfs://") ? parseIpfsUri(uriOrCid) : uriOrCid;
  let response: Response;
  try {
    response = await fetch(gateway + cid, { cache: "no-store" });
  } catch {
    throw new Error(`cannot reach the IPFS gateway ${gateway}; check its URL`);
  }
  if (response.status === 502) {
    // `modelmint web --ipfs-api` checks what its daemon returns too, and says why it gives none.
    const why = (await response.text()).trim().slice(0, 300);
    throw new IntegrityError(`refused: the gateway ${gateway} could not give verified bytes for ${cid} (HTTP 502: ${why}); nothing was used; try another gateway`);
  }
  if (!response.ok) throw new Error(`the gateway ${gateway} has no ${cid} (HTTP ${response.status}); pin it or use another gateway`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const actual = await cidOfAsync(bytes);
  if (actual !== cid)
    throw new IntegrityError(
      `refused: the gateway returned bytes for ${cid} that hash to ${actual}; nothing from them was used; try another gateway`,
    );
  return bytes;
}

export async function fetchJson(uri: string): Promise<any> {
  return JSON.parse(new TextDecoder().decode(await fetchVerified(uri)));
}
