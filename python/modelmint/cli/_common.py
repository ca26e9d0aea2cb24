"""What every command shares: the options, the project folder, and output (tables, JSON, progress)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from modelmint._json import camel, to_json
from modelmint.chain.client import DEFAULT_LOG_SPAN, DEFAULT_MAX_FEE_WEI, Chain, TxDescription
from modelmint.errors import ChainError, InputError, ModelmintError, RevertError
from modelmint.home import Home
from modelmint.registry.registries import Registries
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


class Signer(StrEnum):
    """The choices of --wallet."""

    key = "key"
    browser = "browser"


WalletKind = Annotated[
    Signer,
    typer.Option(
        "--wallet",
        envvar="MODELMINT_WALLET",
        help="Who signs: key (the devnet key, or --keystore) or browser (each transaction is shown on a local "
        "page and sent by your browser wallet; the key never leaves it).",
    ),
]
NoOpen = Annotated[
    bool,
    typer.Option("--no-open", help="With --wallet browser: print the page's URL without opening a browser."),
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
    found: Home = ctx.find_root().obj  # set by the root callback
    return found


CONFIRMATIONS_KEY = "modelmint.confirmations"  # set from the root's --confirmations


CHAIN_OPTIONS_KEY = "modelmint.chain-options"  # set from the root's node-trust options


@dataclass(frozen=True)
class ChainOptions:
    """The root's --chain-id, --max-fee, --yes and --log-span (docs/security.md, "Trusting the node")."""

    chain_id: int | None = None
    max_fee_wei: int = DEFAULT_MAX_FEE_WEI
    yes: bool = False
    log_span: int = DEFAULT_LOG_SPAN


def connect(
    ctx: typer.Context,
    rpc_url: str | None,
    keystore: Path | None = None,
    wallet: str = "key",
    no_open: bool = False,
) -> Chain:
    """The chain a command sends on, set up by :func:`configure`."""
    options: ChainOptions = ctx.meta.get(CHAIN_OPTIONS_KEY) or ChainOptions()
    chain = Chain.connect(home(ctx), rpc_url, keystore, chain_id=options.chain_id)
    configure(ctx, chain, wallet, no_open)
    return chain


def configure(ctx: typer.Context, chain: Chain, wallet: str = "key", no_open: bool = False) -> None:
    """Give ``chain`` the root's options (confirmations, fee cap, log span, the confirmation
    prompt); with ``wallet="browser"`` its transactions go to the browser wallet through a
    hand-off page that lives as long as the command."""
    options: ChainOptions = ctx.meta.get(CHAIN_OPTIONS_KEY) or ChainOptions()
    chosen = ctx.meta.get(CONFIRMATIONS_KEY)
    if chosen is not None:
        chain.confirmations = chosen
    chain.max_fee_wei = options.max_fee_wei
    chain.log_span = options.log_span
    if not options.yes:
        chain.confirm = confirm_transaction
    if wallet == "browser":
        from modelmint.web.handoff import BrowserWallet

        handoff = BrowserWallet(
            chain.chain_id,
            chain.chain_name,
            command=shlex.join(["modelmint", *sys.argv[1:]]),
            announce=lambda line: err_console.print(line, soft_wrap=True, markup=False),
            wallet_rpc_url=chain.url if chain.is_devnet else None,
            open_page=not no_open,
        )
        chain.use_remote_signer(handoff)
        handoff.start()
        ctx.call_on_close(handoff.close)


def confirm_transaction(described: TxDescription) -> bool:
    """Show a transaction off the devnet and ask whether to sign it; no terminal, no sending."""
    if not sys.stdin.isatty():
        raise InputError(
            f"a transaction on chain {described.chain_id} ({described.chain_name}) needs confirming "
            "and there is no terminal to ask on",
            "pass --yes (or set MODELMINT_YES=1) to send without asking",
        )
    err_console.print("[bold]About to sign and send:[/]")
    for line in described.lines():
        err_console.print("  " + line, soft_wrap=True, markup=False)
    return typer.confirm("Send it?", default=False, err=True)


def store(ctx: typer.Context, ipfs_api: str | None) -> ContentStore:
    return open_store(home(ctx).store_dir, ipfs_api)


def registries(
    ctx: typer.Context,
    rpc_url: str | None,
    ipfs_api: str | None,
    keystore: Path | None = None,
    wallet: str = "key",
    no_open: bool = False,
) -> Registries:
    """The registries this project folder records for the chain at ``rpc_url``."""
    chain = connect(ctx, rpc_url, keystore, wallet, no_open)
    try:
        return Registries.from_project(home(ctx), chain, store(ctx, ipfs_api))
    except ChainError as exc:
        exc.fix = "run `modelmint deploy`" + (" again" if "reset" in exc.problem else "")
        raise


def emit_json(value: Any, **extra: Any) -> None:
    """Print ``value`` (a dataclass or plain value) in the one JSON form on stdout
    (:func:`modelmint._json.to_json`); ``extra`` fields join a dataclass's own, camelCased too."""
    data = to_json(value)
    if extra:
        data = {**data, **to_json({camel(k): v for k, v in extra.items()})}
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


#: The CLI's words for the remedies library errors name (``ModelmintError.hint``).
CLI_FIXES = {
    "remote-devnet": "use this project's devnet (`modelmint devnet start`), or pass --keystore FILE with a key of your own",
    "max-fee": "pass a higher --max-fee (in ETH) if that fee is expected, or use another --rpc-url",
    "own-key": "use a keystore of a private key of your own (`modelmint wallet create`)",
    "keystore": "pass --keystore FILE (an encrypted eth-account keystore; `modelmint wallet create` makes one) "
    "with its password in ${password_env} or typed at the prompt",
    "keystore-path": "check the --keystore path",
    "one-signer": "pass --keystore or --wallet browser, not both",
    "no-node": "start one with `modelmint devnet start` or pass a working --rpc-url",
    "no-devnet": "start one with `modelmint devnet start` or pass --rpc-url",
    "build": "run `modelmint build` in the project checkout to compile the contracts",
    "build-force": "run `modelmint build --force` to compile the contracts again",
    "contracts-folder": "add the contracts or point --contracts at them",
    "follow-symlinks": "pass --follow-symlinks to hash the files they point to (a Hugging Face cache snapshot "
    "is links), or copy the model with `cp -rL`",
    "huref-tokens": "fingerprint (or compare) with a smaller --tokens count; fingerprints compare only at the same count",
    "drop-deepspeed": "drop --deepspeed: without a GPU modelmint trains on the CPU with the plain Trainer "
    "(or pip install deepspeed on a GPU machine)",
    "oml-secrets": "reveal from the machine and project folder that committed, or pass --secrets FILE "
    "(the file `oml commit` wrote)",
    "oml-secrets-exists": "pass another --secrets FILE; keep the existing one, it may open a commitment",
    "oml-pending": "wait until it is mined (or dropped by the node), then run the same command again",
    "out-or-overwrite": "choose another --out, or pass --overwrite",
    "max-key-length": "raise --max-key-length to at least {at_least}, or generate shorter keys",
    "max-response-length": "raise --max-response-length to at least {at_least}, or generate shorter responses",
    "generator-model": "pass --model FOLDER",
    "no-augment": "run without prompt augmentation (--no-augment), or use a model whose tokenizer has a chat template",
    "nucleus-t": "lower --nucleus-t",
    "ray-address": "add --engine ray, or leave out --address",
    "response-length-1": "pass --response-length 1",
    "rewrite-card-or-token": "write the card again (modelmint model resume-provenance) or verify with --token ID",
    "prove-instead": "prove datapoints with `modelmint dataset prove`, which works at any size",
    "rpc-url": "pass --rpc-url of a node of chain {chain_id}",
    "model-token": "give the token to check the files against with --token ID",
    "trust-contract": "pass --contract {contract} if you trust that contract",
    "list-tokens": "list the tokens with `modelmint list`",
    "list-models": "list the models with `modelmint list --kind model`",
    "oml-commit": "commit the fingerprints on it with `modelmint fingerprint oml commit --token {token_id}`",
    "oml-reveal": "the owner reveals some with `modelmint fingerprint oml reveal --token ID --count N`",
    "oml-suspect-token": "give the suspect's ModelNFT id, or --released DATE",
    "oml-registered": "pass the folder of the model registered as this token to --registered",
    "allow-partial": "run `fingerprint oml embed` again until every fingerprint is recalled (more --epochs or a higher --lr), "
    "or pass --allow-partial to register it as it is",
    "owner-key": "only the owner commits a fingerprint, or an address it approved: send from its key (--keystore)",
}
#: The same for reverts, by the contract's custom error.
CLI_REVERT_FIXES = {
    "ERC721NonexistentToken": "check the token id with `modelmint list`",
    "ModelUnknownParent": "pass the token id of a registered model as --parent",
    "ModelUnknownDataset": "pass token ids of registered datasets as --dataset",
    "ModelUnauthorized": "send from the key that owns the token or is approved for it (--keystore)",
    "ModelInvalidFingerprintProof": "these fingerprints or salts are not the ones committed on this token; "
    "use the secrets file that `oml commit` wrote for it",
    "ModelFingerprintNotCommitted": "commit fingerprints first with `modelmint fingerprint oml commit`",
}


def render_error(exc: ModelmintError) -> str:
    """The one line the CLI prints for a library error: the problem, and the fix in the CLI's words."""
    fix = CLI_FIXES.get(exc.hint or "")
    if fix is None and isinstance(exc, RevertError):
        fix = CLI_REVERT_FIXES.get(exc.name)
    if fix is None:
        return str(exc)
    try:
        return f"{exc.problem}: {fix.format(**exc.hint_values)}"
    except (KeyError, IndexError):  # a hint raised without the values its words name
        return str(exc)


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
