"""The ``modelmint`` command: thin typer commands, each one call into the use-case layer.

Failures a user can act on (:class:`~modelmint.errors.ModelmintError`) print as one line
on stderr and exit 1, with no traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from modelmint import __version__
from modelmint.chain.client import (
    DEFAULT_CONFIRMATIONS,
    DEFAULT_LOG_SPAN,
    DEFAULT_MAX_FEE_WEI,
    format_eth,
    wei_of_eth,
)
from modelmint.cli import chain as chain_commands
from modelmint.cli import dataset as dataset_commands
from modelmint.cli import fingerprint as fingerprint_commands
from modelmint.cli import model as model_commands
from modelmint.cli import provenance as provenance_commands
from modelmint.cli import records as record_commands
from modelmint.cli import train as train_commands
from modelmint.cli import web as web_commands
from modelmint.cli._common import (
    CHAIN_OPTIONS_KEY,
    CONFIRMATIONS_KEY,
    HELP_LOG_WIDTH,
    ChainOptions,
    err_console,
    log_output,
    render_error,
)
from modelmint.errors import ModelmintError
from modelmint.home import Home

app = typer.Typer(
    name="modelmint",
    help="Provenance of datasets and models on Ethereum: commit, register, fingerprint and verify.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
chain_commands.register(app)
app.add_typer(dataset_commands.app, name="dataset")
app.add_typer(model_commands.app, name="model")
record_commands.register(app)
train_commands.register(model_commands.app)
provenance_commands.register(model_commands.app)
app.add_typer(fingerprint_commands.app, name="fingerprint")
fingerprint_commands.register(app)
web_commands.register(app)


def _max_fee(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return wei_of_eth(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _version(value: bool) -> None:
    if value:
        print(f"modelmint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", envvar="MODELMINT_HOME", help="Project folder for local state [default: ./.modelmint]."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    confirmations: Annotated[
        int | None,
        typer.Option(
            "--confirmations",
            envvar="MODELMINT_CONFIRMATIONS",
            min=1,
            help=f"Blocks that must hold each transaction before a command goes on (default: 1 on the devnet, "
            f"{DEFAULT_CONFIRMATIONS} elsewhere).",
        ),
    ] = None,
    chain_id: Annotated[
        int | None,
        typer.Option(
            "--chain-id",
            envvar="MODELMINT_CHAIN_ID",
            min=1,
            help="Refuse a node that reports any other chain id, before anything is signed.",
        ),
    ] = None,
    max_fee: Annotated[
        str | None,
        typer.Option(
            "--max-fee",
            envvar="MODELMINT_MAX_FEE",
            help="Most one transaction may cost, in ETH (gas limit x maxFeePerGas); a node quoting more "
            f"is refused before signing [default: {format_eth(DEFAULT_MAX_FEE_WEI)}].",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            envvar="MODELMINT_YES",
            help="Send without asking: off the devnet each transaction is shown and confirmed first.",
        ),
    ] = False,
    log_span: Annotated[
        int,
        typer.Option(
            "--log-span",
            envvar="MODELMINT_LOG_SPAN",
            min=1,
            help="Blocks per event query (eth_getLogs); halved by itself when a node refuses a range.",
        ),
    ] = DEFAULT_LOG_SPAN,
) -> None:
    ctx.obj = Home.resolve(home)
    ctx.meta[CONFIRMATIONS_KEY] = confirmations
    cap = _max_fee(max_fee)
    ctx.meta[CHAIN_OPTIONS_KEY] = ChainOptions(
        chain_id=chain_id, max_fee_wei=DEFAULT_MAX_FEE_WEI if cap is None else cap, yes=yes, log_span=log_span
    )


def main() -> None:
    if log_output(sys.stdout) and not os.environ.get("TERMINAL_WIDTH"):
        from typer import rich_utils

        rich_utils.MAX_WIDTH = HELP_LOG_WIDTH  # read each time a help page is drawn
    try:
        code = app(standalone_mode=False)
    except ModelmintError as exc:
        err_console.print(Text.assemble(("error: ", "bold red"), render_error(exc)), soft_wrap=True)
        sys.exit(1)
    except typer.TyperException as exc:  # usage errors: click's message, exit code 2
        # typer 0.29 parses with its own copy of click (click itself is not a dependency), whose
        # exceptions derive from TyperException and carry show().
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("[bold red]interrupted[/]")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
