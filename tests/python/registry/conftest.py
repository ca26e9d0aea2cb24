"""Fixtures of the registry tests that only this folder uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelmint.chain import devnet
from modelmint.home import Home


@pytest.fixture(scope="session")
def load_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A project folder with its own anvil for the load tests: thousands of mints there leave
    the session anvil's blocks and nonces, which other tests read, as they were."""
    home = Home(tmp_path_factory.mktemp("load-home"))
    devnet.start(home)
    yield home
    devnet.stop(home)
