"""The devnet lifecycle against real anvil processes."""

from __future__ import annotations

import json
import os
import signal

from modelmint.chain import devnet
from modelmint.home import Home


def test_start_status_stop_round_trip(tmp_path):
    home = Home(tmp_path)
    started = devnet.start(home)
    try:
        assert started.url.startswith("http://127.0.0.1:")
        assert started.chain_id == devnet.DEV_CHAIN_ID
        assert devnet.status(home) == started
        assert devnet.start(home) == started, "a second start reuses the running devnet"
        recorded = json.loads(home.devnet_file.read_text())
        assert recorded["pid"] == started.pid
        assert recorded["url"] == started.url
    finally:
        stopped = devnet.stop(home)
    assert stopped == started
    assert devnet.status(home) is None
    assert not home.devnet_file.exists()
    assert devnet.stop(home) is None, "stopping twice is harmless"


def test_a_dead_devnet_record_is_cleared_and_does_not_block_a_restart(tmp_path):
    home = Home(tmp_path)
    first = devnet.start(home)
    os.kill(first.pid, signal.SIGKILL)
    os.waitpid(first.pid, 0)
    assert devnet.status(home) is None
    assert not home.devnet_file.exists()
    second = devnet.start(home)
    try:
        assert second.pid != first.pid
        assert devnet.status(home) == second
    finally:
        devnet.stop(home)


def test_cli_devnet_commands(cli, tmp_path):
    env = {"MODELMINT_HOME": str(tmp_path / "own")}
    assert cli("devnet", "status", env=env).code == 1
    started = cli("devnet", "start", "--json", env=env)
    assert started.code == 0, started.stderr
    url = json.loads(started.stdout)["url"]
    status = cli("devnet", "status", env=env)
    assert status.code == 0
    assert url in status.stdout
    stopped = cli("devnet", "stop", env=env)
    assert stopped.code == 0
    assert "stopped" in stopped.stdout
    assert cli("devnet", "status", env=env).code == 1
