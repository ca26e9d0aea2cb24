"""``modelmint model resume-provenance``, which completes the provenance a training run left
pending, and the model-card check of ``modelmint model verify``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from modelmint._json import to_json
from modelmint.cli._common import (
    IpfsApi,
    JsonOut,
    Keystore,
    NoOpen,
    RpcUrl,
    Signer,
    WalletKind,
    configure,
    console,
    emit_json,
    home,
)
from modelmint.registry import Registries


def register(app: typer.Typer) -> None:
    app.command("resume-provenance")(resume_provenance_command)


def resume_provenance_command(
    ctx: typer.Context,
    output_dir: Annotated[
        Path, typer.Argument(help="The training run's output folder (it holds modelmint-provenance.json).")
    ],
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Run the steps a ProvenanceCallback could not: commit the datasets, register the base and
    the trained models with their lineage, commit fingerprints, write the model cards.

    Options given replace the ones the run recorded; each step already done is skipped.
    """
    from modelmint.integrations.provenance import resume_provenance

    recorded_home = ctx.find_root().params.get("home")  # only an explicit --home replaces the run's
    record = resume_provenance(
        output_dir,
        home=home(ctx).root if recorded_home else None,
        rpc_url=rpc_url,
        keystore=keystore,
        ipfs_api=ipfs_api,
        configure=lambda chain: configure(ctx, chain, wallet, no_open),
    )
    if json_out:
        emit_json(record)
        return
    datasets = ", ".join(str(d.token_id) for d in record.datasets) or "none"
    parent = record.base.token_id if record.base else "none"
    for m in record.models:
        console.print(
            f"{m.folder}: model [bold]{m.token_id}[/] (weights root {m.weights_root}), parent {parent}, datasets {datasets}"
        )
    console.print(f"provenance of {output_dir} complete")


def verify_card_command(registries: Registries, model: str, json_out: bool) -> None:
    """``modelmint model verify MODEL`` without --token: the card's claims, then the files."""
    from modelmint.integrations.cards import verify_card

    chain = registries.chain
    result = verify_card(registries, model)
    if json_out:
        emit_json({
            "ok": result.ok, "tokenId": result.token_id,
            "claims": [{"claim": c.claim, "card": c.card, "chain": c.chain, "ok": c.ok} for c in result.checks],
            "files": {**to_json(result.files), "ok": result.files_ok},
        })  # fmt: skip
    else:
        for c in result.checks:
            if c.ok:
                console.print(f"[green]ok[/] {c.claim}")
            elif c.claim == "provenance section":
                console.print(
                    f"[red]does not match:[/] {c.claim} (the text differs from what the card's claims render to)"
                )
            else:
                console.print(
                    f"[red]does not match:[/] {c.claim}: the card says {escape(c.card)}, the chain says {escape(c.chain)}"
                )
        f = result.files
        bad = [*(d.path for d in f.differing), *f.missing, *f.extra]
        verdict = (
            "[green]match[/]" if result.files_ok else f"[red]do not match[/] ({', '.join(map(escape, bad))})"
        )
        console.print(
            f"the files of {escape(model)} {verdict} model {result.token_id}'s manifest (README.md, the card, left out)"
        )
        console.print(
            f"the card of {escape(model)} "
            + ("[green]is true[/]" if result.ok else "[red]makes claims the chain does not back[/]")
            + f" (model {result.token_id} on chain {chain.chain_id})"
        )
    if not result.ok:
        raise typer.Exit(1)
