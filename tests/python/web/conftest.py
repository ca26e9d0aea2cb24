"""A real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, the page served
by ``modelmint web`` over a fresh project folder, and a test wallet forwarding to anvil.

Playwright's own browser download is never used (it cannot work offline): `make test`
installs Debian's chromium, and the launch flags keep it off the network.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelmint.home import Home
from modelmint.web import PageServer, serve
from modelmint.web.server import page_dir
from web_support import WALLET_JS

CHROMIUM = os.environ.get("MODELMINT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install -y chromium)"
        )
    page_dir()  # fails with how to build the page
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def server(home: Home) -> Iterator[PageServer]:
    running = serve(home)
    yield running
    running.stop()


@pytest.fixture
def open_page(browser, server, anvil):
    """Open the page with the test wallet injected (``wallet=None`` for a browser without one);
    at ``url`` if given (a command's hand-off page), else on ``modelmint web``'s server."""
    contexts = []

    def open_(wallet: dict | None = None, *, path: str = "", url: str | None = None):
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        contexts.append(context)
        if wallet is not None:
            config = {
                "rpcUrl": anvil.url,
                "anvilChainId": anvil.chain_id,
                "chainId": anvil.chain_id,
                **wallet,
            }
            context.add_init_script(f"window.__testWallet = {json.dumps(config)};")
            context.add_init_script(WALLET_JS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors  # type: ignore[attr-defined]
        page.goto(url or server.url + path)
        page.wait_for_selector("body[data-ready=true]")
        return page

    yield open_
    for context in contexts:
        context.close()
