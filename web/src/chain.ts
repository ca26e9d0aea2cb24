// Chain reads through the user's provider (a wallet, or an RPC URL typed in): every answer the
// page shows comes from a view call or an event of the contracts, at a block it names.
import { createPublicClient, custom, type PublicClient } from "viem";
import { DatasetNFTAbi, ModelNFTAbi } from "./abi.generated";
import type { Eip1193 } from "./lib/wallet";

export interface Deployment {
  chainId: number;
  block: number;
  contracts: { DatasetNFT: `0x${string}`; ModelNFT: `0x${string}` };
}

export interface Deployments {
  chains: Deployment[];
  devnet?: { chainId: number; rpcUrl: string };
}

export class Reader {
  readonly client: PublicClient;
  constructor(
    readonly provider: Eip1193,
    readonly deployment: Deployment,
  ) {
    this.client = createPublicClient({ transport: custom(provider as any) }) as PublicClient;
  }

  get chainId() {
    return this.deployment.chainId;
  }
  get datasetAddress() {
    return this.deployment.contracts.DatasetNFT;
  }
  get modelAddress() {
    return this.deployment.contracts.ModelNFT;
  }

  async block(): Promise<bigint> {
    return this.client.getBlockNumber({ cacheTime: 0 });
  }

  dataset<F extends string>(functionName: F, args: readonly unknown[], blockNumber?: bigint): Promise<any> {
    return this.client.readContract({ address: this.datasetAddress, abi: DatasetNFTAbi, functionName, args, blockNumber } as any);
  }

  model<F extends string>(functionName: F, args: readonly unknown[], blockNumber?: bigint): Promise<any> {
    return this.client.readContract({ address: this.modelAddress, abi: ModelNFTAbi, functionName, args, blockNumber } as any);
  }

  modelEvents(eventName: string, args?: Record<string, unknown>): Promise<any[]> {
    return this.client.getContractEvents({
      address: this.modelAddress,
      abi: ModelNFTAbi,
      eventName,
      args,
      fromBlock: BigInt(this.deployment.block),
      toBlock: "latest",
    } as any);
  }

  hasFunction(abi: "dataset" | "model", name: string): boolean {
    return (abi === "dataset" ? DatasetNFTAbi : ModelNFTAbi).some((e: any) => e.type === "function" && e.name === name);
  }
}

/** A one-line message for an EIP-1193 or viem error. */
export function describeError(e: unknown): string {
  const err = e as any;
  const code = err?.code ?? err?.cause?.code;
  if (code === 4001) return "the wallet refused the request (you rejected it); press Connect again to retry";
  if (code === 4902) return "the wallet does not know that chain; add it with the button below";
  const message: string = err?.shortMessage ?? err?.message ?? String(e);
  return message.split("\n")[0];
}
