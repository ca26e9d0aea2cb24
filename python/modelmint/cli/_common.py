"""What every command shares: the options, the project folder, and output (tables, JSON, progress)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Callable

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from modelmint.chain.client import Chain
from modelmint.home import Home
from modelmint.storage import ContentStore, open_store

# Off a terminal (a CI log, a pipe, a file) rich falls back to 80 columns and cuts table cells
# with "…"; roots, addresses and CIDs are copied out of that output, so there every line is as
# wide as its content instead. A terminal, or an explicit $COLUMNS, keeps rich's own sizing.
LOG_WIDTH = 4096
# --help pages draw full-width boxes, so off a terminal they get a wide but bounded width.
HELP_LOG_WIDTH = 160


def log_output(stream: Any) -> bool:
    """Whether ``stream`` goes somewhere other than a terminal and no width was asked for."""
    return not (hasattr(stream, "isatty") and stream.isatty()) and not os.environ.get("COLUMNS")


def make_console(stderr: bool = False) -> Console:
    """The console every command (and the demo) prints through; see LOG_WIDTH."""
    wide = log_output(sys.stderr if stderr else sys.stdout)
    return Console(stderr=stderr, highlight=False, width=LOG_WIDTH if wide else None)


console = make_console()
err_console = make_console(stderr=True)

RpcUrl = Annotated[
    str | None,
    typer.Option(
        "--rpc-url", envvar="MODELMINT_RPC_URL", help="JSON-RPC URL of any node; default: the running devnet."
    ),
]
Keystore = Annotated[
    Path | None,
    typer.Option(
        "--keystore",
        envvar="MODELMINT_KEYSTORE",
        help="Encrypted eth-account keystore to sign with (password from $MODELMINT_KEYSTORE_PASSWORD or a prompt). "
        "Required on any chain but the devnet.",
    ),
]
IpfsApi = Annotated[
    str | None,
    typer.Option(
        "--ipfs-api",
        envvar="MODELMINT_IPFS_API",
        help="Kubo-compatible RPC URL (e.g. http://127.0.0.1:5001); default: the local content-addressed folder.",
    ),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts instead of text.")]


def short_hex(value: str) -> str:
    """A hash or address abbreviated on a terminal, where a table must fit the screen; whole in a log or a pipe."""
    if not console.is_terminal or len(value) <= 16:
        return value
    return value[:8] + "…" + value[-6:]


def home(ctx: typer.Context) -> Home:
    return ctx.find_root().obj  # set by the root callback


CONFIRMATIONS_KEY = "modelmint.confirmations"  # set from the root's --confirmations


def connect(ctx: typer.Context, rpc_url: str | None, keystore: Path | None = None) -> Chain:
    chain = Chain.connect(home(ctx), rpc_url, keystore)
    chosen = ctx.meta.get(CONFIRMATIONS_KEY)
    if chosen is not None:
        chain.confirmations = chosen
    return chain


def store(ctx: typer.Context, ipfs_api: str | None) -> ContentStore:
    return open_store(home(ctx).store_dir, ipfs_api)


def emit_json(value: Any) -> None:
    """Print a dataclass or plain value as JSON on stdout."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


@contextmanager
def progress_bar(
    description: str, total: int | None, unit_bytes: bool = False
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal, nothing otherwise; yields the ``advance`` callable."""
    if not err_console.is_terminal:
        yield lambda _n: None
        return
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if unit_bytes else TextColumn("{task.completed:,.0f}"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
