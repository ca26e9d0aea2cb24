"""Commands for the chain itself: build, devnet, deploy, wallet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelmint.chain import deployments, devnet, wallet
from modelmint.cli._common import (
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
)
from modelmint.errors import ChainError

devnet_app = typer.Typer(help="Run a local anvil devnet on 127.0.0.1.", no_args_is_help=True)
wallet_app = typer.Typer(
    help="Encrypted keystores for signing on chains other than the devnet.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("build")(build)
    app.add_typer(devnet_app, name="devnet")
    app.command("deploy")(deploy)
    app.add_typer(wallet_app, name="wallet")


def build(
    contracts: Annotated[Path, typer.Option(help="Folder of the Solidity sources.")] = Path("contracts"),
    force: Annotated[
        bool, typer.Option("--force", help="Recompile even if the artifacts are up to date.")
    ] = False,
) -> None:
    """Compile the contracts into the packaged artifacts (ABI, bytecode, source hash)."""
    from modelmint.chain import compiler  # build-time only: needs the sources and a compiler

    result = compiler.build(contracts, force=force)
    console.print(result.summary())


@devnet_app.command("start")
def devnet_start(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: a free one].")] = None,
    json_out: JsonOut = False,
) -> None:
    """Start anvil (chain id 31337) in the background and record its URL and pid."""
    running = devnet.start(home(ctx), port)
    if json_out:
        emit_json(running)
    else:
        console.print(
            f"devnet running at [bold]{running.url}[/] (chain id {running.chain_id}, pid {running.pid})"
        )


@devnet_app.command("stop")
def devnet_stop(ctx: typer.Context, json_out: JsonOut = False) -> None:
    """Stop the recorded devnet."""
    stopped = devnet.stop(home(ctx))
    if json_out:
        emit_json(stopped)  # null when none was running
        return
    console.print(f"devnet at {stopped.url} stopped" if stopped else "no devnet was running")


@devnet_app.command("status")
def devnet_status(ctx: typer.Context, json_out: JsonOut = False) -> None:
    """Say whether the devnet runs, and where. Exits 1 when it does not."""
    running = devnet.status(home(ctx))
    if json_out:
        emit_json(running)
    elif running:
        console.print(
            f"devnet running at [bold]{running.url}[/] (chain id {running.chain_id}, pid {running.pid})"
        )
    else:
        console.print("no devnet is running (start one with `modelmint devnet start`)")
    if running is None:
        raise typer.Exit(1)


def deploy(
    ctx: typer.Context,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    force: Annotated[
        bool, typer.Option("--force", help="Deploy again even if a live deployment is recorded.")
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """Deploy DatasetNFT and ModelNFT and write deployments/<chainId>.json."""
    chain = connect(ctx, rpc_url, keystore, wallet, no_open)
    existing = None
    if not force:
        try:
            existing = deployments.load(chain)
        except ChainError:
            existing = None
    deployment = existing or deployments.deploy(chain)
    if json_out:
        emit_json(deployment, already_deployed=existing is not None)
        return
    table = Table(
        title=f"modelmint on chain {deployment.chain_id}" + (" (already deployed)" if existing else "")
    )
    for column in ("contract", "address", "block", "gas"):
        table.add_column(column)
    for name, item in deployment.contracts.items():
        table.add_row(name, item.address, str(item.block), f"{item.gas_used:,}")
    console.print(table)
    console.print(f"recorded in {deployments.deployment_file(chain)}")


@wallet_app.command("create")
def wallet_create(
    path: Annotated[Path, typer.Argument(help="Where to write the encrypted keystore JSON.")],
    import_key: Annotated[
        bool, typer.Option("--import", help="Import an existing private key (asked for at a hidden prompt).")
    ] = False,
) -> None:
    """Write a new encrypted keystore (or import a key into one). The key never touches disk in plain text."""
    private_key = typer.prompt("Private key (hex)", hide_input=True) if import_key else None
    address = wallet.create_keystore(path, wallet.read_password(confirm=True), private_key)
    console.print(f"keystore for [bold]{address}[/] written to {path}")
