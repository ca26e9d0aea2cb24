"""``modelmint list`` and ``modelmint show``: the registry read back, datasets and models together."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelmint.cli._common import IpfsApi, JsonOut, RpcUrl, console, emit_json, registries, short_hex
from modelmint.models._details import iso_utc
from modelmint.registry import list_records, show
from modelmint.registry.records import CSV_COLUMNS


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
    app.command("show")(show_command)


def list_command(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option(help="Only dataset or only model tokens.")] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write every record as a CSV row to this file.")
    ] = None,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """List every registered dataset and model: token, name, kind, architecture, root, owner, block time."""
    records = list_records(registries(ctx, rpc_url, ipfs_api), kind)
    if csv_file is not None:
        rows = [r.row() for r in records]
        with open(csv_file, "w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    if json_out:
        emit_json(records)
        return
    table = Table(title=f"{len(records)} tokens", title_justify="left")
    for column in ("token", "name", "kind", "architecture", "root", "owner", "minted (UTC)"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.ref, escape(r.name or "?"), r.kind, escape(r.architecture or ""), short_hex(r.root), short_hex(r.owner),
            iso_utc(r.minted_at * 10**9).replace("T", " ").rstrip("Z"),
        )  # fmt: skip
    console.print(table)
    if csv_file is not None:
        console.print(f"written to {csv_file}")


def show_command(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="dataset/N, model/N, or N when only one registry has token N.")],
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Show one dataset or model record in full: on-chain fields, fingerprints and metadata."""
    record = show(registries(ctx, rpc_url, ipfs_api), ref)
    if json_out:
        emit_json(record)
        return
    console.print(f"[bold]{record.ref}[/] {escape(record.name or '')}")
    table = Table(show_header=False, box=None)
    for key, value in record.to_json().items():
        if key in ("metadata", "ref", "kind", "tokenId", "name") or value in (None, [], ""):
            continue
        table.add_row(key, escape(value if isinstance(value, str) else json.dumps(value)))
    console.print(table)
    if record.metadata is not None:
        console.print_json(data=record.metadata)
    else:
        console.print(f"[yellow]metadata {record.metadata_uri} is not in this content store[/]")
