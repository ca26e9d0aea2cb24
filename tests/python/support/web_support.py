"""What the page tests share beyond fixtures: the injected test wallet, the worked-example
dataset, the page steps and the screenshots (fixtures are in tests/python/web/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

WALLET_JS = (Path(__file__).parents[1] / "web" / "test_wallet.js").read_text()
# `MODELMINT_SCREENSHOTS=docs/web pytest tests/python/web` refreshes the pictures docs/web.md
# shows; other runs take them too (so a broken page fails here) but keep them out of the tree.
SCREENSHOTS = os.environ.get("MODELMINT_SCREENSHOTS")

# The dataset of docs/hashing.md's worked example, a row in it (keys reordered) and one not in it.
EXAMPLE = '{"text": "hello world", "label": 1}\n{"label": 0, "text": "caf\\u00e9"}\n{"text":"bonjour","label":1.0}\n'
MEMBER = '{"label": 1, "text": "hello world"}'
OUTSIDER = '{"text": "not in the dataset", "label": 7}'


def connect(page) -> None:
    page.get_by_role("button", name="Connect Test Wallet").click()
    page.wait_for_selector("#chain-id")


def check_rows(page, text: str) -> dict[str, str]:
    page.fill("#dp-text", text)
    page.click("#dp-check")
    page.wait_for_selector("#dp-table")
    return {
        row.get_attribute("data-label"): row.get_attribute("data-in")
        for row in page.query_selector_all("#dp-table tr[data-label]")
    }


def screenshot(page, name: str) -> None:
    """A picture for docs/web.md (the docs show what the tests saw)."""
    picture = page.screenshot(full_page=True)
    assert picture.startswith(b"\x89PNG")
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.png").write_bytes(picture)
