"""What the page tests share beyond fixtures: the injected test wallet and the screenshots.

A module of its own, not conftest.py: several test folders have a conftest, so `from conftest
import ...` would find whichever was imported first.
"""

from __future__ import annotations

import os
from pathlib import Path

WALLET_JS = (Path(__file__).parent / "test_wallet.js").read_text()
# `MODELMINT_SCREENSHOTS=docs/web pytest tests/python/web` refreshes the pictures docs/web.md
# shows; other runs take them too (so a broken page fails here) but keep them out of the tree.
SCREENSHOTS = os.environ.get("MODELMINT_SCREENSHOTS")


def screenshot(page, name: str) -> None:
    """A picture for docs/web.md (the docs show what the tests saw)."""
    picture = page.screenshot(full_page=True)
    assert picture.startswith(b"\x89PNG")
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.png").write_bytes(picture)
