"""The ``sample`` fixture and the test IPFS daemon (js-ipfs from tests/ipfs, run offline)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from storage_samples import SAMPLES, Sample, free_port

IPFS_DIR = Path(__file__).resolve().parents[2] / "ipfs"
JSIPFS = IPFS_DIR / "node_modules" / ".bin" / "jsipfs"
POLYFILL = IPFS_DIR / "polyfill.cjs"
DAEMON_START_TIMEOUT_S = 120.0


@pytest.fixture(params=SAMPLES, ids=[sample.name for sample in SAMPLES])
def sample(request: pytest.FixtureRequest) -> Sample:
    return request.param


@pytest.fixture(scope="session")
def ipfs_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The RPC URL of a js-ipfs daemon, offline, on a free port, for the whole session."""
    if not JSIPFS.exists():
        pytest.fail(
            f"the test IPFS daemon is not installed ({JSIPFS} is missing):"
            " run `make test`, or `npm ci --prefix tests/ipfs` (about 30 s)",
            pytrace=False,
        )
    repo = tmp_path_factory.mktemp("ipfs-repo")
    log_path = repo.parent / "ipfs-daemon.log"
    env = {**os.environ, "IPFS_PATH": str(repo), "NODE_OPTIONS": f'--require "{POLYFILL}"'}
    init = subprocess.run(
        [str(JSIPFS), "init", "--empty-repo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if init.returncode != 0:
        pytest.fail(f"`jsipfs init` failed:\n{init.stdout}\n{init.stderr}", pytrace=False)

    port = free_port()
    config_path = repo / "config"
    config = json.loads(config_path.read_text())
    # Loopback API only: no gateway, no gRPC ("" not []: js-ipfs tests truthiness), no swarm,
    # no delegates or bootstrap peers (the machine is offline), no mDNS or UPnP.
    config["Addresses"].update(
        {"API": f"/ip4/127.0.0.1/tcp/{port}", "Gateway": [], "RPC": "", "Swarm": [], "Delegates": []}
    )
    config["Bootstrap"] = []
    config["Discovery"] = {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}}
    config.setdefault("Swarm", {})["DisableNatPortMap"] = True
    config_path.write_text(json.dumps(config, indent=2))

    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            [str(JSIPFS), "daemon", "--offline"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_ready(daemon, url, log_path)
        yield url
    finally:
        _stop(daemon)


def _wait_until_ready(daemon: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            pytest.fail(
                f"the test IPFS daemon exited with {daemon.returncode}:\n{log_path.read_text()[-3000:]}",
                pytrace=False,
            )
        try:
            if requests.post(f"{url}/api/v0/id", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    _stop(daemon)
    pytest.fail(
        f"the test IPFS daemon did not answer within {DAEMON_START_TIMEOUT_S:g} s:\n{log_path.read_text()[-3000:]}",
        pytrace=False,
    )


def _stop(daemon: subprocess.Popen[bytes]) -> None:
    """SIGTERM the daemon's process group (it is the leader), then SIGKILL if it lingers."""
    if daemon.poll() is not None:
        return
    os.killpg(daemon.pid, signal.SIGTERM)
    try:
        daemon.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait(timeout=10)
