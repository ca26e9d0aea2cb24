"""``modelmint fingerprint``: compute, store and commit model fingerprints; ``modelmint identify``.

One typer group for every kind of fingerprint. HuRef's commands are here (``huref``,
``compare``); the OML commands join the same group: add them to ``app`` below as
``@app.command("oml-...")`` functions or as a sub-group ``app.add_typer(oml_app, name="oml")``,
and keep ``register`` (the root-level ``identify``) as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from modelmint._files import write_atomic
from modelmint._json import to_json
from modelmint.cli import oml as oml_commands
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
    err_console,
    registries,
    render_error,
    store,
)
from modelmint.errors import InputError
from modelmint.fingerprints import huref
from modelmint.models._details import iso_utc
from modelmint.registry.fingerprints import (
    commit_huref,
    fingerprint_model,
    identify,
    refusal_error,
)
from modelmint.storage import parse_uri

app = typer.Typer(
    help="Fingerprint models (HuRef weight invariants, OML) and commit the fingerprints.",
    no_args_is_help=True,
)
app.add_typer(oml_commands.app, name="oml")

Tokens = Annotated[
    int, typer.Option("--tokens", help="k: how many of the most frequent tokens' embeddings the terms use.")
]
Layers = Annotated[str, typer.Option("--layers", help="last2 (the paper's: the last two layers) or all.")]
ModelArg = Annotated[Path, typer.Argument(help="A Hugging Face model folder (safetensors) or a .gguf file.")]


@app.command("huref")
def huref_command(
    ctx: typer.Context,
    model: ModelArg,
    token: Annotated[
        int | None,
        typer.Option("--token", help="ModelNFT token to commit the fingerprint to (you must own it)."),
    ] = None,
    tokens: Tokens = huref.DEFAULT_TOKENS,
    layers: Layers = "last2",
    picture: Annotated[
        Path | None, typer.Option("--picture", help="Also write the fingerprint picture (PNG) here.")
    ] = None,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Compute MODEL's HuRef fingerprint, store it, and with --token commit it on the ModelNFT.

    The content store gets the fingerprint bundle (512-d vector, sketch of the invariant
    terms) and its picture; the token gets the bundle's SHA-256 and ipfs:// URI, once.
    """
    if picture is not None and picture.is_dir():  # refused before anything is stored or sent
        raise InputError(
            f"cannot write the picture to {picture}: it is a folder", "give a file path for --picture"
        )
    content = store(ctx, ipfs_api)
    if token is None:
        fp, stored = fingerprint_model(content, model, tokens=tokens, layers=layers)
        result: dict[str, Any] = {"tokenId": None, "uri": stored.uri, "sha256": stored.sha256, "size": stored.size,
                  "imageUri": stored.image_uri, "tokens": fp.tokens.k, "layers": fp.layers,
                  "layerIndices": list(fp.layer_indices), "seconds": fp.seconds}  # fmt: skip
        png = fp.picture() if picture else None
    else:
        committed = commit_huref(
            registries(ctx, rpc_url, ipfs_api, keystore, wallet, no_open),
            model,
            token,
            tokens=tokens,
            layers=layers,
        )
        result = to_json(committed)
        png = (
            content.get(parse_uri(committed.image_uri), huref.MAX_PICTURE_BYTES)
            if picture and committed.image_uri
            else None
        )
    if picture and png is not None:
        write_atomic(picture, png)
    if json_out:
        emit_json(result)
        return
    if token is None:
        console.print(f"HuRef fingerprint of {model} (not committed: pass --token to commit it)")
    elif result["alreadyCommitted"]:
        console.print(f"model {token} already has this HuRef fingerprint")
    else:
        console.print(
            f"committed the HuRef fingerprint of model [bold]{token}[/] on chain {result['chainId']}"
        )
    table = Table(show_header=False, box=None)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # URIs and hashes whole, for copying
    table.add_row("fingerprint", result["uri"])
    table.add_row("sha256", result["sha256"])
    table.add_row("size", f"{result['size']:,} bytes")
    table.add_row("picture", result["imageUri"] + (f" (written to {picture})" if picture else ""))
    table.add_row(
        "terms",
        f"{result['tokens']} tokens, layers {', '.join(map(str, result['layerIndices']))} ({layers})",
    )
    table.add_row("time", f"{result['seconds']:.1f} s")
    if result.get("txHash"):
        table.add_row("transaction", result["txHash"])
        table.add_row("gas used", f"{result['gasUsed']:,}")
    console.print(table)


@app.command("compare")
def compare_command(
    model_a: ModelArg,
    model_b: ModelArg,
    tokens: Tokens = huref.DEFAULT_TOKENS,
    layers: Layers = "last2",
    shared_tokens: Annotated[
        bool,
        typer.Option(
            "--shared-tokens",
            help="For different vocabularies: use tokens with the same text in both (stated in the output).",
        ),
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """HuRef ICS (exact, from the terms) and parameter cosine similarity (PCS) of two local models."""
    if shared_tokens:
        fa, fb = huref.fingerprint_shared(model_a, model_b, tokens=tokens, layers=layers)
    else:
        fa = huref.fingerprint(model_a, tokens=tokens, layers=layers)
        fb = huref.fingerprint(model_b, tokens=tokens, layers=layers)
    found = huref.compare(fa, fb)
    parameters = huref.parameter_cosine(model_a, model_b)
    token_note = (
        f"{tokens} tokens shared by text between the two vocabularies"
        if shared_tokens
        else f"{tokens} most frequent tokens"
    )
    result = {
        "ics": found.ics,
        "comparable": found.comparable,
        "reason": found.reason,
        "related": found.related,
        "threshold": huref.DECISION_THRESHOLD,
        "pcs": parameters,
        "tokens": token_note,
        "layers": layers,
    }
    if json_out:
        emit_json(result)
        return
    if found.ics is None:
        console.print(f"ICS: not comparable ({found.reason})")
    else:
        verdict = "same base model" if found.related else "unrelated"
        console.print(
            f"ICS {found.ics:.4f} over {token_note}: {verdict} (threshold {huref.DECISION_THRESHOLD})"
        )
    console.print(
        "PCS: not comparable (no tensors of the same name and shape)"
        if parameters is None
        else f"PCS {parameters:.4f}"
    )


def register(root: typer.Typer) -> None:
    """Add ``identify`` at the top level."""
    root.command("identify")(identify_command)


def identify_command(
    ctx: typer.Context,
    model: ModelArg,
    top: Annotated[int, typer.Option("--top", help="How many ranked models to print.")] = 10,
    tokens: Tokens = huref.DEFAULT_TOKENS,
    layers: Layers = "last2",
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Rank every registered model by HuRef ICS against MODEL and name its likely base model.

    Uses only the chain's HuRef commitments and the content store; each stored fingerprint
    is checked against its on-chain SHA-256 and its format. One that fails, or that the store
    cannot serve, is refused: listed with its reason and warned about on stderr, while the
    others are ranked. The command still exits 0: anyone can commit a junk fingerprint on a
    token of their own, and it must not make every identification fail.
    """
    result = identify(registries(ctx, rpc_url, ipfs_api), model, tokens=tokens, layers=layers)
    likely = result.likely_base
    if json_out:
        emit_json(result, likely_base=likely, first_committed=result.first_committed)
    else:
        table = Table(title=f"registered models by ICS against {model}")
        for column in ("rank", "model", "ICS", "picture similarity", "owner", "committed"):
            table.add_column(
                column, justify="right" if column in ("rank", "ICS", "picture similarity") else "left"
            )
        for rank, candidate in enumerate(result.ranking[:top], 1):
            table.add_row(str(rank), f"token {candidate.token_id}", f"{candidate.ics:.4f}", f"{candidate.vector_similarity:.3f}",
                          candidate.owner, iso_utc(candidate.committed_at * 10**9))  # fmt: skip
        if result.ranking:
            console.print(table)
        if likely is not None:
            console.print(
                f"likely base model: token [bold]{likely.token_id}[/] (ICS {likely.ics:.4f} >= threshold {result.threshold})"
            )
        else:
            best = f"best ICS {result.ranking[0].ics:.4f}" if result.ranking else "none comparable"
            console.print(f"no registered model reaches the threshold {result.threshold} ({best})")
        if len(result.same_bundle) > 1:
            # Several tokens hold this bundle (or a near-identical one): the chain says who was first, not who is right.
            holders = ", ".join(
                f"model {c.token_id} (owner {c.owner}, committed {iso_utc(c.committed_at * 10**9)})"
                for c in result.same_bundle
            )
            console.print(
                f"[yellow]{len(result.same_bundle)} tokens hold the same or a near-identical fingerprint:[/] {holders}"
            )
            console.print(
                f"committed first: model [bold]{result.same_bundle[0].token_id}[/] (owner {result.same_bundle[0].owner})"
            )
        if result.not_comparable:
            console.print(
                f"not comparable: {len(result.not_comparable)} registered fingerprints "
                f"({result.not_comparable[0].reason})"
            )
        for refused in result.refused:
            console.print(
                Text(f"refused: model {refused.token_id} ({refused.uri}): {refused.reason}"), soft_wrap=True
            )
        console.print(
            f"[dim]{len(result.ranking)} compared in {result.search_seconds:.2f} s "
            f"after fingerprinting the suspect ({result.fingerprint_seconds:.1f} s)[/]"
        )
    if result.refused:
        warning = render_error(refusal_error(result.refused))
        err_console.print(Text.assemble(("warning: ", "bold yellow"), warning), soft_wrap=True)
