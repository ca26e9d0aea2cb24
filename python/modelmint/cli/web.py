"""``modelmint web``: serve the verification page on 127.0.0.1, or write it as a static folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from modelmint.cli._common import IpfsApi, console, home


def register(app: typer.Typer) -> None:
    app.command("web")(web_command)


def web_command(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.", min=0, max=65535)] = 0,
    no_open: Annotated[
        bool, typer.Option("--no-open", help="Print the URL without opening a browser.")
    ] = False,
    build_only: Annotated[
        Path | None,
        typer.Option(
            "--build-only",
            metavar="OUT",
            help="Write the page and deployments to OUT and print the page's CID.",
        ),
    ] = None,
    ipfs_api: IpfsApi = None,
) -> None:
    """Serve the page that verifies datasets, models and fingerprints through your own wallet."""
    from modelmint.web.server import build_static, open_browser, serve

    if build_only is not None:
        cid = build_static(home(ctx), build_only)
        console.print(f"wrote {build_only / 'index.html'}: ipfs://{cid}")
        return
    server = serve(home(ctx), port, ipfs_api)
    console.print(f"modelmint web: {server.url}  (Ctrl-C stops it)")
    if not no_open:
        open_browser(server.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
