"""``modelmint model``: register a model as a ModelNFT, verify files against one, show its lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from modelmint.cli._common import (
    IpfsApi,
    JsonOut,
    Keystore,
    NoOpen,
    RpcUrl,
    Signer,
    WalletKind,
    console,
    emit_json,
    progress_bar,
    registries,
    short_hex,
)
from modelmint.cli.dataset import TwoStep
from modelmint.errors import InputError
from modelmint.models import open_model
from modelmint.registry import (
    HurefCommitment,
    Lineage,
    ModelRegistration,
    lineage,
    register_model,
    verify_model,
)
from modelmint.registry.claims import already_registered
from modelmint.registry.fingerprints import register_with_huref

app = typer.Typer(
    help="Register models on-chain, verify their files, and trace their lineage.", no_args_is_help=True
)

ModelRef = Annotated[
    str,
    typer.Argument(help="A Hugging Face model folder, a .gguf file, or a Hub repo id (org/name[@revision])."),
]
FollowSymlinks = Annotated[
    bool,
    typer.Option(
        "--follow-symlinks",
        help="Hash the files symbolic links point to (a Hugging Face cache snapshot) instead of refusing.",
    ),
]


@app.command("mint")
def mint(
    ctx: typer.Context,
    model: ModelRef,
    dataset: Annotated[
        list[int] | None,
        typer.Option("--dataset", help="DatasetNFT token the model was trained on (repeatable)."),
    ] = None,
    parent: Annotated[int, typer.Option("--parent", help="ModelNFT token this model was derived from.")] = 0,
    name: Annotated[
        str | None, typer.Option(help="Token name [default: the model's name or folder].")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Token description.")] = None,
    image: Annotated[
        Path | None, typer.Option(help="Picture for the token (e.g. a fingerprint image).")
    ] = None,
    huref: Annotated[
        bool,
        typer.Option(
            "--huref",
            help="Also fingerprint the model (HuRef): its picture becomes the token's image and the "
            "fingerprint is committed right after the mint.",
        ),
    ] = False,
    to: Annotated[str | None, typer.Option(help="Owner of the new token [default: the signer].")] = None,
    oml_commit: Annotated[
        Path | None,
        typer.Option(
            "--oml-commit",
            help="OML fingerprint file to commit in the mint's own transaction, so the commitment "
            "provably existed when the model was registered.",
        ),
    ] = None,
    oml_secrets: Annotated[
        Path | None,
        typer.Option("--oml-secrets", help="Where the OML salts go [default: the project folder]."),
    ] = None,
    two_step: TwoStep = None,
    follow_symlinks: FollowSymlinks = False,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="Register a folder that `fingerprint oml embed` marked incomplete (not every fingerprint recalled).",
        ),
    ] = False,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Hash every file of MODEL into its weights manifest, store manifest and metadata, and mint a ModelNFT.

    Weights you already registered are reported with their token id, and nothing is minted;
    weights someone else claims are claimed again, and every claimant is shown.
    """
    where = registries(ctx, rpc_url, ipfs_api, keystore, wallet, no_open)
    source = open_model(model, follow_symlinks=follow_symlinks)
    fingerprinted = None
    oml_pairs = None
    if oml_commit is not None:
        from modelmint.fingerprints.oml.file import read_fingerprints

        oml_pairs = read_fingerprints(oml_commit)
    with progress_bar(f"hashing {Path(source.label).name}", source.hash_size, unit_bytes=True) as advance:
        if huref:
            if image is not None:
                raise InputError("--huref and --image both set the token's picture", "give one of them")
            result, fingerprinted = register_with_huref(
                where, source, dataset_ids=dataset or (), parent_id=parent, name=name,
                description=description, owner=to, progress=advance, two_step=two_step, oml=oml_pairs,
                oml_secrets=oml_secrets, allow_partial=allow_partial,
            )  # fmt: skip
        else:
            result = register_model(
                where, source, dataset_ids=dataset or (), parent_id=parent, name=name,
                description=description, owner=to, image=image, progress=advance, two_step=two_step,
                oml=oml_pairs, oml_secrets=oml_secrets, allow_partial=allow_partial,
            )  # fmt: skip
    if json_out:
        emit_json(result, huref=fingerprinted) if fingerprinted else emit_json(result)
        return
    _print_registration(result, fingerprinted)


def _print_registration(result: ModelRegistration, fingerprinted: HurefCommitment | None) -> None:
    if result.already_registered:
        mine = next(c for c in result.claims if c.token_id == result.token_id)
        console.print(
            f"already registered as {mine.describe('model')} on chain {result.chain_id}; nothing minted"
        )
    else:
        console.print(f"model minted as token [bold]{result.token_id}[/] on chain {result.chain_id}")
    if result.other_claims:
        console.print(
            f"[yellow]note:[/] these weights are {already_registered('model', result.other_claims)}"
        )
    table = Table(show_header=False, box=None)
    table.add_row("name", escape(result.name or "?"))
    table.add_row("weights root", result.weights_root)
    table.add_row("files", f"{result.file_count} ({result.total_size:,} bytes)")
    if result.parameter_count:
        table.add_row("parameters", f"{result.parameter_count:,}")
    table.add_row("parent", str(result.parent_id) if result.parent_id else "none")
    table.add_row("datasets", ", ".join(map(str, result.dataset_ids)) or "none")
    table.add_row("metadata", result.metadata_uri)
    table.add_row("manifest", result.manifest_uri or "unavailable")
    if result.commit_tx_hash:
        table.add_row("commit transaction", f"{result.commit_tx_hash} (gas {result.commit_gas_used:,})")
    if result.tx_hash:
        table.add_row("transaction", result.tx_hash)
        table.add_row("gas used", f"{result.gas_used:,}")
    if result.oml:
        table.add_row("OML commitment", f"{result.oml.root} ({result.oml.count} fingerprints, at mint)")
        table.add_row("OML secrets", f"{result.oml.secrets_file} (keep it: reveals need it)")
    if fingerprinted:
        state = (
            "already committed"
            if fingerprinted.already_committed
            else f"committed in {fingerprinted.tx_hash}"
        )
        table.add_row("HuRef fingerprint", f"{fingerprinted.uri} ({state})")
        table.add_row("picture", fingerprinted.image_uri)
    console.print(table)


@app.command("verify")
def verify(
    ctx: typer.Context,
    model: ModelRef,
    token: Annotated[
        int | None,
        typer.Option(
            "--token", help="ModelNFT token id; without it, the token MODEL's model card (README.md) names."
        ),
    ] = None,
    follow_symlinks: FollowSymlinks = False,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Hash MODEL's files and compare them with model TOKEN's manifest, file by file.

    Without --token, MODEL's README.md (the card modelmint wrote) is read instead, and every
    claim in it (chain, contracts, token, weights root, parent, datasets, fingerprints) is
    checked against the chain as well. Exits 1 when any file or claim does not match, and names each one.
    """
    where = registries(ctx, rpc_url, ipfs_api)
    if token is None:
        from modelmint.cli.provenance import verify_card_command

        verify_card_command(where, model, json_out)
        return
    source = open_model(model, follow_symlinks=follow_symlinks)
    with progress_bar(f"hashing {Path(source.label).name}", source.hash_size, unit_bytes=True) as advance:
        result = verify_model(where, source, token, progress=advance)
    if json_out:
        emit_json(result, ok=result.ok)
    else:
        verdict = "[green]match[/]" if result.ok else "[red]do not match[/]"
        console.print(
            f"the {result.checked} files of {escape(model)} {verdict} model {token} "
            f"({result.matching} identical; weights root {result.weights_root})"
        )
        for d in result.differing:
            console.print(
                f"  [red]differs:[/] {escape(d.path)} (sha256 {d.actual_sha256}, {d.actual_size:,} bytes; "
                f"registered {d.expected_sha256}, {d.expected_size:,} bytes)"
            )
        for path in result.missing:
            console.print(f"  [red]missing:[/] {escape(path)}")
        for path in result.extra:
            console.print(f"  [red]extra:[/] {escape(path)}")
    if not result.ok:
        raise typer.Exit(1)


@app.command("lineage")
def lineage_command(
    ctx: typer.Context,
    token: Annotated[int, typer.Argument(help="ModelNFT token id.")],
    fmt: Annotated[str, typer.Option("--format", help="tree (text), dot (Graphviz) or json.")] = "tree",
    png: Annotated[
        Path | None, typer.Option("--png", help="Also draw the lineage into this PNG file.")
    ] = None,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
) -> None:
    """Show model TOKEN's ancestors and the datasets each was trained on, read from the chain."""
    if fmt not in ("tree", "dot", "json"):
        raise typer.BadParameter(f"{fmt!r} is not tree, dot or json", param_hint="--format")
    result = lineage(registries(ctx, rpc_url, ipfs_api), token)
    if fmt == "dot":
        typer.echo(result.to_dot(), nl=False)
    elif fmt == "json":
        emit_json(result)
    else:
        console.print(_tree(result))
    if png is not None:
        from modelmint.cli._lineage_png import draw_lineage

        draw_lineage(result, png)
        if fmt == "tree":
            console.print(f"drawn to {png}")


def _tree(node: Lineage) -> Tree:
    """Oldest ancestor at the root, each child one level down, datasets under their model."""
    root: Tree | None = None
    parent: Tree | None = None
    for m in reversed(list(node.chain())):
        label = f"[bold]model {m.token_id}[/] {escape(m.name or '')} [dim]{escape(m.architecture or '')} {short_hex(m.weights_root)}[/]"
        branch = Tree(label) if parent is None else parent.add(label)
        root = root or branch
        for d in m.datasets:
            branch.add(
                f"trained on [bold]dataset {d.token_id}[/] {escape(d.name or '')} [dim]{d.datapoint_count:,} datapoints[/]"
            )
        parent = branch
    assert root is not None
    return root
