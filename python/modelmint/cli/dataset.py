"""``modelmint dataset``: commit a dataset as a DatasetNFT, verify and prove datapoints against
one, check a proof on-chain, and export the tree for other tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.table import Table

from modelmint._files import write_atomic
from modelmint.chain.deployments import deployment_file
from modelmint.cli._common import (
    IpfsApi,
    JsonOut,
    Keystore,
    NoOpen,
    RpcUrl,
    Signer,
    WalletKind,
    connect,
    console,
    emit_json,
    home,
    progress_bar,
    registries,
)
from modelmint.datasets.engine import Engine
from modelmint.errors import InputError
from modelmint.registry import (
    Registries,
    check_proof,
    commit_dataset,
    export_tree,
    prove_datapoints,
    read_proof,
    verify_datapoints,
)
from modelmint.registry.claims import already_registered
from modelmint.registry.datasets import paths_input_size

app = typer.Typer(help="Commit datasets on-chain and prove datapoints are in them.", no_args_is_help=True)

Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="jsonl, csv, parquet, folder or hf-datasets [default: from the extension; hf-datasets for a "
        "save_to_disk folder, folder for any other directory].",
    ),
]
Token = Annotated[int, typer.Option("--token", help="DatasetNFT token id.")]
#: Shared with ``model mint``: how a mint is sent (docs/security.md, "squatting and front-running").
TwoStep = Annotated[
    bool | None,
    typer.Option(
        "--two-step/--one-step",
        help="Commit-reveal in two transactions (cannot be front-run) or one transaction "
        "[default: two steps on every chain but the devnet, 31337].",
    ),
]


@app.command("mint")
def mint(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="A JSONL, CSV or Parquet file, a folder of files, or a Hugging Face save_to_disk folder; "
            "or several shard files of one format, committed as one dataset in shard order.",
        ),
    ],
    name: Annotated[str | None, typer.Option(help="Token name [default: the file or folder name].")] = None,
    description: Annotated[str | None, typer.Option(help="Token description.")] = None,
    to: Annotated[str | None, typer.Option(help="Owner of the new token [default: the signer].")] = None,
    predecessor: Annotated[
        int, typer.Option(help="Token id of the previous version of this dataset (you must own it).")
    ] = 0,
    fmt: Format = None,
    two_step: TwoStep = None,
    engine: Annotated[
        str, typer.Option(help="Where to hash: local (this machine) or ray (a Ray cluster; docs/engine.md).")
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="The Ray cluster for --engine ray: host:port or ray://host:port [default: start one here]."
        ),
    ] = None,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Hash every datapoint, build the Merkle tree, store tree and metadata, and mint a DatasetNFT.

    A root someone else already claims is claimed again, and every claimant is shown.
    """
    hashing = Engine(engine, address)  # checked before anything connects
    where = registries(ctx, rpc_url, ipfs_api, keystore, wallet, no_open)
    label = paths[0].name if len(paths) == 1 else f"{len(paths)} shards"
    with progress_bar(f"hashing {label}", paths_input_size(paths, fmt), unit_bytes=True) as advance:
        result = commit_dataset(
            where, paths, name=name, description=description, owner=to,
            predecessor_id=predecessor, fmt=fmt, progress=advance, two_step=two_step, engine=hashing,
        )  # fmt: skip
    if json_out:
        emit_json(result)
        return
    if result.already_registered:
        mine = next(c for c in result.claims if c.token_id == result.token_id)
        console.print(
            f"already registered as {mine.describe('dataset')} on chain {result.chain_id}; nothing minted"
        )
    else:
        console.print(f"dataset minted token [bold]{result.token_id}[/] on chain {result.chain_id}")
    if result.other_claims:
        console.print(f"[yellow]note:[/] this root is {already_registered('dataset', result.other_claims)}")
    table = Table(show_header=False, box=None)
    table.add_row("merkle root", result.merkle_root)
    table.add_row("datapoints", f"{result.datapoint_count:,} ({result.format}, {result.hash_scheme})")
    table.add_row("metadata", result.metadata_uri)
    table.add_row("leaf list", result.leaves_uri)
    if result.commit_tx_hash:
        table.add_row("commit transaction", f"{result.commit_tx_hash} (gas {result.commit_gas_used:,})")
    if result.tx_hash:
        table.add_row("transaction", result.tx_hash)
        table.add_row("gas used", f"{result.gas_used:,}")
    console.print(table)


@app.command("verify")
def verify(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Datapoint files (a shard, a file of rows, a file of a folder dataset); every datapoint is checked."
        ),
    ],
    token: Token,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Prove each datapoint in PATHS is in dataset TOKEN through the contract's view call.

    Exits 1 when any datapoint is not in the dataset, and names each one.
    """
    result = verify_datapoints(registries(ctx, rpc_url, ipfs_api), paths, token)
    if json_out:
        emit_json(result)
    else:
        where = paths[0] if len(paths) == 1 else f"{len(paths)} files"
        console.print(
            f"{result.included} of {result.checked} datapoints in {where} are in dataset {token} "
            f"(root {result.merkle_root}, checked on-chain)"
        )
        for item in result.missing:
            console.print(f"  [red]not in dataset:[/] {item.label} (sha256 {item.datapoint_hash})")
    if not result.ok:
        raise typer.Exit(1)


@app.command("prove")
def prove(
    ctx: typer.Context,
    token: Token,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files of datapoints to prove (or give --index instead).")
    ] = None,
    index: Annotated[
        list[int] | None,
        typer.Option("--index", help="Dataset position to prove, from 0; repeat for a multiproof."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the proof JSON here [default: stdout].")
    ] = None,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
) -> None:
    """Write a proof, checkable on-chain by anyone, that datapoints are in dataset TOKEN.

    One datapoint gets a verifyDatapoint proof, several an OpenZeppelin multiproof for
    multiVerifyDatapoints (docs/proofs.md). The tree comes from the token's metadata in the
    content store, so no local copy of the dataset is needed.
    """
    if bool(paths) == bool(index):
        raise InputError(
            "give either a file of datapoints or positions to prove", "pass FILE or --index N, not both"
        )
    proof = prove_datapoints(
        registries(ctx, rpc_url, ipfs_api), token, path=paths or None, positions=index or None
    )
    text = json.dumps(proof.to_json(), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    write_atomic(out, text.encode())
    what = (
        f"datapoint {proof.positions[0]}"
        if not proof.multi
        else f"{len(proof.positions)} datapoints (multiproof)"
    )
    console.print(f"proof of {what} of dataset {token} written to {out}")


@app.command("check-proof")
def check_proof_command(
    ctx: typer.Context,
    proof_file: Annotated[Path, typer.Argument(help="A proof JSON written by `modelmint dataset prove`.")],
    contract: Annotated[
        str | None,
        typer.Option(
            "--contract",
            help="The DatasetNFT to ask [default: this project's deployment on the proof's chain, else the proof's contract].",
        ),
    ] = None,
    rpc_url: RpcUrl = None,
    json_out: JsonOut = False,
) -> None:
    """Check a proof with the contract's view call. Exits 1 when the chain rejects it."""
    proof = read_proof(proof_file)
    chain = connect(ctx, rpc_url)
    # This project's DatasetNFT on the proof's chain, when one is recorded, refuses a proof
    # naming another contract; without one, the proof's own contract is asked.
    recorded = deployment_file(chain, home(ctx)).exists()
    result = check_proof(Registries.from_project(home(ctx), chain) if recorded else chain, proof, contract)
    if json_out:
        emit_json(result)
    else:
        what = f"datapoint {proof.positions[0]}" if not proof.multi else f"all {result.datapoints} datapoints"
        if result.valid:
            console.print(
                f"[green]valid:[/] {what} in dataset {result.token_id}, "
                f"checked on-chain by {result.contract} on chain {result.chain_id}"
            )
        else:
            console.print(
                f"[red]invalid:[/] the contract {result.contract} on chain {result.chain_id} rejects the proof"
            )
        if not result.root_matches:
            console.print(
                f"  the proof's root {proof.merkle_root} is not the token's on-chain root {result.onchain_root}"
            )
    if not result.valid:
        raise typer.Exit(1)


@app.command("export-tree")
def export_tree_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="A dataset (or its shard files) to build the tree of, instead of --token."),
    ] = None,
    token: Annotated[
        int | None, typer.Option("--token", help="DatasetNFT token id whose tree to export.")
    ] = None,
    tree_format: Annotated[
        str, typer.Option("--format", help="Dump format: oz, OpenZeppelin's StandardMerkleTree.dump() JSON.")
    ] = "oz",
    dataset_format: Annotated[
        str | None,
        typer.Option("--dataset-format", help="Format of PATHS, as mint's --format [default: detected]."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the dump here [default: stdout].")] = None,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
) -> None:
    """Write a dataset's Merkle tree for @openzeppelin/merkle-tree (StandardMerkleTree.load), up to 2^20 leaves."""
    if tree_format != "oz":
        raise typer.BadParameter(
            f"unknown tree format {tree_format!r}; the one format is oz", param_hint="--format"
        )
    if bool(paths) == (token is not None):
        raise InputError(
            "give either a token or a dataset path to export", "pass --token ID or PATH, not both"
        )
    if paths:

        def run(f: TextIO) -> int:
            return export_tree(f, path=paths, fmt=dataset_format)
    else:
        where = registries(ctx, rpc_url, ipfs_api)

        def run(f: TextIO) -> int:
            return export_tree(f, registries=where, token_id=token)

    if out is None:
        run(sys.stdout)
        sys.stdout.write("\n")
        return
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="ascii") as f:
            leaves = run(f)
        tmp.replace(out)
    except OSError as e:
        raise InputError(
            f"cannot write {out}: {e.strerror or e}", "check the folder exists and is writable"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    console.print(f"OpenZeppelin tree of {leaves:,} leaves written to {out}")
