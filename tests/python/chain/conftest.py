"""Fixtures of the chain tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from modelmint.chain import devnet


@pytest.fixture
def start_anvil() -> Iterator[Callable[..., str]]:
    """Starts extra anvils (``--host``, ``--chain-id``, ``--base-fee`` ...) and returns each
    one's URL once it answers; every one is stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str, host: str = "127.0.0.1", connect: str = "127.0.0.1") -> str:
        port = devnet._free_port()
        procs.append(
            subprocess.Popen(
                devnet.anvil_command(port, *args, host=host),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        url = f"http://{connect}:{port}"
        deadline = time.monotonic() + 10
        while not devnet._answers(url):
            assert time.monotonic() < deadline, "anvil did not start"
            time.sleep(0.05)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)
