"""``modelmint list`` and ``modelmint show``: the registry read back, datasets and models together."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from modelmint._files import write_atomic
from modelmint.cli._common import (
    IpfsApi,
    JsonOut,
    RpcUrl,
    console,
    emit_json,
    err_console,
    registries,
    short_hex,
)
from modelmint.models._details import iso_utc
from modelmint.registry import list_records, show
from modelmint.registry.records import CSV_COLUMNS, RegistryRecord


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
    """List every registered dataset and model: token, name, kind, architecture, root, owner, block time.

    A token whose metadata cannot be read is listed from the chain, and its error printed as one
    warning line on stderr. The command still exits 0: anyone can mint a token with junk
    metadata, and one such token must not make every listing of a public chain fail.
    """
    records = list_records(registries(ctx, rpc_url, ipfs_api), kind)
    if csv_file is not None:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(r.row() for r in records)
        write_atomic(csv_file, out.getvalue().encode())  # a folder in the way is one line, not a traceback
    if json_out:
        emit_json(records)
        _report_errors(records, fail=False)
        return
    table = Table(title=f"{len(records)} tokens", title_justify="left")
    for column in ("token", "name", "kind", "architecture", "root", "owner", "minted (UTC)"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.ref, escape(r.name or ("unreadable" if r.error else "?")), r.kind, escape(r.architecture or ""), short_hex(r.root), short_hex(r.owner),
            iso_utc(r.minted_at * 10**9).replace("T", " ").rstrip("Z"),
        )  # fmt: skip
    console.print(table)
    if csv_file is not None:
        console.print(f"written to {csv_file}")
    _report_errors(records, fail=False)


def show_command(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="dataset/N, model/N, or N when only one registry has token N.")],
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Show one dataset or model record in full: on-chain fields, fingerprints and metadata.

    A token whose metadata cannot be read is shown from the chain, and the command exits 1 with its error.
    """
    record = show(registries(ctx, rpc_url, ipfs_api), ref)
    if json_out:
        emit_json(record)
        _report_errors([record], fail=True)
        return
    console.print(f"[bold]{record.ref}[/] {escape(record.name or '')}")
    table = Table(show_header=False, box=None)
    for key, value in record.to_json().items():
        if key in ("metadata", "ref", "kind", "tokenId", "name", "error") or value in (None, [], ""):
            continue
        table.add_row(key, escape(value if isinstance(value, str) else json.dumps(value)))
    console.print(table)
    if record.metadata is not None:
        console.print_json(data=record.metadata)
    _report_errors([record], fail=True)


def _report_errors(records: list[RegistryRecord], *, fail: bool) -> None:
    """One line on stderr for each record whose metadata cannot be read (the records
    themselves are complete on stdout), then exit 1 if ``fail``."""
    bad = [r for r in records if r.error]
    label = ("error: ", "bold red") if fail else ("warning: ", "bold yellow")
    for r in bad:
        err_console.print(Text.assemble(label, f"{r.ref}: {r.error}"), soft_wrap=True)
    if bad and fail:
        raise typer.Exit(1)
