"""``modelmint dataset``: commit a dataset as a DatasetNFT and verify datapoints against one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelmint.cli._common import IpfsApi, JsonOut, Keystore, RpcUrl, connect, console, emit_json, progress_bar, store
from modelmint.datasets import input_size
from modelmint.registry import commit_dataset, verify_datapoints

app = typer.Typer(help="Commit datasets on-chain and prove datapoints are in them.", no_args_is_help=True)

Format = Annotated[
    str | None,
    typer.Option("--format", help="jsonl, csv, parquet or folder [default: from the extension; folder for a directory]."),
]


@app.command("mint")
def mint(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A JSONL, CSV or Parquet file, or a folder of files.")],
    name: Annotated[str | None, typer.Option(help="Token name [default: the file or folder name].")] = None,
    description: Annotated[str | None, typer.Option(help="Token description.")] = None,
    to: Annotated[str | None, typer.Option(help="Owner of the new token [default: the signer].")] = None,
    predecessor: Annotated[
        int, typer.Option(help="Token id of the previous version of this dataset (you must own it).")
    ] = 0,
    fmt: Format = None,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Hash every datapoint, build the Merkle tree, store tree and metadata, and mint a DatasetNFT."""
    chain = connect(ctx, rpc_url, keystore)
    content = store(ctx, ipfs_api)
    with progress_bar(f"hashing {path.name}", input_size(path, fmt), unit_bytes=True) as advance:
        result = commit_dataset(
            chain, content, path, name=name, description=description, owner=to,
            predecessor_id=predecessor, fmt=fmt, progress=advance,
        )  # fmt: skip
    if json_out:
        emit_json(result)
        return
    verb = "already registered as" if result.already_registered else "minted"
    console.print(f"dataset {verb} token [bold]{result.token_id}[/] on chain {result.chain_id}")
    table = Table(show_header=False, box=None)
    table.add_row("merkle root", result.merkle_root)
    table.add_row("datapoints", f"{result.datapoint_count:,} ({result.format}, {result.hash_scheme})")
    table.add_row("metadata", result.metadata_uri)
    table.add_row("leaf list", result.leaves_uri)
    if result.tx_hash:
        table.add_row("transaction", result.tx_hash)
        table.add_row("gas used", f"{result.gas_used:,}")
    console.print(table)


@app.command("verify")
def verify(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A datapoint file, or a JSONL/CSV/Parquet file whose every row is checked.")],
    token: Annotated[int, typer.Option("--token", help="DatasetNFT token id.")],
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Prove each datapoint in PATH is in dataset TOKEN through the contract's view call.

    Exits 1 when any datapoint is not in the dataset, and names each one.
    """
    result = verify_datapoints(connect(ctx, rpc_url), store(ctx, ipfs_api), path, token)
    if json_out:
        emit_json(result)
    else:
        console.print(
            f"{result.included} of {result.checked} datapoints in {path} are in dataset {token} "
            f"(root {result.merkle_root}, checked on-chain)"
        )
        for item in result.missing:
            console.print(f"  [red]not in dataset:[/] {item.label} (sha256 {item.datapoint_hash})")
    if not result.ok:
        raise typer.Exit(1)
